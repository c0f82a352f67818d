"""Announcements: a chair composes a broadcast in chat; progress, report, cancel; reminder subscriptions.

Deliveries are outbox rows (one per recipient and channel, unique), sent by the delivery worker at the
platform's rate. This module decides who may send what to whom and queues it; it never talks to a
messenger.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from handlers.authz import Action, authorize, units_acted_on
from handlers.capability import DONE, Capability, state_key
from handlers.inputs import parse_id
from handlers.once import already_done
from handlers.text import clip, fmt_date
from handlers.types import Choice, Incoming, Outcome, Reply
from nlu import dates
from nlu.normalize import fold
from storage.broadcasts import Broadcast, BroadcastRepository, ReminderRepository, per_channel, recipients_of
from storage.conversation import State
from storage.knowledge import KnowledgeBase
from storage.membership import AccountRepository, AuditRepository, Identity, UnitRepository
from storage.outbox import OutboxItem, OutboxRepository

FLOW = "broadcast"
CANCEL_WORDS = {"huy", "/huy", "thoi", "cancel"}
REMIND_DAYS = (7, 1)  # reminders this many days before a phase ends
PROGRESS_STEPS = (25, 50, 75)
MAX_AHEAD = timedelta(days=366)  # a broadcast or reminder further ahead is a typo ("2062" for "2026")


def parse_when(text: str, now_local: datetime) -> datetime | str:
    """"mai 8h", "8h sáng thứ hai tuần sau", "25/12/2026 08:00" (nlu/dates.py) -> a local datetime, or an error key."""
    when = dates.parse_when(text, now_local)
    if when is None:
        return "broadcast.error.when"
    if when <= now_local:
        return "broadcast.error.when_past"
    if when > now_local + MAX_AHEAD:
        return "broadcast.error.when"
    return when


def _tally(b: Broadcast, counts: dict[str, int]) -> tuple[int, int, int]:
    """(rows still waiting, recipients done, percent done) of a broadcast, from its outbox ``counts``."""
    waiting = counts.get("pending", 0) + counts.get("sending", 0)
    done = b.recipients - waiting
    return waiting, done, 100 if not waiting else int(done * 100 / max(b.recipients, 1))


class Broadcasts(Capability):
    def __init__(self, *args, editable_channels: frozenset[str] = frozenset(),
                 local_channels: frozenset[str] = frozenset(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        #: channels where the chair's progress is one message kept up to date (see ``report_progress``)
        self.editable_channels = editable_channels
        #: channels that get no announcements (a local terminal: no worker would ever finish the broadcast)
        self.local_channels = local_channels

    @property
    def outbox(self) -> OutboxRepository:
        return OutboxRepository(self.db)

    def _ok(self, text: str, choices: tuple[Choice, ...] = ()) -> Outcome:
        return Outcome([Reply(text, choices)], "broadcast", 1.0, False)

    # ----- composing ----------------------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str) -> Outcome:
        who = await self.identity(incoming)
        if who is None:
            return self._ok(self.t("authz.not_linked", lang))
        roots = units_acted_on(who) or ([who.member.unit] if who.is_admin else [])
        if not roots:
            return self._ok(self.t("authz.members_only", lang))
        await self.save_state(incoming, State(FLOW, "text", {"draft_id": uuid.uuid4().hex}))
        return self._ok(self.t("broadcast.ask.text", lang))

    async def on_step(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        text = (incoming.text or "").strip()
        action = incoming.action or ""
        if fold(text) in CANCEL_WORDS or action == "bc:cancel":
            await self.clear_state(incoming)
            return self._ok(self.t("broadcast.cancelled_draft", lang))
        who = await self.identity(incoming)
        if who is None:
            await self.clear_state(incoming)
            return self._ok(self.t("authz.not_linked", lang))
        d = dict(state.data)
        if state.step == "text":
            photos = [a.file_id for a in incoming.attachments if a.kind == "photo"]
            if len(text) < 5 and not photos:
                return self._ok(self.t("broadcast.error.text", lang))
            if len(text) > 3500:
                return self._ok(self.t("broadcast.error.text_long", lang))
            d.update(text=text, photo=photos[0] if photos else None, photo_channel=incoming.channel)
            return await self._ask_audience(incoming, who, d, lang)
        if state.step == "audience":
            unit_code = action.removeprefix("bc:unit:") if action.startswith("bc:unit:") else text
            async with self.db.sessions() as session:
                unit = await UnitRepository(session).by_code(unit_code) if unit_code else None
                if unit is None:
                    return self._ok(self.t("broadcast.error.audience", lang))
                decision = authorize(who, Action.BROADCAST, unit)
                if not decision:
                    return self._ok(self.t(decision.reason, lang))
                recipients = await recipients_of(session, unit, self.local_channels)
            counts = per_channel(recipients)
            d.update(unit=unit.code)
            await self.save_state(incoming, State(FLOW, "confirm", d))
            channels = ", ".join(f"{self.t(f'channel.{c}', lang)} {n}" for c, n in sorted(counts.items())) or "0"
            preview = self.t("broadcast.preview", lang, unit=unit.name, total=len(recipients), channels=channels,
                             text=clip(d["text"], 500))
            return self._ok(preview, (Choice(self.t("broadcast.button.now", lang), "bc:now"),
                                      Choice(self.t("broadcast.button.later", lang), "bc:later"),
                                      Choice(self.t("broadcast.button.cancel", lang), "bc:cancel")))
        if state.step == "confirm":
            if action == "bc:now" or fold(text) in ("gui", "gui ngay", "gui luon", "send", "send now", "now"):
                return await self._queue(incoming, who, state, self.clock(), lang)
            if action == "bc:later" or fold(text) in ("hen gio", "sau", "later", "schedule"):
                await self.save_state(incoming, State(FLOW, "when", d))
                return self._ok(self.t("broadcast.ask.when", lang, example=self._example_time()))
            return self._ok(self.t("broadcast.error.confirm", lang))
        if state.step == "when":
            when = parse_when(text, self.clock().astimezone(self.tz))
            if isinstance(when, str):
                return self._ok(self.t(when, lang, example=self._example_time()))
            return await self._queue(incoming, who, state, when, lang)
        await self.clear_state(incoming)
        return self._ok(self.t("broadcast.cancelled_draft", lang))

    def _example_time(self) -> str:
        """A valid answer to "when?": tomorrow at 08:00, written the way ``parse_when`` reads it."""
        tomorrow = self.clock().astimezone(self.tz).date() + timedelta(days=1)
        return f"08:00 {tomorrow:%d/%m/%Y}"

    async def _ask_audience(self, incoming: Incoming, who: Identity, d: dict, lang: str) -> Outcome:
        roots = units_acted_on(who) or [who.member.unit]
        choices = []
        async with self.db.sessions() as session:
            units = UnitRepository(session)
            for root in roots:
                choices.append(Choice(self.t("broadcast.audience.all", lang, name=root.name), f"bc:unit:{root.code}"))
                for child in (await units.subtree(root))[1:]:
                    if child.parent_id == root.id:
                        choices.append(Choice(self.t("broadcast.audience.one", lang, name=child.name),
                                              f"bc:unit:{child.code}"))
        await self.save_state(incoming, State(FLOW, "audience", d))
        return self._ok(self.t("broadcast.ask.audience", lang), tuple(choices[:12]))

    async def _queue(self, incoming: Incoming, who: Identity, state: State, when: datetime, lang: str) -> Outcome:
        """Queue the draft: once, however many taps or retries arrive (the chair's state is taken with a
        compare-and-set in the transaction that creates the broadcast, whose ``draft_id`` is unique)."""
        d = state.data
        now = self.clock()
        async with self.db.sessions.begin() as session:
            unit = await UnitRepository(session).by_code(d["unit"])
            decision = authorize(who, Action.BROADCAST, unit)
            if not decision:
                return self._ok(self.t(decision.reason, lang))
            taken = await self.take(session, incoming, state, "broadcast")
            if taken is None:  # a second tap: the first one queued it
                current = await self.states.current(session, state_key(incoming))
                if current is not None and current.flow == DONE:
                    return Outcome([already_done(self.t, current, lang)], "broadcast", 1.0, False)
                return self._ok(self.t("broadcast.expired_button", lang))
            recipients = await recipients_of(session, unit, self.local_channels)
            repo = BroadcastRepository(session)
            broadcast = await repo.create(unit.id, who.member.id, d["text"], d.get("photo"), d.get("photo_channel"),
                                          when, len(recipients), now, draft_id=d.get("draft_id") or uuid.uuid4().hex)
            text = self.t("broadcast.header", name=unit.name) + "\n" + d["text"]
            items = [OutboxItem(
                dedupe_key=f"b:{broadcast.id}:{r.member_id}:{r.bot_id}:{r.channel}", bot_id=r.bot_id,
                channel=r.channel, chat_id=r.chat_id, member_id=r.member_id, kind="broadcast",
                broadcast_id=broadcast.id, not_before=when,
                payload={"text": text, "choices": [],
                         "photos": [d["photo"]] if d.get("photo") and r.channel == d.get("photo_channel") else []})
                for r in recipients]
            queued = await self.outbox.enqueue(session, items, now)
            await repo.update(broadcast.id, recipients=queued)
            await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                  actor_member_id=who.member.id, action="broadcast",
                                                  unit_id=unit.id, target=str(broadcast.id), now=now,
                                                  recipients=queued, scheduled=when.isoformat())
            await self.settle(session, incoming, taken, id=broadcast.id)
        local = when.astimezone(self.tz)
        key = "broadcast.queued_now" if when <= now else "broadcast.queued_later"
        return self._ok(self.t(key, lang, id=broadcast.id, total=queued,
                               when=f"{local:%H:%M} {fmt_date(local.date())}"))

    # ----- results and cancel --------------------------------------------------------------------------
    async def _own_broadcast(self, incoming: Incoming, arg: str):
        """(who, the broadcast named by ``arg`` or the member's latest, the reason it is denied or "")."""
        who = await self.identity(incoming)
        if who is None:
            return None, None, "authz.not_linked"
        broadcast_id = parse_id(arg)
        if arg.strip() and broadcast_id is None:  # "²", a 23-digit number: no broadcast has that id
            return who, None, "broadcast.error.unknown"
        async with self.db.sessions() as session:
            repo = BroadcastRepository(session)
            broadcast = await repo.get(broadcast_id) if broadcast_id else await repo.latest_by(who.member.id)
            if broadcast is None:
                return who, None, "broadcast.error.unknown"
            decision = authorize(who, Action.BROADCAST, await repo.unit(broadcast))
            return who, broadcast, ("" if decision else decision.reason)

    def report_text(self, broadcast_id: int, counts: dict[str, int], lang: str = "vi") -> str:
        return self.t("broadcast.report", lang, id=broadcast_id, sent=counts.get("sent", 0),
                      blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
                      waiting=counts.get("pending", 0) + counts.get("sending", 0),
                      cancelled=counts.get("cancelled", 0))

    async def results(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        who, broadcast, denied = await self._own_broadcast(incoming, arg)
        if denied:
            return self._ok(self.t(denied, lang))
        return self._ok(self.report_text(broadcast.id, await self.outbox.counts(broadcast.id), lang))

    async def cancel(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        who, broadcast, denied = await self._own_broadcast(incoming, arg)
        if denied:
            return self._ok(self.t(denied, lang))
        now = self.clock()
        async with self.db.sessions.begin() as session:
            repo = BroadcastRepository(session)
            current = await repo.lock_queued(broadcast.id)  # a progress round in flight finishes first
            if current is None:  # finished, or cancelled already (a second tap, another worker)
                now_status = (await repo.get(broadcast.id)).status
                key = "once.cancelled" if now_status == "cancelled" else "broadcast.error.finished"
                return self._ok(self.t(key, lang, id=broadcast.id))
            await repo.update(broadcast.id, status="cancelled")  # with its pending rows, in one transaction
            cancelled = await self.outbox.cancel_broadcast(broadcast.id, session)
            if current.progress_done >= 0:  # the chair's live progress message says it stopped
                live = self._editable(await AccountRepository(session).chats_of(current.created_by))
                counts = await self.outbox.counts(broadcast.id, session=session)
                await self._refresh_live(session, current, live, "broadcast.live_cancelled", counts, now)
            await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                  actor_member_id=who.member.id, action="cancel_broadcast",
                                                  unit_id=broadcast.unit_id, target=str(broadcast.id), now=now,
                                                  cancelled=cancelled)
        return self._ok(self.t("broadcast.cancelled", lang, id=broadcast.id, count=cancelled))

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
                waiting, done, percent = _tally(b, counts)
                step = 100 if not waiting else max((s for s in PROGRESS_STEPS if percent >= s), default=0)
                changes: dict = {}
                chats = await AccountRepository(session).chats_of(b.created_by)
                live = self._editable(chats)
                if live and done != b.progress_done:
                    key = "broadcast.live_done" if not waiting else "broadcast.live"
                    queued += await self._refresh_live(session, b, live, key, counts, now)
                    changes["progress_done"] = done
                if step > b.progress_reported:
                    if step == 100:  # the final report, on every channel
                        text, targets = self.report_text(b.id, counts), chats
                    else:
                        text = self.t("broadcast.progress", id=b.id, done=done, total=b.recipients, percent=percent)
                        targets = [c for c in chats if c not in live]
                    queued += await self.outbox.enqueue(
                        session, self._notes(b.created_by, targets, f"bp:{b.id}:{step}", text, now), now)
                    changes["progress_reported"] = step
                if not waiting:
                    changes["status"] = "done"
                if changes:
                    await repo.update(b.id, **changes)
        return queued

    async def _refresh_live(self, session, b: Broadcast, live, key: str, counts: dict[str, int],
                            now: datetime) -> int:
        """Put ``key``'s text (the counts so far) in the chair's live progress message on ``live`` chats."""
        _, done, percent = _tally(b, counts)
        text = self.t(key, id=b.id, done=done, total=b.recipients, percent=percent, sent=counts.get("sent", 0),
                      blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
                      cancelled=counts.get("cancelled", 0))
        return await self.outbox.refresh_live(session, self._notes(b.created_by, live, f"bl:{b.id}", text, now),
                                              now)

    def _editable(self, chats: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
        """The chat accounts ``(bot id, channel, chat id)`` whose messages the bot can edit in place."""
        return [c for c in chats if c[1] in self.editable_channels]

    @staticmethod
    def _notes(member_id: int, chats, key: str, text: str, now: datetime) -> list[OutboxItem]:
        """One notification with ``text`` per chat account ``(bot id, channel, chat id)`` of the member."""
        return [OutboxItem(dedupe_key=f"{key}:{member_id}:{bot_id}:{channel}:{chat_id}", bot_id=bot_id,
                           channel=channel, chat_id=chat_id, member_id=member_id, kind="notification",
                           payload={"text": text, "choices": [], "photos": []}, not_before=now)
                for bot_id, channel, chat_id in chats]

    # ----- reminders --------------------------------------------------------------------------------------
    async def toggle_reminders(self, incoming: Incoming, lang: str) -> Outcome:
        who = await self.identity(incoming)
        if who is None:
            return self._ok(self.t("authz.not_linked", lang))
        async with self.db.sessions.begin() as session:
            repo = ReminderRepository(session)
            if await repo.is_subscribed(who.member.id):
                await repo.unsubscribe(who.member.id)
                return self._ok(self.t("reminder.unsubscribed", lang))
            await repo.subscribe(who.member.id, self.clock())
        days = self.t("reminder.and", lang).join(str(d) for d in REMIND_DAYS)
        return self._ok(self.t("reminder.subscribed", lang, days=days))

    async def add_reminder(self, incoming: Incoming, arg: str, knowledge: KnowledgeBase, lang: str) -> Outcome:
        """/nhacnho_them <knowledge id> <dd/mm/yyyy> [text]: a chair's reminder for any knowledge date."""
        who = await self.identity(incoming)
        parts = arg.split(maxsplit=2)
        if len(parts) < 2 or parts[0] not in knowledge.by_id or not re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", parts[1]):
            return self._ok(self.t("reminder.usage", lang))
        day, month, year = (int(x) for x in parts[1].split("/"))
        try:
            remind_on = date(year, month, day)
        except ValueError:
            return self._ok(self.t("reminder.usage", lang))
        today = self.clock().astimezone(self.tz).date()
        if not today - MAX_AHEAD <= remind_on <= today + MAX_AHEAD:
            return self._ok(self.t("reminder.usage", lang))
        roots = units_acted_on(who) or ([who.member.unit] if who and who.is_admin else [])
        if who is None or not roots:
            return self._ok(self.t("authz.not_linked" if who is None else "authz.members_only", lang))
        entry = knowledge.by_id[parts[0]]
        text = parts[2] if len(parts) > 2 else entry.name
        async with self.db.sessions.begin() as session:
            await ReminderRepository(session).add_custom(roots[0].id, who.member.id, entry.id, remind_on, text,
                                                         self.clock())
            await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                  actor_member_id=who.member.id, action="add_reminder",
                                                  unit_id=roots[0].id, target=entry.id, now=self.clock())
        return self._ok(self.t("reminder.added", lang, date=fmt_date(remind_on), text=text))

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
                for phase in entry.campaign.phases:
                    days = (phase.ends_on - today).days
                    if days not in REMIND_DAYS:
                        continue
                    text = self.t("reminder.phase", number=phase.number, campaign=entry.name, days=days,
                                  ends=fmt_date(phase.ends_on), theme=phase.theme or "—")
                    items += [OutboxItem(
                        dedupe_key=f"r:{entry.id}:{phase.number}:{days}:{r.member_id}:{r.bot_id}:{r.channel}",
                        bot_id=r.bot_id, channel=r.channel, chat_id=r.chat_id, member_id=r.member_id, kind="reminder",
                        payload={"text": text, "choices": [], "photos": []}, not_before=now) for r in subscribers]
            units = UnitRepository(session)
            for reminder_id, unit_id, text in await reminders.custom_due(today):
                unit = await units.by_id(unit_id)
                in_unit = {r.member_id for r in await recipients_of(session, unit)}
                items += [OutboxItem(
                    dedupe_key=f"rc:{reminder_id}:{r.member_id}:{r.bot_id}:{r.channel}", bot_id=r.bot_id,
                    channel=r.channel, chat_id=r.chat_id, member_id=r.member_id, kind="reminder",
                    payload={"text": self.t("reminder.custom", text=text), "choices": [], "photos": []},
                    not_before=now) for r in subscribers if r.member_id in in_unit]
            return await self.outbox.enqueue(session, items, now) if items else 0
