"""The outbox: proactive messages (broadcasts, notifications, reminders) waiting to be delivered.

Rows go ``pending -> sending -> sent | failed | blocked | cancelled``; a retryable error puts a row back to
``pending`` with a later ``not_before``. Every status change is conditional on the row being in the state the
caller expects (``WHERE status = 'sending'``), so a late or repeated call never undoes a newer decision.

Ready rows are claimed one person's notifications first (``BULK_KINDS`` last), then by ``not_before``.
Claiming is atomic: PostgreSQL takes rows with ``SELECT ... FOR UPDATE SKIP LOCKED`` and updates them in the
same transaction, so concurrent workers (several processes, one token) never get the same row; SQLite runs one
``UPDATE ... WHERE id IN (SELECT ... LIMIT n) RETURNING`` statement on its single connection (one writer).

Crash policy (``recover``). The delivery worker claims a row only right before the HTTP call and holds it in
``sending`` only for the duration of that call: it never sleeps, waits for the rate limiter or backs off while
holding one (retryable errors put the row back to ``pending`` with ``not_before`` first). A row stuck in
``sending`` longer than the lease therefore means the process died during the call, when the request had almost
certainly reached the platform. Such rows are marked ``sent`` with ``last_error = "unconfirmed (worker died
during the call)"`` rather than sent a second time: a member is better served by a (rare) missing broadcast
than by duplicates after every restart. The lease must be longer than the HTTP timeout of the senders.

Live rows (``refresh_live``) are the one exception to "settled is final": a message kept up to date on the
platform, such as a chair's broadcast progress on Telegram. Its single row records the platform's
``message_id`` when sent; each refresh puts the row back to ``pending`` with the new text (and one more
``revision``), and the worker then edits that message instead of sending a new one. A row refreshed while it
is being sent keeps ``sending`` with the new text; whatever settles that call (sent, failed, or ``recover``
after a crash) sees a revision newer than the one claimed and puts the row back to ``pending`` instead, so the
latest text always goes out, one call at a time. One exception to "never twice": a live row recovered before
its first send was confirmed has no message id, so its next refresh sends a second message.
"""

from __future__ import annotations

import contextlib
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import Integer, bindparam, case, delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import Database, affected_rows, aware, dialect_module
from storage.models import OutboxRow, UnreachableRow

UNCONFIRMED = "unconfirmed (worker died during the call)"
#: kinds sent after every ready row of other kinds (one person's notifications, live messages): a hardship
#: decision or a chair's progress never waits behind thousands of announcements
BULK_KINDS = frozenset({"broadcast", "reminder"})
#: rows per INSERT statement (keeps the bound parameters far below SQLite's and asyncpg's limits)
INSERT_CHUNK = 500
STATUSES = ("pending", "sending", "sent", "failed", "blocked", "cancelled")


def _utc(value: datetime) -> datetime:
    """Store UTC only, so SQLite's text comparison of datetimes orders them correctly."""
    return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)


def _priority(kind: str) -> int:
    return 1 if kind in BULK_KINDS else 0


def _clip(error: str | None) -> str | None:
    return None if error is None else error[:300]


@dataclass(frozen=True, slots=True)
class OutboxItem:
    """One message to queue. ``payload`` is ``{"text": str, "choices": [[label, action]], "photos": [...]}``.

    Built by ``services.notifications`` only (from a ``Reply``); the outbox's own tests and benchmarks build theirs."""

    dedupe_key: str
    bot_id: str
    channel: str
    chat_id: str
    payload: dict
    kind: str = "notification"  # broadcast | notification | reminder
    member_id: int | None = None
    broadcast_id: int | None = None
    not_before: datetime | None = None  # None: as soon as possible


@dataclass(frozen=True, slots=True)
class Claimed:
    """A row taken for sending by one worker."""

    id: int
    bot_id: str
    channel: str
    chat_id: str
    payload: dict
    attempts: int  # including this attempt
    kind: str
    broadcast_id: int | None = None
    member_id: int | None = None
    claimed_at: datetime | None = field(default=None, compare=False)
    message_id: str | None = None  # a live row sent before: the platform message to edit

    @property
    def live(self) -> bool:
        return bool(self.payload.get("live"))


