"""The wrong-linking-code throttle: attempts counted atomically per chat account and per member code.

An attempt is counted *before* its code is checked, by one ``INSERT ... ON CONFLICT DO UPDATE SET failures =
failures + 1 RETURNING`` (PostgreSQL and SQLite ≥ 3.35), which takes the row's lock until the transaction ends:
concurrent attempts of one key queue behind each other and each sees the count of the ones before it. So at
most ``max_failures`` codes are ever checked per key and lock period, however many arrive at once (a
read-then-write counter let 41 concurrent tries check about 15 codes on PostgreSQL).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, case, delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import aware, dialect_module
from storage.models import LinkMemberThrottleRow, LinkThrottleRow

# the throttle table and the values of its primary key
ThrottleKey = tuple[type[LinkThrottleRow] | type[LinkMemberThrottleRow], dict[str, Any]]


class LinkThrottle:
    """Counts linking attempts inside the caller's transaction (the one that checks the code)."""

    def __init__(self, session: AsyncSession, max_failures: int, lock_for: timedelta) -> None:
        self.session = session
        self.max_failures = max_failures
        self.lock_for = lock_for

    @staticmethod
    def account_key(bot_id: str, channel: str, user_id: str) -> ThrottleKey:
        return LinkThrottleRow, {"bot_id": bot_id, "channel": channel, "user_id": user_id}

    @staticmethod
    def member_key(member_id: int) -> ThrottleKey:
        return LinkMemberThrottleRow, {"member_id": member_id}

    async def attempt(self, key: ThrottleKey, now: datetime) -> tuple[int, datetime | None]:
        """Count one attempt: (attempts in this period including this one, the end of the lock refusing it or None).

        A lock that has run out starts a fresh period (this attempt is its first)."""
        table, values = key
        expired = and_(table.locked_until.is_not(None), table.locked_until <= now)
        dialect = dialect_module(self.session)
        stmt = (dialect.insert(table).values(**values, failures=1, locked_until=None)
                .on_conflict_do_update(index_elements=list(values), set_={
                    "failures": case((expired, 1), else_=table.failures + 1),
                    "locked_until": case((expired, None), else_=table.locked_until)})
                .returning(table.failures, table.locked_until))
        failures, locked_until = (await self.session.execute(stmt)).one()
        until = aware(locked_until)
        if until is not None and until > now:
            return failures, until
        if failures > self.max_failures:  # cannot happen while the lock is set with the last allowed attempt
            return failures, await self.lock(key, now)
        return failures, None

    async def locked_until(self, key: ThrottleKey, now: datetime) -> datetime | None:
        table, values = key
        row = await self.session.get(table, tuple(values.values()) if len(values) > 1 else next(iter(values.values())))
        if not isinstance(row, LinkThrottleRow | LinkMemberThrottleRow):  # no row: never failed
            return None
        until = aware(row.locked_until)
        return until if until is not None and until > now else None

    async def lock(self, key: ThrottleKey, now: datetime) -> datetime:
        table, values = key
        until = now + self.lock_for
        await self.session.execute(update(table).where(*(getattr(table, k) == v for k, v in values.items()))
                                   .values(locked_until=until))
        return until

    async def failed(self, key: ThrottleKey, attempts: int, now: datetime) -> datetime | None:
        """After a wrong code: lock the key when this was its last allowed attempt; returns the lock's end."""
        return await self.lock(key, now) if attempts >= self.max_failures else None

    async def clear(self, key: ThrottleKey) -> None:
        table, values = key
        await self.session.execute(delete(table).where(*(getattr(table, k) == v for k, v in values.items())))
