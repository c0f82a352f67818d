"""Counts for the statistics page and ``/thongke``: SQL only. Questions are counted per day, channel, intent
(answered or not) and the asker's unit — no text, no person (``QuestionCounter``); the rest is counted from the
tables that hold it (hardship requests, the outbox, chat accounts); all within a unit's subtree (``paths``: the
roots' unit paths, None: every unit)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache

from sqlalchemy import Boolean, Date, Insert, Integer, String, distinct, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from storage.askers import NO_UNIT, Asker, in_subtrees, path_in, units_of
from storage.db import aware, dialect_module, dialect_name
from storage.models import (
    Base,
    BroadcastRow,
    ChatAccountRow,
    HardshipEventRow,
    HardshipRequestRow,
    MemberRow,
    OutboxRow,
    UnitRow,
)
from storage.write_behind import WriteBehind


class QuestionCountRow(Base):
    """How many questions a day, on a channel, from members of a unit (0: askers linked to no unit), the bot read
    as an intent (and whether it answered them)."""

    __tablename__ = "question_counts"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    intent: Mapped[str] = mapped_column(String(64), primary_key=True)
    answered: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    unit_id: Mapped[int] = mapped_column(Integer, primary_key=True, default=NO_UNIT, server_default="0")
    count: Mapped[int] = mapped_column(Integer, default=0)


Counted = tuple[date, str, str, bool, Asker | None]


class QuestionCounter(WriteBehind[Counter[Counted]]):
    """Counts questions off the reply path: ``count`` adds in memory, a background task writes the sums in one
    transaction shortly after (``close`` writes what is left). A lost count never breaks answering. The asker's
    account is kept in memory only: the write turns the batch's askers into their units in one query."""

    what = "question counts"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], delay: float = 1.0) -> None:
        super().__init__(sessions, delay, Counter)

    def count(self, day: date, channel: str, intent: str, answered: bool, asker: Asker | None = None) -> None:
        self._pending[(day, channel[:32], intent[:64], answered, asker)] += 1
        self._queued()

    async def _write(self, session: AsyncSession, batch: Counter[Counted]) -> None:
        """The sums added in one statement (``executemany``), not one a row."""
        units = await units_of(session, (key[4] for key in batch))
        sums: Counter[tuple[date, str, str, bool, int]] = Counter()
        for (day, channel, intent, answered, asker), n in batch.items():
            sums[(day, channel, intent, answered, units[asker] if asker is not None else NO_UNIT)] += n
        if sums:
            await session.execute(_add_counts(dialect_name(session)), [
                {"day": day, "channel": channel, "intent": intent, "answered": answered, "unit_id": unit_id,
                 "count": n} for (day, channel, intent, answered, unit_id), n in sorted(sums.items())])


@cache
def _add_counts(dialect: str) -> Insert:
    """The counts' insert-or-add statement, built once per dialect (its compiled form is cached with it)."""
    table = QuestionCountRow.__table__
    insert = dialect_module(dialect).insert(table)
    return insert.on_conflict_do_update(index_elements=["day", "channel", "intent", "answered", "unit_id"],
                                        set_={"count": table.c.count + insert.excluded.count})


@dataclass(frozen=True)
class QuestionDay:
    day: date
    channel: str
    intent: str
    answered: bool
    count: int


class StatsRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def questions(self, start: date, end: date, paths: Sequence[str] | None = None) -> list[QuestionDay]:
        """The counts of the days, asked by members of the subtrees ``paths`` (None: every question)."""
        rows = (await self.session.execute(
            select(QuestionCountRow).where(QuestionCountRow.day >= start, QuestionCountRow.day <= end,
                                           in_subtrees(QuestionCountRow.unit_id, paths))
            .order_by(QuestionCountRow.day))).scalars().all()
        return [QuestionDay(r.day, r.channel, r.intent, r.answered, r.count) for r in rows]

    async def requests_by_status(self, paths: Sequence[str] | None, since: datetime) -> dict[str, int]:
        rows = (await self.session.execute(
            select(HardshipRequestRow.status, func.count()).join(UnitRow, UnitRow.id == HardshipRequestRow.unit_id)
            .where(path_in(UnitRow.path, paths), HardshipRequestRow.created_at >= since)
            .group_by(HardshipRequestRow.status))).all()
        return {status: int(n) for status, n in rows}

    async def days_to_decision(self, paths: Sequence[str] | None, since: datetime) -> list[float]:
        """Days from submission to the first approval or rejection, per request decided since ``since``."""
        decided = (select(HardshipEventRow.request_id, func.min(HardshipEventRow.at).label("at"))
                   .where(HardshipEventRow.action.in_(("approved", "rejected")))
                   .group_by(HardshipEventRow.request_id).subquery())
        rows = (await self.session.execute(
            select(HardshipRequestRow.created_at, decided.c.at)
            .join(decided, decided.c.request_id == HardshipRequestRow.id)
            .join(UnitRow, UnitRow.id == HardshipRequestRow.unit_id)
            .where(path_in(UnitRow.path, paths), decided.c.at >= since))).all()
        return [(aware(at) - aware(created)).total_seconds() / 86400 for created, at in rows]

    async def broadcast_deliveries(self, paths: Sequence[str] | None, since: datetime) -> dict[str, int]:
        rows = (await self.session.execute(
            select(OutboxRow.status, func.count())
            .join(BroadcastRow, BroadcastRow.id == OutboxRow.broadcast_id)
            .join(UnitRow, UnitRow.id == BroadcastRow.unit_id)
            .where(OutboxRow.kind == "broadcast", path_in(UnitRow.path, paths), BroadcastRow.created_at >= since)
            .group_by(OutboxRow.status))).all()
        return {status: int(n) for status, n in rows}

    async def linked_per_unit(self, paths: Sequence[str] | None, limit: int = 15) -> list[tuple[str, int, int]]:
        """(unit name, members with a linked chat account, active members) per unit, most members first."""
        linked = (select(ChatAccountRow.member_id).distinct().subquery())
        rows = (await self.session.execute(
            select(UnitRow.name, func.count(distinct(linked.c.member_id)), func.count(distinct(MemberRow.id)))
            .join(MemberRow, MemberRow.unit_id == UnitRow.id)
            .outerjoin(linked, linked.c.member_id == MemberRow.id)
            .where(path_in(UnitRow.path, paths), MemberRow.status == "active")
            .group_by(UnitRow.id, UnitRow.name)
            .order_by(func.count(distinct(MemberRow.id)).desc(), UnitRow.name).limit(limit))).all()
        return [(name, int(n_linked), int(n_members)) for name, n_linked, n_members in rows]


def median(values: Sequence[float]) -> float | None:
    return statistics.median(values) if values else None
