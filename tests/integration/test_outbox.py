"""The outbox repository on SQLite and (when configured) PostgreSQL: queueing, claiming, settling, recovery."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from storage import migrate
from storage.db import Database
from storage.outbox import UNCONFIRMED, OutboxItem, OutboxRepository

T0 = datetime(2026, 1, 1, 8, 0, tzinfo=UTC)
BOT, CHANNEL = "1001", "telegram"


def item(n: int, broadcast_id: int | None = 1, **overrides) -> OutboxItem:
    values = {"dedupe_key": f"b{broadcast_id}:telegram:{n}", "bot_id": BOT, "channel": CHANNEL,
              "chat_id": str(n), "payload": {"text": f"Thông báo {n}", "choices": [], "photos": []},
              "kind": "broadcast", "broadcast_id": broadcast_id}
    values.update(overrides)
    return OutboxItem(**values)


@pytest_asyncio.fixture
async def db(database_url):
    database = Database(database_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


@pytest.fixture
def repo(db) -> OutboxRepository:
    return OutboxRepository(db)


async def enqueue(db: Database, repo: OutboxRepository, items, now=T0) -> int:
    async with db.sessions.begin() as session:
        return await repo.enqueue(session, items, now)


async def claim(repo: OutboxRepository, limit: int = 10, now=T0, worker: str = "w1"):
    return await repo.claim(BOT, CHANNEL, worker, limit, now, lease=60)


async def test_enqueue_is_idempotent_on_the_dedupe_key(db, repo):
    assert await enqueue(db, repo, [item(1), item(2)]) == 2
    assert await enqueue(db, repo, [item(1), item(2), item(3)]) == 1
    assert await enqueue(db, repo, [item(3)]) == 0
    counts = await repo.counts(1)
    assert counts["pending"] == 3 and sum(counts.values()) == 3


async def test_claim_takes_ready_rows_oldest_first_and_never_twice(db, repo):
    await enqueue(db, repo, [item(n) for n in range(1, 6)])
    await enqueue(db, repo, [item(9, not_before=T0 + timedelta(minutes=5))])
    first = await claim(repo, limit=3)
    assert [c.chat_id for c in first] == ["1", "2", "3"]
    assert all(c.attempts == 1 and c.payload["text"].startswith("Thông báo") for c in first)
    second = await claim(repo, limit=10, worker="w2")
    assert [c.chat_id for c in second] == ["4", "5"]  # row 9 is not due yet
    assert await claim(repo) == []
    row = await repo.get(first[0].id)
    assert (row.status, row.claimed_by, row.attempts) == ("sending", "w1", 1)
    later = await claim(repo, now=T0 + timedelta(minutes=5))
    assert [c.chat_id for c in later] == ["9"]


async def test_a_notification_goes_before_a_broadcast_queued_earlier(db, repo):
    """A chair's progress, a hardship decision or a live message does not wait behind thousands of announcements."""
    await enqueue(db, repo, [item(n) for n in range(1, 101)])
    notice = item(500, broadcast_id=None, kind="notification", dedupe_key="hs:1")
    await enqueue(db, repo, [notice], now=T0 + timedelta(minutes=1))
    reminder = item(501, broadcast_id=None, kind="reminder", dedupe_key="r:1")
    await enqueue(db, repo, [reminder], now=T0 + timedelta(minutes=1))
    later = T0 + timedelta(minutes=2)
    assert {c.chat_id for c in await claim(repo, limit=3, now=later)} == {"500", "1", "2"}
    assert [c.chat_id for c in await claim(repo, limit=200, now=later)][-1] == "501"  # bulk, by time


async def refresh_live(db: Database, repo: OutboxRepository, text: str, now=T0) -> bool:
    live = item(7, broadcast_id=None, kind="notification", dedupe_key="bl:1:7",
                payload={"text": text, "choices": [], "photos": []})
    async with db.sessions.begin() as session:
        return await repo.refresh_live(session, [live], now)


async def test_a_live_row_is_one_row_refreshed_in_place_keeping_its_message_id(db, repo):
    await refresh_live(db, repo, "10%")
    [claimed] = await claim(repo)
    assert claimed.live and claimed.message_id is None
    await repo.mark_sent(claimed.id, T0, message_id="42")
    await refresh_live(db, repo, "30%")
    [again] = await claim(repo)
    assert (again.id, again.message_id, again.payload["text"], again.attempts) == (claimed.id, "42", "30%", 1)
    await repo.mark_failed(again.id, "400: bad request")
    await refresh_live(db, repo, "40%")  # a failed live row is tried again with the new text
    assert (await claim(repo))[0].payload["text"] == "40%"
    assert sum((await repo.counts(bot_id=BOT, channel=CHANNEL)).values()) == 1


async def test_a_live_row_refreshed_while_it_is_sent_goes_out_again_with_the_new_text(db, repo):
    await refresh_live(db, repo, "10%")
    [claimed] = await claim(repo)
    await refresh_live(db, repo, "20%")  # the worker is sending "10%" right now
    assert await claim(repo) == []  # still one send at a time
    await repo.mark_sent(claimed.id, T0, message_id="42")  # "10%" is out, not the latest
    [again] = await claim(repo)
    assert (again.id, again.message_id, again.payload["text"], again.attempts) == (claimed.id, "42", "20%", 1)
    await repo.mark_sent(again.id, T0, message_id="42")
    assert await claim(repo) == [] and (await repo.counts(bot_id=BOT, channel=CHANNEL))["sent"] == 1


