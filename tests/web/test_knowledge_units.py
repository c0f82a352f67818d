"""Entries of one unit on the members' side, through ``Core.handle``: a member is answered from their own unit's
entries and those of the units above (and the shared ones), never from a sibling unit's or one below theirs; an
unlinked user only from the shared ones. The entries are added as a chair adds them in the console."""

from __future__ import annotations

from datetime import timedelta

from handlers.types import Incoming
from services.knowledge import KnowledgeService, KnowledgeWatcher, apply_to_core
from storage.knowledge import KnowledgeEditRepository
from storage.membership import AccountRepository, MemberRepository
from tests.conftest import Member
from tests.web.conftest import actor_of

FECON = {"id": "phong-tap-sao-mai", "kind": "benefit", "name": "Ưu đãi phòng tập Sao Mai",
         "summary": "Đoàn viên Fecon tập miễn phí buổi sáng tại phòng tập Sao Mai.",
         "source": {"document": "thoa-thuan-fecon.txt", "title": "Thỏa thuận của công đoàn Fecon"},
         "as_of": "2025-01-01", "benefit": {"partner": "Phòng tập Sao Mai", "discount": "miễn phí buổi sáng"}}
DISTRICT = {**FECON, "id": "be-boi-thanh-xuan", "name": "Ưu đãi bể bơi Thanh Xuân",
            "summary": "Đoàn viên quận Nam Từ Liêm bơi giảm nửa giá tại bể bơi Thanh Xuân.",
            "benefit": {"partner": "Bể bơi Thanh Xuân", "discount": "giảm 50%"}}


async def linked(app, member_code: str, user: str) -> Member:
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        code = await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))
    chat = Member(app, user=user)
    assert "Đã liên kết" in await chat.says(f"/lienket {code}")
    return chat


async def test_a_member_sees_their_units_entries_and_those_above_never_a_siblings(app):
    service = KnowledgeService(app.db, clock=app.core.clock)
    await service.save(await actor_of(app, "NTL-0101"), FECON, owner="NTL-FECON")  # the grassroots union's own
    await service.save(await actor_of(app, "NTL-0001"), DISTRICT, owner="NTL")  # the district union's
    watcher = KnowledgeWatcher(app.db, lambda entries: apply_to_core(app.core, entries))
    watcher.version = -1  # as a running bot's watcher that loaded before the changes
    assert await watcher.check()

    fecon_group = await linked(app, "NTL-0103", "201")  # a union group under Fecon
    fecon = await linked(app, "NTL-0102", "202")  # Fecon itself
    sibling = await linked(app, "NTL-0202", "203")  # JW Marriott, Fecon's sibling
    district = await linked(app, "NTL-0001", "204")  # Nam Từ Liêm, above Fecon
    other_district = await linked(app, "DD-0102", "205")  # Đống Đa
    unlinked = Member(app, user="206")

    sees = {}
    for name, chat in {"fecon_group": fecon_group, "fecon": fecon, "sibling": sibling, "district": district,
                       "other_district": other_district, "unlinked": unlinked}.items():
        # what the entry gives, not its name: an honest refusal repeats the name asked about ("… về “Thanh Xuân”")
        sees[name] = ("miễn phí buổi sáng" in await chat.says("ưu đãi phòng tập sao mai"),
                      "50%" in await chat.says("ưu đãi bể bơi thanh xuân"))
    assert sees == {"fecon_group": (True, True), "fecon": (True, True), "sibling": (False, True),
                    "district": (False, True), "other_district": (False, False), "unlinked": (False, False)}

    # a shared entry (no owning unit, as the knowledge files load them) is for everyone
    assert "Hà Lan" in await unlinked.says("sữa hà lan") and "Hà Lan" in await sibling.says("sữa hà lan")
    # a button for another unit's entry, crafted by hand, shows nothing of it
    pressed = await app.core.handle(Incoming(channel="test", chat_id="203", user_id="203",
                                             action=f"kb:{FECON['id']}"))
    assert "Sao Mai" not in "".join(r.text for r in pressed)
    pressed = await app.core.handle(Incoming(channel="test", chat_id="202", user_id="202",
                                             action=f"kb:{FECON['id']}"))
    assert "Sao Mai" in "".join(r.text for r in pressed)  # for a member of Fecon it does


