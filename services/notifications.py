"""Notifications: the only place an outbox row is built.

Every proactive message (an announcement, a reminder, a chair's progress report, a hardship notice) is a
``Reply`` addressed to a member's chat accounts and queued in the caller's transaction, so it is sent if and
only if the change it reports is committed. The delivery worker sends the rows at each platform's rate.

Dedupe keys are ``<event>:<member id>:<bot id>:<channel>`` (a member has one chat per bot and channel): the
same event queued twice (a retry, a second process, a scheduler round after a restart) is queued once.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from handlers.types import Choice, Reply
from storage.broadcasts import Recipient
from storage.db import Database
from storage.membership import AccountRepository, MemberRepository, Unit, UnitRepository
from storage.outbox import OutboxItem, OutboxRepository

#: kinds of outbox rows (``storage.outbox.BULK_KINDS`` are sent after one person's notifications)
NOTIFICATION, BROADCAST, REMINDER = "notification", "broadcast", "reminder"


def reply_payload(reply: Reply) -> dict:
    """A ``Reply`` as an outbox payload (JSON)."""
    return {"text": reply.text, "choices": [[c.label, c.action] for c in reply.choices],
            "photos": list(reply.photos)}


def payload_reply(payload: dict) -> Reply:
    """An outbox payload back as a ``Reply``."""
    return Reply(text=str(payload.get("text") or ""),
                 choices=tuple(Choice(str(label), str(action)) for label, action in payload.get("choices") or ()),
                 photos=tuple(str(p) for p in payload.get("photos") or ()))


def dedupe_key(event: str, to: Recipient) -> str:
    return f"{event}:{to.member_id}:{to.bot_id}:{to.channel}"


def item(event: str, to: Recipient, reply: Reply, *, kind: str = NOTIFICATION, broadcast_id: int | None = None,
         not_before: datetime | None = None) -> OutboxItem:
    """The outbox row of ``reply`` for one chat account, once per ``event``."""
    return OutboxItem(dedupe_key=dedupe_key(event, to), bot_id=to.bot_id, channel=to.channel, chat_id=to.chat_id,
                      member_id=to.member_id, kind=kind, broadcast_id=broadcast_id, not_before=not_before,
                      payload=reply_payload(reply))


async def chats_of(session, member_id: int) -> list[Recipient]:
    """Every chat account linked to the member, as recipients."""
    return [Recipient(member_id, bot_id, channel, chat_id)
            for bot_id, channel, chat_id in await AccountRepository(session).chats_of(member_id)]


async def chairs_of(session, unit: Unit, include_parent: bool = False) -> list[int]:
    """The member ids of the unit's chairs and deputies (and of its parent's, when asked), each once."""
    members = MemberRepository(session)
    ids = [m.id for m in await members.chairs_of(unit)]
    if include_parent and unit.parent_id:
        parent = await UnitRepository(session).by_id(unit.parent_id)
        if parent is not None:  # the foreign key keeps it; a missing parent has no chairs to tell
            ids += [m.id for m in await members.chairs_of(parent)]
    return list(dict.fromkeys(ids))


class Notifier:
    """Queue replies for members in the caller's transaction (``session``); every method returns how many rows
    were actually queued (a dedupe key seen before, or a recipient who blocked the bot, queues nothing)."""

    def __init__(self, db: Database) -> None:
        self.outbox = OutboxRepository(db)

    async def queue(self, session, items: Iterable[OutboxItem], now: datetime) -> int:
        items = list(items)
        return await self.outbox.enqueue(session, items, now) if items else 0

    async def to_recipients(self, session, event: str, recipients: Iterable[Recipient], reply: Reply,
                            now: datetime, *, kind: str = NOTIFICATION, broadcast_id: int | None = None,
                            not_before: datetime | None = None) -> int:
        """``reply`` to each of ``recipients`` (chat accounts), due ``not_before`` (default: now)."""
        return await self.queue(session, [item(event, r, reply, kind=kind, broadcast_id=broadcast_id,
                                               not_before=not_before or now) for r in recipients], now)

    async def to_member(self, session, event: str, member_id: int, reply: Reply, now: datetime, *,
                        kind: str = NOTIFICATION) -> int:
        """``reply`` on every chat account of the member."""
        return await self.to_recipients(session, event, await chats_of(session, member_id), reply, now, kind=kind)

    async def to_members(self, session, event: str, member_ids: Iterable[int], reply: Reply, now: datetime, *,
                         kind: str = NOTIFICATION) -> int:
        recipients = [r for member_id in dict.fromkeys(member_ids) for r in await chats_of(session, member_id)]
        return await self.to_recipients(session, event, recipients, reply, now, kind=kind)

    async def to_chairs(self, session, event: str, unit: Unit, reply: Reply, now: datetime, *,
                        include_parent: bool = False) -> int:
        """``reply`` to the chairs and deputies of ``unit`` (and of its parent union when ``include_parent``)."""
        return await self.to_members(session, event, await chairs_of(session, unit, include_parent), reply, now)

    async def live(self, session, event: str, recipients: Iterable[Recipient], reply: Reply, now: datetime) -> int:
        """Queue or update one message per recipient kept up to date in place (``OutboxRepository.refresh_live``):
        the same ``event`` again edits the message sent before instead of sending a new one."""
        return await self.outbox.refresh_live(session, [item(event, r, reply, not_before=now) for r in recipients],
                                              now)
