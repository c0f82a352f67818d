"""A double tap does one thing (issue 11): concurrent identical steps through Core.handle, SQLite and PostgreSQL.

Two identical taps are sent with ``asyncio.gather``: on SQLite both coroutines read the (cached) state before
either writes, on PostgreSQL both transactions run at once; with two App instances on one PostgreSQL database
they are two webhook workers.
"""

import asyncio
import re
from datetime import timedelta

import pytest
import pytest_asyncio

from bot.app import build_app
from handlers.types import Incoming
from storage.broadcasts import BroadcastRepository
from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, AuditRepository, MemberRepository
from storage.throttle import LinkThrottle
from tests.integration.test_hardship import ANSWERS, Person, as_member, inbox

REF = re.compile(r"HT-\d{4}-\d{6}")
ALREADY = "đã gửi rồi"


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


def text_of(replies) -> str:
    return "\n".join(r.text for r in replies)


async def to_confirm(member: Person) -> None:
    await member.says("/hotro")
    for answer in ANSWERS:
        if answer is None:
            await member.says(photos=("photo-1",))
            await member.says("xong")
        else:
            await member.says(answer)
    assert "Bước 8/8" in member.text


async def requests_of(app, member_code: str):
    async with app.db.sessions() as session:
        member = await MemberRepository(session).by_code(member_code)
        return await HardshipRepository(session).of_member(member.id)


def tap(person: Person, action: str | None = None, text: str = "") -> Incoming:
    return Incoming(channel=person.channel, chat_id=person.user, user_id=person.user, action=action, text=text,
                    buttons=person.buttons)


async def twice(app, incoming: Incoming, other_app=None) -> tuple[str, str]:
    """The same event twice at once; (the first's answer, the repeat's answer), told apart by "already"."""
    a, b = await asyncio.gather(app.core.handle(incoming), (other_app or app).core.handle(incoming))
    texts = sorted([text_of(a), text_of(b)], key=lambda t: ALREADY in t or "rồi" in t)
    return texts[0], texts[1]


# ----- hardship submit ------------------------------------------------------------------------------------
async def test_two_submit_taps_at_once_send_one_request_and_notify_the_chair_once(app):
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    await to_confirm(member)
    sent, repeat = await twice(app, tap(member, "hs:submit"))
    reference = REF.search(sent).group(0)
    assert ALREADY not in sent and ALREADY in repeat and reference in repeat
    assert [r.reference for r in await requests_of(app, "NTL-0103")] == [reference]
    assert len(await inbox(app, chair)) == 1
    assert ALREADY in await member.presses("hs:submit") and reference in member.text  # a late retry too
    assert "chưa có" not in await member.says("/hoso") and reference in member.text


async def test_gui_typed_twice_on_a_numbered_channel_sends_one_request(app):
    member = await as_member(app, "NTL-0104", "z1", channel="zalo", buttons=False)
    chair = await as_member(app, "NTL-0101", "c1")
    await to_confirm(member)
    sent, repeat = await twice(app, tap(member, text="gửi"))
    reference = REF.search(sent).group(0)
    assert ALREADY in repeat and reference in repeat
    assert len(await requests_of(app, "NTL-0104")) == 1 and len(await inbox(app, chair)) == 1
    assert ALREADY in await member.says("gửi") and reference in member.text


# ----- broadcasts ---------------------------------------------------------------------------------------------
async def _compose(chair: Person) -> None:
    await chair.says("/thongbao")
    await chair.says("Họp công đoàn lúc 14h thứ Sáu tại hội trường tầng 2")
    await chair.presses("bc:unit:NTL-FECON")


async def _broadcasts(app, chair_code: str) -> int:
    async with app.db.sessions() as session:
        member = await MemberRepository(session).by_code(chair_code)
        latest = await BroadcastRepository(session).latest_by(member.id)
    return latest.id if latest else 0


async def test_two_send_now_taps_queue_one_broadcast_and_each_member_gets_it_once(app):
    chair = await as_member(app, "NTL-0101", "c1")
    members = [await as_member(app, code, f"u{i}") for i, code in enumerate(["NTL-0103", "NTL-0104", "NTL-0105"])]
    await _compose(chair)
    queued, repeat = await twice(app, tap(chair, "bc:now"))
    assert "Đã xếp lịch gửi thông báo #1" in queued and ALREADY in repeat and "số 1" in repeat
    assert await _broadcasts(app, "NTL-0101") == 1
    for person in members:
        assert len(await inbox(app, person)) == 1
    assert ALREADY in await chair.presses("bc:now")


