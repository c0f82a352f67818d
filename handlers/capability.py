"""What every capability of the core needs: the database, conversation state, strings, the clock."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, tzinfo

from handlers.types import Incoming, Outcome
from locales import Translator
from nlu.normalize import fold
from storage.askers import Asker
from storage.conversation import State, StateKey, StateStore
from storage.db import Database
from storage.knowledge import KnowledgeBase
from storage.membership import Identity, IdentityCache


class Capability:
    #: the knowledge base in use, kept current by the core (``Core.set_knowledge``)
    knowledge: KnowledgeBase | None = None
    #: a question typed in the middle of a flow, answered by the core (``Core.answer_question``, set by it): the
    #: answer, or None when the text is no question the core can answer (then it is the flow's answer)
    answer_question: Callable[[Incoming, str], Awaitable[Outcome | None]] | None = None

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
        await self.states.set(state_key(incoming), state, self.clock())

    async def clear_state(self, incoming: Incoming) -> None:
        await self.states.clear(state_key(incoming))

    async def take(self, session, incoming: Incoming, seen: State, kind: str, **result) -> State | None:
        """Take the conversation state for a step that must happen once (compare-and-set, in ``session``).

        Returns the "done" state now stored (its data: ``kind`` and ``result``, which a repeat of the step
        answers with), or None when the state was taken already: by a second tap, a retry, another worker."""
        done = State(DONE, kind, {"action": incoming.action or "", "words": fold(incoming.text or "").strip(" .!"),
                                  **result, "at": self.clock().isoformat()})
        return await self.states.advance(session, state_key(incoming), seen, done, self.clock())

    async def settle(self, session, incoming: Incoming, taken: State, **result) -> None:
        """Complete the "done" state taken by ``take`` with what the step produced (e.g. the reference)."""
        await self.states.advance(session, state_key(incoming), taken,
                                  State(DONE, taken.step, {**taken.data, **result}), self.clock())


#: the flow of a state whose last step is done: a repeat of that step is answered from it ("đã gửi rồi")
DONE = "done"


def state_key(incoming: Incoming) -> StateKey:
    """Conversation state is one user's in one chat: in a group, each member has their own."""
    return StateKey(incoming.bot_id, incoming.channel, incoming.chat_id, incoming.user_id)


def asker_of(incoming: Incoming) -> Asker:
    """The sender's account, which the unanswered log, the question counts and the votes turn into their unit."""
    return Asker(incoming.bot_id, incoming.channel, incoming.user_id)
