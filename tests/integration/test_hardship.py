"""Hardship requests through Core.handle: the member's form, the chairs' review, privacy, history."""

import csv
import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handlers.types import Attachment, Incoming
from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, MemberRepository, UnitRepository
from storage.outbox import OutboxRepository

REF = re.compile(r"HT-\d{4}-\d{6}")


class Person:
    def __init__(self, app, user: str, channel: str = "test", buttons: bool = True) -> None:
        self.app, self.user, self.channel, self.buttons = app, user, channel, buttons
        self.replies = []

    def _event(self, **kw) -> Incoming:
        """What the channel hands the core for this person's message or button press."""
        return Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, buttons=self.buttons, **kw)

    async def says(self, text: str = "", photos: tuple[str, ...] = ()) -> str:
        self.replies = await self.app.core.handle(
            self._event(text=text, attachments=tuple(Attachment("photo", p) for p in photos)))
        return self.text

    async def presses(self, action: str) -> str:
        self.replies = await self.app.core.handle(self._event(action=action))
        return self.text

    @property
    def text(self) -> str:
        return "\n".join(r.text for r in self.replies)

    @property
    def actions(self) -> list[str]:
        return [c.action for r in self.replies for c in r.choices]


async def as_member(app, member_code: str, user: str, **kw) -> Person:
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        code = await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))
    person = Person(app, user, **kw)
    assert "Đã liên kết" in await person.says(f"/lienket {code}")
    return person


async def inbox(app, person: Person) -> list[dict]:
    """What the outbox holds for this person's chat (notifications not yet delivered)."""
    return await OutboxRepository(app.db).pending_for(person.channel, person.user)


ANSWERS = ["1", "hôm qua", "Em bị sốt xuất huyết phải nằm viện 5 ngày", "2 triệu", None, "đúng", "đồng ý"]


async def fill(member: Person, photo: str = "photo-discharge-1") -> str:
    await member.says("/hotro")
    for answer in ANSWERS:
        if answer is None:  # the photos step
            assert "Đã nhận 1 ảnh" in await member.says(photos=(photo,))
            await member.says("xong")
        else:
            await member.says(answer)
    assert "Bước 8/8" in member.text and "2.000.000 đ" in member.text
    reply = await member.says("gửi")
    return REF.search(reply).group(0)


async def test_full_cycle_submit_ask_info_answer_approve(app):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    reference = await fill(member)
    assert "Ban Chấp hành Công đoàn Công ty Cổ phần Fecon" in member.text and "công đoàn quyết định" in member.text

    [notice] = await inbox(app, chair)
    assert reference in notice["text"] and "Nguyễn Văn An" in notice["text"]
    request_id = notice["choices"][0][1].split(":")[-1]

    assert reference in await chair.says("/duyet")
    details = await chair.presses(f"req:view:{request_id}")
    assert "sốt xuất huyết" in details and chair.replies[0].photos == ("photo-discharge-1",)
    assert f"req:approve:{request_id}" in chair.actions

    await chair.presses(f"req:ask:{request_id}")
    assert "Đã cập nhật" in await chair.says("Bạn gửi thêm hóa đơn viện phí nhé")
    asked = (await inbox(app, member))[-1]
    assert "hóa đơn viện phí" in asked["text"]
    assert "Đã chuyển thông tin bổ sung" in await member.says("Em gửi hóa đơn ạ", photos=("photo-invoice-2",))
    assert "bổ sung thông tin" in (await inbox(app, chair))[-1]["text"]

    await chair.presses(f"req:approve:{request_id}")
    await chair.says("1,5 triệu")
    await chair.says("Nhận tại văn phòng công đoàn thứ Hai")
    assert "Đã cập nhật" in await chair.presses(f"req:yes:{request_id}")  # money: confirmed (issue #15)
    approved = (await inbox(app, member))[-1]["text"]
    assert "đã được duyệt hỗ trợ 1.500.000 đ" in approved and "thứ Hai" in approved

    history = await member.says("/hoso")
    for step in ("Gửi đề nghị", "Công đoàn hỏi thêm thông tin", "Đoàn viên bổ sung thông tin", "Đã duyệt"):
        assert step in history
    assert "đã duyệt" in history and "1.500.000 đ" in history
    assert "đã có kết quả" in await chair.presses(f"req:reject:{request_id}")  # decided: no more changes


async def test_rejection_path(app):
    member = await as_member(app, "NTL-0104", "m2")
    chair = await as_member(app, "NTL-0102", "c2")  # the deputy chair reviews too
    await fill(member)
    request_id = (await inbox(app, chair))[0]["choices"][0][1].split(":")[-1]
    await chair.presses(f"req:reject:{request_id}")
    await chair.says("Chưa đủ điều kiện theo quy chế chi tiêu nội bộ")
    assert "chưa được duyệt" in (await inbox(app, member))[-1]["text"]
    assert "không được duyệt" in await member.says("/hoso")


