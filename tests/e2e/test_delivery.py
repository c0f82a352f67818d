"""Outbox delivery end to end: DeliveryWorker + TelegramSender against the fake Telegram Bot API."""

from __future__ import annotations

import asyncio
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest_asyncio
from pydantic import SecretStr

from bot.channels.telegram import CHANNEL, TelegramSender
from bot.workers.delivery import DeliveryWorker
from storage import migrate
from storage.db import Database
from storage.outbox import OutboxItem, OutboxRepository
from tests.e2e.conftest import TELEGRAM_TOKEN, running_bot
from tests.fakes.telegram_server import FakeTelegram

BOT_ID = TELEGRAM_TOKEN.split(":")[0]
CRASH_WORKER = Path(__file__).with_name("delivery_crash_worker.py")
FIRST = 700_000  # recipients' chat ids start here


def items(n: int, broadcast_id: int = 1, start: int = FIRST, **payload) -> list[OutboxItem]:
    body = {"text": "Thông báo: họp công đoàn lúc 8 giờ", "choices": [], "photos": [], **payload}
    return [OutboxItem(dedupe_key=f"b{broadcast_id}:{CHANNEL}:{start + i}", bot_id=BOT_ID, channel=CHANNEL,
                       chat_id=str(start + i), payload=body, kind="broadcast", broadcast_id=broadcast_id)
            for i in range(n)]


async def enqueue(db: Database, queued: list[OutboxItem]) -> int:
    async with db.sessions.begin() as session:
        return await OutboxRepository(db).enqueue(session, queued, datetime.now(UTC))


def recipients(fake: FakeTelegram, n: int, start: int = FIRST) -> list:
    return [fake.user(start + i) for i in range(n)]


def per_chat(fake: FakeTelegram, users) -> list[int]:
    return [len(u.chat.messages) for u in users]


@pytest_asyncio.fixture
async def fake():
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as server:
        yield server


@pytest_asyncio.fixture
async def db(tmp_path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'outbox.db'}")
    await migrate.upgrade(database)
    yield database
    await database.dispose()


@pytest_asyncio.fixture
async def sender(fake):
    telegram = TelegramSender(TELEGRAM_TOKEN, fake.base_url)
    yield telegram
    await telegram.close()


def worker(db, sender, **options) -> DeliveryWorker:
    options = {"rate_per_second": 400, "backoff": 0.1, **options}
    return DeliveryWorker(db, sender, bot_id=BOT_ID, channel=CHANNEL, **options)


async def test_200_recipients_get_the_broadcast_exactly_once(fake, db, sender):
    users = recipients(fake, 200)
    assert await enqueue(db, items(200)) == 200
    assert await enqueue(db, items(200)) == 0  # queued twice: still once
    progress = []
    w = worker(db, sender, on_progress=lambda bid, counts: progress.append((bid, counts["sent"])),
               progress_every=50)
    await w.run_until_idle(timeout=30)
    assert per_chat(fake, users) == [1] * 200
    assert all(u.last_reply == "Thông báo: họp công đoàn lúc 8 giờ" for u in users)
    assert (await OutboxRepository(db).counts(1))["sent"] == 200
    assert [p[0] for p in progress] == [1] * 4 and progress[-1][1] >= 150


async def test_photos_come_first_and_choices_become_a_keyboard(fake, db, sender):
    [user] = recipients(fake, 1)
    await enqueue(db, items(1, photos=["AgACphoto1", "AgACphoto2"], choices=[["Xem chi tiết", "kb:menu"]]))
    await worker(db, sender).run_until_idle(timeout=10)
    kinds = ["photo" if m["photo"] else "text" for m in user.chat.messages]
    assert kinds == ["photo", "photo", "text"]
    assert user.chat.messages[0]["photo"][-1]["file_id"] == "AgACphoto1"
    assert user.last_keyboard == [[{"text": "Xem chi tiết", "callback_data": "kb:menu"}]]


async def test_a_429_is_waited_out_and_not_counted_as_a_failure(fake, db, sender):
    users = recipients(fake, 3)
    await enqueue(db, items(3))
    fake.fail("sendMessage", 429, retry_after=1)
    started = time.monotonic()
    await worker(db, sender, max_attempts=1).run_until_idle(timeout=15)  # one attempt, yet a 429 is no failure
    assert time.monotonic() - started >= 1.0
    assert per_chat(fake, users) == [1, 1, 1]
    assert [f["status"] for f in fake.faults_served] == [429]
    assert (await OutboxRepository(db).counts(1))["sent"] == 3


