"""Announcements in chat: a chair composes a broadcast (text, audience, now or later); results, cancel;
reminder subscriptions. Dialogue only (parse, prompt, keep the state, render): the use cases are
``services.broadcasts``, which own the transactions, the authorization, the audit and the outbox.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from handlers.capability import DONE, Capability, state_key
from handlers.inputs import parse_id
from handlers.once import already_done
from handlers.text import clip, fmt_date
from handlers.types import Choice, Incoming, Outcome, Reply
from nlu import dates
from nlu.normalize import fold
from services.actor import Actor, actor_of
from services.base import AlreadyDone, Refused
from services.broadcasts import MAX_AHEAD, REMIND_DAYS, BroadcastService, Draft, check_draft, report_text
from storage.conversation import State
from storage.knowledge import KnowledgeBase

FLOW = "broadcast"
CANCEL_WORDS = {"huy", "/huy", "thoi", "cancel"}


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


class _SendOnce:
    """The chair's "send" (a tap or the words), taken once: a compare-and-set of their conversation state in the
    service's transaction (see ``Capability.take``)."""

    def __init__(self, capability: Capability, incoming: Incoming, state: State) -> None:
        self.capability, self.incoming, self.state = capability, incoming, state

    async def take(self, session) -> State | None:
        return await self.capability.take(session, self.incoming, self.state, "broadcast")

    async def settle(self, session, taken: State, **result) -> None:
        await self.capability.settle(session, self.incoming, taken, **result)

    async def current(self, session) -> State | None:
        return await self.capability.states.current(session, state_key(self.incoming))


