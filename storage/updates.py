"""Which messenger updates were already taken for handling (webhook retries deliver the same one again), and the
webhook updates received but not handled yet (durable acknowledgement: stored before the platform gets its 200)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy import and_, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import affected_rows, dialect_module
from storage.models import ProcessedUpdateRow

KEEP = timedelta(days=3)  # redeliveries come within minutes; three days is generous
PRUNE_EVERY = 1000
KEY_LENGTH = 128


class UpdateLog:
    """Claims updates once. ``durable`` claims go to the database (webhooks: several workers, retries);
    otherwise a per-process memory of recent updates suffices (long polling: one poller per token, and
    the platform does not redeliver confirmed updates).

    Webhook updates go through ``accept`` (stored with their body before the 200), ``done`` once handled, and
    ``take_pending`` for those a worker that vanished left behind."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, durable: bool = True,
                 remember: int = 50_000) -> None:
        self._sessions = sessions
        self._claims = 0
        self._durable = durable
        self._recent: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._remember = remember
        #: stored updates this process holds (accepted or taken, not ``done``): never taken again by this process,
        #: however long they wait (a chat's earlier update retrying through a database outage, a full intake)
        self._held: set[tuple[str, str, str]] = set()

    def _remembered(self, key: tuple[str, str, str]) -> bool:
        if key in self._recent:
            return True
        self._recent[key] = None
        if len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        return False

    async def claim(self, bot_id: str, channel: str, update_key: str) -> bool:
        """True the first time an update is claimed, False for every redelivery."""
        if self._remembered((bot_id, channel, update_key)):
            return False
        if not self._durable:
            return True
        return await self._insert(bot_id, channel, update_key, None, None)

    async def accept(self, bot_id: str, channel: str, update_key: str, payload: str, *, lease: float) -> bool:
        """Store a webhook update with its body, held by this worker for ``lease`` seconds; True when it is new
        (handle it, then call ``done``), False for a redelivery of one already stored."""
        if (bot_id, channel, update_key[:KEY_LENGTH]) in self._recent:
            return False
        until = datetime.now(UTC) + timedelta(seconds=lease)
        accepted = await self._insert(bot_id, channel, update_key, payload, until)
        self._remembered((bot_id, channel, update_key[:KEY_LENGTH]))
        if accepted:
            self._held.add((bot_id, channel, update_key[:KEY_LENGTH]))
        return accepted

    async def done(self, bot_id: str, channel: str, update_key: str) -> None:
        """The update was handled: its body is dropped (only the key stays, for deduplication). Should that fail, the
        update is taken again once its lease ran out."""
        try:
            async with self._sessions.begin() as session:
                await session.execute(update(ProcessedUpdateRow).where(
                    ProcessedUpdateRow.bot_id == bot_id, ProcessedUpdateRow.channel == channel,
                    ProcessedUpdateRow.update_key == update_key[:KEY_LENGTH]).values(payload=None, lease_until=None))
        finally:
            self._held.discard((bot_id, channel, update_key[:KEY_LENGTH]))

    def release(self, bot_id: str, channel: str, update_key: str) -> None:
        """A stored update this process will not handle after all (its intake was full): taken again, here or by
        another worker, once its lease ran out."""
        self._held.discard((bot_id, channel, update_key[:KEY_LENGTH]))

    async def take_pending(self, bot_id: str, channel: str, *, lease: float,
                           limit: int = 100) -> list[tuple[str, str]]:
        """Updates stored and not handled whose holder's lease ran out (its worker crashed), oldest first, as
        ``(update_key, payload)``; each is now held by the caller for ``lease`` seconds (a compare-and-set per
        row, so two workers never take the same one)."""
        now = datetime.now(UTC)
        lapsed = and_(ProcessedUpdateRow.bot_id == bot_id, ProcessedUpdateRow.channel == channel,
                      ProcessedUpdateRow.lease_until.is_not(None), ProcessedUpdateRow.lease_until < now)
        taken: list[tuple[str, str]] = []
        async with self._sessions.begin() as session:
            rows = (await session.execute(
                select(ProcessedUpdateRow.update_key, ProcessedUpdateRow.payload).where(lapsed)
                .order_by(ProcessedUpdateRow.seen_at).limit(limit))).all()
            for key, payload in rows:
                if (bot_id, channel, key) in self._held:  # still in hand here: its holder marks it done
                    continue
                result = await session.execute(update(ProcessedUpdateRow).where(
                    lapsed, ProcessedUpdateRow.update_key == key).values(lease_until=now + timedelta(seconds=lease)))
                if affected_rows(result) == 1 and payload is not None:
                    taken.append((key, payload))
                    self._held.add((bot_id, channel, key))
        return taken

    async def _insert(self, bot_id: str, channel: str, update_key: str, payload: str | None,
                      lease_until: datetime | None) -> bool:
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            dialect = dialect_module(session)
            stmt = dialect.insert(ProcessedUpdateRow).values(
                bot_id=bot_id, channel=channel, update_key=update_key[:KEY_LENGTH], seen_at=now, payload=payload,
                lease_until=lease_until).on_conflict_do_nothing()
            claimed = affected_rows(await session.execute(stmt)) == 1
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:
                await session.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.seen_at < now - KEEP,
                                                                       ProcessedUpdateRow.lease_until.is_(None)))
        return claimed
