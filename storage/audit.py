"""The audit log of a unit's subtree, for the union's records: ids and action names only, no personal details."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from storage.db import aware
from storage.membership import Unit, UnitRepository
from storage.models import AuditLogRow, MemberRow, UnitRow


@dataclass(frozen=True, slots=True)
class AuditLine:
    at: datetime
    actor: str  # "telegram:12345", "cli"
    actor_member_code: str | None
    action: str
    unit_code: str | None
    target: str | None  # a request reference, a member code, a unit code, a broadcast id
    details: dict


async def audit_of_subtree(session: AsyncSession, unit: Unit, start: date | None, end: date | None,
                           tz: tzinfo) -> list[AuditLine]:
    """Entries about the unit and the units under it, oldest first; ``start``/``end`` are the union's days."""
    ids = [u.id for u in await UnitRepository(session).subtree(unit)]
    actor = aliased(MemberRow)
    stmt = (select(AuditLogRow, actor.member_code, UnitRow.code)
            .outerjoin(actor, actor.id == AuditLogRow.actor_member_id)
            .join(UnitRow, UnitRow.id == AuditLogRow.unit_id)
            .where(AuditLogRow.unit_id.in_(ids)).order_by(AuditLogRow.at, AuditLogRow.id))
    if start is not None:
        stmt = stmt.where(AuditLogRow.at >= datetime.combine(start, time(), tz).astimezone(UTC))
    if end is not None:
        stmt = stmt.where(AuditLogRow.at < datetime.combine(end + timedelta(days=1), time(), tz).astimezone(UTC))
    rows = await session.execute(stmt)
    return [AuditLine(aware(row.at), row.actor, member_code, row.action, unit_code, row.target, row.details or {})
            for row, member_code, unit_code in rows]

