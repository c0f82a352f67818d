"""Conversation state of multi-step flows, keyed by (bot, channel, chat): survives restarts and processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.models import ConversationStateRow


@dataclass
class State:
    flow: str
    step: str
    data: dict = field(default_factory=dict)


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, bot_id: str, channel: str, chat_id: str) -> State | None:
        row = await self.session.get(ConversationStateRow, (bot_id, channel, chat_id))
        return State(row.flow, row.step, dict(row.data or {})) if row else None

    async def all(self) -> list[tuple[tuple[str, str, str], State]]:
        rows = await self.session.scalars(select(ConversationStateRow))
        return [((r.bot_id, r.channel, r.chat_id), State(r.flow, r.step, dict(r.data or {}))) for r in rows]

    async def set(self, bot_id: str, channel: str, chat_id: str, state: State, now: datetime) -> None:
        row = await self.session.get(ConversationStateRow, (bot_id, channel, chat_id))
        if row is None:
            row = ConversationStateRow(bot_id=bot_id, channel=channel, chat_id=chat_id)
            self.session.add(row)
        row.flow, row.step, row.data, row.updated_at = state.flow, state.step, dict(state.data), now
        await self.session.flush()

    async def clear(self, bot_id: str, channel: str, chat_id: str) -> None:
        await self.session.execute(delete(ConversationStateRow).where(
            ConversationStateRow.bot_id == bot_id, ConversationStateRow.channel == channel,
            ConversationStateRow.chat_id == chat_id))


class StateStore:
    """Conversation state with a write-through cache in front of the database.

    Every message needs "is this chat in the middle of a form?", and a database round trip through
    aiosqlite costs ~0.6–1.7 ms, more than answering the question. On the embedded SQLite default one
    process owns the database file, so the cache is authoritative there (``cache=True``). On PostgreSQL,
    where several webhook workers may serve one chat, every read goes to the database (``cache=False``).
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, cache: bool) -> None:
        self._sessions = sessions
        self._cache: dict[tuple[str, str, str], State | None] | None = {} if cache else None
        self._complete = False  # the cache holds every stored state: a miss means "no state"

    async def load(self) -> None:
        """Read every stored state into the cache (a handful of rows: forms in progress)."""
        if self._cache is None:
            return
        async with self._sessions() as session:
            rows = await ConversationRepository(session).all()
        self._cache = {key: state for key, state in rows}
        self._complete = True

    async def get(self, bot_id: str, channel: str, chat_id: str) -> State | None:
        key = (bot_id, channel, chat_id)
        if self._cache is not None and (key in self._cache or self._complete):
            state = self._cache.get(key)
            return State(state.flow, state.step, dict(state.data)) if state else None
        async with self._sessions() as session:
            state = await ConversationRepository(session).get(*key)
        if self._cache is not None:
            self._cache[key] = state
        return state

    async def set(self, bot_id: str, channel: str, chat_id: str, state: State, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await ConversationRepository(session).set(bot_id, channel, chat_id, state, now)
        if self._cache is not None:
            self._cache[(bot_id, channel, chat_id)] = State(state.flow, state.step, dict(state.data))

    async def clear(self, bot_id: str, channel: str, chat_id: str) -> None:
        async with self._sessions.begin() as session:
            await ConversationRepository(session).clear(bot_id, channel, chat_id)
        if self._complete:
            self._cache.pop((bot_id, channel, chat_id), None)
        elif self._cache is not None:
            self._cache[(bot_id, channel, chat_id)] = None
