"""Announcements and reminders as use cases: queue, cancel, progress, report; reminder subscriptions and chairs'
reminders; the two scheduled jobs (``report_progress``, ``send_reminders``).

Each method owns its transaction, asks ``services.authz`` whether the actor may, writes the audit entry and
queues what must be told through ``services.notifications``; a refusal is :class:`services.base.Refused`.
The chat dialogue (handlers/broadcast.py), the CLI and the web console call the same methods.

Deliveries are outbox rows (one per recipient and channel, unique), sent by the delivery worker at the
platform's rate; nothing here talks to a messenger.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo

from handlers.text import fmt_date
from handlers.types import Reply
from locales import Translator
from services import notifications
from services.actor import Actor
from services.authz import Action, authorize, subtree_paths
from services.base import AlreadyDone, Once, Refused
from services.notifications import BROADCAST, REMINDER, Notifier
from storage.broadcasts import (
    Broadcast,
    BroadcastRepository,
    Recipient,
    ReminderRepository,
    per_channel,
    recipients_of,
)
from storage.db import Database
from storage.knowledge import Entry, KnowledgeBase
from storage.membership import AuditRepository, Unit, UnitRepository
from storage.outbox import OutboxRepository

REMIND_DAYS = (7, 1)  # reminders this many days before a phase ends
PROGRESS_STEPS = (25, 50, 75)
MAX_AHEAD = timedelta(days=366)  # a broadcast or reminder further ahead is a typo ("2062" for "2026")
AUDIENCE_ROLES = frozenset({"chair", "deputy"})  # an announcement to a union's officers only
MIN_TEXT, MAX_TEXT = 5, 3500  # characters of an announcement (a photo alone is enough)


@dataclass(frozen=True, slots=True)
class Draft:
    """An announcement ready to queue: its text, an optional photo (a file id valid on ``photo_channel``),
    the audience's unit code, and the draft's id (unique: the same draft is queued once)."""

    text: str
    unit: str
    photo: str | None = None
    photo_channel: str | None = None
    draft_id: str = ""
    roles: tuple[str, ...] = ()  # only the members holding one of these (``AUDIENCE_ROLES``); () everyone


@dataclass(frozen=True, slots=True)
class Audience:
    unit: Unit
    recipients: int
    per_channel: dict[str, int]
    #: linked accounts on the local channels only (the console): linked, but no announcement reaches them
    local_only: int = 0


@dataclass(frozen=True, slots=True)
class Queued:
    broadcast_id: int
    recipients: int  # outbox rows queued
    when: datetime


#: where a broadcast stands, as its report tells it
SCHEDULED, SENDING, FINISHED, STOPPED = "scheduled", "sending", "finished", "stopped"


@dataclass(frozen=True, slots=True)
class Report:
    broadcast: Broadcast
    counts: dict[str, int]  # outbox rows by status
    phase: str  # SCHEDULED (its time has not come), SENDING, FINISHED or STOPPED (cancelled)


@dataclass(frozen=True, slots=True)
class Cancelled:
    broadcast_id: int
    cancelled: int  # rows that will not be sent


def check_draft(text: str, photos: int = 0) -> None:
    """An announcement's text: a few words at least (or a photo), and not longer than a message can carry."""
    if len(text) < MIN_TEXT and not photos:
        raise Refused("broadcast.error.text")
    if len(text) > MAX_TEXT:
        raise Refused("broadcast.error.text_long")


def _check_roles(roles: tuple[str, ...]) -> None:
    if not set(roles) <= AUDIENCE_ROLES:
        raise Refused("broadcast.error.audience")


def tally(b: Broadcast, counts: dict[str, int]) -> tuple[int, int, int]:
    """(rows still waiting, recipients done, percent done) of a broadcast, from its outbox ``counts``."""
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    done = b.recipients - waiting
    return waiting, done, 100 if not waiting else int(done * 100 / max(b.recipients, 1))


def report_text(t: Translator, broadcast_id: int, counts: dict[str, int], lang: str = "vi") -> str:
    return t("broadcast.report", lang, id=broadcast_id, sent=counts.get("sent", 0),
             blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
             waiting=counts.get("pending", 0) + counts.get("sending", 0), cancelled=counts.get("cancelled", 0))


def _member_id(actor: Actor) -> int:
    """The actor's member id; an account linked to no member is refused, as ``authorize`` refuses it."""
    member_id = actor.member_id
    if member_id is None:
        raise Refused("authz.not_linked")
    return member_id


