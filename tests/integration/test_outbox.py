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
