"""Announcements and reminders through Core.handle: composing, audiences, scheduling, cancel, reports."""

import asyncio
from datetime import UTC, datetime

import pytest

from storage.broadcasts import BroadcastRepository
from storage.membership import AccountRepository, MemberRepository
from storage.outbox import OutboxRepository
from tests.integration.test_hardship import Person, as_member, inbox


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite, and on PostgreSQL when it is configured (row locks, upserts)."""
    return app_on_both


async def compose(chair: Person, text: str, unit_action: str) -> str:
    await chair.says("/thongbao")
    await chair.says(text)
    return await chair.presses(unit_action)


async def test_a_chair_broadcasts_to_their_unit_now(app):
    chair = await as_member(app, "NTL-0101", "c1")
    members = [await as_member(app, code, f"u{i}") for i, code in enumerate(["NTL-0103", "NTL-0104", "NTL-0105"])]
    zalo = await as_member(app, "NTL-0103", "z1", channel="zalo", buttons=False)
    await chair.says("/thongbao")
    await chair.says("Họp công đoàn lúc 14h thứ Sáu tại hội trường tầng 2")
    assert chair.actions == ["bc:unit:NTL-FECON", "bc:unit:NTL-FECON-T1", "bc:unit:NTL-FECON-T2"]
    preview = await chair.presses("bc:unit:NTL-FECON")
    assert "5 người nhận" in preview and "Thử nghiệm 4" in preview and "Zalo 1" in preview
    assert "Đã xếp lịch gửi thông báo #1 tới 5 người nhận" in await chair.presses("bc:now")
    for person in [*members, zalo, chair]:
        [message] = await inbox(app, person)
        assert "Họp công đoàn lúc 14h" in message["text"] and "Công đoàn Công ty Cổ phần Fecon" in message["text"]
    assert "đang chờ 5" in await chair.says("/thongbao_ketqua 1")


async def test_a_photo_goes_with_the_text_on_its_own_platform_only(app):
    chair = await as_member(app, "NTL-0101", "tgc", channel="telegram")
    on_telegram = await as_member(app, "NTL-0103", "tg1", channel="telegram")
    on_zalo = await as_member(app, "NTL-0104", "za1", channel="zalo", buttons=False)
    await chair.says("/thongbao")
    assert "ngắn quá" in await chair.says("")  # neither text nor photo
    await chair.says("Lịch khám sức khỏe định kỳ (xem ảnh)", photos=("AgACposter",))
    await chair.presses("bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    [telegram] = await inbox(app, on_telegram)
    [zalo] = await inbox(app, on_zalo)
    assert telegram["photos"] == ["AgACposter"] and "Lịch khám sức khỏe" in telegram["text"]
    assert zalo["photos"] == [] and "Lịch khám sức khỏe" in zalo["text"]  # a Telegram file id means nothing there


async def test_audiences_are_limited_to_what_the_chair_leads(app):
    chair = await as_member(app, "NTL-0101", "c2")
    await chair.says("/thongbao")
    await chair.says("Thông báo thử nghiệm cho đơn vị khác")
    assert await chair.presses("bc:unit:NTL-JWM") == app.translator("authz.other_unit")  # a forged button
    assert await chair.presses("bc:unit:NTL") == app.translator("authz.other_unit")  # the parent union
    member = await as_member(app, "NTL-0103", "m2")
    assert await member.says("/thongbao") == app.translator("authz.members_only")
    district = await as_member(app, "NTL-0001", "d2")
    await district.says("/thongbao")
    await district.says("Thông báo của LĐLĐ quận gửi các công đoàn cơ sở")
    assert "bc:unit:NTL-FECON" in district.actions and "bc:unit:NTL" in district.actions
    assert "người nhận" in await district.presses("bc:unit:NTL-FECON")


async def test_scheduling_and_cancelling(app, clock):
    chair = await as_member(app, "NTL-0101", "c3")
    member = await as_member(app, "NTL-0103", "m3")
    await compose(chair, "Nhắc lịch khám sức khỏe định kỳ", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:later")
    assert "đã qua" in await chair.says("08:00 1/1/2020")
    assert "08:00 25/12/2021" in await chair.says("08:00 25/12/2021")  # echoed for confirmation
    reply = await chair.presses("bc:when_ok")
    assert "lúc 08:00 25/12/2021" in reply
    due = await OutboxRepository(app.db).next_due("default", "test")
    assert due == datetime(2021, 12, 25, 1, 0, tzinfo=UTC)  # 08:00 in Hanoi
    assert len(await inbox(app, member)) == 1
    assert "Đã dừng thông báo #1: 1 tin" in await chair.says("/thongbao_huy 1")
    assert await inbox(app, member) == []
    assert "đã hủy 1" in await chair.says("/thongbao_ketqua")


async def settle(app, channel: str, sent: int = 0, blocked: int = 0) -> None:
    """Play the delivery worker for ``channel``: the next ``sent`` rows delivered, then ``blocked`` refused."""
    outbox = OutboxRepository(app.db)
    claimed = await outbox.claim("default", channel, "w1", sent + blocked, app.core.clock(), 60)
    for row in claimed[:sent]:
        await outbox.mark_sent(row.id, app.core.clock())
    for row in claimed[sent:]:
        await outbox.mark_blocked(row.id, app.core.clock())


async def test_progress_and_final_report_reach_the_chair(app):
    chair = await as_member(app, "NTL-0101", "c4")
    await as_member(app, "NTL-0103", "m4")
    await as_member(app, "NTL-0104", "m4b")  # this one has blocked the bot
    await compose(chair, "Thông báo kiểm tra tiến độ gửi", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    await settle(app, "test", sent=1, blocked=1)
    assert await app.core.broadcasts.service.report_progress(app.core.clock()) == 1
    [report] = [m for m in await inbox(app, chair) if "Kết quả" in m["text"]]
    assert "đã gửi 1; người nhận đã chặn bot 1" in report["text"]
    assert await app.core.broadcasts.service.report_progress(app.core.clock()) == 0  # told once


async def test_progress_is_one_message_kept_current_on_telegram_and_steps_on_zalo(app):
    """Telegram can edit a sent message: the chair gets one progress message, updated in place (its outbox row
    is refreshed while it runs). Zalo cannot: a message at 25/50/75 %. Both get the final report."""
    telegram = await as_member(app, "NTL-0101", "tg4", channel="telegram")
    zalo = await as_member(app, "NTL-0101", "za4", channel="zalo", buttons=False)
    for i, code in enumerate(["NTL-0102", "NTL-0103", "NTL-0104", "NTL-0105"]):
        await as_member(app, code, f"p{i}")
    await compose(telegram, "Thông báo kiểm tra tin tiến độ sửa tại chỗ", "bc:unit:NTL-FECON")
    assert "6 người nhận" in await telegram.presses("bc:now")  # 4 members + the chair's own two accounts
    await settle(app, "telegram", sent=1)  # the chair's own copy of the announcement
    await settle(app, "zalo", sent=1)

    def live(payloads):
        return [p for p in payloads if p.get("live")]

    await app.core.broadcasts.service.report_progress(app.core.clock())  # 2 of 6 done: 33 %
    [progress] = live(await inbox(app, telegram))
    assert "2/6" in progress["text"] and "33%" in progress["text"]
    assert [m["text"] for m in await inbox(app, zalo)] == ["Thông báo #1: đã xử lý 2/6 người nhận (33%)."]

    await settle(app, "test", sent=1)  # 3 of 6: nothing new for Zalo (still past 25 %), Telegram's text moves
    await app.core.broadcasts.service.report_progress(app.core.clock())
    [progress] = live(await inbox(app, telegram))  # still one message, its text replaced
    assert "3/6" in progress["text"] and "50%" in progress["text"]
    assert len(await inbox(app, zalo)) == 2 and "(50%)" in (await inbox(app, zalo))[-1]["text"]

    await app.core.broadcasts.service.report_progress(app.core.clock())  # nothing changed: nothing queued
    assert len(await inbox(app, telegram)) == 1 and len(await inbox(app, zalo)) == 2

    await settle(app, "test", sent=2, blocked=1)  # all done
    await app.core.broadcasts.service.report_progress(app.core.clock())
    tg = await inbox(app, telegram)
    [progress] = live(tg)
    assert "6/6" in progress["text"] and "100%" in progress["text"]
    assert sum("Kết quả" in m["text"] for m in tg) == 1
    za = await inbox(app, zalo)
    assert not live(za) and "Kết quả" in za[-1]["text"] and "đã gửi 5; người nhận đã chặn bot 1" in za[-1]["text"]
    assert await app.core.broadcasts.service.report_progress(app.core.clock()) == 0  # finished: told once


async def test_cancelling_a_running_broadcast_updates_its_progress_message(app):
    telegram = await as_member(app, "NTL-0101", "tg5", channel="telegram")
    for i, code in enumerate(["NTL-0103", "NTL-0104"]):
        await as_member(app, code, f"q{i}")
    await compose(telegram, "Thông báo sẽ bị dừng giữa chừng", "bc:unit:NTL-FECON-T1")
    await telegram.presses("bc:now")
    await settle(app, "test", sent=1)
    await app.core.broadcasts.service.report_progress(app.core.clock())
    assert "Đã dừng thông báo #1: 1 tin" in await telegram.says("/thongbao_huy 1")
    [progress] = [p for p in await inbox(app, telegram) if p.get("live")]
    assert "đã dừng" in progress["text"] and "đã gửi 1" in progress["text"] and "đã hủy 1" in progress["text"]
    assert await app.core.broadcasts.service.report_progress(app.core.clock()) == 0  # a stopped one is not running


async def test_a_finished_broadcast_cannot_be_cancelled_and_keeps_its_report(app):
    telegram = await as_member(app, "NTL-0101", "tg7", channel="telegram")
    await as_member(app, "NTL-0103", "q7")
    await compose(telegram, "Thông báo gửi xong rồi mới bấm hủy", "bc:unit:NTL-FECON-T1")
    await telegram.presses("bc:now")
    await settle(app, "test", sent=1)
    await app.core.broadcasts.service.report_progress(app.core.clock())
    assert "đã kết thúc" in await telegram.says("/thongbao_huy")
    [progress] = [p for p in await inbox(app, telegram) if p.get("live")]
    assert "đã xử lý xong" in progress["text"]
    assert "đã gửi 1" in await telegram.says("/thongbao_ketqua")
    assert "đã kết thúc" in await telegram.says("/thongbao_huy 1")  # and twice: still finished


async def test_a_cancel_waits_for_a_progress_round_in_flight(app, app_database):
    """Rounds and cancels take the broadcast row in turn: a cancel is never overwritten by "done"."""
    if not app_database:
        pytest.skip("row locks: PostgreSQL only (SQLite has one writer)")
    chair = await as_member(app, "NTL-0101", "c11")
    await as_member(app, "NTL-0103", "m11")
    await compose(chair, "Thông báo để thử khóa giữa các lượt", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    async with app.db.sessions.begin() as session:  # a progress round holds the broadcast ...
        repo = BroadcastRepository(session)
        assert await repo.lock_queued(1) is not None
        cancel = asyncio.create_task(chair.says("/thongbao_huy 1"))
        await asyncio.sleep(0.5)
        assert not cancel.done()  # ... so the cancel waits ...
        await repo.update(1, status="done")  # ... and sees what the round decided
    assert "đã kết thúc" in await asyncio.wait_for(cancel, 10)


async def test_a_chair_with_two_telegram_accounts_gets_progress_and_report_on_both(app):
    chair = await as_member(app, "NTL-0101", "tg8", channel="telegram")
    async with app.db.sessions.begin() as session:  # the same chair on a second Telegram bot
        member = await MemberRepository(session).by_code("NTL-0101")
        await AccountRepository(session).link("bot2", "telegram", "tg8b", "tg8b", member.id, None, app.core.clock())
    second = Person(app, "tg8b", channel="telegram")
    await as_member(app, "NTL-0103", "q8")
    await compose(chair, "Thông báo tới chủ tịch có hai tài khoản", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    await app.core.broadcasts.service.report_progress(app.core.clock())
    await settle(app, "test", sent=1)
    await app.core.broadcasts.service.report_progress(app.core.clock())
    for person in (chair, second):
        texts = [p["text"] for p in await inbox(app, person)]
        assert sum("đã xử lý xong" in t for t in texts) == 1 and sum("Kết quả" in t for t in texts) == 1, texts


async def test_console_accounts_are_not_broadcast_recipients(app):
    """The console is an operator's terminal without a delivery worker: a broadcast waiting for it would never
    finish (no final report for the chair)."""
    chair = await as_member(app, "NTL-0101", "c10")
    await as_member(app, "NTL-0103", "m10")
    await as_member(app, "NTL-0104", "console-NTL-0104", channel="console", buttons=False)
    assert "1 người nhận" in await compose(chair, "Thông báo không gửi vào console", "bc:unit:NTL-FECON-T1")


async def test_cancelling_before_the_start_sends_no_progress_message(app, clock):
    telegram = await as_member(app, "NTL-0101", "tg6", channel="telegram")
    await as_member(app, "NTL-0103", "q6")
    await compose(telegram, "Thông báo hẹn giờ rồi hủy", "bc:unit:NTL-FECON-T1")
    await telegram.presses("bc:later")
    await telegram.says("08:00 25/12/2021")
    await telegram.presses("bc:when_ok")
    await telegram.says("/thongbao_huy 1")
    assert [p for p in await inbox(app, telegram) if p.get("live")] == []


async def test_reminders_before_phase_deadlines_with_a_fixed_clock(app, clock):
    member = await as_member(app, "NTL-0103", "m5")
    other = await as_member(app, "NTL-0104", "m6")
    assert "Đã bật nhắc nhở" in await member.says("/nhacnho")
    clock.now = datetime(2021, 6, 23, 1, 0, tzinfo=UTC)  # 7 days before phase 1 ends (30/06/2021)
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 1
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 0  # idempotent
    [reminder] = await inbox(app, member)
    assert "Đợt 1" in reminder["text"] and "30/06/2021" in reminder["text"] and "7 ngày" in reminder["text"]
    assert await inbox(app, other) == []  # not subscribed
    clock.now = datetime(2021, 6, 25, 1, 0, tzinfo=UTC)
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 0
    clock.now = datetime(2021, 12, 30, 1, 0, tzinfo=UTC)  # 1 day before phase 2 ends
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 1
    assert "Đã tắt" in await member.says("/nhacnho")
    clock.now = datetime(2021, 6, 29, 1, 0, tzinfo=UTC)
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 0


async def test_a_chair_adds_a_reminder_for_a_knowledge_date(app, clock):
    chair = await as_member(app, "NTL-0101", "c7")
    member = await as_member(app, "NTL-0103", "m7")
    outsider = await as_member(app, "NTL-0202", "m8")  # another grassroots union
    await member.says("/nhacnho")
    await outsider.says("/nhacnho")
    echo = await chair.says("/nhacnho_them ngay-thanh-lap-cong-doan-viet-nam 21/7/2021 Chuẩn bị kỷ niệm 28/7")
    assert "21/07/2021" in echo
    reply = await chair.presses("bc:rm_ok")  # the day read, echoed, confirmed
    assert "Đã thêm nhắc nhở ngày 21/07/2021" in reply
    clock.now = datetime(2021, 7, 21, 1, 0, tzinfo=UTC)
    assert await app.core.broadcasts.service.send_reminders(app.core.knowledge, clock.now) == 1
    assert "Chuẩn bị kỷ niệm 28/7" in (await inbox(app, member))[0]["text"]
    assert await inbox(app, outsider) == []
    assert "Cách dùng" in await chair.says("/nhacnho_them khong-co-muc-nay 1/1/2022")


async def test_a_member_who_blocked_the_bot_is_reached_again_after_start(app):
    chair = await as_member(app, "NTL-0101", "c9")
    member = await as_member(app, "NTL-0103", "m9")
    await compose(chair, "Thông báo lần thứ nhất", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:now")
    outbox = OutboxRepository(app.db)
    [row] = await outbox.claim("default", "test", "w1", 10, app.core.clock(), 60)
    await outbox.mark_blocked(row.id, app.core.clock())
    assert "0 người nhận" in await compose(chair, "Thông báo lần thứ hai", "bc:unit:NTL-FECON-T1")
    await chair.presses("bc:cancel")
    await member.says("/start")  # unblocked the bot and started it again
    assert "1 người nhận" in await compose(chair, "Thông báo lần thứ ba", "bc:unit:NTL-FECON-T1")