# The claim statements are built once (with bound parameters): claiming runs once per message sent.
_READY = (select(OutboxRow.id)
          .where(OutboxRow.bot_id == bindparam("c_bot"), OutboxRow.channel == bindparam("c_channel"),
                 OutboxRow.status == "pending", OutboxRow.not_before <= bindparam("c_now"))
          .order_by(OutboxRow.priority, OutboxRow.not_before, OutboxRow.id)
          .limit(bindparam("c_limit", type_=Integer)))
_CLAIMED = {"status": "sending", "claimed_by": bindparam("c_worker"), "claimed_at": bindparam("c_now"),
            "attempts": OutboxRow.attempts + 1, "claimed_revision": OutboxRow.revision}
#: settling a ``sending`` row: was it refreshed (a live row) during the call? Then it goes back to pending.
_UNCHANGED = OutboxRow.revision == func.coalesce(OutboxRow.claimed_revision, OutboxRow.revision)


def _settling(status: str) -> dict:
    """Values that settle a ``sending`` row as ``status``, or put it back to ``pending`` (attempts afresh) when it
    was refreshed during the call: its newer text has not gone out."""
    return {"status": case((_UNCHANGED, status), else_="pending"),
            "attempts": case((_UNCHANGED, OutboxRow.attempts), else_=0)}


_RETURNED = (OutboxRow.id, OutboxRow.bot_id, OutboxRow.channel, OutboxRow.chat_id, OutboxRow.payload,
             OutboxRow.attempts, OutboxRow.kind, OutboxRow.broadcast_id, OutboxRow.member_id, OutboxRow.claimed_at,
             OutboxRow.message_id)
#: SQLite: one statement on the single connection, atomic
_CLAIM_SQLITE = (update(OutboxRow).where(OutboxRow.id.in_(_READY.scalar_subquery())).values(**_CLAIMED)
                 .returning(*_RETURNED))
#: PostgreSQL: the ids come from ``_READY ... FOR UPDATE SKIP LOCKED`` in the same transaction
_CLAIM_IDS = (update(OutboxRow).where(OutboxRow.id.in_(bindparam("c_ids", expanding=True))).values(**_CLAIMED)
              .returning(*_RETURNED))


