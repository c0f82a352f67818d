"""The core's answers, through ``Core.handle`` / ``Core.process`` as an adapter calls them."""

from datetime import UTC, datetime

from handlers.types import Incoming
from nlu.normalize import fold
from storage.unanswered import UnansweredRepository


async def test_rice_discount_with_and_without_diacritics(member):
    for question in ("Gạo Kim Sáng giảm giá bao nhiêu?", "gao kim sang giam gia bn"):
        reply = await member.says(question)
        assert "20%" in reply and "40%" in reply and "Kim Sáng" in reply
        assert "theo thông tin năm 2020" in reply  # the as-of date is shown


async def test_milk_benefit(member):
    reply = await member.says("sữa hà lan đc giảm mấy % vậy ad")
    assert "30%" in reply and "5" in reply


async def test_all_benefits_list_with_buttons_that_open_details(member):
    await member.says("có những ưu đãi gì cho đoàn viên")
    [reply] = member.replies
    actions = [c.action for c in reply.choices]
    assert "kb:kim-sang-gao" in actions and "kb:sua-ha-lan" in actions
    detail = await member.presses("kb:sua-ha-lan")
    assert "30%" in detail


async def test_support_programmes_and_loans(member):
    reply = fold(await member.says("co chuong trinh ho tro tien tro ko"))
    assert "518" in reply or "tro" in reply
    loan = await member.says("vay quỹ trợ vốn được không")
    assert "Quỹ" in loan and "690" in loan


async def test_phase_by_number(member):
    reply = await member.says("đợt 2 thi đua bắt đầu khi nào")
    assert "01/07/2021" in reply and "31/12/2021" in reply


async def test_current_phase_follows_the_clock(member, clock):
    clock.now = datetime(2021, 3, 15, 9, 0, tzinfo=UTC)
    reply = await member.says("đợt thi đua hiện tại là đợt mấy")
    assert "Đợt 1" in reply and "30/06/2021" in reply and "15/03/2021" in reply
    clock.now = datetime(2021, 8, 1, 9, 0, tzinfo=UTC)
    assert "Đợt 2" in await member.says("dot thi dua hien tai")


async def test_no_current_phase_is_said_honestly(member, clock):
    clock.now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    reply = await member.says("bây giờ đang là đợt thi đua nào")
    assert "chưa có thông tin về đợt thi đua nào đang diễn ra" in reply
    assert "31/12/2021" in reply  # the latest known phase, marked as ended
    assert "đã kết thúc" in reply


async def test_cluster_members_and_leader(member):
    reply = await member.says("cụm thi đua số 1 gồm những đơn vị nào")
    for district in ("Ba Đình", "Long Biên", "Đống Đa", "Hai Bà Trưng", "Hoàn Kiếm", "Hoàng Mai"):
        assert district in reply
    assert "Nguyễn Xuân Trọng" in await member.says("ai là cụm trưởng cụm thi đua số 1")
    assert "Sơn Tây" in await member.says("cum truong cum 3 la ai")


async def test_movements_titles_and_union_facts(member):
    assert "Xanh" in await member.says("phong trào xanh sạch đẹp là gì")
    assert "28/7/1929" in await member.says("ngay thanh lap cong doan viet nam la ngay nao")
    assert "276" in await member.says("cum 6 bieu duong bao nhieu cong nhan gioi nam 2020")


async def test_small_talk_and_menu(member):
    greeting = await member.says("chào bạn")
    assert "Trợ lý Công đoàn" in greeting and member.replies[0].choices
    assert "Không có gì" in await member.says("cảm ơn nhé")
    await member.says("/menu")
    assert [c.action for c in member.replies[0].choices][0] == "menu:benefit"
    listing = await member.presses("menu:cluster")
    assert "Cụm" in listing


async def test_hardship_request_points_to_the_union_without_promising_money(member):
    reply = await member.says("nhà em bị cháy hết đồ, công đoàn có hỗ trợ không")
    assert "Ban Chấp hành" in reply and "theo quy định" in reply


async def test_out_of_scope_gets_an_honest_fallback_and_is_logged(app, member):
    outcome = await app.core.process(Incoming(channel="test", chat_id="9", user_id="9", text="giá vàng SJC hôm nay"))
    assert outcome.fallback and outcome.intent == "out_of_scope"
    reply = outcome.replies[0].text
    assert "ngoài phạm vi" in reply and "Ban Chấp hành công đoàn cơ sở" in reply
    await member.says("Giá vàng SJC hôm nay?")
    await app.core.unanswered.flush()  # the log is written off the reply path
    async with app.db.sessions() as session:
        rows = await UnansweredRepository(session).most_frequent()
    assert rows[0].count == 2 and fold(rows[0].sample_text).startswith("gia vang sjc")


async def test_english_interface_follows_the_user_language(app):
    replies = await app.core.handle(Incoming(channel="test", chat_id="7", user_id="7", text="hello", language="en-US"))
    assert "Union Assistant" in replies[0].text


async def test_an_error_inside_a_handler_gives_an_apology_and_the_bot_goes_on(app, member, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    async def broken_async(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(app.core.answers, "answer", broken)
    monkeypatch.setattr(app.core.facts, "respond", broken_async)
    reply = await member.says("gạo kim sáng giảm bao nhiêu")
    assert "Xin lỗi" in reply
    monkeypatch.undo()
    assert "20%" in await member.says("gạo kim sáng giảm bao nhiêu")


async def test_a_support_programme_answer_offers_to_file_a_request(member):
    reply = await member.says("cđ hỗ trợ nlđ khó khăn do covid ntn")
    assert "5.936" in reply and "/hotro" in reply
    [answer] = [r for r in member.replies if r.choices]
    assert [c.action for c in answer.choices if not c.action.startswith(("fb:", "more:"))] == ["menu:hotro"]
    # the hardship form's way in, as /hotro: a member not linked yet is told how to link first
    assert member.app.translator("hardship.link_first") in await member.presses("menu:hotro")
    assert "/hotro" not in await member.says("gạo kim sáng giảm bao nhiêu")  # not on a benefit


async def test_a_title_with_quotes_of_its_own_is_quoted_once_in_the_source_line(member):
    """An article title that quotes a name ("“Chuyến bay Công đoàn - Xuân 2025” đưa 450 lao động…") keeps its inner
    quotes as single ones inside the source line's quotes: never ““ or ””."""
    reply = await member.says("chuyen bay cong doan xuan 2025 dua bao nhieu nguoi ve que")
    source = next(line for line in reply.splitlines() if line.startswith("Nguồn:"))
    assert "““" not in source and "””" not in source, source
    assert "‘Chuyến bay Công đoàn - Xuân 2025’" in source, source


async def test_a_summary_that_opens_with_the_programmes_name_does_not_get_it_twice(member):
    reply = await member.says("chuyen bay cong doan xuan 2025 dua bao nhieu nguoi ve que")
    first = reply.splitlines()[0]
    assert first.count("Chuyến bay Công đoàn - Xuân 2025") == 1 and "450" in first, first