@pytest.mark.parametrize("steps_done", range(8))
async def test_cancel_at_every_step_sends_nothing(app, steps_done):
    member = await as_member(app, "NTL-0105", "m3")
    chair = await as_member(app, "NTL-0101", "c3")
    await member.says("/hotro")
    for answer in ["1", "hôm nay", "Nhà bị dột nát sau bão cần sửa", "bỏ qua", "xong", "đúng", "đồng ý"][:steps_done]:
        await member.says(answer)
    if steps_done:  # answers given: asked once, then cancelled (issue #15)
        assert "Bạn muốn hủy đề nghị?" in await member.says("hủy")
    assert "Đã hủy" in await member.says("hủy")
    assert await inbox(app, chair) == []
    assert "chưa có đề nghị" in await member.says("/hoso")


@pytest.mark.parametrize("steps_done", range(1, 8))
async def test_back_at_every_step_returns_to_the_previous_question(app, steps_done):
    member = await as_member(app, "NTL-0105", "m4")
    await member.says("/hotro")
    for answer in ["1", "hôm nay", "Nhà bị dột nát sau bão cần sửa", "bỏ qua", "xong", "đúng", "đồng ý"][:steps_done]:
        await member.says(answer)
    assert f"Bước {steps_done}/8" in await member.says("quay lại")


async def test_validation_errors_are_explained_and_the_step_repeats(app, clock):
    member = await as_member(app, "NTL-0105", "m5")
    await member.says("/hotro")
    assert "số từ 1 đến 7" in await member.says("9")
    await member.says("2")
    assert "chưa đọc được ngày" in await member.says("không nhớ rõ")
    future = (clock.now + timedelta(days=3)).astimezone(UTC)
    assert "tương lai" in await member.says(f"{future.day}/{future.month}/{future.year}")
    await member.says("hôm nay")
    assert "ít nhất 10 ký tự" in await member.says("ngã")
    await member.says("Bị ngã giàn giáo khi làm ca đêm")
    assert "chưa đọc được số tiền" in await member.says("nhiều lắm")
    await member.says("500k")
    assert "gửi ảnh giấy tờ" in await member.says("ảnh đây")
    await member.says("bỏ qua")
    assert "chưa đúng" in await member.says("12345")
    await member.says("0912 345 678")
    assert "đồng ý" in await member.says("để xem đã")
    await member.says("đồng ý")
    assert "0912345678" in member.text and "500.000 đ" in member.text


async def test_the_form_resumes_after_a_restart(app, settings, clock):
    from bot.app import build_app

    member = await as_member(app, "NTL-0103", "m6")
    await member.says("/hotro")
    await member.says("3")
    await member.says("hôm qua")
    await app.close()
    restarted = await build_app(settings, clock=clock)
    try:
        again = Person(restarted, "m6")
        assert "Bước 3/8" in await again.says("/hotro")  # resumes where it stopped
        await again.says("Cháy nhà do chập điện, mất hết đồ đạc")
        assert "Bước 4/8" in again.text
    finally:
        await restarted.close()


async def test_two_requests_by_one_member(app):
    member = await as_member(app, "NTL-0103", "m7")
    first, second = await fill(member), await fill(member, "photo-2")
    assert first != second
    mine = await member.says("/hoso")
    assert first in mine and second in mine


async def test_urgent_requests_also_notify_the_parent_union(app):
    member = await as_member(app, "NTL-0104", "m8")
    chair = await as_member(app, "NTL-0101", "c8")
    district = await as_member(app, "NTL-0001", "d8")
    await member.says("/hotro")
    for answer in ["6", "hôm qua", "Bố em mất đột ngột, gia đình rất khó khăn", "bỏ qua", "xong", "đúng", "đồng ý"]:
        await member.says(answer)
    sent = await member.says("gửi")
    assert "KHẨN" in sent and "đã được báo ngay" in sent
    assert "KHẨN" in (await inbox(app, chair))[0]["text"]
    assert "KHẨN" in (await inbox(app, district))[0]["text"]


@pytest.mark.parametrize("linked", [(), ("NTL-0101",), ("NTL-0001",)])
async def test_an_urgent_request_promises_no_alert_that_was_not_queued(app, linked):
    """Only chairs with a linked chat account can be alerted: without one in both unions, the member is not
    told that both "đã được báo ngay", but where the request waits and whom to call."""
    member = await as_member(app, "NTL-0104", "m9")
    for i, code in enumerate(linked):
        await as_member(app, code, f"c9-{i}")
    await member.says("/hotro")
    for answer in ["6", "hôm qua", "Bố em mất đột ngột, gia đình rất khó khăn", "bỏ qua", "xong", "đúng", "đồng ý"]:
        await member.says(answer)
    sent = await member.says("gửi")
    assert "KHẨN" in sent and REF.search(sent)
    assert "đã được báo ngay" not in sent and "gọi thẳng cho Chủ tịch công đoàn cơ sở" in sent