class Broadcasts(Capability):
    def __init__(self, *args, editable_channels: frozenset[str] = frozenset(),
                 local_channels: frozenset[str] = frozenset(), service: BroadcastService | None = None,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.service = service or BroadcastService(self.db, self.t, self.clock, self.tz,
                                                   editable_channels=editable_channels, local_channels=local_channels)

    def _ok(self, text: str, choices: tuple[Choice, ...] = ()) -> Outcome:
        return Outcome([Reply(text, choices)], "broadcast", 1.0, False)

    def _refused(self, refusal: Refused, lang: str) -> Outcome:
        return self._ok(self.t(refusal.key, lang, **refusal.values))

    async def actor(self, incoming: Incoming) -> Actor:
        return await actor_of(incoming, self.identities)

    # ----- composing ----------------------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str) -> Outcome:
        decision = (await self.actor(incoming)).as_chair()
        if not decision:
            return self._ok(self.t(decision.reason, lang))
        await self.save_state(incoming, State(FLOW, "text", {"draft_id": uuid.uuid4().hex}))
        return self._ok(self.t("broadcast.ask.text", lang))

    async def on_step(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        text = (incoming.text or "").strip()
        action = incoming.action or ""
        if fold(text) in CANCEL_WORDS or action == "bc:cancel":
            await self.clear_state(incoming)
            return self._ok(self.t("broadcast.cancelled_draft", lang))
        actor = await self.actor(incoming)
        if not actor.linked:
            await self.clear_state(incoming)
            return self._ok(self.t("authz.not_linked", lang))
        d = dict(state.data)
        try:
            if state.step == "text":
                photos = [a.file_id for a in incoming.attachments if a.kind == "photo"]
                check_draft(text, len(photos))
                d.update(text=text, photo=photos[0] if photos else None, photo_channel=incoming.channel)
                return await self._ask_audience(incoming, actor, d, lang)
            if state.step == "audience":
                unit_code = action.removeprefix("bc:unit:") if action.startswith("bc:unit:") else text
                audience = await self.service.audience(actor, unit_code)
                d.update(unit=audience.unit.code)
                await self.save_state(incoming, State(FLOW, "confirm", d))
                channels = ", ".join(f"{self.t(f'channel.{c}', lang)} {n}"
                                     for c, n in sorted(audience.per_channel.items())) or "0"
                preview = self.t("broadcast.preview", lang, unit=audience.unit.name, total=audience.recipients,
                                 channels=channels, text=clip(d["text"], 500))
                return self._ok(preview, (Choice(self.t("broadcast.button.now", lang), "bc:now"),
                                          Choice(self.t("broadcast.button.later", lang), "bc:later"),
                                          Choice(self.t("broadcast.button.cancel", lang), "bc:cancel")))
            if state.step == "confirm":
                if action == "bc:now" or fold(text) in ("gui", "gui ngay", "gui luon", "send", "send now", "now"):
                    return await self._queue(incoming, actor, state, self.clock(), lang)
                if action == "bc:later" or fold(text) in ("hen gio", "sau", "later", "schedule"):
                    await self.save_state(incoming, State(FLOW, "when", d))
                    return self._ok(self.t("broadcast.ask.when", lang, example=self._example_time()))
                return self._ok(self.t("broadcast.error.confirm", lang))
            if state.step == "when":
                when = parse_when(text, self.clock().astimezone(self.tz))
                if isinstance(when, str):
                    return self._ok(self.t(when, lang, example=self._example_time()))
                return await self._queue(incoming, actor, state, when, lang)
        except Refused as refusal:
            return self._refused(refusal, lang)
        await self.clear_state(incoming)
        return self._ok(self.t("broadcast.cancelled_draft", lang))

    def _example_time(self) -> str:
        """A valid answer to "when?": tomorrow at 08:00, written the way ``parse_when`` reads it."""
        tomorrow = self.clock().astimezone(self.tz).date() + timedelta(days=1)
        return f"08:00 {tomorrow:%d/%m/%Y}"

    async def _ask_audience(self, incoming: Incoming, actor: Actor, d: dict, lang: str) -> Outcome:
        choices = [Choice(self.t("broadcast.audience.all" if whole else "broadcast.audience.one", lang,
                                 name=unit.name), f"bc:unit:{unit.code}")
                   for unit, whole in await self.service.audiences(actor)]
        await self.save_state(incoming, State(FLOW, "audience", d))
        return self._ok(self.t("broadcast.ask.audience", lang), tuple(choices[:12]))

    async def _queue(self, incoming: Incoming, actor: Actor, state: State, when: datetime, lang: str) -> Outcome:
        """Queue the draft: once, however many taps or retries arrive (the chair's state is taken with a
        compare-and-set in the transaction that creates the broadcast, whose ``draft_id`` is unique)."""
        d = state.data
        draft = Draft(d["text"], d["unit"], d.get("photo"), d.get("photo_channel"),
                      d.get("draft_id") or uuid.uuid4().hex)
        try:
            queued = await self.service.queue(actor, draft, when, once=_SendOnce(self, incoming, state))
        except AlreadyDone as repeat:  # a second tap: the first one queued it
            if repeat.seen is not None and repeat.seen.flow == DONE:
                return Outcome([already_done(self.t, repeat.seen, lang)], "broadcast", 1.0, False)
            return self._ok(self.t("broadcast.expired_button", lang))
        local = when.astimezone(self.tz)
        key = "broadcast.queued_now" if when <= self.clock() else "broadcast.queued_later"
        return self._ok(self.t(key, lang, id=queued.broadcast_id, total=queued.recipients,
                               when=f"{local:%H:%M} {fmt_date(local.date())}"))

    # ----- results and cancel --------------------------------------------------------------------------
    async def _which(self, incoming: Incoming, arg: str) -> tuple[Actor, int | None]:
        """The actor and the broadcast id typed (None: their latest); a malformed id ("²", 23 digits) is no
        broadcast's."""
        actor = await self.actor(incoming)
        broadcast_id = parse_id(arg)
        if arg.strip() and broadcast_id is None:
            raise Refused("broadcast.error.unknown" if actor.linked else "authz.not_linked")
        return actor, broadcast_id

    async def results(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        try:
            report = await self.service.report(*await self._which(incoming, arg))
        except Refused as refusal:
            return self._refused(refusal, lang)
        return self._ok(report_text(self.t, report.broadcast.id, report.counts, lang))

    async def cancel(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        try:
            done = await self.service.cancel(*await self._which(incoming, arg))
        except Refused as refusal:
            return self._refused(refusal, lang)
        return self._ok(self.t("broadcast.cancelled", lang, id=done.broadcast_id, count=done.cancelled))

    # ----- reminders --------------------------------------------------------------------------------------
    async def toggle_reminders(self, incoming: Incoming, lang: str) -> Outcome:
        try:
            subscribed = await self.service.toggle_reminders(await self.actor(incoming))
        except Refused as refusal:
            return self._refused(refusal, lang)
        if not subscribed:
            return self._ok(self.t("reminder.unsubscribed", lang))
        days = self.t("reminder.and", lang).join(str(d) for d in REMIND_DAYS)
        return self._ok(self.t("reminder.subscribed", lang, days=days))

    async def add_reminder(self, incoming: Incoming, arg: str, knowledge: KnowledgeBase, lang: str) -> Outcome:
        """/nhacnho_them <knowledge id> <dd/mm/yyyy> [text]: a chair's reminder for any knowledge date."""
        parts = arg.split(maxsplit=2)
        if len(parts) < 2 or parts[0] not in knowledge.by_id or not re.fullmatch(r"\d{1,2}/\d{1,2}/\d{4}", parts[1]):
            return self._ok(self.t("reminder.usage", lang))
        day, month, year = (int(x) for x in parts[1].split("/"))
        try:
            remind_on = date(year, month, day)
        except ValueError:
            return self._ok(self.t("reminder.usage", lang))
        try:
            text = await self.service.add_reminder(await self.actor(incoming), knowledge.by_id[parts[0]], remind_on,
                                                   parts[2] if len(parts) > 2 else None)
        except Refused as refusal:
            return self._refused(refusal, lang)
        return self._ok(self.t("reminder.added", lang, date=fmt_date(remind_on), text=text))
