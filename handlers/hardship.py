"""Hardship support requests: the member's guided form, the chairs' review, the member's view.

Kind, clear, private, and nothing lost: the form's state is in the database after every answer, so
a member resumes where they were after a restart or a day later. "hủy" cancels and "quay lại" goes back
at any step; every answer is validated with a clear message; nothing is sent before the member
confirms the summary. The bot never promises money: the union decides by its own rules.

Dialogue only (parse, prompt, keep the form's state, render): filing, answering a chair, viewing, forwarding
and deciding are use cases of ``services.hardship``, which owns their transactions, authorization, audit and
notifications.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import ClassVar

from rapidfuzz import fuzz

from handlers.capability import DONE, Capability, state_key
from handlers.inputs import BACK_WORDS, ascii_number, parse_id, parse_vnd
from handlers.once import already_done, answer_repeat
from handlers.registry import CHAIRS, ActionPrefix, Callback, Command, Declaration, Flow
from handlers.text import fmt_date, fmt_time
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import DEFAULT_LANGUAGE, Translator
from nlu import dates
from nlu.normalize import fold
from services.actor import Actor, actor_of
from services.hardship import CATEGORIES, Decided, Form, HardshipService, money
from services.roster import normalize_phone
from storage.conversation import State, StateKey, StateStore
from storage.db import Database
from storage.hardship import HardshipRequest
from storage.membership import IdentityCache

FORM = "hardship"
INFO = "hardship_info"
REVIEW = "review"
DRAFT = "hardship_draft"  # a form the member chose to stop, with its answers: /hotro resumes it within a day
DRAFT_KEPT = timedelta(hours=24)
DISAGREE_WORDS = {"khong dong y", "khong dong y a", "tu choi", "disagree", "khong chia se"}
CONFIRM_WORDS = {"xac nhan", "co", "dong y", "duyet", "yes", "ok", "confirm"}
RESUME_WORDS = {"lam tiep", "tiep tuc", "tiep", "continue", "resume"}
STEPS = ("category", "date", "description", "amount", "photos", "phone", "consent", "confirm")
MAX_PHOTOS = 10
CANCEL_WORDS = {"huy", "/huy", "huy bo", "thoi", "cancel"}
SKIP_WORDS = {"bo qua", "khong", "ko", "khong co", "skip", "bo", "k", "no", "none"}
DONE_WORDS = {"xong", "tiep", "tiep tuc", "het", "done", "ok", "du roi"}
YES_WORDS = {"dong y", "co", "yes", "ok", "dung", "giu", "giu nguyen", "dung roi", "dong y a", "agree", "keep"}
SUBMIT_WORDS = {"gui", "xac nhan", "gui di", "dong y", "send", "submit", "confirm"}


def parse_amount(text: str) -> int | None | str:
    """"2 triệu", "1,5tr", "hai triệu", "2 triệu rưỡi", "500k", "2.000.000đ" (handlers/inputs.py) -> đồng;
    None for "bỏ qua"; an error key otherwise."""
    words = fold(text).strip()
    if words in SKIP_WORDS:
        return None
    amount = parse_vnd(text)
    if amount is None:
        return "hardship.error.amount"
    if not 10_000 <= amount <= 1_000_000_000:
        return "hardship.error.amount_range"
    return amount


def parse_day(text: str, now: datetime) -> date | str:
    """The day a hardship happened, as people write it ("hôm qua", "thứ hai tuần trước", "3 ngày trước", "15/11",
    "15/11/2026": nlu/dates.py, what is left out read as a day past; ``now`` in the union's zone); an error key
    when there is no day, or it is ahead or over a year ago."""
    when = dates.parse_when(text, now, past=True)
    if when is None:
        return "hardship.error.date"
    value, today = when.date(), now.date()
    if value > today:
        return "hardship.error.date_future"
    if value < today - timedelta(days=366):
        return "hardship.error.date_old"
    return value


def _keywords(words: str) -> list[str]:
    return [w for w in (fold(x).strip() for x in words.split("|")) if w]


def match_category(text: str, t: Translator, lang: str = DEFAULT_LANGUAGE) -> str | None:
    """The category a member's words name: its label or one of its words (``hardship_form.words.<c>``, folded;
    the longest word found wins, so "mất việc" is a job loss, not a bereavement), else a near spelling."""
    words = " " + re.sub(r"[^a-z0-9]+", " ", fold(text or "")).strip() + " "
    if not words.strip():
        return None
    found: list[tuple[int, str]] = []
    for c in CATEGORIES:
        for word in [fold(t(f"hardship.category.{c}", lang)), *_keywords(t(f"hardship_form.words.{c}", lang))]:
            if f" {word} " in words:
                found.append((len(word), c))
    if found:
        return max(found)[1]
    near = [(fuzz.partial_ratio(word, words.strip()), len(word), c) for c in CATEGORIES
            for word in _keywords(t(f"hardship_form.words.{c}", lang)) if len(word) >= 5]
    best = max(near, default=None)
    return best[2] if best and best[0] >= 88 else None


__all__ = ["FORM", "INFO", "REVIEW", "Hardship", "match_category", "money", "parse_amount", "parse_day"]


@dataclass
class _Step:
    """A step of this conversation that happens once (``services.hardship.Once``): the conversation state is
    taken with a compare-and-set in the service's transaction; on a repeat, ``current`` is what took it."""

    capability: Capability
    incoming: Incoming
    seen: State
    kind: str
    result: dict = field(default_factory=dict)
    taken: State | None = None
    current: State | None = None

    async def take(self, session) -> bool:
        self.taken = await self.capability.take(session, self.incoming, self.seen, self.kind, **self.result)
        if self.taken is None:
            self.current = await self.capability.states.current(session, state_key(self.incoming))
        return self.taken is not None

    async def settle(self, session, **result: object) -> None:
        if self.taken is not None:
            await self.capability.settle(session, self.incoming, self.taken, **result)


