"""What every capability of the core needs: the database, conversation state, strings, the clock."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo

from handlers.types import Incoming
from locales import Translator
from storage.conversation import State, StateStore
from storage.db import Database
from storage.membership import Identity, IdentityCache


class Capability:
    def __init__(self, db: Database, states: StateStore, identities: IdentityCache, t: Translator,
                 clock: Callable[[], datetime], timezone: tzinfo) -> None:
        self.db = db
        self.identities = identities
        self.states = states
        self.t = t
        self.clock = clock
        self.tz = timezone

    async def identity(self, incoming: Incoming) -> Identity | None:
        """The member this chat account is linked to, with their roles (None when not linked)."""
        return await self.identities.get(incoming.bot_id, incoming.channel, incoming.user_id)

    async def save_state(self, incoming: Incoming, state: State) -> None:
        await self.states.set(incoming.bot_id, incoming.channel, incoming.chat_id, state, self.clock())

    async def clear_state(self, incoming: Incoming) -> None:
        await self.states.clear(incoming.bot_id, incoming.channel, incoming.chat_id)