async def test_a_live_row_refreshed_during_a_lost_or_failed_call_keeps_its_new_text(db, repo):
    """The text that never went out is not settled: after a worker died during the call, or the call failed
    for good, a refresh made meanwhile is still sent."""
    await refresh_live(db, repo, "10%")
    [claimed] = await claim(repo)
    await repo.mark_sent(claimed.id, T0, message_id="42")
    await refresh_live(db, repo, "50%")
    [call] = await claim(repo)
    await refresh_live(db, repo, "100%")  # meanwhile the worker dies during the call
    assert await repo.recover(T0 + timedelta(seconds=61), lease=60) == 1
    [again] = await claim(repo, now=T0 + timedelta(seconds=61))
    assert (again.id, again.payload["text"], again.message_id) == (call.id, "100%", "42")
    await refresh_live(db, repo, "100% (final)")
    await repo.mark_failed(again.id, "TelegramServerError after 5 attempts")  # the older text failed for good
    [last] = await claim(repo, now=T0 + timedelta(seconds=61))
    assert (last.payload["text"], last.attempts) == ("100% (final)", 1)
    await repo.mark_failed(last.id, "400: bad request")  # nothing newer: failed
    assert (await repo.get(last.id)).status == "failed"


async def test_transitions_and_counts(db, repo):
    await enqueue(db, repo, [item(n) for n in range(1, 5)])
    a, b, c, d = await claim(repo)
    assert await repo.mark_sent(a.id, T0)
    assert not await repo.mark_sent(a.id, T0)  # only a sending row can be settled
    assert await repo.mark_failed(b.id, "Bad Request: chat not found")
    assert await repo.reschedule(c.id, T0 + timedelta(seconds=2), "500", count_failure=True)
    assert await repo.reschedule(d.id, T0 + timedelta(seconds=1), "429", count_failure=False)
    counts = await repo.counts(1)
    assert (counts["sent"], counts["failed"], counts["pending"], counts["sending"]) == (1, 1, 2, 0)
    assert (await repo.get(c.id)).attempts == 1  # a counted failure keeps the attempt
    assert (await repo.get(d.id)).attempts == 0  # a 429 gives it back
    assert await claim(repo, now=T0 + timedelta(milliseconds=500)) == []
    again = await claim(repo, now=T0 + timedelta(seconds=3))
    assert {r.id: r.attempts for r in again} == {d.id: 1, c.id: 2}
    sent = await repo.get(a.id)
    assert sent.sent_at is not None and sent.last_error is None


async def test_blocked_recipients_are_skipped_until_they_are_reachable_again(db, repo):
    await enqueue(db, repo, [item(1), item(2)])
    one, _two = await claim(repo)
    assert await repo.mark_blocked(one.id, T0)
    assert (await repo.counts(1))["blocked"] == 1
    assert await enqueue(db, repo, [item(1, broadcast_id=2), item(2, broadcast_id=2)]) == 1
    assert await enqueue(db, repo, [item(1, broadcast_id=3, channel="zalo")]) == 1  # other channel: reachable
    assert await repo.mark_reachable(CHANNEL, "1") == 1
    assert await enqueue(db, repo, [item(1, broadcast_id=4)]) == 1


async def test_cancel_broadcast_cancels_only_pending_rows(db, repo):
    await enqueue(db, repo, [item(n) for n in range(1, 4)] + [item(1, broadcast_id=2)])
    taken = await claim(repo, limit=1)
    assert await repo.cancel_broadcast(1) == 2
    assert await repo.mark_sent(taken[0].id, T0)
    assert await repo.counts(1) == {"pending": 0, "sending": 0, "sent": 1, "failed": 0, "blocked": 0,
                                    "cancelled": 2}
    assert (await repo.counts(2))["pending"] == 1


async def test_recover_marks_stale_sending_rows_sent_unconfirmed(db, repo):
    await enqueue(db, repo, [item(1), item(2)])
    old = await claim(repo, limit=1, now=T0)
    young = await claim(repo, limit=1, now=T0 + timedelta(seconds=50))
    assert await repo.recover(T0 + timedelta(seconds=61), lease=60) == 1
    row = await repo.get(old[0].id)
    assert (row.status, row.last_error) == ("sent", UNCONFIRMED)
    assert (await repo.get(young[0].id)).status == "sending"
    assert not await repo.reschedule(old[0].id, T0, "late 429", count_failure=False)  # stays sent
    assert (await repo.get(old[0].id)).status == "sent"
    assert await repo.recover(T0 + timedelta(seconds=200), lease=60, bot_id="other") == 0


async def test_has_work_and_next_due(db, repo):
    assert not await repo.has_work(BOT, CHANNEL)
    await enqueue(db, repo, [item(1, not_before=T0 + timedelta(seconds=30))])
    assert await repo.has_work(BOT, CHANNEL)
    assert await repo.next_due(BOT, CHANNEL) == T0 + timedelta(seconds=30)


async def test_concurrent_claimers_on_postgresql_never_share_a_row(pg_database_url):
    first, second = Database(pg_database_url), Database(pg_database_url)
    try:
        await migrate.upgrade(first)
        repo1, repo2 = OutboxRepository(first), OutboxRepository(second)
        await enqueue(first, repo1, [item(n) for n in range(500)])

        async def drain(repo: OutboxRepository, worker: str) -> list[int]:
            got: list[int] = []
            while rows := await repo.claim(BOT, CHANNEL, worker, 7, T0, lease=60):
                got += [r.id for r in rows]
            return got

        results = await asyncio.gather(*(drain(r, f"w{i}") for i, r in enumerate([repo1, repo2] * 4)))
        ids = [i for got in results for i in got]
        assert len(ids) == 500 and len(set(ids)) == 500
        assert sum(1 for got in results if got) > 1  # the claimers really ran side by side
    finally:
        await first.dispose()
        await second.dispose()