async def test_a_scheduled_broadcast_confirmed_twice_is_queued_once(app):
    chair = await as_member(app, "NTL-0101", "c1")
    member = await as_member(app, "NTL-0103", "u1")
    await _compose(chair)
    await chair.presses("bc:later")
    assert "08:00 16/03/2021" in await chair.says("08:00 16/03/2021")  # echoed; stored once confirmed
    queued, repeat = await twice(app, tap(chair, "bc:when_ok"))
    assert "#1" in queued and ALREADY in repeat
    assert await _broadcasts(app, "NTL-0101") == 1
    async with app.db.sessions() as session:
        assert (await BroadcastRepository(session).get(1)).status == "queued"
    assert len(await inbox(app, member)) == 1  # one pending row (not yet due)


async def test_a_broadcast_cancelled_twice_at_once_is_cancelled_once(app):
    chair = await as_member(app, "NTL-0101", "c1")
    await as_member(app, "NTL-0103", "u1")
    await _compose(chair)
    await chair.presses("bc:later")
    await chair.says("08:00 16/03/2021")
    await chair.presses("bc:when_ok")  # the time read, confirmed
    cancelled, repeat = await twice(app, tap(chair, text="/thongbao_huy 1"))
    assert "đã hủy rồi" in repeat and "đã hủy rồi" not in cancelled
    async with app.db.sessions() as session:
        entries = [e for e in await AuditRepository(session).recent() if e.action == "cancel_broadcast"]
    assert len(entries) == 1


# ----- the chairs' decisions -------------------------------------------------------------------------------
async def _submitted(app) -> tuple[Person, Person, int]:
    member = await as_member(app, "NTL-0103", "m1")
    chair = await as_member(app, "NTL-0101", "c1")
    await to_confirm(member)
    await member.says("gửi")
    request_id = int((await inbox(app, chair))[0]["choices"][0][1].split(":")[-1])
    return member, chair, request_id


async def _events(app, request_id: int, action: str) -> int:
    async with app.db.sessions() as session:
        request = await HardshipRepository(session).get(request_id)
    return sum(e.action == action for e in request.history)


async def test_an_approval_sent_twice_is_one_decision_and_one_notification(app):
    member, chair, request_id = await _submitted(app)
    await chair.presses(f"req:approve:{request_id}")
    await chair.says("1,5 triệu")
    await chair.says("Nhận tại văn phòng công đoàn thứ Hai")
    done, repeat = await twice(app, tap(chair, text="xác nhận"))  # money: confirmed (issue #15)
    assert "Đã cập nhật" in done and "đã được xử lý rồi" in repeat
    assert await _events(app, request_id, "approved") == 1
    assert sum("đã được duyệt" in n["text"] for n in await inbox(app, member)) == 1


async def test_a_rejection_sent_twice_is_one_decision(app):
    member, chair, request_id = await _submitted(app)
    await chair.presses(f"req:reject:{request_id}")
    await twice(app, tap(chair, text="Chưa đủ điều kiện theo quy chế"))
    assert await _events(app, request_id, "rejected") == 1
    assert sum("chưa được duyệt" in n["text"] for n in await inbox(app, member)) == 1


async def test_a_forward_tapped_twice_forwards_once(app):
    member, chair, request_id = await _submitted(app)
    forwarded, repeat = await twice(app, tap(chair, f"req:forward:{request_id}"))
    assert "Đã chuyển" in forwarded and "đã được xử lý rồi" in repeat
    assert await _events(app, request_id, "forwarded") == 1
    assert sum("chuyển" in n["text"] for n in await inbox(app, member)) == 1


async def test_an_answer_to_a_chairs_question_sent_twice_is_filed_once(app):
    member, chair, request_id = await _submitted(app)
    await chair.presses(f"req:ask:{request_id}")
    await chair.says("Bạn gửi thêm giấy ra viện")
    filed, repeat = await twice(app, tap(member, text="Em gửi giấy ra viện ạ"))
    assert "Đã chuyển thông tin bổ sung" in filed and "đã gửi rồi" in repeat
    assert await _events(app, request_id, "info_provided") == 1
    assert sum("bổ sung thông tin" in n["text"] for n in await inbox(app, chair)) == 1