async def test_a_500_is_retried_and_gives_up_after_max_attempts(fake, db, sender):
    users = recipients(fake, 2)
    await enqueue(db, items(2))
    fake.fail("sendMessage", 500, times=2, chat_id=users[0].id)
    fake.fail("sendMessage", 502, times=10, chat_id=users[1].id)
    await worker(db, sender, max_attempts=3).run_until_idle(timeout=15)
    assert per_chat(fake, users) == [1, 0]
    repo = OutboxRepository(db)
    assert await repo.counts(1) == {"pending": 0, "sending": 0, "sent": 1, "failed": 1, "blocked": 0,
                                    "cancelled": 0}
    assert len(fake.faults_served) == 2 + 3


async def test_a_blocked_recipient_is_marked_unreachable_and_skipped_later(fake, db, sender):
    users = recipients(fake, 3)
    users[1].blocks_bot()
    await enqueue(db, items(3))
    await worker(db, sender).run_until_idle(timeout=10)
    assert per_chat(fake, users) == [1, 0, 1]
    assert (await OutboxRepository(db).counts(1))["blocked"] == 1
    assert await enqueue(db, items(3, broadcast_id=2)) == 2  # the blocked member is not queued again
    assert await OutboxRepository(db).mark_reachable(CHANNEL, str(users[1].id)) == 1
    assert await enqueue(db, items(3, broadcast_id=3)) == 3


async def test_the_rate_cap_is_respected(fake, db, sender):
    fake.rate_limit(50)
    users = recipients(fake, 120)
    await enqueue(db, items(120))
    started = time.monotonic()
    await worker(db, sender, rate_per_second=50).run_until_idle(timeout=30)
    assert time.monotonic() - started >= 2.0
    assert per_chat(fake, users) == [1] * 120
    assert [f for f in fake.faults_served if f["kind"] == "rate_limit"] == []


async def test_per_chat_spacing_delays_a_second_message_to_the_same_chat(fake, db, sender):
    [user] = recipients(fake, 1)
    await enqueue(db, items(1, broadcast_id=1) + items(1, broadcast_id=2, text="Nhắc lại"))
    await worker(db, sender, per_chat_interval=0.5).run_until_idle(timeout=10)
    dates = [m["date"] for m in user.chat.messages]
    assert [m["text"] for m in user.chat.messages][-1] == "Nhắc lại" and len(dates) == 2
    assert [(c[0], c[1].get("chat_id")) for c in fake.calls if c[0] == "sendMessage"] == \
        [("sendMessage", user.id)] * 2


async def refresh_live(db: Database, chat_id: int, text: str) -> bool:
    item = OutboxItem(dedupe_key=f"live:{chat_id}", bot_id=BOT_ID, channel=CHANNEL, chat_id=str(chat_id),
                      payload={"text": text, "choices": [], "photos": [], "live": True})
    async with db.sessions.begin() as session:
        return await OutboxRepository(db).refresh_live(session, [item], datetime.now(UTC))


async def test_a_live_message_is_sent_once_then_edited_in_place(fake, db, sender):
    [chair] = recipients(fake, 1)
    for text in ["Đang gửi 10/100", "Đang gửi 60/100", "Đã gửi xong 100/100"]:
        assert await refresh_live(db, chair.id, text)
        await worker(db, sender, per_chat_interval=0).run_until_idle(timeout=10)
    [message] = chair.chat.messages
    assert message["text"] == "Đã gửi xong 100/100" and message["edited"]
    assert fake.count("sendMessage") == 1 and fake.count("editMessageText") == 2
    assert await refresh_live(db, chair.id, "Đã gửi xong 100/100")  # the same text again: no error, no new message
    await worker(db, sender, per_chat_interval=0).run_until_idle(timeout=10)
    assert len(chair.chat.messages) == 1 and (await OutboxRepository(db).counts(bot_id=BOT_ID))["failed"] == 0