class Hardship(Capability):
    """The dialogue of hardship requests; every change goes through ``services.hardship``."""

    def __init__(self, db: Database, states: StateStore, identities: IdentityCache, t: Translator,
                 clock: Callable[[], datetime], timezone: tzinfo, service: HardshipService | None = None) -> None:
        super().__init__(db, states, identities, t, clock, timezone)
        self.service = service or HardshipService(db, t, clock, timezone)

    async def actor(self, incoming: Incoming) -> Actor:
        return await actor_of(incoming, self.identities)

    def _ok(self, text: str, choices: tuple[Choice, ...] = (), photos: tuple[str, ...] = (),
            intent: str = "hardship") -> Outcome:
        return Outcome([Reply(text, choices, photos)], intent, 1.0, False)

    # ----- the member's form ---------------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str) -> Outcome:
        who = await self.identity(incoming)
        text = incoming.text or ""
        named = None if text.startswith("/") else match_category(text, self.t, lang)
        kind = self.t(f"hardship_form.condolence.{named}", lang) if named else ""
        if who is None:
            return self._ok(self.t("hardship.info", lang) + "\n\n" + self.t("hardship.link_first", lang))
        state = State(FORM, "category", {"phone": who.member.phone or "", "form_id": uuid.uuid4().hex})
        lines = [" ".join(x for x in (kind, self.t("hardship.intro", lang)) if x)]  # a kind word, then how it goes
        if named:  # the category the member's words named: chosen for them, and said so
            state = State(FORM, "date", {**state.data, "category": named})
            lines.append(self.t("hardship_form.preselected", lang,
                                category=self.t(f"hardship.category.{named}", lang)))
        await self.save_state(incoming, state)
        prompt = self._prompt(state, lang)
        return self._ok("\n\n".join([*lines, prompt.text]), prompt.choices)

    async def resume(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        prompt = self._prompt(state, lang)
        return self._ok(self.t("hardship.resume", lang) + "\n\n" + prompt.text, prompt.choices)

    def _prompt(self, state: State, lang: str) -> Reply:
        t, step, d = self.t, state.step, state.data
        if step == "category":
            return Reply(t("hardship.ask.category", lang), tuple(
                Choice(t(f"hardship.category.{c}", lang), f"hs:cat:{c}") for c in CATEGORIES))
        if step == "photos":
            checklist = t(f"hardship.checklist.{d['category']}", lang)
            count = len(d.get("photos", []))
            return Reply(t("hardship.ask.photos", lang, checklist=checklist, count=count),
                         (Choice(t("hardship.button.done", lang), "hs:next"),))
        if step == "phone":
            if d.get("phone"):
                return Reply(t("hardship.ask.phone_prefilled", lang, phone=d["phone"]),
                             (Choice(t("hardship.button.keep_phone", lang), "hs:keep"),))
            return Reply(t("hardship.ask.phone", lang))
        if step == "consent":
            return Reply(t("hardship.ask.consent", lang), (Choice(t("hardship.button.agree", lang), "hs:agree"),
                                                          Choice(t("hardship.button.disagree", lang), "hs:disagree")))
        if step == "confirm":
            return Reply(t("hardship.ask.confirm", lang, summary=self._summary(d, lang)),
                         (Choice(t("hardship.button.submit", lang), "hs:submit"),
                          Choice(t("hardship.button.back", lang), "hs:back"),
                          Choice(t("hardship.button.cancel", lang), "hs:cancel")))
        if step == "amount":
            return Reply(t("hardship.ask.amount", lang), (Choice(t("hardship.button.skip", lang), "hs:skip"),))
        return Reply(t(f"hardship.ask.{step}", lang))

    def _answer_of(self, step: str, d: dict, lang: str) -> str | None:
        """What the member answered at ``step``, as they would read it (None when not answered yet)."""
        t = self.t
        if step == "category" and d.get("category"):
            return t(f"hardship.category.{d['category']}", lang)
        if step == "date" and d.get("happened_on"):
            return fmt_date(date.fromisoformat(d["happened_on"]))
        if step == "description" and d.get("description"):
            return d["description"]
        if step == "amount" and "amount" in d:
            return money(d.get("amount"))
        if step == "photos" and "photos" in d:
            return str(len(d["photos"]))
        if step == "phone" and d.get("phone"):
            return d["phone"]
        if step == "consent" and "consent" in d:
            return t("hardship.button.agree" if d["consent"] else "hardship.button.disagree", lang)
        return None

    def _summary(self, d: dict, lang: str) -> str:
        return "\n".join(self.service.summary_lines(d["category"], date.fromisoformat(d["happened_on"]),
                                                    d["description"], d.get("amount"), len(d.get("photos", [])),
                                                    d["phone"], lang))

    async def on_form(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        """One answer of the form: validate, store, ask the next question."""
        t = self.t
        text = (incoming.text or "").strip()
        words = fold(text).strip(" .!")
        action = incoming.action or ""
        if words in CANCEL_WORDS or action == "hs:cancel":
            if "category" in state.data:  # answers given: asked once, kept as a draft
                return await self._hold(incoming, state, "hardship_form.cancel_ask", lang)
            await self.clear_state(incoming)
            return self._ok(t("hardship.cancelled", lang))
        index = STEPS.index(state.step)
        if words in BACK_WORDS or action == "hs:back":
            if index == 0:
                return self._ok(t("hardship.first_step", lang) + "\n\n" + self._prompt(state, lang).text,
                                self._prompt(state, lang).choices)
            previous = State(FORM, STEPS[index - 1], state.data)
            await self.save_state(incoming, previous)
            prompt = self._prompt(previous, lang)
            earlier = self._answer_of(previous.step, state.data, lang)
            text = prompt.text if earlier is None else (
                t("hardship_form.earlier", lang, value=earlier) + "\n\n" + prompt.text)
            return self._ok(text, prompt.choices)
        if state.step == "description":  # free text: a question is told from an answer before it is stored
            answered = await self._question(incoming, state, lang)
            if answered is not None:
                return answered
        error = self._accept(state, incoming, text, words, action)
        if isinstance(error, Outcome):
            return error
        if error:
            answered = await self._question(incoming, state, lang)
            if answered is not None:
                return answered
            prompt = self._prompt(state, lang)
            return self._ok(t(error, lang) + "\n\n" + prompt.text, prompt.choices)
        if state.step == "photos" and not (words in DONE_WORDS | SKIP_WORDS or action == "hs:next"):
            await self.save_state(incoming, state)  # a photo was added: stay on this step
            return self._ok(t("hardship.photo_added", lang, count=len(state.data["photos"])),
                            (Choice(t("hardship.button.done", lang), "hs:next"),))
        if state.step == "consent" and not state.data.get("consent"):
            state.data.pop("consent", None)
            return await self._hold(incoming, state, "hardship_form.consent_ask", lang)
        if state.step == "confirm":
            return await self._submit(incoming, state, lang)
        following = State(FORM, STEPS[index + 1], state.data)
        await self.save_state(incoming, following)
        prompt = self._prompt(following, lang)
        if state.step == "date":  # the day read, echoed: a misread one is seen before it is sent
            day = date.fromisoformat(state.data["happened_on"])
            read = t("hardship_form.date_read", lang, date=fmt_date(day),
                     weekday=t(f"broadcast.weekday.{day.weekday()}", lang))
            return self._ok(read + "\n\n" + prompt.text, prompt.choices)
        return self._ok(prompt.text, prompt.choices)

    async def _question(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """A question typed mid-form, answered briefly by the core; then the form's current prompt again."""
        if incoming.action or incoming.attachments or not incoming.text or self.answer_question is None:
            return None
        answered = await self.answer_question(incoming, lang)
        if answered is None:
            return None
        prompt = self._prompt(state, lang)
        return Outcome([*answered.replies[:1], Reply(self.t("hardship_form.back_to_form", lang) + "\n\n"
                                                     + prompt.text, prompt.choices)], "hardship", 1.0, False)

    async def _hold(self, incoming: Incoming, state: State, key: str, lang: str) -> Outcome:
        """A form with answers is not thrown away at the first "hủy": ask once, and keep it a day as a draft."""
        draft = State(DRAFT, state.step, {**state.data, "paused_at": self.clock().isoformat(), "held": key})
        await self.save_state(incoming, draft)
        return self._ok(self.t(key, lang), (Choice(self.t("hardship_form.button.cancel", lang), "hs:cancel"),
                                            Choice(self.t("hardship_form.button.resume", lang), "hs:resume")))

    def _draft_alive(self, state: State) -> bool:
        paused = state.data.get("paused_at")
        if not paused:
            return False
        return self.clock() - datetime.fromisoformat(paused) <= DRAFT_KEPT

    async def resume_draft(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        data = {k: v for k, v in state.data.items() if k not in ("paused_at", "held", "choices")}
        form = State(FORM, state.step, data)
        await self.save_state(incoming, form)
        return await self.resume(incoming, form, lang)

    async def on_draft(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """After the first "hủy": a second one cancels, "làm tiếp" resumes; anything else is not for the form."""
        words = fold(incoming.text or "").strip(" .!")
        action = incoming.action or ""
        consent = state.data.get("held") == "hardship_form.consent_ask"
        again = words in CANCEL_WORDS or action in ("hs:cancel", "hs:disagree")
        if again or consent and words in SKIP_WORDS | DISAGREE_WORDS:
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.no_consent" if consent else "hardship.cancelled", lang))
        if words in RESUME_WORDS or action == "hs:resume":
            if not self._draft_alive(state):
                await self.clear_state(incoming)
                return await self.start(replace(incoming, text=""), lang)
            return await self.resume_draft(incoming, state, lang)
        return None

    def _accept(self, state: State, incoming: Incoming, text: str, words: str, action: str) -> str | None:
        """Store a valid answer in ``state.data``; return an error key for an invalid one."""
        d, step = state.data, state.step
        if step == "category":
            choice = action.removeprefix("hs:cat:") if action.startswith("hs:cat:") else None
            number = ascii_number(words, 1, len(CATEGORIES)) if choice is None else None
            if number is not None:
                choice = CATEGORIES[number - 1]
            if choice is None:
                choice = match_category(text, self.t)
            if choice not in CATEGORIES:
                return "hardship.error.category"
            d["category"] = choice
        elif step == "date":
            value = parse_day(text, self.clock().astimezone(self.tz))
            if isinstance(value, str):
                return value
            d["happened_on"] = value.isoformat()
        elif step == "description":
            if len(text) < 10:
                return "hardship.error.description_short"
            if len(text) > 1000:
                return "hardship.error.description_long"
            d["description"] = text
        elif step == "amount":
            amount = None if action == "hs:skip" else parse_amount(text)
            if isinstance(amount, str):
                return amount
            d["amount"] = amount
        elif step == "photos":
            photos = [a.file_id for a in incoming.attachments if a.kind == "photo" and a.file_id]
            if photos:
                d.setdefault("photos", [])
                room = MAX_PHOTOS - len(d["photos"])
                if room <= 0:
                    return "hardship.error.too_many_photos"
                d["photos"].extend([incoming.channel, p] for p in photos[:room])
            elif not (words in DONE_WORDS | SKIP_WORDS or action == "hs:next"):
                return "hardship.error.photos"
        elif step == "phone":
            if action == "hs:keep" or (words in YES_WORDS and d.get("phone")):
                return None if d.get("phone") else "hardship.error.phone"
            phone = normalize_phone(text)
            if phone is None:
                return "hardship.error.phone"
            d["phone"] = phone
        elif step == "consent":
            if action == "hs:agree" or words in YES_WORDS:
                d["consent"] = True
            elif action == "hs:disagree" or words in SKIP_WORDS | DISAGREE_WORDS:
                d["consent"] = False
            else:
                return "hardship.error.consent"
        elif step == "confirm" and not (action == "hs:submit" or words in SUBMIT_WORDS):
            return "hardship.error.confirm"
        return None

    async def _submit(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        """Send the form: once, however many taps or retries arrive (the state is taken with a compare-and-set
        in the transaction that creates the request, and the request's ``form_id`` is unique)."""
        d = state.data
        form = Form(category=d["category"], happened_on=date.fromisoformat(d["happened_on"]),
                    description=d["description"], contact_phone=d["phone"], amount_requested=d.get("amount"),
                    photos=[(p[0], p[1]) for p in d.get("photos", [])], form_id=d.get("form_id") or uuid.uuid4().hex)
        step = _Step(self, incoming, state, "hardship")
        sent = await self.service.submit(await self.actor(incoming), form, once=step)
        if sent.status == "not_linked":
            return self._ok(self.t("hardship.link_first", lang))
        if sent.status == "repeat":  # a second tap: the first one sent it
            if step.current is None and sent.request is not None:  # this very form, filed already
                await self.clear_state(incoming)
                return self._ok(self.t("once.hardship", lang, reference=sent.request.reference))
            return self._already(step.current, lang)
        request, unit = sent.request, sent.unit
        if request is None or unit is None:  # "ok" is the request read back in its transaction, and its union
            raise LookupError("a submitted hardship request came back without itself or its union")
        key = "hardship.submitted"
        if request.urgent:  # "told at once" only when a notice was queued for both unions' chairs
            told = sent.chairs_notified and (sent.parent_notified or unit.parent_id is None)
            key = "hardship.submitted_urgent" if told else "hardship.submitted_urgent_queued"
        if sent.waiting:  # a chair's question held back while the member filled this form
            return Outcome([Reply(self.t(key, lang, reference=request.reference, unit=unit.name)),
                            self._info_offer(sent.waiting[0], lang)], "hardship", 1.0, False)
        return self._ok(self.t(key, lang, reference=request.reference, unit=unit.name))

    def _already(self, current: State | None, lang: str, intent: str = "hardship") -> Outcome:
        """The answer to a repeat of a step taken meanwhile: "đã gửi rồi" with its result, if it left one."""
        if current is not None and current.flow == DONE:
            return Outcome([already_done(self.t, current, lang)], intent, 1.0, False)
        return self._ok(self.t("hardship.expired_button", lang), intent=intent)

    # ----- a chair's question, never in the way of a form ----------------------------------------------
    def _info_offer(self, request: HardshipRequest, lang: str) -> Reply:
        asked = next((e.note for e in reversed(request.history) if e.action == "info_requested"), "") or ""
        return Reply(self.t("ask_info.pending", lang, reference=request.reference, question=asked),
                     (Choice(self.t("ask_info.button", lang), f"hs:info:{request.id}"),))

    async def offer_info(self, incoming: Incoming, raw_id: str, lang: str) -> Outcome:
        """``hs:info:<id>``: the member chose to answer a chair's question now. A form in progress is kept
        aside and resumed after the answer."""
        who = await self.identity(incoming)
        request = await self.service.get(int(raw_id)) if raw_id.isdigit() else None
        if who is None or request is None or request.member.id != who.member.id:
            return self._ok(self.t("hardship.review.unknown", lang))
        if request.status != "info_requested":
            return self._ok(self.t("ask_info.not_needed", lang, reference=request.reference))
        state = await self.states.get(state_key(incoming))
        resume = state.data.get("resume") if state and state.flow == INFO else (
            {"flow": state.flow, "step": state.step, "data": state.data} if state and state.flow == FORM else None)
        await self.save_state(incoming, State(INFO, "answer", {"request_id": request.id, "resume": resume}))
        return self._ok(self._info_offer(request, lang).text + "\n\n" + self.t("ask_info.answer_now", lang))

    async def expect_answer(self, decided: Decided, asked_by: int | None) -> None:
        """After a chair's question asked outside this dialogue (the web console): as after one asked in chat,
        the member's next message in a chat that is in no other flow answers it."""
        if decided.ok and decided.request is not None and asked_by is not None:
            await self._ask_member([StateKey(b, c, chat, chat) for b, c, chat in decided.member_chats],
                                   decided.request, asked_by, self.clock())

    async def _ask_member(self, member_chats: list[StateKey], request: HardshipRequest, asked_by: int | None,
                          now: datetime) -> None:
        """After a chair's question: a member's chat that is in no other flow expects the answer next; a chat
        mid-way through a form is left alone (the notification offers a button to answer, and the question is
        offered again when the form is sent)."""
        for key in member_chats:
            state = await self.states.get(key)
            if state is None or state.flow in ("choices", DONE):
                await self.states.set(key, State(INFO, "answer", {"request_id": request.id, "asked_by": asked_by}),
                                      now)

    def _details(self, r: HardshipRequest, lang: str) -> str:
        return self.service.details(r, lang)

    def _status_line(self, r: HardshipRequest, lang: str) -> str:
        return self.t("hardship.status_line", lang, reference=r.reference,
                      date=fmt_date(r.created_at.astimezone(self.tz).date()),
                      category=self.t(f"hardship.category.{r.category}", lang),
                      status=self.t(f"hardship.status.{r.status}", lang))

    # ----- the member's view ----------------------------------------------------------------------------
    async def my_requests(self, incoming: Incoming, lang: str) -> Outcome:
        requests = await self.service.of_member(await self.actor(incoming))
        if requests is None:
            return self._ok(self.t("authz.not_linked", lang))
        if not requests:
            return self._ok(self.t("hardship.none_yet", lang))
        lines = [self.t("hardship.mine", lang)]
        for r in requests[:10]:
            lines.append(self._status_line(r, lang))
            for e in r.history:
                note = f": {e.note}" if e.note and e.action != "submitted" else ""
                lines.append(f"   {fmt_time(e.at, self.tz)} — "
                             f"{self.t(f'hardship.action.{e.action}', lang)}{note}")
            if r.approved_amount:
                lines.append("   " + self.t("hardship.approved_amount", lang, amount=money(r.approved_amount)))
        return self._ok("\n".join(lines))

    async def on_info(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        """The member's answer to a chair's question, attached to the request."""
        text = (incoming.text or "").strip()
        if fold(text).strip(" .!") in CANCEL_WORDS | BACK_WORDS:  # "quay lại" is no answer: answered later
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.info_later", lang))
        photos = [(incoming.channel, a.file_id) for a in incoming.attachments if a.kind == "photo"]
        if not text and not photos:
            return self._ok(self.t("hardship.error.info", lang))
        asked = await self.service.get(int(state.data["request_id"]))
        if asked is None:
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.review.unknown", lang))
        step = _Step(self, incoming, state, "info", {"reference": asked.reference})
        done = await self.service.provide_info(await self.actor(incoming), int(state.data["request_id"]), text or None,
                                               photos, asked_by=state.data.get("asked_by"), once=step)
        if done.status == "repeat":  # a retry
            return self._already(step.current, lang)
        if done.status != "ok":
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.review.unknown", lang))
        request = _request_of(done)
        resume = state.data.get("resume")
        if resume:  # the form the member had put aside: on with it, where they were
            form = State(resume["flow"], resume["step"], dict(resume["data"]))
            await self.save_state(incoming, form)
            prompt = self._prompt(form, lang)
            return self._ok(self.t("hardship.info_received", lang, reference=request.reference) + "\n\n"
                            + self.t("hardship.resume", lang) + "\n\n" + prompt.text, prompt.choices)
        return self._ok(self.t("hardship.info_received", lang, reference=request.reference))

    # ----- the chairs' review -----------------------------------------------------------------------------
    async def pending(self, incoming: Incoming, lang: str) -> Outcome:
        requests, denied = await self.service.pending(await self.actor(incoming))
        if denied:
            return self._ok(self.t(denied, lang), intent="review")
        if not requests:
            return self._ok(self.t("hardship.review.none", lang), intent="review")
        lines = [self.t("hardship.review.title", lang, count=len(requests))]
        for i, r in enumerate(requests[:10], start=1):
            urgent = self.t("hardship.review.urgent_mark", lang) if r.urgent else ""
            lines.append(f"{i}. {urgent}{r.reference} — {r.member.full_name}: "
                         f"{self.t(f'hardship.category.{r.category}', lang)} "
                         f"({self.t(f'hardship.status.{r.status}', lang)})")
        return self._ok("\n".join(lines), tuple(Choice(r.reference, f"req:view:{r.id}") for r in requests[:10]),
                        intent="review")

    def _refusal(self, decided: Decided, lang: str) -> Outcome:
        """Why a chair's step changed nothing."""
        request = decided.request
        if decided.status == "unknown" or request is None:
            return self._ok(self.t("hardship.review.unknown", lang), intent="review")
        if decided.status == "closed":
            return self._ok(self.t("hardship.review.closed", lang, reference=request.reference), intent="review")
        if decided.status == "repeat":
            return self._ok(self.t("once.review", lang, reference=request.reference), intent="review")
        if decided.status == "no_parent":
            return self._ok(self.t("hardship.review.no_parent", lang), intent="review")
        return self._ok(self.t(decided.status, lang), intent="review")  # a denial: its interface key

    async def on_review_action(self, incoming: Incoming, action: str, lang: str) -> Outcome:
        """``req:<verb>:<id>`` from a chair's button (or its number)."""
        _, verb, raw_id = (action.split(":") + ["", ""])[:3]
        request_id = parse_id(raw_id)
        if request_id is None:
            return self._ok(self.t("hardship.review.unknown", lang), intent="review")
        if verb in ("yes", "no"):
            return await self._confirm_button(incoming, verb, request_id, lang)
        actor = await self.actor(incoming)
        if verb == "view":  # the member's personal details: audited (ids and the action only)
            viewed = await self.service.view(actor, request_id)
            if not viewed.ok:
                return self._refusal(viewed, lang)
            request = _request_of(viewed)
            text = "\n".join([self._status_line(request, lang),
                              self.t("hardship.notice.member", lang, name=request.member.full_name,
                                     code=request.member.member_code, unit=request.member.unit.name),
                              self._details(request, lang)]
                             + [f"   {fmt_time(e.at, self.tz)} — {self.service.step(e, lang)}"
                                for e in request.history])
            choices = () if request.status not in ("submitted", "info_requested", "forwarded") else (
                Choice(self.t("hardship.button.ask", lang), f"req:ask:{request.id}"),
                Choice(self.t("hardship.button.approve", lang), f"req:approve:{request.id}"),
                Choice(self.t("hardship.button.reject", lang), f"req:reject:{request.id}"),
                Choice(self.t("hardship.button.forward", lang), f"req:forward:{request.id}"))
            return self._ok(text, choices, request.photos, intent="review")
        found = await self.service.reviewable(actor, request_id)
        if not found.ok:
            return self._refusal(found, lang)
        request = _request_of(found)
        if request.status not in ("submitted", "info_requested", "forwarded"):
            return self._ok(self.t("hardship.review.closed", lang, reference=request.reference), intent="review")
        if verb == "forward":
            forwarded = await self.service.forward(actor, request.id)
            if not forwarded.ok:
                return self._refusal(forwarded, lang)
            if forwarded.parent is None:  # "ok" names the union it went to
                raise LookupError("a forwarded hardship request came back without the parent union")
            return self._ok(self.t("hardship.review.forwarded", lang, reference=request.reference,
                                   unit=forwarded.parent.name), intent="review")
        step = {"ask": "ask_info", "approve": "approve_amount", "reject": "reject_reason"}.get(verb)
        if step is None:
            return self._ok(self.t("hardship.review.unknown", lang), intent="review")
        await self.save_state(incoming, State(REVIEW, step, {"request_id": request.id}))
        return self._ok(self.t(f"hardship.review.ask.{step}", lang, reference=request.reference), intent="review")

    def _approval_question(self, request: HardshipRequest, state: State, lang: str) -> Outcome:
        return self._ok(self.t("hardship_form.approve_confirm", lang, amount=money(int(state.data["amount"])),
                               reference=request.reference),
                        (Choice(self.t("hardship_form.button.confirm", lang), f"req:yes:{request.id}"),
                         Choice(self.t("hardship_form.button.stop", lang), f"req:no:{request.id}")), intent="review")

    async def _approve(self, incoming: Incoming, state: State, request: HardshipRequest, lang: str) -> Outcome:
        """The chair confirmed: the approval, once (the state is taken in the service's transaction)."""
        once = _Step(self, incoming, state, "review", {"reference": request.reference})
        decided = await self.service.decide(await self.actor(incoming), request.id, "approve", state.data.get("note"),
                                            amount=int(state.data["amount"]), once=once)
        if decided.status == "repeat":
            return self._already(once.current, lang, "review")
        if not decided.ok:
            return self._refusal(decided, lang)
        return self._ok(self.t("hardship.review.done", lang, reference=request.reference), intent="review")

    async def _confirm_button(self, incoming: Incoming, verb: str, request_id: int, lang: str) -> Outcome:
        """``req:yes:<id>`` / ``req:no:<id>``: the answer to "Duyệt hỗ trợ …?"; a repeat is answered by the first."""
        state = await self.states.get(state_key(incoming))
        if state is not None and state.flow == DONE:
            return self._already(state, lang, "review")
        if state is None or state.flow != REVIEW or state.step != "approve_confirm" \
                or int(state.data["request_id"]) != request_id:
            return self._ok(self.t("hardship.expired_button", lang), intent="review")
        if verb == "no":
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.review.cancelled", lang), intent="review")
        found = await self.service.reviewable(await self.actor(incoming), request_id)
        if not found.ok:
            await self.clear_state(incoming)
            return self._refusal(found, lang)
        return await self._approve(incoming, state, _request_of(found), lang)

    async def on_review_step(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        text = (incoming.text or "").strip()
        if fold(text) in CANCEL_WORDS:
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.review.cancelled", lang), intent="review")
        actor = await self.actor(incoming)
        found = await self.service.reviewable(actor, int(state.data["request_id"]))
        if not found.ok:
            await self.clear_state(incoming)
            return self._refusal(found, lang)
        request = _request_of(found)
        if fold(text).strip(" .!") in BACK_WORDS:
            return await self._review_back(incoming, state, request, lang)
        if state.step == "approve_amount":
            amount = parse_amount(text)
            if not isinstance(amount, int):
                return self._ok(self.t("hardship.error.approve_amount", lang), intent="review")
            await self.save_state(incoming, State(REVIEW, "approve_note", {**state.data, "amount": amount}))
            return self._ok(self.t("hardship.review.ask.approve_note", lang), intent="review")
        if state.step == "approve_confirm":  # only this step decides money
            words = fold(text).strip(" .!")
            if words in CONFIRM_WORDS:
                return await self._approve(incoming, state, request, lang)
            if words in SKIP_WORDS | {"khong duyet", "chua"}:
                await self.clear_state(incoming)
                return self._ok(self.t("hardship.review.cancelled", lang), intent="review")
            return self._approval_question(request, state, lang)
        if not text:
            return self._ok(self.t("hardship.error.review_text", lang), intent="review")
        if state.step == "approve_note":  # money is decided after a confirmation
            note = None if fold(text) in SKIP_WORDS else text
            confirm = State(REVIEW, "approve_confirm", {**state.data, "note": note})
            await self.save_state(incoming, confirm)
            return self._approval_question(request, confirm, lang)
        once = _Step(self, incoming, state, "review", {"reference": request.reference})
        if state.step == "ask_info":
            decided = await self.service.decide(actor, request.id, "ask_info", text, once=once)
        else:  # reject_reason
            decided = await self.service.decide(actor, request.id, "reject", text, once=once)
        if decided.status == "repeat":  # the same message twice: decided by the first
            return self._already(once.current, lang, "review")
        if not decided.ok:
            return self._refusal(decided, lang)
        if state.step == "ask_info":  # the member's next message answers it, unless they are in another flow
            await self._ask_member([StateKey(b, c, chat, chat) for b, c, chat in decided.member_chats], request,
                                   actor.member_id, self.clock())
        return self._ok(self.t("hardship.review.done", lang, reference=request.reference), intent="review")


    async def _review_back(self, incoming: Incoming, state: State, request: HardshipRequest, lang: str) -> Outcome:
        """"Quay lại" in a chair's step: the approval's step before, with what was typed there; at a first step
        (the amount, a question, a reason) back to the request as it was — never the words sent as a reason."""
        t, d = self.t, state.data
        if state.step == "approve_confirm":
            await self.save_state(incoming, State(REVIEW, "approve_note", d))
            earlier = [t("hardship_form.earlier", lang, value=d["note"])] if d.get("note") else []
            return self._ok("\n\n".join([*earlier, t("hardship.review.ask.approve_note", lang)]), intent="review")
        if state.step == "approve_note":
            await self.save_state(incoming, State(REVIEW, "approve_amount", d))
            return self._ok(t("hardship_form.earlier", lang, value=money(d.get("amount"))) + "\n\n" + t(
                "hardship.review.ask.approve_amount", lang, reference=request.reference), intent="review")
        await self.clear_state(incoming)
        return self._ok(t("hardship.review.cancelled", lang), intent="review")


def _request_of(decided: Decided) -> HardshipRequest:
    """The request a successful step (``decided.ok``) carries."""
    if decided.request is None:
        raise LookupError(f"a hardship step that was {decided.status!r} came back without its request")
    return decided.request


# ----- commands and buttons (handlers/registry.py) --------------------------------------------------------
@dataclass(frozen=True)
class ReviewButton(Callback):
    """A chair's button on a request: "req:view:12", "req:approve:12", "req:ask:12", ..."""

    prefix: ClassVar[str] = "req"
    verb: str
    request_id: int


@dataclass(frozen=True)
class InfoButton(Callback):
    """"hs:info:12": the member answers a chair's question about request 12 now."""

    prefix: ClassVar[str] = "hs:info"
    request_id: int


@dataclass(frozen=True)
class FormButton(Callback):
    """A button of the member's form: "hs:cat:illness", "hs:next", "hs:submit", ..."""

    prefix: ClassVar[str] = "hs"
    value: str


async def _open_form(h: Hardship, incoming: Incoming, arg: str, lang: str) -> Outcome:
    """/hotro (or its button): the hardship form, resumed where the member left it."""
    state = await h.states.get(state_key(incoming))
    repeat = answer_repeat(h.t, state, incoming, h.clock(), lang)  # the first of two taps at once finished meanwhile
    if repeat is not None:
        return repeat
    if state is not None and state.flow == FORM:
        return await h.resume(incoming, state, lang)
    if state is not None and state.flow == DRAFT and h._draft_alive(state):
        return await h.resume_draft(incoming, state, lang)
    return await h.start(incoming, lang)


async def _form_button(h: Hardship, incoming: Incoming, data: str, lang: str) -> Outcome:
    if InfoButton.matches(data):  # answer a chair's question now
        return await h.offer_info(incoming, data.removeprefix(InfoButton.prefix + ":"), lang)
    state = await h.states.get(state_key(incoming))
    repeat = answer_repeat(h.t, state, incoming, h.clock(), lang)  # the first of two taps at once finished meanwhile
    if repeat is not None:
        return repeat
    if state is not None and state.flow == FORM:
        return await h.on_form(incoming, state, lang)
    if state is not None and state.flow == DRAFT:
        outcome = await h.on_draft(incoming, state, lang)
        if outcome is not None:
            return outcome
    return Outcome([Reply(h.t("hardship.expired_button", lang))], "hardship", 1.0, False)


#: a member asking how their own request stands: a word for the request, a word for its state, and "mine"
_REQUEST = r"(?:de nghi|ho so|yeu cau|don)"
_STATUS = r"(?:tinh trang|trang thai|den dau|duoc duyet chua|duyet chua|the nao roi|sao roi|ra sao|xu ly|xet chua)"
_MINE = r"(?:cua (?:toi|em|minh|tui|tao)|toi gui|em gui|minh gui)"
_OWN_REQUEST = re.compile(rf"\b{_REQUEST}\b.*\b{_MINE}\b|\b{_MINE}\b.*\b{_REQUEST}\b")
_STATUS_WORDS = re.compile(rf"\b{_STATUS}\b")


def asks_own_request(words: str) -> bool:
    """"tình trạng đề nghị của tôi", "hồ sơ hỗ trợ của em được duyệt chưa" (folded text): what /hoso shows."""
    return bool(_OWN_REQUEST.search(words) and _STATUS_WORDS.search(words))


DECLARATION = Declaration(
    "hardship",
    commands=(Command("hotro", "support", _open_form, first=True),
              Command("hoso", "requests", lambda h, i, arg, lang: h.my_requests(i, lang), first=True,
                      asked=asks_own_request),
              Command("duyet", "review", lambda h, i, arg, lang: h.pending(i, lang), CHAIRS)),
    actions=(ActionPrefix("req", lambda h, i, data, lang: h.on_review_action(i, data, lang)),
             ActionPrefix("hs", _form_button, after_done=lambda data: not InfoButton.matches(data))),
    flows=(Flow(FORM, lambda h, i, state, lang: h.on_form(i, state, lang)),
           Flow(DRAFT, lambda h, i, state, lang: h.on_draft(i, state, lang)),
           Flow(INFO, lambda h, i, state, lang: h.on_info(i, state, lang)),
           Flow(REVIEW, lambda h, i, state, lang: h.on_review_step(i, state, lang))),
    callbacks=(ReviewButton, InfoButton, FormButton))
