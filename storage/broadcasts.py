"""Broadcasts (a chair's announcements), their recipients, and reminder subscriptions."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.askers import in_subtrees
from storage.db import aware
from storage.membership import MemberRepository, Unit, UnitRepository
from storage.models import (
    BroadcastRow,
    ChatAccountRow,
    CustomReminderRow,
    ReminderSubscriptionRow,
    RoleRow,
    UnreachableRow,
)


@dataclass(frozen=True, slots=True)
class Recipient:
    """A linked chat account a message goes to (a member has one chat per bot and channel)."""

    member_id: int
    bot_id: str
    channel: str
    chat_id: str


@dataclass(frozen=True, slots=True)
class Broadcast:
    id: int
    unit_id: int
    created_by: int
    text: str
    photo: str | None
    photo_channel: str | None
    scheduled_at: datetime
    status: str
    recipients: int
    progress_reported: int  # the last progress step (%) told on channels without editing
    progress_done: int  # recipients done when the live progress message was last refreshed (-1: not yet)


def _broadcast(row: BroadcastRow) -> Broadcast:
    return Broadcast(row.id, row.unit_id, row.created_by, row.text, row.photo, row.photo_channel,
                     aware(row.scheduled_at), row.status, row.recipients, row.progress_reported,
                     -1 if row.progress_done is None else row.progress_done)


async def recipients_of(session: AsyncSession, unit: Unit, exclude_channels: Collection[str] = (),
                        roles: Collection[str] = ()) -> list[Recipient]:
    """Every linked chat account of the active members of the unit's subtree (with ``roles``: only those holding
    one of these roles), minus unreachable ones and those on ``exclude_channels``."""
    members = await MemberRepository(session).in_subtree(unit, active_only=True)
    ids = [m.id for m in members]
    if ids and roles:
        ids = list((await session.scalars(select(RoleRow.member_id).where(
            RoleRow.member_id.in_(ids), RoleRow.role.in_(list(roles))).distinct())).all())
    if not ids:
        return []
    accounts = (await session.scalars(select(ChatAccountRow).where(ChatAccountRow.member_id.in_(ids)))).all()
    blocked = {(r.bot_id, r.channel, r.chat_id) for r in (await session.scalars(select(UnreachableRow))).all()}
    return [Recipient(a.member_id, a.bot_id, a.channel, a.chat_id) for a in accounts
            if (a.bot_id, a.channel, a.chat_id) not in blocked and a.channel not in exclude_channels]


def per_channel(recipients: list[Recipient]) -> dict[str, int]:
    return dict(Counter(r.channel for r in recipients))


class BroadcastRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def create(self, unit_id: int, created_by: int, text: str, photo: str | None, photo_channel: str | None,
                     scheduled_at: datetime, recipients: int, now: datetime, draft_id: str | None = None) -> Broadcast:
        row = BroadcastRow(unit_id=unit_id, created_by=created_by, text=text, photo=photo, photo_channel=photo_channel,
                           scheduled_at=scheduled_at, status="queued", recipients=recipients, progress_reported=0,
                           progress_done=-1, created_at=now, draft_id=draft_id)
        self.session.add(row)
        await self.session.flush()
        return _broadcast(row)

    async def get(self, broadcast_id: int) -> Broadcast | None:
        row = await self.session.get(BroadcastRow, broadcast_id)
        return _broadcast(row) if row else None

    async def by_draft(self, draft_id: str) -> Broadcast | None:
        row = await self.session.scalar(select(BroadcastRow).where(BroadcastRow.draft_id == draft_id))
        return _broadcast(row) if row else None

    async def latest_by(self, member_id: int) -> Broadcast | None:
        row = await self.session.scalar(select(BroadcastRow).where(BroadcastRow.created_by == member_id)
                                        .order_by(BroadcastRow.id.desc()).limit(1))
        return _broadcast(row) if row else None

    async def recent_by(self, member_id: int, limit: int = 5) -> list[Broadcast]:
        """The member's latest broadcasts, newest first."""
        rows = await self.session.scalars(select(BroadcastRow).where(BroadcastRow.created_by == member_id)
                                          .order_by(BroadcastRow.id.desc()).limit(limit))
        return [_broadcast(row) for row in rows]

    async def recent_in(self, paths: Sequence[str] | None, limit: int = 30) -> list[Broadcast]:
        """The latest broadcasts to units of the subtrees ``paths`` (the roots' unit paths; None: every unit),
        newest first."""
        rows = await self.session.scalars(select(BroadcastRow).where(in_subtrees(BroadcastRow.unit_id, paths))
                                          .order_by(BroadcastRow.id.desc()).limit(limit))
        return [_broadcast(row) for row in rows]

    async def lock_queued(self, broadcast_id: int) -> Broadcast | None:
        """The broadcast as it is now, if still queued (neither done nor cancelled), locked until the end of the
        transaction (PostgreSQL; SQLite has one writer): progress rounds and cancels take turns."""
        row = await self.session.scalar(
            select(BroadcastRow).where(BroadcastRow.id == broadcast_id, BroadcastRow.status == "queued")
            .with_for_update().execution_options(populate_existing=True))
        return _broadcast(row) if row else None

    async def running(self, now: datetime) -> list[Broadcast]:
        rows = await self.session.scalars(select(BroadcastRow).where(BroadcastRow.status == "queued",
                                                                     BroadcastRow.scheduled_at <= now))
        return [_broadcast(r) for r in rows]

    async def update(self, broadcast_id: int, **values) -> None:
        row = await self.session.get(BroadcastRow, broadcast_id)
        for key, value in values.items():
            setattr(row, key, value)
        await self.session.flush()

    async def unit(self, broadcast: Broadcast) -> Unit:
        unit = await UnitRepository(self.session).by_id(broadcast.unit_id)
        if unit is None:  # the foreign key keeps a broadcast's unit
            raise LookupError("a broadcast's unit does not exist")
        return unit


class ReminderRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def is_subscribed(self, member_id: int) -> bool:
        return await self.session.get(ReminderSubscriptionRow, member_id) is not None

    async def subscribe(self, member_id: int, now: datetime) -> None:
        if not await self.is_subscribed(member_id):
            self.session.add(ReminderSubscriptionRow(member_id=member_id, subscribed_at=now))
            await self.session.flush()

    async def unsubscribe(self, member_id: int) -> None:
        await self.session.execute(
            delete(ReminderSubscriptionRow).where(ReminderSubscriptionRow.member_id == member_id))

    async def subscribers(self) -> list[Recipient]:
        rows = await self.session.execute(
            select(ChatAccountRow).join(ReminderSubscriptionRow,
                                        ReminderSubscriptionRow.member_id == ChatAccountRow.member_id))
        return [Recipient(a.member_id, a.bot_id, a.channel, a.chat_id) for (a,) in rows]

    async def add_custom(self, unit_id: int, created_by: int, entry_id: str, remind_on: date, text: str,
                         now: datetime) -> int:
        row = CustomReminderRow(unit_id=unit_id, created_by=created_by, entry_id=entry_id, remind_on=remind_on,
                                text=text, created_at=now)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def custom_due(self, day: date) -> list[tuple[int, int, str]]:
        """(reminder id, unit id, text) of the chairs' reminders due on ``day``."""
        rows = await self.session.scalars(select(CustomReminderRow).where(CustomReminderRow.remind_on == day))
        return [(r.id, r.unit_id, r.text) for r in rows]