class BroadcastService:
    def __init__(self, db: Database, t: Translator, clock: Callable[[], datetime], timezone: tzinfo, *,
                 editable_channels: frozenset[str] = frozenset(), local_channels: frozenset[str] = frozenset(),
                 notifier: Notifier | None = None) -> None:
        self.db = db
        self.t = t
        self.clock = clock
        self.tz = timezone
        #: channels where the chair's progress is one message kept up to date (see ``report_progress``)
        self.editable_channels = editable_channels
        #: channels that get no announcements (a local terminal: no worker would ever finish the broadcast)
        self.local_channels = local_channels
        self.notifier = notifier or Notifier(db)
        self.outbox = OutboxRepository(db)

    @staticmethod
    def _chair(actor: Actor) -> None:
        decision = actor.as_chair()
        if not decision:
            raise Refused(decision.reason)

    # ----- composing ----------------------------------------------------------------------------------
    async def audiences(self, actor: Actor) -> list[tuple[Unit, bool]]:
        """The audiences the actor may choose: each unit they lead (``True``: its whole subtree) followed by
        its direct sub-units."""
        self._chair(actor)
        found: list[tuple[Unit, bool]] = []
        async with self.db.sessions() as session:
            units = UnitRepository(session)
            for root in actor.roots():
                found.append((root, True))
                found += [(child, False) for child in (await units.subtree(root))[1:] if child.parent_id == root.id]
        return found

    @staticmethod
    async def _unit_to_send_to(session, actor: Actor, unit_code: str):
        """The unit ``unit_code`` names, if the actor may send it an announcement (else ``Refused``)."""
        unit = await UnitRepository(session).by_code(unit_code) if unit_code else None
        if unit is None:
            raise Refused("broadcast.error.audience")
        decision = authorize(actor.identity, Action.BROADCAST, unit)
        if not decision:
            raise Refused(decision.reason)
        return unit

    async def audience(self, actor: Actor, unit_code: str, roles: tuple[str, ...] = ()) -> Audience:
        """Who an announcement to ``unit_code`` (its members holding one of ``roles``, when given) would reach,
        if the actor may send to that unit."""
        _check_roles(roles)
        async with self.db.sessions() as session:
            unit = await self._unit_to_send_to(session, actor, unit_code)
            recipients = await recipients_of(session, unit, self.local_channels, roles)
            everyone = await recipients_of(session, unit, (), roles) if self.local_channels else recipients
        return Audience(unit, len(recipients), per_channel(recipients), len(everyone) - len(recipients))

    async def queue(self, actor: Actor, draft: Draft, when: datetime | None = None, once: Once | None = None) -> Queued:
        """Queue the announcement for ``when`` (default: now): one outbox row per recipient, the audit entry,
        in one transaction. With ``once``, a repeat (a second tap, a retry) raises :class:`AlreadyDone` and
        queues nothing; the draft's unique id makes the same draft a single broadcast in any case (without
        ``once``, a repeat raises :class:`AlreadyDone` with the broadcast queued first)."""
        check_draft(draft.text, 1 if draft.photo else 0)
        _check_roles(draft.roles)
        now = self.clock()
        when = (when or now).astimezone(UTC)  # stored in UTC: SQLite keeps no zone
        async with self.db.sessions.begin() as session:
            unit = await self._unit_to_send_to(session, actor, draft.unit)
            recipients = await recipients_of(session, unit, self.local_channels, draft.roles)
            if not recipients:  # nobody would read it: no broadcast, no promise of progress
                raise Refused("broadcast.error.no_recipients", unit=unit.name)
            taken = await once.take(session) if once is not None else None
            if once is not None and taken is None:
                raise AlreadyDone(await once.current(session))
            repo = BroadcastRepository(session)
            if once is None and draft.draft_id and (earlier := await repo.by_draft(draft.draft_id)) is not None:
                raise AlreadyDone(earlier)  # the same draft posted twice (a web form sent again): the first one
            broadcast = await repo.create(unit.id, _member_id(actor), draft.text, draft.photo, draft.photo_channel,
                                          when, len(recipients), now, draft_id=draft.draft_id or uuid.uuid4().hex)
            text = self.t("broadcast.header", name=unit.name) + "\n" + draft.text
            with_photo = Reply(text, photos=(draft.photo,)) if draft.photo else Reply(text)
            items = [notifications.item(f"b:{broadcast.id}", r,
                                        with_photo if r.channel == draft.photo_channel else Reply(text),
                                        kind=BROADCAST, broadcast_id=broadcast.id, not_before=when)
                     for r in recipients]
            queued = await self.notifier.queue(session, items, now)
            await repo.update(broadcast.id, recipients=queued)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="broadcast", unit_id=unit.id, target=str(broadcast.id),
                                                  now=now, recipients=queued, scheduled=when.isoformat(),
                                                  **({"roles": list(draft.roles)} if draft.roles else {}))
            if once is not None:
                await once.settle(session, taken, id=broadcast.id)
        return Queued(broadcast.id, queued, when)

    # ----- results and cancel --------------------------------------------------------------------------
    async def _own(self, session, actor: Actor, broadcast_id: int | None) -> Broadcast:
        """The broadcast ``broadcast_id`` (None: the actor's latest), if the actor may act on it."""
        member_id = _member_id(actor)
        repo = BroadcastRepository(session)
        broadcast = await repo.get(broadcast_id) if broadcast_id else await repo.latest_by(member_id)
        if broadcast is None:
            raise Refused("broadcast.error.unknown")
        decision = authorize(actor.identity, Action.BROADCAST, await repo.unit(broadcast))
        if not decision:
            raise Refused(decision.reason)
        return broadcast

    async def report(self, actor: Actor, broadcast_id: int | None = None) -> Report:
        """Where a broadcast stands: its outbox rows by status."""
        async with self.db.sessions() as session:
            broadcast = await self._own(session, actor, broadcast_id)
            counts = await self.outbox.counts(broadcast.id, session=session)
        waiting = counts.get("pending", 0) + counts.get("sending", 0)
        if broadcast.status == "cancelled":
            phase = STOPPED
        elif waiting and broadcast.scheduled_at > self.clock() and waiting == sum(counts.values()):
            phase = SCHEDULED
        else:
            phase = SENDING if waiting else FINISHED
        return Report(broadcast, counts, phase)

    async def recent(self, actor: Actor, limit: int = 5) -> list[Broadcast]:
        """The actor's latest broadcasts, newest first (none for someone not linked)."""
        if actor.identity is None or actor.member_id is None:
            return []
        async with self.db.sessions() as session:
            return await BroadcastRepository(session).recent_by(actor.member_id, limit)

    async def visible(self, actor: Actor, limit: int = 30) -> list[Broadcast]:
        """The latest broadcasts the actor may open and stop, newest first: those to the units of the subtrees
        they chair (an admin: every one), as ``report`` and ``cancel`` decide (``authorize``), whoever sent them."""
        self._chair(actor)
        async with self.db.sessions() as session:
            return await BroadcastRepository(session).recent_in(subtree_paths(actor.identity), limit)

    async def cancel(self, actor: Actor, broadcast_id: int | None = None) -> Cancelled:
        """Stop a queued or running broadcast: its pending rows are cancelled with it, in one transaction, and
        the chair's live progress message says it stopped."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            broadcast = await self._own(session, actor, broadcast_id)
            repo = BroadcastRepository(session)
            current = await repo.lock_queued(broadcast.id)  # a progress round in flight finishes first
            if current is None:  # finished, or cancelled already (a second tap, another worker)
                latest = await repo.get(broadcast.id)
                if latest is None:  # locked just now in this transaction
                    raise LookupError("a broadcast vanished while being cancelled")
                now_status = latest.status
                raise Refused("once.cancelled" if now_status == "cancelled" else "broadcast.error.finished",
                              id=broadcast.id)
            await repo.update(broadcast.id, status="cancelled")
            cancelled = await self.outbox.cancel_broadcast(broadcast.id, session)
            if current.progress_done >= 0:  # the chair's live progress message says it stopped
                live = self._editable(await notifications.chats_of(session, current.created_by))
                counts = await self.outbox.counts(broadcast.id, session=session)
                await self._refresh_live(session, current, live, "broadcast.live_cancelled", counts, now)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="cancel_broadcast", unit_id=broadcast.unit_id,
                                                  target=str(broadcast.id), now=now, cancelled=cancelled)
        return Cancelled(broadcast.id, cancelled)

    # ----- the scheduled job: progress ----------------------------------------------------------------------
    async def report_progress(self, now: datetime) -> int:
        """Keep each running broadcast's author informed; returns how many outbox rows were queued or refreshed.

        On channels that can edit a sent message (Telegram) the chair has one progress message, refreshed
        whenever the count moved (a live outbox row, edited in place by the delivery worker); elsewhere (Zalo)
        a message at 25, 50 and 75 %. Everywhere the final report comes once, as a new message. Called
        periodically by the scheduler worker (in every process: each round holds the broadcast row and counts
        under it); everything goes through the outbox like any other message.
        """
        queued = 0
        async with self.db.sessions() as session:
            running = await BroadcastRepository(session).running(now)
        for candidate in running:
            async with self.db.sessions.begin() as session:
                repo = BroadcastRepository(session)
                b = await repo.lock_queued(candidate.id)  # cancelled or finished meanwhile: nothing to tell
                if b is None:
                    continue
                counts = await self.outbox.counts(b.id, session=session)
                waiting, done, percent = tally(b, counts)
                step = 100 if not waiting else max((s for s in PROGRESS_STEPS if percent >= s), default=0)
                changes: dict = {}
                chats = await notifications.chats_of(session, b.created_by)
                live = self._editable(chats)
                if live and done != b.progress_done:
                    key = "broadcast.live_done" if not waiting else "broadcast.live"
                    queued += await self._refresh_live(session, b, live, key, counts, now)
                    changes["progress_done"] = done
                if step > b.progress_reported:
                    if step == 100:  # the final report, on every channel
                        text, targets = report_text(self.t, b.id, counts), chats
                    else:
                        text = self.t("broadcast.progress", id=b.id, done=done, total=b.recipients, percent=percent)
                        targets = [c for c in chats if c not in live]
                    queued += await self.notifier.to_recipients(session, f"bp:{b.id}:{step}", targets, Reply(text),
                                                                now)
                    changes["progress_reported"] = step
                if not waiting:
                    changes["status"] = "done"
                if changes:
                    await repo.update(b.id, **changes)
        return queued

    async def _refresh_live(self, session, b: Broadcast, live: list[Recipient], key: str, counts: dict[str, int],
                            now: datetime) -> int:
        """Put ``key``'s text (the counts so far) in the chair's live progress message on ``live`` chats."""
        _, done, percent = tally(b, counts)
        text = self.t(key, id=b.id, done=done, total=b.recipients, percent=percent, sent=counts.get("sent", 0),
                      blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
                      cancelled=counts.get("cancelled", 0))
        return await self.notifier.live(session, f"bl:{b.id}", live, Reply(text), now)

    def _editable(self, chats: list[Recipient]) -> list[Recipient]:
        """The chat accounts whose messages the bot can edit in place."""
        return [c for c in chats if c.channel in self.editable_channels]

    # ----- reminders --------------------------------------------------------------------------------------
    async def toggle_reminders(self, actor: Actor) -> bool:
        """Subscribe a member to the campaign reminders, or unsubscribe them; True when now subscribed."""
        member_id = _member_id(actor)
        async with self.db.sessions.begin() as session:
            repo = ReminderRepository(session)
            if await repo.is_subscribed(member_id):
                await repo.unsubscribe(member_id)
                return False
            await repo.subscribe(member_id, self.clock())
        return True

    async def add_reminder(self, actor: Actor, entry: Entry, remind_on: date, text: str | None = None) -> str:
        """A chair's reminder of a knowledge entry's date for the members of their union; returns its text."""
        return await self.remind(actor, entry.id, remind_on, text or entry.name)

    async def remind(self, actor: Actor, entry_id: str, remind_on: date, text: str) -> str:
        """``add_reminder`` by the entry's id (a date the chair picked from the ones offered); returns its text."""
        today = self.clock().astimezone(self.tz).date()
        if not today - MAX_AHEAD <= remind_on <= today + MAX_AHEAD:
            raise Refused("reminder.usage")
        self._chair(actor)
        member_id = _member_id(actor)
        unit = actor.roots()[0]
        now = self.clock()
        async with self.db.sessions.begin() as session:
            await ReminderRepository(session).add_custom(unit.id, member_id, entry_id, remind_on, text, now)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="add_reminder", unit_id=unit.id, target=entry_id, now=now)
        return text

    # ----- the scheduled job: reminders ---------------------------------------------------------------------
    async def send_reminders(self, knowledge: KnowledgeBase, now: datetime) -> int:
        """Queue today's reminders: phases ending in 7 or 1 days, and chairs' reminders due today.

        Idempotent: the dedupe keys name the phase, the day offset and the recipient, so running it again
        (every few minutes, or after a restart) queues nothing twice."""
        today = now.astimezone(self.tz).date()
        items = []
        async with self.db.sessions.begin() as session:
            reminders = ReminderRepository(session)
            subscribers = await reminders.subscribers()
            for entry in knowledge.of_kind("campaign"):
                if entry.campaign is None:  # a campaign entry without its phases: nothing to remind
                    continue
                for phase in entry.campaign.phases:
                    days = (phase.ends_on - today).days
                    if days not in REMIND_DAYS:
                        continue
                    reply = Reply(self.t("reminder.phase", number=phase.number, campaign=entry.name, days=days,
                                         ends=fmt_date(phase.ends_on), theme=phase.theme or "—"))
                    items += [notifications.item(f"r:{entry.id}:{phase.number}:{days}", r, reply, kind=REMINDER,
                                                 not_before=now) for r in subscribers]
            units = UnitRepository(session)
            for reminder_id, unit_id, text in await reminders.custom_due(today):
                unit = await units.by_id(unit_id)
                in_unit = {r.member_id for r in await recipients_of(session, unit)} if unit is not None else set()
                reply = Reply(self.t("reminder.custom", text=text))
                items += [notifications.item(f"rc:{reminder_id}", r, reply, kind=REMINDER, not_before=now)
                          for r in subscribers if r.member_id in in_unit]
            return await self.notifier.queue(session, items, now)
