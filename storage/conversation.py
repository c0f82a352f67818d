"""Conversation state of multi-step flows, keyed by (bot, channel, chat): survives restarts and processes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

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