# ----- linking -------------------------------------------------------------------------------------------------
async def test_the_same_code_sent_twice_at_once_links_once_without_an_error(app):
    async with app.db.sessions.begin() as session:
        target = await MemberRepository(session).by_code("NTL-0105")
        code = await AccountRepository(session).issue_code(target.id, None, app.core.clock(), timedelta(days=1))
    person = Person(app, "l1")
    linked, repeat = await twice(app, tap(person, text=f"/lienket {code}"))
    assert "Đã liên kết" in linked and "đã liên kết rồi" in repeat
    assert app.translator("bot.apology") not in linked + repeat
    async with app.db.sessions() as session:
        accounts = AccountRepository(session)
        assert await accounts.member_of("default", "test", "l1") == target.id
        throttle = LinkThrottle(session, max_failures=5, lock_for=timedelta(minutes=15))
        assert await throttle.locked_until(throttle.account_key("default", "test", "l1"), app.core.clock()) is None
    assert "Vũ Minh Đức" in await person.says("/toi")


# ----- two webhook workers on one PostgreSQL database -----------------------------------------------------
@pytest_asyncio.fixture
async def two_workers(pg_database_url, settings, clock):
    first = await build_app(settings.replace(database_url=pg_database_url), clock=clock)
    second = await build_app(settings.replace(database_url=pg_database_url), clock=clock)
    yield first, second
    await second.close()
    await first.close()


async def test_two_workers_receiving_the_same_submit_make_one_request(two_workers):
    first, second = two_workers
    member = await as_member(first, "NTL-0103", "m1")
    chair = await as_member(first, "NTL-0101", "c1")
    await to_confirm(member)
    sent, repeat = await twice(first, tap(member, "hs:submit"), other_app=second)
    assert ALREADY in repeat and REF.search(sent).group(0) in repeat
    assert len(await requests_of(first, "NTL-0103")) == 1 and len(await inbox(first, chair)) == 1


async def test_two_workers_receiving_the_same_send_now_queue_one_broadcast(two_workers):
    first, second = two_workers
    chair = await as_member(first, "NTL-0101", "c1")
    chats = []  # a few dozen recipients: the unit's members, each linked on several bots of a deployment
    async with first.db.sessions.begin() as session:
        accounts = AccountRepository(session)
        for code in ["NTL-0102", "NTL-0103", "NTL-0104", "NTL-0105"]:
            member = await MemberRepository(session).by_code(code)
            for bot in range(8):
                chat = f"{code}-{bot}"
                await accounts.link(f"bot{bot}", "telegram", chat, chat, member.id, None, first.core.clock())
                chats.append(chat)
    await _compose(chair)
    queued, repeat = await twice(first, tap(chair, "bc:now"), other_app=second)
    assert "33 người nhận" in queued and ALREADY in repeat
    assert await _broadcasts(first, "NTL-0101") == 1
    from storage.outbox import OutboxRepository
    for chat in chats:
        assert len(await OutboxRepository(first.db).pending_for("telegram", chat)) == 1


# ----- the state store itself ---------------------------------------------------------------------------------
async def test_of_two_compare_and_sets_from_the_same_state_exactly_one_wins_and_a_stale_one_never(database_url):
    from datetime import UTC, datetime

    from storage import migrate
    from storage.conversation import State, StateKey, StateStore
    from storage.db import Database

    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        store = StateStore(db.sessions, cache=db.is_sqlite)
        await store.load()
        key, now = StateKey("bot", "test", "-100", "u1"), datetime(2026, 1, 1, tzinfo=UTC)
        await store.set(key, State("hardship", "confirm", {"form_id": "f1"}), now)
        seen = await store.get(key)

        async def take():
            async with db.sessions.begin() as session:
                return await store.advance(session, key, seen, State("done", "hardship", {"reference": "R"}), now)

        results = await asyncio.gather(take(), take())
        assert sum(r is not None for r in results) == 1
        assert (await store.get(key)).flow == "done"
        assert await StateStore(db.sessions, cache=False).get(key) == await store.get(key)  # cache = database
        await store.clear(key)
        await store.set(key, State("hardship", "confirm", {"form_id": "f2"}), now)  # a new form
        async with db.sessions.begin() as session:  # a tap on the old one cannot take the new one
            assert await store.advance(session, key, seen, State("done", "hardship"), now) is None
        assert (await store.get(key)).data == {"form_id": "f2"}
        assert await store.get(StateKey("bot", "test", "-100", "u2")) is None  # another user of the same chat
    finally:
        await db.dispose()
