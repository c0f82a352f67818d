"""Which messenger updates were already taken for handling (webhook retries deliver the same one again)."""

from __future__ import annotations

from collections import OrderedDict
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ProcessedUpdateRow

KEEP = timedelta(days=3)  # redeliveries come within minutes; three days is generous
PRUNE_EVERY = 1000


class UpdateLog:
    """Claims updates once. ``durable`` claims go to the database (webhooks: several workers, retries);
    otherwise a per-process memory of recent updates suffices (long polling: one poller per token, and
    the platform does not redeliver confirmed updates)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, durable: bool = True,
                 remember: int = 50_000) -> None:
        self._sessions = sessions
        self._claims = 0
        self._durable = durable
        self._recent: OrderedDict[tuple[str, str, str], None] = OrderedDict()
        self._remember = remember

    async def claim(self, bot_id: str, channel: str, update_key: str) -> bool:
        """True the first time an update is claimed, False for every redelivery."""
        key = (bot_id, channel, update_key)
        if key in self._recent:
            return False
        self._recent[key] = None
        if len(self._recent) > self._remember:
            self._recent.popitem(last=False)
        if not self._durable:
            return True
        now = datetime.now(UTC)
        async with self._sessions.begin() as session:
            dialect = postgresql if session.bind.dialect.name == "postgresql" else sqlite
            stmt = dialect.insert(ProcessedUpdateRow).values(
                bot_id=bot_id, channel=channel, update_key=update_key[:128], seen_at=now).on_conflict_do_nothing()
            claimed = (await session.execute(stmt)).rowcount == 1
            self._claims += 1
            if self._claims % PRUNE_EVERY == 0:
                await session.execute(delete(ProcessedUpdateRow).where(ProcessedUpdateRow.seen_at < now - KEEP))
        return claimed
