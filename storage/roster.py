"""Roster queries: the units and members a roster file names, looked up in chunks, and their upsert.

Reading the file, its header vocabulary, validation and the officers' messages are in ``services.roster``;
this module only asks and writes the database (in the caller's transaction).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.membership import MemberData, MemberRepository, Unit
from storage.models import MemberRow, UnitRow

CHUNK = 500  # codes per IN (...) query and records per upsert: far below every driver's parameter limit


@dataclass(frozen=True, slots=True)
class StoredMember:
    """A member record as stored, with its unit: what an import keeps of the fields a file leaves out."""

    member_code: str
    unit: Unit
    phone: str | None
    birth_date: date | None
    joined_on: date | None
    status: str
    full_name: str = ""


def _to_unit(row: UnitRow) -> Unit:
    return Unit(row.id, row.code, row.name, row.level, row.path, row.parent_id)


def chunks(items: Sequence, size: int = CHUNK) -> Iterable[Sequence]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


async def units_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Unit]:
    """The units among ``codes`` (any case), keyed by upper-case code; unknown codes are absent."""
    found: dict[str, Unit] = {}
    for chunk in chunks(sorted({c.upper() for c in codes})):
        for row in await session.scalars(select(UnitRow).where(func.upper(UnitRow.code).in_(chunk))):
            found[row.code.upper()] = _to_unit(row)
    return found


async def members_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, StoredMember]:
    """The members among ``codes`` (any case), keyed by upper-case member code."""
    found: dict[str, StoredMember] = {}
    for chunk in chunks(sorted({c.upper() for c in codes})):
        result = await session.execute(
            select(MemberRow, UnitRow).join(UnitRow, MemberRow.unit_id == UnitRow.id)
            .where(func.upper(MemberRow.member_code).in_(chunk)))
        for member, unit in result:
            found[member.member_code.upper()] = StoredMember(member.member_code, _to_unit(unit), member.phone,
                                                             member.birth_date, member.joined_on, member.status,
                                                             member.full_name)
    return found


async def upsert_members(session: AsyncSession, records: Sequence[MemberData], now: datetime) -> tuple[int, int]:
    """Insert or update by member code; returns (inserted, updated)."""
    return await MemberRepository(session).upsert_many(records, now) if records else (0, 0)
