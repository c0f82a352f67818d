"""Announcements in chat: a chair composes a broadcast (text, audience, now or later); results, cancel;
reminder subscriptions. Dialogue only (parse, prompt, keep the state, render): the use cases are
``services.broadcasts``, which own the transactions, the authorization, the audit and the outbox.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import ClassVar

from rapidfuzz import fuzz

from handlers.capability import DONE, Capability, state_key
from handlers.inputs import BACK_WORDS, ascii_number, parse_id
from handlers.once import already_done, answer_repeat
from handlers.registry import CHAIRS, ActionPrefix, Callback, Command, Declaration, Flow
from handlers.text import clip, fmt_date, fmt_time
from handlers.types import Choice, Incoming, Outcome, Reply
from nlu import dates
from nlu.normalize import fold
from services.actor import Actor, actor_of
from services.base import AlreadyDone, Refused
from services.broadcasts import (
    MAX_AHEAD,
    REMIND_DAYS,
    SCHEDULED,
    SENDING,
    STOPPED,
    BroadcastService,
    Draft,
    check_draft,
    report_text,
)
from storage.conversation import State
from storage.knowledge import KnowledgeBase

FLOW = "broadcast"
PICK_LIMIT = 8  # dates offered by /nhacnho_them alone
CANCEL_WORDS = {"huy", "/huy", "thoi", "cancel"}


def parse_when(text: str, now_local: datetime) -> tuple[datetime | None, str | None]:
    """"mai 8h", "8h sáng thứ hai tuần sau", "25/12/2026 08:00" (nlu/dates.py) -> (the local datetime read, or
    None; the error key, or None when it is a time ahead that may be scheduled)."""
    when = dates.parse_when(text, now_local)
    if when is None:
        return None, "broadcast.error.when"
    if when <= now_local:
        return when, "broadcast.error.when_past"
    if when > now_local + MAX_AHEAD:
        return when, "broadcast.error.when_far"
    return when, None


YES_WORDS = {"dung", "dung roi", "dung hen gio", "ok", "co", "yes", "hen gio", "xac nhan", "yes schedule it"}
EDIT_WORDS = {"sua", "sua gio", "doi gio", "khong", "chua", "edit", "change the time"}
NOW_WORDS = {"gui", "gui ngay", "gui luon", "send", "send now", "now"}
LATER_WORDS = {"hen gio", "sau", "later", "schedule"}
#: a word that may go on naming a day ("tuần sau", "sáng", "8h"), not start a reminder's text
_DAY_TAIL = r"tuan|sau|toi|nay|truoc|nua|sang|trua|chieu|dem|thang|nam|\d{1,4}|\d{1,2}(?:h|g|:)\d{0,2}"
_BACK = ("text", "audience", "confirm", "when", "when_confirm")  # the composing steps "quay lại" goes back in
REMINDER_EDIT_WORDS = {"sua ngay", "doi ngay", "change the day"}
AUDIENCE_WORDS = {"doi doi tuong", "chon doi tuong khac", "doi tuong khac", "audience"}


def _words(text: str) -> str:
    """The folded words of a short answer, without its punctuation ("Đúng, hẹn giờ." -> "dung hen gio")."""
    return " ".join(re.sub(r"[^\w\s]", " ", fold(text)).split())


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
        choices = self._empty_choices(lang) if refusal.key == "broadcast.error.no_recipients" else ()
        return self._ok(self.t(refusal.key, lang, **refusal.values), choices)

    async def actor(self, incoming: Incoming) -> Actor:
        return await actor_of(incoming, self.identities)

    # ----- composing ----------------------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str) -> Outcome:
        decision = (await self.actor(incoming)).as_chair()
        if not decision:
            return self._ok(self.t(decision.reason, lang))
        await self.save_state(incoming, State(FLOW, "text", {"draft_id": uuid.uuid4().hex}))
        return self._ok(self.t("broadcast.ask.text", lang))

    async def on_step(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
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
        if (_words(text) in BACK_WORDS or action == "bc:back") and state.step in _BACK:
            try:
                return await self._back(incoming, actor, state, lang)
            except Refused as refusal:
                return self._refused(refusal, lang)
        if state.step == "reminder":
            return await self._picked_reminder(incoming, state, lang)
        if state.step in ("reminder_confirm", "reminder_date"):
            return await self._on_reminder(incoming, state, actor, lang)
        try:
            if state.step == "text":
                photos = [a.file_id for a in incoming.attachments if a.kind == "photo"]
                check_draft(text, len(photos))
                d.update(text=text, photo=photos[0] if photos else None, photo_channel=incoming.channel)
                return await self._ask_audience(incoming, actor, d, lang)
            if state.step == "audience":
                unit_code = action.removeprefix("bc:unit:") if action.startswith("bc:unit:") else (
                    await self._audience_named(actor, text, lang) or text)
                return await self._preview(incoming, actor, d, unit_code, lang)
            if state.step == "confirm":
                if action == "bc:audience" or fold(text) in AUDIENCE_WORDS:
                    return await self._ask_audience(incoming, actor, d, lang)
                wants_now = action == "bc:now" or fold(text) in NOW_WORDS
                wants_later = action == "bc:later" or fold(text) in LATER_WORDS
                if (wants_now or wants_later) and not d.get("recipients", 1):
                    return self._ok(self.t("broadcast.error.no_recipients", lang, unit=d.get("unit_name", "")),
                                    self._empty_choices(lang))
                if wants_now:
                    return await self._queue(incoming, actor, state, self.clock(), lang)
                if wants_later:
                    await self.save_state(incoming, State(FLOW, "when", d))
                    return self._ok(self.t("broadcast.ask.when", lang, example=self._example_time()))
                return self._ok(self.t("broadcast.error.confirm", lang))
            if state.step == "when_confirm":
                if action == "bc:when_ok" or _words(text) in YES_WORDS:
                    when = datetime.fromisoformat(d["when"])
                    if when <= self.clock():  # the chair took their time: that moment has passed meanwhile
                        await self.save_state(incoming, State(FLOW, "when", d))
                        return self._ok(self.t("broadcast.error.when_past", lang, when=fmt_time(when, self.tz),
                                               example=self._example_time()))
                    return await self._queue(incoming, actor, state, when, lang)
                if action == "bc:when_edit" or _words(text) in EDIT_WORDS:
                    await self.save_state(incoming, State(FLOW, "when", d))
                    return self._ok(self.t("broadcast.ask.when", lang, example=self._example_time()))
                if not text:
                    return self._ok(self.t("broadcast.error.confirm_when", lang))
                # another time typed instead of an answer: read it and ask again
            if state.step in ("when", "when_confirm"):
                read, error = parse_when(text, self.clock().astimezone(self.tz))
                if error is not None or read is None:  # no error: a time was read
                    return self._ok(self.t(error or "broadcast.error.when", lang, example=self._example_time(),
                                           when=fmt_time(read, self.tz) if read else ""))
                return await self._confirm_when(incoming, d, read, lang)
        except Refused as refusal:
            return self._refused(refusal, lang)
        await self.clear_state(incoming)
        return self._ok(self.t("broadcast.cancelled_draft", lang))

    async def _preview(self, incoming: Incoming, actor: Actor, d: dict, unit_code: str, lang: str) -> Outcome:
        """The announcement as it will go, to whom and through which channels: now, later or cancel."""
        audience = await self.service.audience(actor, unit_code)
        d.update(unit=audience.unit.code, unit_name=audience.unit.name, recipients=audience.recipients)
        await self.save_state(incoming, State(FLOW, "confirm", d))
        if not audience.recipients:  # nobody would read it: say so (and why: linked on the console only), offer
            key = "broadcast.preview_local_only" if audience.local_only else "broadcast.preview_empty"
            return self._ok(self.t(key, lang, unit=audience.unit.name, local=audience.local_only,
                                   text=clip(d["text"], 500)), self._empty_choices(lang))
        channels = ", ".join(f"{self.t(f'channel.{c}', lang)} {n}"
                             for c, n in sorted(audience.per_channel.items()))
        preview = self.t("broadcast.preview", lang, unit=audience.unit.name, total=audience.recipients,
                         channels=channels, text=clip(d["text"], 500))
        return self._ok(preview, (Choice(self.t("broadcast.button.now", lang), "bc:now"),
                                  Choice(self.t("broadcast.button.later", lang), "bc:later"),
                                  Choice(self.t("broadcast.button.cancel", lang), "bc:cancel")))

    async def _audience_named(self, actor: Actor, text: str, lang: str) -> str | None:
        """The code of the audience the chair typed: its number in the list, its label, its unit's name or code
        (folded, accents optional), or a near spelling of the name; None when none is named."""
        offered = [(self.t("broadcast.audience.all" if whole else "broadcast.audience.one", lang, name=unit.name),
                    unit) for unit, whole in (await self.service.audiences(actor))[:12]]
        words = _words(text)
        number = ascii_number(words.removeprefix("so").strip(), 1, len(offered)) if words else None
        if number is not None:
            return offered[number - 1][1].code
        for label, unit in offered:
            if words in (_words(label), _words(unit.name), _words(unit.code)):
                return unit.code
        near = max(((fuzz.ratio(words, _words(unit.name)), unit.code) for _, unit in offered), default=None)
        return near[1] if near and near[0] >= 88 else None

    async def _back(self, incoming: Incoming, actor: Actor, state: State, lang: str) -> Outcome:
        """"Quay lại": the step before, with what was answered there shown (the text, the audience, the time)."""
        d, t = dict(state.data), self.t
        if state.step == "text":
            return self._ok(t("hardship.first_step", lang) + "\n\n" + t("broadcast.ask.text", lang))
        if state.step == "audience":
            await self.save_state(incoming, State(FLOW, "text", d))
            return self._ok(t("hardship_form.earlier", lang, value=clip(d.get("text", ""), 300)) + "\n\n"
                            + t("broadcast.ask.text", lang))
        if state.step == "confirm":
            asked = await self._ask_audience(incoming, actor, d, lang)
            reply = asked.replies[0]
            earlier = t("hardship_form.earlier", lang, value=d.get("unit_name", ""))
            return self._ok(earlier + "\n\n" + reply.text, reply.choices)
        if state.step == "when":
            return await self._preview(incoming, actor, d, d["unit"], lang)
        await self.save_state(incoming, State(FLOW, "when", d))  # "when_confirm": the time read before
        return self._ok(t("hardship_form.earlier", lang, value=fmt_time(datetime.fromisoformat(d["when"]), self.tz))
                        + "\n\n" + t("broadcast.ask.when", lang, example=self._example_time()))

    def _example_time(self) -> str:
        """A valid answer to "when?": tomorrow at 08:00, written the way ``parse_when`` reads it."""
        tomorrow = self.clock().astimezone(self.tz).date() + timedelta(days=1)
        return f"08:00 {fmt_date(tomorrow)}"

    def _empty_choices(self, lang: str) -> tuple[Choice, ...]:
        return (Choice(self.t("broadcast.button.audience", lang), "bc:audience"),
                Choice(self.t("broadcast.button.cancel", lang), "bc:cancel"))

    async def _confirm_when(self, incoming: Incoming, d: dict, when: datetime, lang: str) -> Outcome:
        """Echo the time read before anything is stored: the chair says it is right, or corrects it."""
        local = when.astimezone(self.tz)
        d.update(when=local.isoformat())
        await self.save_state(incoming, State(FLOW, "when_confirm", d))
        text = self.t("broadcast.confirm_when", lang, when=fmt_time(local),
                      weekday=self.t(f"broadcast.weekday.{local.weekday()}", lang),
                      unit=d.get("unit_name", d.get("unit", "")), total=d.get("recipients", 0))
        return self._ok(text, (Choice(self.t("broadcast.button.when_ok", lang), "bc:when_ok"),
                               Choice(self.t("broadcast.button.when_edit", lang), "bc:when_edit"),
                               Choice(self.t("broadcast.button.cancel", lang), "bc:cancel")))

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
        key = "broadcast.queued_now" if when <= self.clock() else "broadcast.queued_later"
        return self._ok(self.t(key, lang, id=queued.broadcast_id, total=queued.recipients,
                               when=fmt_time(when, self.tz)))

    # ----- results and cancel --------------------------------------------------------------------------
    async def _which(self, incoming: Incoming, arg: str) -> tuple[Actor, int | None]:
        """The actor and the broadcast id typed ("3" or "#3"; None: their latest); a malformed id ("abc", "²",
        23 digits) is no broadcast's."""
        actor = await self.actor(incoming)
        broadcast_id = parse_id(arg.strip().removeprefix("#"))
        if arg.strip() and broadcast_id is None:
            raise Refused("broadcast.error.unknown" if actor.linked else "authz.not_linked")
        return actor, broadcast_id

    async def _unknown(self, incoming: Incoming, arg: str, command: str, lang: str) -> Outcome:
        """No such announcement (or none yet): say so, and list the chair's latest ones to pick from."""
        recent = await self.service.recent(await self.actor(incoming))
        lines = [self.t("broadcast.error.unknown", lang, given=clip(arg.strip(), 20))] if arg.strip() else []
        if not recent:
            return self._ok("\n".join([*lines, self.t("broadcast.error.none_yet", lang)]))
        now = self.clock()
        lines.append(self.t("broadcast.recent.title", lang))
        for b in recent:
            status = {"cancelled": "cancelled", "done": "done"}.get(
                b.status, "scheduled" if b.scheduled_at > now else "sending")
            lines.append(self.t("broadcast.recent.line", lang, id=b.id, when=fmt_time(b.scheduled_at, self.tz),
                                status=self.t(f"broadcast.recent.{status}", lang),
                                text=clip(" ".join(b.text.split()), 40)))
        lines.append(self.t("broadcast.recent.hint", lang, command=command, id=recent[0].id))
        return self._ok("\n".join(lines))

    async def results(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        try:
            report = await self.service.report(*await self._which(incoming, arg))
        except Refused as refusal:
            if refusal.key == "broadcast.error.unknown":
                return await self._unknown(incoming, arg, "/thongbao_ketqua", lang)
            return self._refused(refusal, lang)
        b, counts = report.broadcast, report.counts
        if report.phase == SCHEDULED:
            return self._ok(self.t("broadcast.report_scheduled", lang, id=b.id, total=b.recipients,
                                   when=fmt_time(b.scheduled_at, self.tz)))
        if report.phase == STOPPED:
            return self._ok(self.t("broadcast.report_stopped", lang, id=b.id, sent=counts.get("sent", 0),
                                   blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
                                   cancelled=counts.get("cancelled", 0)))
        if report.phase == SENDING:
            return self._ok(self.t("broadcast.report_sending", lang, id=b.id, sent=counts.get("sent", 0),
                                   blocked=counts.get("blocked", 0), failed=counts.get("failed", 0),
                                   waiting=counts.get("pending", 0) + counts.get("sending", 0)))
        return self._ok(report_text(self.t, b.id, counts, lang))

    async def cancel(self, incoming: Incoming, arg: str, lang: str) -> Outcome:
        try:
            done = await self.service.cancel(*await self._which(incoming, arg))
        except Refused as refusal:
            if refusal.key == "broadcast.error.unknown":
                return await self._unknown(incoming, arg, "/thongbao_huy", lang)
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

    def _upcoming(self, knowledge: KnowledgeBase, lang: str) -> list[list[str]]:
        """The knowledge dates a chair may be reminded of, soonest first: [entry id, ISO date, label] of each
        campaign phase's start and end between today and a year ahead."""
        today = self.clock().astimezone(self.tz).date()
        found = []
        for entry in knowledge.of_kind("campaign"):
            for phase in entry.campaign.phases if entry.campaign else ():
                for event, day in (("starts", phase.starts_on), ("ends", phase.ends_on)):
                    if today <= day <= today + MAX_AHEAD:
                        label = self.t(f"reminder.pick.{event}", lang, campaign=entry.name, number=phase.number,
                                       date=fmt_date(day))
                        found.append((day, [entry.id, day.isoformat(), label]))
        return [option for _, option in sorted(found, key=lambda pair: pair[0])][:PICK_LIMIT]

    async def _offer_reminders(self, incoming: Incoming, knowledge: KnowledgeBase, lang: str) -> Outcome:
        """/nhacnho_them alone: the dates to pick from (buttons, or numbers where there are none)."""
        decision = (await self.actor(incoming)).as_chair()
        if not decision:
            return self._ok(self.t(decision.reason, lang))
        options = self._upcoming(knowledge, lang)
        if not options:
            return self._ok(self.t("reminder.pick.none", lang) + "\n" + self.t("reminder.usage", lang))
        await self.save_state(incoming, State(FLOW, "reminder", {"options": options}))
        return self._ok(self.t("reminder.pick.title", lang),
                        tuple(Choice(clip(label, 60), f"bc:rm:{i}") for i, (_, _, label) in enumerate(options)))

    async def _picked_reminder(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """A date picked from the ones /nhacnho_them offered: a button, or its number typed."""
        action, text = incoming.action or "", (incoming.text or "").strip()
        options = state.data.get("options") or []
        await self.clear_state(incoming)
        if action.startswith("bc:rm:"):
            index = ascii_number(action.removeprefix("bc:rm:"), 0, len(options) - 1)
        else:
            index = ascii_number(text, 1, len(options))
            index = None if index is None else index - 1
        if index is None and not action:
            return None  # not a pick (a question, another command): answered as usual, the offer dropped
        if index is None:
            return self._ok(self.t("reminder.usage", lang))
        entry_id, day, label = options[index]
        remind_on = date.fromisoformat(day)
        try:
            added = await self.service.remind(await self.actor(incoming), entry_id, remind_on, label)
        except Refused as refusal:
            return self._refused(refusal, lang)
        return self._ok(self.t("reminder.added", lang, date=fmt_date(remind_on), text=added))

    async def add_reminder(self, incoming: Incoming, arg: str, knowledge: KnowledgeBase, lang: str) -> Outcome:
        """/nhacnho_them <knowledge id> <day> [text]: a chair's reminder for any knowledge date, the day as people
        write it ("25/12", "thứ hai tuần sau": nlu/dates.py), echoed back before it is stored; alone, the coming
        dates to pick from."""
        if not arg.strip():
            return await self._offer_reminders(incoming, knowledge, lang)
        decision = (await self.actor(incoming)).as_chair()
        if not decision:  # refused before anything is echoed (the service refuses it again when storing)
            return self._ok(self.t(decision.reason, lang))
        parts = arg.split(maxsplit=1)
        entry = knowledge.by_id.get(parts[0])
        read = self._read_day(parts[1] if len(parts) > 1 else "")
        if entry is None or read is None:
            return self._ok(self.t("reminder.usage", lang))
        day, text = read
        return await self._confirm_reminder(incoming, {"entry_id": entry.id, "text": text or entry.name}, day, lang)

    def _read_day(self, words: str) -> tuple[date, str | None] | None:
        """The day at the start of ``words`` and the text after it (None: none), or None when no day ahead is
        read: the shortest start of the words (up to six) that reads as the day all six read as."""
        now = self.clock().astimezone(self.tz)
        split = words.split()
        top = min(len(split), 6)

        def day_of(n: int) -> date | None:
            when = dates.parse_when(" ".join(split[:n]), now)
            return when.date() if when is not None else None

        final = day_of(top) if top else None
        if final is None or not now.date() <= final <= now.date() + MAX_AHEAD:
            return None
        n = next(n for n in range(1, top + 1) if day_of(n) == final)
        while n < top and re.fullmatch(_DAY_TAIL, fold(split[n])) and day_of(n + 1) == final:
            n += 1  # "thứ hai | tuần sau": the words that go on naming the same day are no text
        return final, " ".join(split[n:]) or None

    async def _confirm_reminder(self, incoming: Incoming, d: dict, day: date, lang: str) -> Outcome:
        """Echo the day read (and its weekday) before the reminder is stored: the chair says it is right, or
        corrects it."""
        d = {**d, "day": day.isoformat()}
        await self.save_state(incoming, State(FLOW, "reminder_confirm", d))
        text = self.t("reminder.confirm", lang, date=fmt_date(day), text=d["text"],
                      weekday=self.t(f"broadcast.weekday.{day.weekday()}", lang))
        return self._ok(text, (Choice(self.t("reminder.button.ok", lang), "bc:rm_ok"),
                               Choice(self.t("reminder.button.edit", lang), "bc:rm_edit"),
                               Choice(self.t("broadcast.button.cancel", lang), "bc:cancel")))

    async def _on_reminder(self, incoming: Incoming, state: State, actor: Actor, lang: str) -> Outcome:
        """The chair's answer to the day echoed ("reminder_confirm"), or the day typed again ("reminder_date")."""
        text, action, d = (incoming.text or "").strip(), incoming.action or "", dict(state.data)
        if state.step == "reminder_confirm":
            if action == "bc:rm_ok" or _words(text) in YES_WORDS:
                remind_on = date.fromisoformat(d["day"])
                try:
                    added = await self.service.remind(actor, d["entry_id"], remind_on, d["text"])
                except Refused as refusal:
                    await self.clear_state(incoming)
                    return self._refused(refusal, lang)
                await self.clear_state(incoming)
                return self._ok(self.t("reminder.added", lang, date=fmt_date(remind_on), text=added))
            if action == "bc:rm_edit" or _words(text) in EDIT_WORDS | REMINDER_EDIT_WORDS | BACK_WORDS:
                await self.save_state(incoming, State(FLOW, "reminder_date", d))
                return self._ok(self.t("reminder.ask_date", lang, example=self._example_time().split()[-1]))
        read = self._read_day(text) if text and not action else None
        if read is None:
            key = "reminder.ask_date" if state.step == "reminder_date" else "reminder.error_confirm"
            return self._ok(self.t(key, lang, example=self._example_time().split()[-1]))
        return await self._confirm_reminder(incoming, d, read[0], lang)


# ----- commands and buttons (handlers/registry.py) --------------------------------------------------------
@dataclass(frozen=True)
class BroadcastButton(Callback):
    """A button of the chair's announcement form: "bc:now", "bc:later", "bc:cancel", "bc:unit:NTL-01", ..."""

    prefix: ClassVar[str] = "bc"
    value: str


async def _form_button(b: Broadcasts, incoming: Incoming, data: str, lang: str) -> Outcome:
    state = await b.states.get(state_key(incoming))
    repeat = answer_repeat(b.t, state, incoming, b.clock(), lang)  # the first of two taps at once finished meanwhile
    if repeat is not None:
        return repeat
    if state is not None and state.flow == FLOW:
        outcome = await b.on_step(incoming, state, lang)
        if outcome is not None:  # always, for a press: only typed words may be no answer of the form
            return outcome
    return Outcome([Reply(b.t("broadcast.expired_button", lang))], "broadcast", 1.0, False)


DECLARATION = Declaration(
    "broadcasts",
    commands=(Command("thongbao", "announce", lambda b, i, arg, lang: b.start(i, lang), CHAIRS),
              Command("thongbao_ketqua", "announce_report", lambda b, i, arg, lang: b.results(i, arg, lang), CHAIRS,
                      menu=False),
              Command("thongbao_huy", "announce_cancel", lambda b, i, arg, lang: b.cancel(i, arg, lang), CHAIRS,
                      menu=False),
              Command("nhacnho", "reminders", lambda b, i, arg, lang: b.toggle_reminders(i, lang)),
              Command("nhacnho_them", "add_reminder", lambda b, i, arg, lang: b.add_reminder(i, arg, b.knowledge, lang),
                      CHAIRS, menu=False)),
    actions=(ActionPrefix("bc", _form_button, after_done=True),),
    flows=(Flow(FLOW, lambda b, i, state, lang: b.on_step(i, state, lang)),),
    callbacks=(BroadcastButton,))