async def test_a_restart_keeps_the_units(app, settings, clock):
    from bot.app import build_app

    service = KnowledgeService(app.db, clock=app.core.clock)
    await service.save(await actor_of(app, "NTL-0101"), FECON, owner="NTL-FECON")
    restarted = await build_app(settings, clock=clock)
    try:
        assert "miễn phí buổi sáng" not in await Member(restarted, user="301").says("ưu đãi phòng tập sao mai")
        assert "miễn phí buổi sáng" in await (await linked(restarted, "NTL-0104", "302")).says(
            "ưu đãi phòng tập sao mai")
    finally:
        await restarted.close()


async def test_the_preview_answers_as_a_member_of_the_chairs_unit(console, app):
    """"Thử câu hỏi" answers as a member of the unit picked (at first the one the chair chairs), so a chair sees
    their unit's own entry there; as an unlinked member, or a sibling's chair, it is not there; a unit outside the
    chair's subtree cannot be picked (403)."""
    await KnowledgeService(app.db, clock=app.core.clock).save(await actor_of(app, "NTL-0101"), FECON,
                                                              owner="NTL-FECON")
    watcher = KnowledgeWatcher(app.db, lambda entries: apply_to_core(app.core, entries))
    watcher.version = -1
    assert await watcher.check()
    question = {"q": "ưu đãi phòng tập sao mai"}
    chair = await console.signed_in("NTL-0101")
    status, form = await chair.get("/web/preview")
    assert status == 200 and '<option value="NTL-FECON" selected>' in form
    status, page = await chair.post("/web/preview", question)
    assert status == 200 and "miễn phí buổi sáng" in page
    _, page = await chair.post("/web/preview", {**question, "unit": ""})
    assert "miễn phí buổi sáng" not in page  # as an unlinked member: the shared entries only
    _, page = await chair.post("/web/preview", {**question, "unit": "NTL-FECON-T1"})  # a union group below
    assert "miễn phí buổi sáng" in page
    district = await console.signed_in("NTL-0001")
    _, page = await district.post("/web/preview", question)
    assert "miễn phí buổi sáng" not in page  # the district's own members do not see Fecon's entry
    _, page = await district.post("/web/preview", {**question, "unit": "NTL-FECON"})
    assert "miễn phí buổi sáng" in page
    sibling = await console.signed_in("NTL-0201")
    _, page = await sibling.post("/web/preview", question)
    assert "miễn phí buổi sáng" not in page
    status, _ = await sibling.post("/web/preview", {**question, "unit": "NTL-FECON"})
    assert status == 403