async def test_privacy_other_unit_denied_parent_and_admin_allowed(app):
    member = await as_member(app, "NTL-0103", "m9")
    await fill(member)
    async with app.db.sessions() as session:
        owner = await MemberRepository(session).by_code("NTL-0103")
        request_id = (await HardshipRepository(session).of_member(owner.id))[0].id
    sibling = await as_member(app, "NTL-0201", "s9")  # chair of another grassroots union
    assert await sibling.presses(f"req:view:{request_id}") == app.translator("authz.other_unit")
    assert "Hiện không có đề nghị" in await sibling.says("/duyet")
    other_member = await as_member(app, "NTL-0104", "o9")
    assert await other_member.presses(f"req:view:{request_id}") == app.translator("authz.members_only")
    parent = await as_member(app, "NTL-0001", "p9")
    assert "sốt xuất huyết" in await parent.presses(f"req:view:{request_id}")
    admin = await as_member(app, "DEMO-ADMIN", "a9")
    assert "sốt xuất huyết" in await admin.presses(f"req:view:{request_id}")


async def test_an_unlinked_user_is_told_how_to_link(app):
    stranger = Person(app, "x1")
    assert "/lienket" in await stranger.says("nhà em bị cháy muốn xin hỗ trợ")


async def test_numbered_choices_without_buttons(app):
    member = await as_member(app, "NTL-0103", "z1", channel="zalo", buttons=False)
    await member.says("/hotro")
    assert "Bước 2/8" in await member.says("Tai nạn lao động, tai nạn nghiêm trọng")  # the option's words


async def test_dates_and_references_follow_hanoi_time(app, clock, tmp_path):
    """Submitted at 01:30 on New Year's Day in Hanoi (still 31 December in UTC): the member, the chair and the
    export all see 1 January 2027."""
    clock.now = datetime(2026, 12, 31, 18, 30, tzinfo=UTC)
    member = await as_member(app, "NTL-0103", "m-ny")
    reference = await fill(member)
    assert reference.startswith("HT-2027-")
    assert f"{reference} (01/01/2027)" in await member.says("/hoso")
    hanoi = ZoneInfo("Asia/Ho_Chi_Minh")
    async with app.db.sessions() as session:
        unit = await UnitRepository(session).by_code("NTL-FECON")
        repo = HardshipRepository(session)
        assert await repo.in_period(unit, date(2026, 12, 31), date(2026, 12, 31), hanoi) == []
        requests = await repo.in_period(unit, date(2027, 1, 1), date(2027, 1, 1), hanoi)
    path = tmp_path / "requests.csv"
    assert len(requests) == 1
    assert await app.core.hardship.service.export("NTL-FECON", date(2027, 1, 1), date(2027, 1, 1), path) == 1
    row = list(csv.reader(path.read_text(encoding="utf-8-sig").splitlines(), delimiter=";"))[1]
    assert row[0] == reference and row[1] == "01/01/2027" and row[-1].startswith("01:30 01/01/2027")


async def test_an_english_speaker_can_answer_the_form_in_english_words(app):
    member = await as_member(app, "NTL-0103", "m-en")
    await member.says("/hotro")
    for answer in ["1", "yesterday", "I was in hospital for five days with dengue fever", "2 million", "done"]:
        await member.says(answer)
    assert "Bước 6/8" in member.text  # the phone
    for answer in ["yes", "yes"]:
        await member.says(answer)
    assert "Bước 8/8" in member.text and "2.000.000 đ" in member.text
    assert REF.search(await member.says("send"))


async def test_a_chair_can_confirm_a_broadcast_in_english_words(app):
    chair = await as_member(app, "NTL-0101", "c-en")
    await as_member(app, "NTL-0103", "m-en")  # a recipient (an audience of nobody is not sent)
    await chair.says("/thongbao")
    await chair.says("Meeting on Friday at 2 pm in the hall")
    await chair.presses("bc:unit:NTL-FECON-T1")
    assert "#1" in await chair.says("send now")
    await chair.says("/thongbao")
    await chair.says("Health check next month, details follow")
    await chair.presses("bc:unit:NTL-FECON-T1")
    assert "08:00 16/03/2021" in await chair.says("later")  # asks when, with tomorrow as the example


async def test_the_button_under_a_support_programme_opens_the_form(app):
    member = await as_member(app, "NTL-0103", "m-btn")
    assert "Bước 1/8" in await member.presses("menu:hotro")
    await member.says("1")
    assert "Bước 2/8" in await member.presses("menu:hotro")  # resumed, not restarted
