"""Log of questions the bot could not answer, for chairs to see what the knowledge base lacks."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import UnansweredQuestionRow


@dataclass(frozen=True, slots=True)
class UnansweredQuestion:
    key: str
    sample_text: str
    count: int
    last_intent: str
    last_seen: datetime


class UnansweredRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, key: str, text: str, channel: str, intent: str, confidence: float,
                     now: datetime) -> None:
        """Count one more occurrence of the question ``key`` (its normalised text)."""
        key, text = key[:500], text[:2000]
        values = dict(key=key, sample_text=text, count=1, channel=channel, last_intent=intent,
                      last_confidence=confidence, first_seen=now, last_seen=now)
        dialect = postgresql if self.session.bind.dialect.name == "postgresql" else sqlite
        stmt = dialect.insert(UnansweredQuestionRow).values(**values)
        stmt = stmt.on_conflict_do_update(
            index_elements=[UnansweredQuestionRow.key],
            set_=dict(count=UnansweredQuestionRow.count + 1, sample_text=text, last_intent=intent,
                      last_confidence=confidence, last_seen=now),
        )
        await self.session.execute(stmt)

    async def most_frequent(self, limit: int = 50) -> list[UnansweredQuestion]:
        rows = (await self.session.scalars(
            select(UnansweredQuestionRow)
            .order_by(UnansweredQuestionRow.count.desc(), UnansweredQuestionRow.last_seen.desc())
            .limit(limit))).all()
        return [UnansweredQuestion(r.key, r.sample_text, r.count, r.last_intent, r.last_seen) for r in rows]
