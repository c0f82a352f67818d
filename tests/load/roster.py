"""Members and linking codes in bulk, for the load tests and bench/burst.py (what `unionbot members codes` does)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage.db import Database
from storage.membership import AccountRepository, MemberData, MemberRepository, UnitRepository


async def members_with_codes(db: Database, count: int, *, unit: str = "LOAD", now: datetime | None = None,
                             prefix: str = "LOAD") -> list[str]:
    """Create ``count`` members in a grassroots unit of their own and issue each a one-time code; returns the
    codes in member order."""
    now = now or datetime.now(UTC)
    async with db.sessions.begin() as session:
        units = UnitRepository(session)
        root = await units.upsert(unit, f"Công đoàn cơ sở {unit}", "grassroots", None)
        members = MemberRepository(session)
        await members.upsert_many([MemberData(f"{prefix}-{i:05d}", f"Đoàn viên {i}", root.id)
                                   for i in range(count)], now)
        accounts = AccountRepository(session)
        codes = []
        for i in range(count):
            member = await members.by_code(f"{prefix}-{i:05d}")
            codes.append(await accounts.issue_code(member.id, None, now, timedelta(days=14)))
    return codes
