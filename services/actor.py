"""Who is acting: built once from the incoming event (or the CLI, or later the web console) and handed to the
services, which authorize it, audit it and reply to it.

The audit trail names an actor as ``"<channel>:<user id>"`` (``"console:<operator>"`` from the terminal):
that spelling lives in :attr:`Actor.audit` and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass

from handlers.types import Incoming
from services.authz import Decision, may_act_as_chair, units_acted_on
from storage.membership import Identity, IdentityCache, Unit


@dataclass(frozen=True, slots=True)
class Actor:
    """A chat account (channel, bot, chat, user) and the member it is linked to, with their roles."""

    channel: str
    user_id: str
    chat_id: str = ""
    bot_id: str = "default"
    identity: Identity | None = None

    @property
    def audit(self) -> str:
        """The actor as the audit trail names it (ids only, never a name or a phone number)."""
        return f"{self.channel}:{self.user_id}"

    @property
    def linked(self) -> bool:
        return self.identity is not None

    @property
    def member_id(self) -> int | None:
        return self.identity.member.id if self.identity is not None else None

    def as_chair(self) -> Decision:
        """The "not linked → not a chair" preamble of every chair's command (decided in ``services.authz``)."""
        return may_act_as_chair(self.identity)

    def roots(self) -> list[Unit]:
        """The units whose subtrees this actor acts on as a chair; an admin without a chair's grant acts from
        their own unit (empty for members and unlinked accounts)."""
        roots = units_acted_on(self.identity)
        if not roots and self.identity is not None and self.identity.is_admin:
            return [self.identity.member.unit]
        return roots


async def actor_of(incoming: Incoming, identities: IdentityCache) -> Actor:
    """The actor behind a chat event: its account and linked member (looked up once)."""
    identity = await identities.get(incoming.bot_id, incoming.channel, incoming.user_id)
    return Actor(channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id,
                 bot_id=incoming.bot_id, identity=identity)


def account_of(incoming: Incoming) -> Actor:
    """The chat account behind an event, without looking up its member: for linking, which only needs the account
    (one statement less per ``/lienket`` — the burst's cost is the database's round trips)."""
    return Actor(channel=incoming.channel, user_id=incoming.user_id, chat_id=incoming.chat_id, bot_id=incoming.bot_id)


def operator(user: str, identity: Identity | None = None) -> Actor:
    """An operator at the terminal (``unionbot`` CLI, console): audited as ``console:<user>``."""
    return Actor(channel="console", user_id=user, chat_id=user, bot_id="console", identity=identity)
