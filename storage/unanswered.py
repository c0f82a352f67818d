"""Log of questions the bot could not answer, for chairs to see what the knowledge base lacks: one row per question
(its normalised text) and asker's unit (storage/askers.py), so a chair reads their subtree's questions only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import Insert, delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.askers import NO_UNIT, Asker, in_subtrees, units_of
from storage.db import affected_rows, aware, dialect_module, dialect_name
from storage.models import UnansweredQuestionRow
from storage.write_behind import WriteBehind


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    key: str
    sample_text: str
    count: int
    last_intent: str
    last_seen: datetime
    id: int = 0
    channel: str = ""
    #: the asker's unit (``NO_UNIT``: an asker linked to none)
    unit_id: int = NO_UNIT


class UnansweredRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, key: str, text: str, channel: str, intent: str, confidence: float,
                     now: datetime, unit_id: int = NO_UNIT) -> None:
        """Count one more occurrence of the question ``key`` (its normalised text) asked in the unit ``unit_id``."""
        await self.record_many([_asked(key, text, channel, intent, confidence, now, unit_id)])

    async def record_many(self, asked: Sequence[dict]) -> None:
        """Several ``record``s in one statement (``executemany``): rows of ``_asked``, one per question and unit,
        their ``count`` the times it was asked (a row already stored adds them)."""
        if asked:
            await self.session.execute(_upsert(dialect_name(self.session)), list(asked))

    async def most_frequent(self, limit: int = 50, paths: Sequence[str] | None = None) -> list[UnansweredQuestion]:
        """The most asked questions of the units in the subtrees ``paths`` (None: every question, those of askers
        linked to no unit included)."""
        rows = (await self.session.scalars(
            select(UnansweredQuestionRow).where(in_subtrees(UnansweredQuestionRow.unit_id, paths))
            .order_by(UnansweredQuestionRow.count.desc(), UnansweredQuestionRow.last_seen.desc())
            .limit(limit))).all()
        return [_question(r) for r in rows]

    async def totals(self, limit: int = 50) -> list[UnansweredQuestion]:
        """The most asked questions of the whole bot, one per question: every asker's unit's count added, the
        latest time and wording (``unit_id`` ``NO_UNIT``; ``id`` the question's first row)."""
        q = UnansweredQuestionRow
        total = func.sum(q.count)
        tops = (await self.session.execute(
            select(q.key, total, func.max(q.last_seen), func.min(q.id)).group_by(q.key)
            .order_by(total.desc(), func.max(q.last_seen).desc(), q.key).limit(limit))).all()
        latest: dict[str, UnansweredQuestionRow] = {}
        for row in (await self.session.scalars(select(q).where(q.key.in_([t[0] for t in tops]))
                                               .order_by(q.last_seen.desc(), q.id))).all():
            latest.setdefault(row.key, row)
        return [UnansweredQuestion(key, latest[key].sample_text, int(count), latest[key].last_intent, aware(seen),
                                   first_id, latest[key].channel) for key, count, seen, first_id in tops]

    async def by_ids(self, ids: list[int]) -> list[UnansweredQuestion]:
        rows = (await self.session.scalars(
            select(UnansweredQuestionRow).where(UnansweredQuestionRow.id.in_(ids))
            .order_by(UnansweredQuestionRow.id))).all()
        return [_question(r) for r in rows]

    async def delete(self, ids: list[int]) -> int:
        """Take questions off the list (attached to an entry, or dismissed); how many there were."""
        result = await self.session.execute(delete(UnansweredQuestionRow).where(UnansweredQuestionRow.id.in_(ids)))
        return affected_rows(result)


def _question(r: UnansweredQuestionRow) -> UnansweredQuestion:
    return UnansweredQuestion(r.key, r.sample_text, r.count, r.last_intent, aware(r.last_seen), r.id, r.channel,
                              r.unit_id)


def _asked(key: str, text: str, channel: str, intent: str, confidence: float, now: datetime, unit_id: int,
           count: int = 1, first: datetime | None = None) -> dict:
    """One row of ``UnansweredRepository.record_many``: what the log keeps of a question asked ``count`` times."""
    return dict(key=key[:500], unit_id=unit_id, sample_text=text[:2000], count=count, channel=channel,
                last_intent=intent, last_confidence=confidence, first_seen=first or now, last_seen=now)


@cache
def _upsert(dialect: str) -> Insert:
    """The log's insert-or-count statement, built once per dialect (its compiled form is cached with it)."""
    table = UnansweredQuestionRow.__table__
    insert = dialect_module(dialect).insert(table)
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[table.c.key, table.c.unit_id],
        set_={"count": table.c.count + new.count, "sample_text": new.sample_text, "last_intent": new.last_intent,
              "last_confidence": new.last_confidence, "last_seen": new.last_seen})


@dataclass(frozen=True, slots=True)
class _Pending:
    key: str
    text: str
    channel: str
    intent: str
    confidence: float
    at: datetime
    asker: Asker | None


class UnansweredLog(WriteBehind[list[_Pending]]):
    """Records unanswered questions off the member's reply path.

    ``record`` only queues; a background task writes the queue in one transaction shortly after,
    and ``close`` writes whatever is left, so answering never waits for the database. ``scrub`` (injected by
    the composition root: nlu/privacy.py) takes personal details out of the question and its key before it is
    queued, for every caller. The asker's account is kept only in memory: the write turns it into their unit
    (one query for the batch, storage/askers.py), so recording costs the reply no query.
    """

    what = "unanswered questions"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], delay: float = 0.05,
                 scrub: Callable[[str], str] = lambda text: text) -> None:
        super().__init__(sessions, delay, list)
        self._scrub = scrub

    def record(self, key: str, text: str, channel: str, intent: str, confidence: float, now: datetime,
               asker: Asker | None = None) -> None:
        key, text = self._scrub(key[:500]), self._scrub(text[:2000])  # what the log keeps (UnansweredRepository)
        if not key.strip(" []"):
            return
        self._pending.append(_Pending(key, text, channel, intent, confidence, now, asker))
        self._queued()

    async def _write(self, session: AsyncSession, batch: list[_Pending]) -> None:
        """The batch as one row per question and unit (asked n times: counted n, its last wording kept), written
        in one statement: one statement a row cost a busy minute's flush tens of milliseconds of the loop."""
        units = await units_of(session, (p.asker for p in batch))
        rows: dict[tuple[str, int], dict] = {}
        for p in batch:
            unit = units[p.asker] if p.asker is not None else NO_UNIT
            seen = rows.get((p.key[:500], unit))
            rows[(p.key[:500], unit)] = _asked(p.key, p.text, p.channel, p.intent, p.confidence, p.at, unit,
                                              seen["count"] + 1 if seen else 1, seen["first_seen"] if seen else None)
        await UnansweredRepository(session).record_many(list(rows.values()))