class OutboxRepository:
    """Queue, claim and settle outbox rows. ``enqueue`` and ``refresh_live`` run in the caller's transaction,
    ``counts`` and ``cancel_broadcast`` in the caller's ``session`` when given; the others run their own."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.sessions = db.sessions

    # ----- queueing --------------------------------------------------------------------------------
    async def enqueue(self, session: AsyncSession, items: Iterable[OutboxItem], now: datetime) -> int:
        """Queue ``items`` in the caller's transaction; returns how many rows were actually queued.

        A ``dedupe_key`` already present is ignored (queueing twice never duplicates) and recipients marked
        unreachable (they blocked the bot) on that bot and channel are skipped.
        """
        items = list(items)
        if not items:
            return 0
        now = _utc(now)
        unreachable = await self._unreachable(session, items)
        rows = [{
            "dedupe_key": item.dedupe_key, "bot_id": item.bot_id, "channel": item.channel,
            "chat_id": str(item.chat_id), "member_id": item.member_id, "kind": item.kind,
            "broadcast_id": item.broadcast_id, "payload": item.payload, "status": "pending", "attempts": 0,
            "priority": _priority(item.kind),
            "not_before": _utc(item.not_before) if item.not_before else now, "created_at": now,
        } for item in items if (item.bot_id, item.channel, str(item.chat_id)) not in unreachable]
        dialect = dialect_module(session)
        queued = 0
        for start in range(0, len(rows), INSERT_CHUNK):
            stmt = (dialect.insert(OutboxRow).values(rows[start:start + INSERT_CHUNK])
                    .on_conflict_do_nothing(index_elements=["dedupe_key"]).returning(OutboxRow.id))
            queued += len((await session.execute(stmt)).all())
        return queued

    async def refresh_live(self, session: AsyncSession, items: Iterable[OutboxItem], now: datetime) -> int:
        """Queue or update live rows (one per ``dedupe_key``, ``payload["live"]`` true) in the caller's transaction.

        A new key is queued as usual. An existing row takes the new payload and one more ``revision``; it
        becomes ``pending`` again, due ``not_before`` (default: now), keeping the ``message_id`` of what it sent
        before, which the worker then edits. A row being sent right now stays ``sending`` (see ``mark_sent``).
        Rows of a recipient who blocked the bot, and blocked or cancelled rows, are left alone. Returns how
        many rows were queued or refreshed.
        """
        items = list(items)
        unreachable = await self._unreachable(session, items)
        dialect = dialect_module(session)
        now = _utc(now)
        sending = OutboxRow.status == "sending"
        touched = 0
        for item in items:
            if (item.bot_id, item.channel, str(item.chat_id)) in unreachable:
                continue
            due = _utc(item.not_before) if item.not_before else now
            insert = dialect.insert(OutboxRow).values(
                dedupe_key=item.dedupe_key, bot_id=item.bot_id, channel=item.channel, chat_id=str(item.chat_id),
                member_id=item.member_id, kind=item.kind, broadcast_id=item.broadcast_id,
                payload={**item.payload, "live": True}, status="pending", priority=_priority(item.kind),
                attempts=0, revision=0, not_before=due, created_at=now)
            stmt = insert.on_conflict_do_update(
                index_elements=["dedupe_key"],
                set_={"payload": insert.excluded.payload, "revision": OutboxRow.revision + 1, "not_before": due,
                      "last_error": None, "status": case((sending, "sending"), else_="pending"),
                      "attempts": case((sending, OutboxRow.attempts), else_=0),
                      "claimed_by": case((sending, OutboxRow.claimed_by), else_=None),
                      "claimed_at": case((sending, OutboxRow.claimed_at), else_=None)},
                where=OutboxRow.status.in_(("pending", "sending", "sent", "failed"))).returning(OutboxRow.id)
            touched += len((await session.execute(stmt)).all())
        return touched

    async def _unreachable(self, session: AsyncSession, items: Sequence[OutboxItem]) -> set[tuple[str, str, str]]:
        """The (bot_id, channel, chat_id) among ``items`` that are marked unreachable."""
        found: set[tuple[str, str, str]] = set()
        groups: dict[tuple[str, str], list[str]] = {}
        for item in items:
            groups.setdefault((item.bot_id, item.channel), []).append(str(item.chat_id))
        for (bot_id, channel), chat_ids in groups.items():
            unique = sorted(set(chat_ids))
            for start in range(0, len(unique), INSERT_CHUNK):
                result = await session.execute(select(UnreachableRow.chat_id).where(
                    UnreachableRow.bot_id == bot_id, UnreachableRow.channel == channel,
                    UnreachableRow.chat_id.in_(unique[start:start + INSERT_CHUNK])))
                found.update((bot_id, channel, chat_id) for chat_id in result.scalars())
        return found

    # ----- claiming --------------------------------------------------------------------------------
    async def claim(self, bot_id: str, channel: str, worker_id: str, limit: int, now: datetime,
                    lease: float = 60.0) -> list[Claimed]:
        """Atomically take up to ``limit`` ready rows (pending, ``not_before <= now``, oldest first).

        The rows become ``sending``, claimed by ``worker_id`` at ``now``, with one more attempt. ``lease`` is
        accepted for symmetry with ``recover`` (stale claims are released there, not here).
        """
        del lease
        params = {"c_bot": bot_id, "c_channel": channel, "c_now": _utc(now), "c_limit": limit,
                  "c_worker": worker_id[:64]}
        async with self.db.engine.begin() as conn:  # Core, not the ORM: this runs once per message sent
            if self.db.is_sqlite:
                rows = (await conn.execute(_CLAIM_SQLITE, params)).all()
            else:
                ids = list((await conn.execute(_READY.with_for_update(skip_locked=True), params)).scalars())
                if not ids:
                    return []
                rows = (await conn.execute(_CLAIM_IDS, {**params, "c_ids": ids})).all()
        claimed = [Claimed(id=r.id, bot_id=r.bot_id, channel=r.channel, chat_id=r.chat_id, payload=r.payload,
                           attempts=r.attempts, kind=r.kind, broadcast_id=r.broadcast_id, member_id=r.member_id,
                           claimed_at=aware(r.claimed_at), message_id=r.message_id)
                   for r in rows]
        return sorted(claimed, key=lambda c: c.id)

    # ----- settling --------------------------------------------------------------------------------
    async def _settle(self, row_id: int, **values) -> bool:
        """Move a ``sending`` row on; False when it was not ``sending`` any more (e.g. recovered)."""
        async with self.db.engine.begin() as conn:
            result = await conn.execute(
                update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.status == "sending").values(**values))
            return result.rowcount == 1

    async def mark_sent(self, row_id: int, now: datetime, message_id: str | None = None) -> bool:
        """The platform accepted the message; a live row keeps ``message_id``, the message its refreshes edit."""
        if message_id is None:
            return await self.mark_sent_many([row_id], now) == 1
        return await self._settle(row_id, **_settling("sent"), sent_at=_utc(now), last_error=None,
                                  message_id=str(message_id)[:64])

    async def mark_sent_many(self, row_ids: Sequence[int], now: datetime) -> int:
        """Confirm several sent rows in one transaction (the worker buffers confirmations); returns how many
        were still ``sending``."""
        done = 0
        async with self.db.engine.begin() as conn:
            for start in range(0, len(row_ids), INSERT_CHUNK):
                result = await conn.execute(
                    update(OutboxRow).where(OutboxRow.id.in_(row_ids[start:start + INSERT_CHUNK]),
                                            OutboxRow.status == "sending")
                    .values(**_settling("sent"), sent_at=_utc(now), last_error=None))
                done += result.rowcount
        return done

    async def reschedule(self, row_id: int, not_before: datetime, error: str | None,
                         count_failure: bool = True) -> bool:
        """Back to ``pending`` until ``not_before``. Without ``count_failure`` (a 429, per-chat spacing) the
        attempt taken by ``claim`` is given back, so waiting never uses up the row's attempts."""
        values = {"status": "pending", "not_before": _utc(not_before), "last_error": _clip(error),
                  "claimed_by": None, "claimed_at": None}
        if not count_failure:
            values["attempts"] = func.max(OutboxRow.attempts - 1, 0) if self.db.is_sqlite else \
                func.greatest(OutboxRow.attempts - 1, 0)
        return await self._settle(row_id, **values)

    async def mark_failed(self, row_id: int, error: str) -> bool:
        """Given up: a permanent error, or a retryable one after the last attempt."""
        return await self._settle(row_id, **_settling("failed"), last_error=_clip(error))

    async def mark_blocked(self, row_id: int, now: datetime) -> bool:
        """The recipient blocked the bot (403): the row is settled and the recipient marked unreachable."""
        now = _utc(now)
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OutboxRow).where(OutboxRow.id == row_id, OutboxRow.status == "sending")
                .values(status="blocked", last_error="blocked by the recipient")
                .returning(OutboxRow.bot_id, OutboxRow.channel, OutboxRow.chat_id)
                .execution_options(synchronize_session=False))
            row = result.first()
            if row is None:
                return False
            dialect = dialect_module(session)
            await session.execute(dialect.insert(UnreachableRow).values(
                bot_id=row.bot_id, channel=row.channel, chat_id=row.chat_id, since=now).on_conflict_do_nothing())
            return True

    async def mark_reachable(self, channel: str, chat_id: str, bot_id: str | None = None) -> int:
        """The member wrote again: deliver to them again (on every bot of ``channel`` unless ``bot_id``)."""
        stmt = delete(UnreachableRow).where(UnreachableRow.channel == channel, UnreachableRow.chat_id == str(chat_id))
        if bot_id is not None:
            stmt = stmt.where(UnreachableRow.bot_id == bot_id)
        async with self.sessions.begin() as session:
            return affected_rows(await session.execute(stmt))

    def _session(self, session: AsyncSession | None):
        """The caller's session (their transaction), or a transaction of our own."""
        return contextlib.nullcontext(session) if session is not None else self.sessions.begin()

    async def cancel_broadcast(self, broadcast_id: int, session: AsyncSession | None = None) -> int:
        """Cancel what of a broadcast is still pending; returns how many rows were cancelled."""
        async with self._session(session) as tx:
            result = await tx.execute(
                update(OutboxRow).where(OutboxRow.broadcast_id == broadcast_id, OutboxRow.status == "pending")
                .values(status="cancelled").execution_options(synchronize_session=False))
            return result.rowcount

    async def recover(self, now: datetime, lease: float, *, bot_id: str | None = None,
                      channel: str | None = None) -> int:
        """Settle rows left in ``sending`` longer than ``lease`` seconds by a dead worker (see the module
        docstring): they are marked ``sent``, unconfirmed (a live row refreshed during the lost call: ``pending``,
        its newer text still to send). Returns how many rows were recovered."""
        now = _utc(now)
        stmt = update(OutboxRow).where(OutboxRow.status == "sending",
                                       OutboxRow.claimed_at < now - timedelta(seconds=lease))
        if bot_id is not None:
            stmt = stmt.where(OutboxRow.bot_id == bot_id)
        if channel is not None:
            stmt = stmt.where(OutboxRow.channel == channel)
        async with self.sessions.begin() as session:
            result = await session.execute(stmt.values(**_settling("sent"), sent_at=now,
                                                       last_error=case((_UNCHANGED, UNCONFIRMED), else_=None))
                                           .execution_options(synchronize_session=False))
            return affected_rows(result)

    # ----- reading ---------------------------------------------------------------------------------
    async def counts(self, broadcast_id: int | None = None, *, bot_id: str | None = None,
                     channel: str | None = None, session: AsyncSession | None = None) -> dict[str, int]:
        """Rows per status (every status present, zeros included), for one broadcast or a bot/channel; in the
        caller's ``session`` if given."""
        stmt = select(OutboxRow.status, func.count()).group_by(OutboxRow.status)
        if broadcast_id is not None:
            stmt = stmt.where(OutboxRow.broadcast_id == broadcast_id)
        if bot_id is not None:
            stmt = stmt.where(OutboxRow.bot_id == bot_id)
        if channel is not None:
            stmt = stmt.where(OutboxRow.channel == channel)
        async with self._session(session) as tx:
            found = Counter({status: n for status, n in (await tx.execute(stmt)).all()})
        return {status: found.get(status, 0) for status in (*STATUSES, *sorted(set(found) - set(STATUSES)))}

    async def has_work(self, bot_id: str, channel: str) -> bool:
        """Whether any row of this bot and channel is pending or sending."""
        stmt = select(OutboxRow.id).where(OutboxRow.bot_id == bot_id, OutboxRow.channel == channel,
                                          OutboxRow.status.in_(("pending", "sending"))).limit(1)
        async with self.sessions() as session:
            return (await session.execute(stmt)).first() is not None

    async def next_due(self, bot_id: str, channel: str) -> datetime | None:
        """The earliest ``not_before`` among pending rows of this bot and channel."""
        stmt = select(func.min(OutboxRow.not_before)).where(
            OutboxRow.bot_id == bot_id, OutboxRow.channel == channel, OutboxRow.status == "pending")
        async with self.sessions() as session:
            return aware((await session.execute(stmt)).scalar())

    async def get(self, row_id: int) -> OutboxRow | None:
        """One row (tests, diagnostics)."""
        async with self.sessions() as session:
            return await session.get(OutboxRow, row_id)

    async def take_for(self, bot_id: str, channel: str, chat_id: str, now: datetime) -> list[dict]:
        """Deliver to a chat that shows its own messages (the console, which has no worker): its ready pending
        rows become ``sent`` at once, in one statement; returns their payloads, oldest first."""
        stmt = (update(OutboxRow).where(OutboxRow.bot_id == bot_id, OutboxRow.channel == channel,
                                        OutboxRow.chat_id == str(chat_id), OutboxRow.status == "pending",
                                        OutboxRow.not_before <= _utc(now))
                .values(status="sent", sent_at=_utc(now), attempts=OutboxRow.attempts + 1)
                .returning(OutboxRow.id, OutboxRow.payload))
        async with self.db.engine.begin() as conn:
            rows = (await conn.execute(stmt)).all()
        return [payload for _, payload in sorted(rows, key=lambda r: r[0])]

    async def pending_for(self, channel: str, chat_id: str) -> list[dict]:
        """Payloads still queued for one chat, oldest first (tests; the console takes its rows with ``take_for``)."""
        stmt = (select(OutboxRow.payload).where(OutboxRow.channel == channel, OutboxRow.chat_id == str(chat_id),
                                                OutboxRow.status == "pending").order_by(OutboxRow.id))
        async with self.sessions() as session:
            return list((await session.execute(stmt)).scalars())

    async def unconfirmed(self, broadcast_id: int | None = None) -> int:
        """Rows settled as sent by ``recover`` (their worker died during, or long after, the call)."""
        stmt = select(func.count()).select_from(OutboxRow).where(OutboxRow.last_error == UNCONFIRMED)
        if broadcast_id is not None:
            stmt = stmt.where(OutboxRow.broadcast_id == broadcast_id)
        async with self.sessions() as session:
            return int((await session.execute(stmt)).scalar() or 0)