async def test_the_console_shows_an_officer_what_chat_shows_their_unit_plus_their_subtrees(console, app):
    """A sibling unit's chair finds nothing of Fecon's own entry in the console — not in the list or a search, not
    its page or revisions (404), not among the retired ones — and cannot act on it (403); Fecon's chair sees the
    district's entry (above Fecon: its members are answered from it) read-only; the district's chair sees and
    edits Fecon's (their subtree)."""
    service = KnowledgeService(app.db, clock=app.core.clock)
    await service.save(await actor_of(app, "NTL-0101"), FECON, owner="NTL-FECON")
    await service.save(await actor_of(app, "NTL-0001"), DISTRICT, owner="NTL")
    fecon, sibling, district = [await console.signed_in(code) for code in ("NTL-0101", "NTL-0201", "NTL-0001")]
    fecon_page, district_page = f"/web/knowledge/{FECON['id']}", f"/web/knowledge/{DISTRICT['id']}"

    for query in ("", "?q=sao+mai"):
        _, page = await sibling.get(f"/web/knowledge{query}")
        assert fecon_page not in page and "Sao Mai" not in page, query
    _, page = await sibling.get("/web/knowledge?q=sua+ha+lan")
    assert "/web/knowledge/sua-ha-lan" in page  # a shared entry: for every officer
    _, page = await sibling.get("/web/knowledge")
    assert district_page in page  # the district's: the sibling's members are answered from it too
    for path in (fecon_page, f"{fecon_page}/edit"):
        status, page = await sibling.get(path)
        assert status == 404 and "Sao Mai" not in page and "miễn phí" not in page, path
    status, _ = await sibling.post(f"{fecon_page}/retire")
    assert status == 403

    _, page = await fecon.get("/web/knowledge")
    assert fecon_page in page and district_page in page
    status, page = await fecon.get(district_page)
    assert status == 200 and "Bể bơi Thanh Xuân" in page and f"{district_page}/edit" not in page
    assert "rollback" not in page  # no rollback buttons on another unit's revisions
    status, _ = await fecon.get(f"{district_page}/edit")
    assert status == 403
    status, page = await district.get(f"{fecon_page}/edit")
    assert status == 200 and "Sao Mai" in page

    # retired: Fecon's entry is in its chair's (with a restore button) and the district's list, not the sibling's
    status, _ = await fecon.post(f"{fecon_page}/retire")
    assert status == 303
    async with app.db.sessions() as session:
        revision = (await KnowledgeEditRepository(session).revisions(FECON["id"]))[0]
    restore = f"/web/revisions/{revision.id}/rollback"
    for browser, sees in ((fecon, True), (district, True), (sibling, False)):
        _, page = await browser.get("/web/knowledge")
        assert (FECON["name"] in page, restore in page) == (sees, sees)
    status, _ = await sibling.post(restore)
    assert status == 403
    status, page = await sibling.get(fecon_page)
    assert status == 404

    # a shared entry retired by an admin: every officer sees it, only an admin may restore it
    admin = await console.signed_in("DEMO-ADMIN")
    status, _ = await admin.post("/web/knowledge/sua-ha-lan/retire")
    assert status == 303
    async with app.db.sessions() as session:
        shared = (await KnowledgeEditRepository(session).revisions("sua-ha-lan"))[0]
    _, page = await sibling.get("/web/knowledge")
    assert "(sua-ha-lan," in page and f"/web/revisions/{shared.id}/rollback" not in page
    _, page = await admin.get("/web/knowledge")
    assert f"/web/revisions/{shared.id}/rollback" in page


async def test_a_preview_is_no_members_question_nothing_counted_or_listed(console, app):
    """"Thử câu hỏi" is an officer trying the bot, not a member asking: a question it cannot answer is not put on
    the unanswered list (not even an admin's), and no question of the preview is counted in the statistics."""
    from services.stats import StatsService
    from storage.unanswered import UnansweredRepository

    unknown = "lịch bơi của câu lạc bộ công nhân"
    for code in ("NTL-0101", "DEMO-ADMIN"):
        officer = await console.signed_in(code)
        for question, unit in ((unknown, "NTL-FECON"), (unknown, ""), ("gạo kim sáng giảm bao nhiêu", "")):
            status, page = await officer.post("/web/preview", {"q": question, "unit": unit})
            assert status == 200 and '<div class="reply">' in page
    await app.core.unanswered.flush()
    await app.core.questions.flush()
    async with app.db.sessions() as session:
        assert await UnansweredRepository(session).most_frequent() == []
    _, listed = await (await console.signed_in("DEMO-ADMIN")).get("/web/unanswered")
    assert "lịch bơi" not in listed
    summary = await StatsService(app.db, clock=app.core.clock).summary(await actor_of(app, "DEMO-ADMIN"), 7)
    assert summary.questions == 0 and not any(summary.per_day.values())

    member = await linked(app, "NTL-0103", "501")  # a member asking the same in chat is listed and counted
    await member.says(unknown)
    await app.core.unanswered.flush()
    await app.core.questions.flush()
    async with app.db.sessions() as session:
        assert [q.sample_text for q in await UnansweredRepository(session).most_frequent()] == [unknown]
    summary = await StatsService(app.db, clock=app.core.clock).summary(await actor_of(app, "DEMO-ADMIN"), 7)
    assert summary.questions == 1 and summary.unanswered == 1