async def test_a_live_message_that_can_no_longer_be_edited_is_sent_again(fake, db, sender):
    [chair] = recipients(fake, 1)
    assert await refresh_live(db, chair.id, "Đang gửi 10/100")
    await worker(db, sender, per_chat_interval=0).run_until_idle(timeout=10)
    gone = chair.chat.messages[0]["message_id"]
    chair.chat.api_messages.pop(gone)  # the chair deleted it (or it is too old to edit)
    for text in ["Đang gửi 50/100", "Đang gửi 90/100"]:
        assert await refresh_live(db, chair.id, text)
        await worker(db, sender, per_chat_interval=0).run_until_idle(timeout=10)
    assert [m["text"] for m in chair.chat.messages] == ["Đang gửi 10/100", "Đang gửi 90/100"]
    assert chair.chat.messages[1]["edited"]  # the new message became the one kept up to date


async def test_two_workers_on_postgresql_never_send_a_message_twice(fake, pg_database_url, sender):
    first, second = Database(pg_database_url), Database(pg_database_url)
    other = TelegramSender(TELEGRAM_TOKEN, fake.base_url)
    try:
        await migrate.upgrade(first)
        users = recipients(fake, 400)
        await enqueue(first, items(400))
        a, b = worker(first, sender, worker_id="a"), worker(second, other, worker_id="b")
        await asyncio.gather(a.run_until_idle(timeout=60), b.run_until_idle(timeout=60))
        assert per_chat(fake, users) == [1] * 400
        assert a.sent + b.sent == 400 and a.sent > 0 and b.sent > 0
    finally:
        await other.close()
        await first.dispose()
        await second.dispose()


async def test_the_running_bot_delivers_queued_messages(settings, clock):
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake:
        [user] = recipients(fake, 1)
        overrides = {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": fake.base_url}
        async with running_bot(settings, clock, **overrides) as (app, server):
            assert [w.bot_id for w in server.workers] == [BOT_ID]
            await enqueue(app.db, items(1))
            for _ in range(100):
                if user.chat.messages:
                    break
                await asyncio.sleep(0.05)
            assert user.last_reply == "Thông báo: họp công đoàn lúc 8 giờ"


async def test_a_worker_killed_mid_broadcast_neither_loses_nor_repeats_a_message(fake, tmp_path):
    """SIGKILL a worker process after about 1,000 of 2,000 messages, start another: each member gets one.

    The kill happens while the fake holds the answers to the requests in flight (each message already
    recorded), so every row the dead worker left ``sending`` was in a call, as the crash policy assumes; a
    kill at an arbitrary instant could also land between a claim and its request leaving the process.
    """
    total = 2000
    users = recipients(fake, total)
    path = tmp_path / "crash.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    await migrate.upgrade(db)
    assert await enqueue(db, items(total)) == total
    await db.dispose()

    hold, release = asyncio.Event(), asyncio.Event()
    send_message = fake._handlers["sendMessage"]

    async def held(bot, params):
        result = await send_message(bot, params)  # recorded in the transcript...
        if hold.is_set():
            await release.wait()  # ...but not answered
        return result

    fake._handlers["sendMessage"] = held

    async def start():
        return await asyncio.create_subprocess_exec(
            sys.executable, str(CRASH_WORKER), "--db", str(path), "--api-url", fake.base_url, "--token",
            TELEGRAM_TOKEN, "--bot-id", BOT_ID, "--rate", "400", "--lease", "1",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)

    def delivered() -> int:
        return sum(per_chat(fake, users))

    first = await start()
    deadline = time.monotonic() + 60
    while delivered() < total // 2:
        assert first.returncode is None and time.monotonic() < deadline, "the first worker did not get going"
        await asyncio.sleep(0.01)
    hold.set()
    seen, quiet_since = delivered(), time.monotonic()
    while time.monotonic() - quiet_since < 0.5:
        await asyncio.sleep(0.02)
        if delivered() != seen:
            seen, quiet_since = delivered(), time.monotonic()
    first.send_signal(signal.SIGKILL)
    await first.wait()
    release.set()
    hold.clear()
    assert total // 2 <= delivered() < total

    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        left_sending = (await OutboxRepository(db).counts(1))["sending"]
        assert left_sending > 0  # the crash left rows in a call

        second = await start()
        _out, err = await asyncio.wait_for(second.communicate(), timeout=60)
        assert second.returncode == 0, err.decode()[-2000:]

        assert per_chat(fake, users) == [1] * total
        counts = await OutboxRepository(db).counts(1)
        assert counts["sent"] == total and sum(counts.values()) == total
        # every row left in a call was settled as sent without resending; under load the restarted worker
        # may also settle a slow call of its own that way (never a resend, never a loss)
        assert await OutboxRepository(db).unconfirmed(1) >= left_sending
    finally:
        await db.dispose()
