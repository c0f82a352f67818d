"""Votes on the bot's answers (👍/👎): counts for statistics, one row per vote with the voter's unit (storage/
askers.py), no text and no person."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import DateTime, Integer, String, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from storage.askers import NO_UNIT, Asker, in_subtrees, unit_of
from storage.models import Base

log = logging.getLogger(__name__)

UP, DOWN = "up", "down"


class AnswerVoteRow(Base):
    """One 👍 or 👎 on an answer: which kind of answer (its intent), where, when and in which unit (0: a voter linked
    to no unit); nothing of who."""

    __tablename__ = "answer_votes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    vote: Mapped[str] = mapped_column(String(8))
    intent: Mapped[str] = mapped_column(String(64))
    channel: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    unit_id: Mapped[int] = mapped_column(Integer, default=NO_UNIT, server_default="0")


class FeedbackLog:
    """Keeps the votes; ``counts`` for the statistics (per intent, 👍 and 👎)."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        self._sessions = sessions

    async def record(self, vote: str, intent: str, channel: str, now: datetime, asker: Asker | None = None) -> None:
        """One vote; the voter's unit is read inside the insert (no round trip of its own)."""
        if vote not in (UP, DOWN):
            raise ValueError(vote)
        async with self._sessions.begin() as session:
            await session.execute(insert(AnswerVoteRow).values(vote=vote, intent=intent[:64], channel=channel[:32],
                                                               at=now, unit_id=unit_of(asker)))

    async def counts(self, since: datetime | None = None,
                     paths: Sequence[str] | None = None) -> dict[str, dict[str, int]]:
        """{intent: {"up": n, "down": m}} over every vote (or those from ``since``) of the subtrees ``paths``
        (None: every vote)."""
        query = select(AnswerVoteRow.intent, AnswerVoteRow.vote, func.count()).where(
            in_subtrees(AnswerVoteRow.unit_id, paths)).group_by(AnswerVoteRow.intent, AnswerVoteRow.vote)
        if since is not None:
            query = query.where(AnswerVoteRow.at >= since)
        async with self._sessions() as session:
            rows = (await session.execute(query)).all()
        out: dict[str, dict[str, int]] = {}
        for intent, vote, count in rows:
            out.setdefault(intent, {UP: 0, DOWN: 0})[vote] = count
        return out
