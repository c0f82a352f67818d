"""Hardship support requests: the member's guided form, the chairs' review, the member's view.

Kind, clear, private, and nothing lost: the form's state is in the database after every answer, so
a member resumes where they were after a restart or a day later. "hủy" cancels and "quay lại" goes back
at any step; every answer is validated with a clear message; nothing is sent before the member
confirms the summary. The bot never promises money: the union decides by its own rules.
"""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime, timedelta

from handlers.authz import can_review_request
from handlers.capability import DONE, Capability, state_key
from handlers.inputs import ascii_number, parse_id
from handlers.once import already_done
from handlers.text import fmt_date, fmt_time
from handlers.types import Choice, Incoming, Outcome, Reply
from nlu.normalize import fold
from storage.conversation import State, StateKey
from storage.hardship import CATEGORIES, HardshipRepository, HardshipRequest, NewRequest
from storage.membership import AccountRepository, AuditRepository, Identity, MemberRepository, UnitRepository
from storage.outbox import OutboxItem, OutboxRepository
from storage.roster import normalize_phone

FORM = "hardship"
INFO = "hardship_info"
REVIEW = "review"
STEPS = ("category", "date", "description", "amount", "photos", "phone", "consent", "confirm")
MAX_PHOTOS = 10
CANCEL_WORDS = {"huy", "/huy", "huy bo", "thoi", "cancel"}
BACK_WORDS = {"quay lai", "/quaylai", "back", "tro lai"}
SKIP_WORDS = {"bo qua", "khong", "ko", "khong co", "skip", "bo", "k", "no", "none"}
DONE_WORDS = {"xong", "tiep", "tiep tuc", "het", "done", "ok", "du roi"}
YES_WORDS = {"dong y", "co", "yes", "ok", "dung", "giu", "giu nguyen", "dung roi", "dong y a", "agree", "keep"}
SUBMIT_WORDS = {"gui", "xac nhan", "gui di", "dong y", "send", "submit", "confirm"}


def parse_amount(text: str) -> int | None | str:
    """"2 triệu", "1,5tr", "500k", "2.000.000" -> đồng; None for "bỏ qua"; an error key otherwise."""
    words = fold(text).strip()
    if words in SKIP_WORDS:
        return None
    match = re.fullmatch(r"(\d+(?:[.,]\d+)*)\s*(trieu|tr|million|nghin|ngan|k|thousand|d|dong|vnd)?\.?",
                         words.replace(" dong", ""))
    if not match:
        return "hardship.error.amount"
    number, unit = match.group(1), match.group(2)
    if len(number) > 16 or not number.isascii():  # 400 nines overflow a float; "２" is no amount
        return "hardship.error.amount_range" if number.isascii() else "hardship.error.amount"
    try:
        if unit in ("trieu", "tr", "million", "nghin", "ngan", "k", "thousand"):
            value = float(number.replace(".", "").replace(",", ".") if number.count(",") == 1 and "." not in number
                          else number.replace(",", "."))
            value *= 1_000_000 if unit in ("trieu", "tr", "million") else 1_000
        else:
            value = float(number.replace(".", "").replace(",", ""))
    except ValueError:  # "1.5.5 tr": no number
        return "hardship.error.amount"
    amount = int(round(value))
    if not 10_000 <= amount <= 1_000_000_000:
        return "hardship.error.amount_range"
    return amount


def parse_day(text: str, today: date) -> date | str:
    words = fold(text).strip()
    if words in ("hom nay", "today"):
        return today
    if words in ("hom qua", "yesterday"):
        return today - timedelta(days=1)
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?", words)
    if not match:
        return "hardship.error.date"
    day, month = int(match.group(1)), int(match.group(2))
    year = int(match.group(3)) if match.group(3) else today.year
    year = year + 2000 if year < 100 else year
    try:
        value = date(year, month, day)
    except ValueError:
        return "hardship.error.date"
    if value > today:
        return "hardship.error.date_future"
    if value < today - timedelta(days=366):
        return "hardship.error.date_old"
    return value


def money(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}".replace(",", ".") + " đ"


class Hardship(Capability):
    def _ok(self, text: str, choices: tuple[Choice, ...] = (), photos: tuple[str, ...] = (),
            intent: str = "hardship") -> Outcome:
        return Outcome([Reply(text, choices, photos)], intent, 1.0, False)

    def _today(self) -> date:
        return self.clock().astimezone(self.tz).date()

    # ----- the member's form ---------------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str) -> Outcome:
        who = await self.identity(incoming)
        if who is None:
            return self._ok(self.t("hardship.info", lang) + "\n\n" + self.t("hardship.link_first", lang))
        state = State(FORM, "category", {"phone": who.member.phone or "", "form_id": uuid.uuid4().hex})
        await self.save_state(incoming, state)
        return self._ok(self.t("hardship.intro", lang) + "\n\n" + self._prompt(state, lang).text,
                        self._prompt(state, lang).choices)

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

    def _summary(self, d: dict, lang: str) -> str:
        t = self.t
        return "\n".join([
            t("hardship.summary.category", lang, value=t(f"hardship.category.{d['category']}", lang)),
            t("hardship.summary.date", lang, value=fmt_date(date.fromisoformat(d["happened_on"]))),
            t("hardship.summary.description", lang, value=d["description"]),
            t("hardship.summary.amount", lang, value=money(d.get("amount"))),
            t("hardship.summary.photos", lang, value=len(d.get("photos", []))),
            t("hardship.summary.phone", lang, value=d["phone"]),
        ])

    async def on_form(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        """One answer of the form: validate, store, ask the next question."""
        t = self.t
        text = (incoming.text or "").strip()
        words = fold(text).strip(" .!")
        action = incoming.action or ""
        if words in CANCEL_WORDS or action == "hs:cancel":
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
            return self._ok(prompt.text, prompt.choices)
        error = self._accept(state, incoming, text, words, action)
        if isinstance(error, Outcome):
            return error
        if error:
            prompt = self._prompt(state, lang)
            return self._ok(t(error, lang) + "\n\n" + prompt.text, prompt.choices)
        if state.step == "photos" and not (words in DONE_WORDS | SKIP_WORDS or action == "hs:next"):
            await self.save_state(incoming, state)  # a photo was added: stay on this step
            return self._ok(t("hardship.photo_added", lang, count=len(state.data["photos"])),
                            (Choice(t("hardship.button.done", lang), "hs:next"),))
        if state.step == "consent" and not state.data.get("consent"):
            await self.clear_state(incoming)
            return self._ok(t("hardship.no_consent", lang))
        if state.step == "confirm":
            return await self._submit(incoming, state, lang)
        following = State(FORM, STEPS[index + 1], state.data)
        await self.save_state(incoming, following)
        prompt = self._prompt(following, lang)
        return self._ok(prompt.text, prompt.choices)

    def _accept(self, state: State, incoming: Incoming, text: str, words: str, action: str) -> str | None:
        """Store a valid answer in ``state.data``; return an error key for an invalid one."""
        d, step = state.data, state.step
        if step == "category":
            choice = action.removeprefix("hs:cat:") if action.startswith("hs:cat:") else None
            number = ascii_number(words, 1, len(CATEGORIES)) if choice is None else None
            if number is not None:
                choice = CATEGORIES[number - 1]
            if choice is None:
                labels = {fold(self.t(f"hardship.category.{c}")): c for c in CATEGORIES}
                choice = labels.get(words)
            if choice not in CATEGORIES:
                return "hardship.error.category"
            d["category"] = choice
        elif step == "date":
            value = parse_day(text, self._today())
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
            value = None if action == "hs:skip" else parse_amount(text)
            if isinstance(value, str):
                return value
            d["amount"] = value
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
            elif action == "hs:disagree" or words in SKIP_WORDS:
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
        now = self.clock()
        async with self.db.sessions.begin() as session:
            who = await AccountRepository(session).identity(incoming.bot_id, incoming.channel, incoming.user_id)
            if who is None:
                return self._ok(self.t("hardship.link_first", lang))
            taken = await self.take(session, incoming, state, "hardship")
            if taken is None:  # a second tap: the first one sent it
                current = await self.states.current(session, state_key(incoming))
                return self._already(current, lang)
            repo = HardshipRepository(session)
            unit = await repo.grassroots_of(who.member.unit)
            request = await repo.create(NewRequest(
                member_id=who.member.id, unit_id=unit.id, category=d["category"],
                happened_on=date.fromisoformat(d["happened_on"]), description=d["description"],
                amount_requested=d.get("amount"), contact_phone=d["phone"], consent=True,
                photos=[tuple(p) for p in d.get("photos", [])], form_id=d.get("form_id") or uuid.uuid4().hex),
                now, year=now.astimezone(self.tz).year)
            recipients = await self._chairs(session, unit, include_parent=request.urgent)
            await self._notify(session, recipients, f"new:{request.id}", self._chair_notice(request), now,
                               (Choice(self.t("hardship.button.view"), f"req:view:{request.id}"),))
            await self.settle(session, incoming, taken, reference=request.reference)
            waiting = await repo.awaiting_info(who.member.id)
        key = "hardship.submitted_urgent" if request.urgent else "hardship.submitted"
        if waiting:  # a chair's question held back while the member filled this form
            return Outcome([Reply(self.t(key, lang, reference=request.reference, unit=unit.name)),
                            self._info_offer(waiting[0], lang)], "hardship", 1.0, False)
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
        async with self.db.sessions() as session:
            request = await HardshipRepository(session).get(int(raw_id)) if raw_id.isdigit() else None
        if who is None or request is None or request.member.id != who.member.id:
            return self._ok(self.t("hardship.review.unknown", lang))
        if request.status != "info_requested":
            return self._ok(self.t("ask_info.not_needed", lang, reference=request.reference))
        state = await self.states.get(state_key(incoming))
        resume = state.data.get("resume") if state and state.flow == INFO else (
            {"flow": state.flow, "step": state.step, "data": state.data} if state and state.flow == FORM else None)
        await self.save_state(incoming, State(INFO, "answer", {"request_id": request.id, "resume": resume}))
        return self._ok(self._info_offer(request, lang).text + "\n\n" + self.t("ask_info.answer_now", lang))

    async def _ask_member(self, member_chats: list[StateKey], request: HardshipRequest, asked_by: int,
                          now: datetime) -> None:
        """After a chair's question: a member's chat that is in no other flow expects the answer next; a chat
        mid-way through a form is left alone (the notification offers a button to answer, and the question is
        offered again when the form is sent)."""
        for key in member_chats:
            state = await self.states.get(key)
            if state is None or state.flow in ("choices", DONE):
                await self.states.set(key, State(INFO, "answer", {"request_id": request.id, "asked_by": asked_by}),
                                      now)

    # ----- notifications through the outbox --------------------------------------------------------------
    async def _chairs(self, session, unit, include_parent: bool) -> list[int]:
        members = MemberRepository(session)
        ids = [m.id for m in await members.chairs_of(unit)]
        if include_parent and unit.parent_id:
            parent = await UnitRepository(session).by_id(unit.parent_id)
            ids += [m.id for m in await members.chairs_of(parent)]
        return list(dict.fromkeys(ids))

    async def _notify(self, session, member_ids: list[int], event: str, text: str, now: datetime,
                      choices: tuple[Choice, ...] = ()) -> int:
        accounts = AccountRepository(session)
        items = []
        for member_id in member_ids:
            for bot_id, channel, chat_id in await accounts.chats_of(member_id):
                items.append(OutboxItem(
                    dedupe_key=f"hs:{event}:{member_id}:{channel}", bot_id=bot_id, channel=channel, chat_id=chat_id,
                    member_id=member_id, kind="notification", broadcast_id=None,
                    payload={"text": text, "choices": [[c.label, c.action] for c in choices], "photos": []},
                    not_before=now))
        return await OutboxRepository(self.db).enqueue(session, items, now) if items else 0

    def _chair_notice(self, r: HardshipRequest) -> str:
        t = self.t
        head = t("hardship.notice.urgent" if r.urgent else "hardship.notice.new", reference=r.reference)
        return "\n".join([head, t("hardship.notice.member", name=r.member.full_name, code=r.member.member_code,
                                  unit=r.member.unit.name), self._details(r, "vi")])

    def _details(self, r: HardshipRequest, lang: str) -> str:
        t = self.t
        return "\n".join([
            t("hardship.summary.category", lang, value=t(f"hardship.category.{r.category}", lang)),
            t("hardship.summary.date", lang, value=fmt_date(r.happened_on)),
            t("hardship.summary.description", lang, value=r.description),
            t("hardship.summary.amount", lang, value=money(r.amount_requested)),
            t("hardship.summary.photos", lang, value=len(r.photos)),
            t("hardship.summary.phone", lang, value=r.contact_phone),
        ])

    def _status_line(self, r: HardshipRequest, lang: str) -> str:
        return self.t("hardship.status_line", lang, reference=r.reference,
                      date=fmt_date(r.created_at.astimezone(self.tz).date()),
                      category=self.t(f"hardship.category.{r.category}", lang),
                      status=self.t(f"hardship.status.{r.status}", lang))

    # ----- the member's view ----------------------------------------------------------------------------
    async def my_requests(self, incoming: Incoming, lang: str) -> Outcome:
        who = await self.identity(incoming)
        if who is None:
            return self._ok(self.t("authz.not_linked", lang))
        async with self.db.sessions() as session:
            requests = await HardshipRepository(session).of_member(who.member.id)
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
        if fold(text) in CANCEL_WORDS:
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.info_later", lang))
        photos = [(incoming.channel, a.file_id) for a in incoming.attachments if a.kind == "photo"]
        if not text and not photos:
            return self._ok(self.t("hardship.error.info", lang))
        now = self.clock()
        async with self.db.sessions.begin() as session:
            repo = HardshipRepository(session)
            request = await repo.get(int(state.data["request_id"]))
            if await self.take(session, incoming, state, "info", reference=request.reference) is None:  # a retry
                return self._already(await self.states.current(session, state_key(incoming)), lang)
            await repo.record(request.id, "info_provided", request.member.id, text or None, now, status="submitted",
                              photos=photos)
            waiting = state.data.get("asked_by")
            recipients = [waiting] if waiting else await self._chairs(session, request.unit, include_parent=False)
            await self._notify(session, recipients, f"info:{request.id}:{now.timestamp()}",
                               self.t("hardship.notice.info", reference=request.reference,
                                      name=request.member.full_name, answer=text or "—", photos=len(photos)),
                               now, (Choice(self.t("hardship.button.view"), f"req:view:{request.id}"),))
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
        who = await self.identity(incoming)
        if who is None:
            return self._ok(self.t("authz.not_linked", lang), intent="review")
        units = [g.unit for g in who.grants if g.role in ("chair", "deputy") and g.unit is not None]
        if not units and not who.is_admin:
            return self._ok(self.t("authz.members_only", lang), intent="review")
        async with self.db.sessions() as session:
            repo = HardshipRepository(session)
            requests = await repo.open_all() if who.is_admin else await repo.open_for(units)
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

    async def _reviewable(self, session, who: Identity | None, request_id: int):
        repo = HardshipRepository(session)
        request = await repo.get(request_id)
        if request is None:
            return None, "hardship.review.unknown"
        parent = await UnitRepository(session).by_id(request.unit.parent_id) if request.unit.parent_id else None
        decision = can_review_request(who, request.unit, parent)
        return request, ("" if decision else decision.reason)

    async def on_review_action(self, incoming: Incoming, action: str, lang: str) -> Outcome:
        """``req:<verb>:<id>`` from a chair's button (or its number)."""
        _, verb, raw_id = (action.split(":") + ["", ""])[:3]
        request_id = parse_id(raw_id)
        if request_id is None:
            return self._ok(self.t("hardship.review.unknown", lang), intent="review")
        who = await self.identity(incoming)
        async with self.db.sessions() as session:
            request, denied = await self._reviewable(session, who, request_id)
        if denied:
            return self._ok(self.t(denied, lang), intent="review")
        if verb == "view":  # the member's personal details: audited (ids and the action only)
            async with self.db.sessions.begin() as session:
                await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                      actor_member_id=who.member.id, action="hardship_view",
                                                      unit_id=request.unit.id, target=request.reference,
                                                      now=self.clock())
            text = "\n".join([self._status_line(request, lang),
                              self.t("hardship.notice.member", lang, name=request.member.full_name,
                                     code=request.member.member_code, unit=request.member.unit.name),
                              self._details(request, lang)]
                             + [f"   {fmt_time(e.at, self.tz)} — "
                                f"{self.t(f'hardship.action.{e.action}', lang)}" + (f": {e.note}" if e.note else "")
                                for e in request.history])
            choices = () if request.status not in ("submitted", "info_requested", "forwarded") else (
                Choice(self.t("hardship.button.ask", lang), f"req:ask:{request.id}"),
                Choice(self.t("hardship.button.approve", lang), f"req:approve:{request.id}"),
                Choice(self.t("hardship.button.reject", lang), f"req:reject:{request.id}"),
                Choice(self.t("hardship.button.forward", lang), f"req:forward:{request.id}"))
            return self._ok(text, choices, request.photos, intent="review")
        if request.status not in ("submitted", "info_requested", "forwarded"):
            return self._ok(self.t("hardship.review.closed", lang, reference=request.reference), intent="review")
        if verb == "forward":
            return await self._forward(incoming, who, request, lang)
        step = {"ask": "ask_info", "approve": "approve_amount", "reject": "reject_reason"}.get(verb)
        if step is None:
            return self._ok(self.t("hardship.review.unknown", lang), intent="review")
        await self.save_state(incoming, State(REVIEW, step, {"request_id": request.id}))
        return self._ok(self.t(f"hardship.review.ask.{step}", lang, reference=request.reference), intent="review")

    async def on_review_step(self, incoming: Incoming, state: State, lang: str) -> Outcome:
        text = (incoming.text or "").strip()
        if fold(text) in CANCEL_WORDS:
            await self.clear_state(incoming)
            return self._ok(self.t("hardship.review.cancelled", lang), intent="review")
        who = await self.identity(incoming)
        async with self.db.sessions() as session:
            request, denied = await self._reviewable(session, who, int(state.data["request_id"]))
        if denied:
            await self.clear_state(incoming)
            return self._ok(self.t(denied, lang), intent="review")
        if state.step == "approve_amount":
            amount = parse_amount(text)
            if not isinstance(amount, int):
                return self._ok(self.t("hardship.error.approve_amount", lang), intent="review")
            await self.save_state(incoming, State(REVIEW, "approve_note", {**state.data, "amount": amount}))
            return self._ok(self.t("hardship.review.ask.approve_note", lang), intent="review")
        if not text:
            return self._ok(self.t("hardship.error.review_text", lang), intent="review")
        now = self.clock()
        async with self.db.sessions.begin() as session:
            repo = HardshipRepository(session)
            taken = await self.take(session, incoming, state, "review", reference=request.reference)
            if taken is None:  # the same message twice: decided by the first
                return self._already(await self.states.current(session, state_key(incoming)), lang, "review")
            if not await repo.claim(request.id, now):  # decided meanwhile (another chair, another worker)
                return self._ok(self.t("hardship.review.closed", lang, reference=request.reference), intent="review")
            if state.step == "ask_info":
                await repo.record(request.id, "info_requested", who.member.id, text, now, status="info_requested")
                member_text = self.t("hardship.member.ask_info", reference=request.reference, question=text)
            elif state.step == "approve_note":
                note = None if fold(text) in SKIP_WORDS else text
                amount = int(state.data["amount"])
                await repo.record(request.id, "approved", who.member.id, note, now, status="approved",
                                  approved_amount=amount)
                member_text = self.t("hardship.member.approved", reference=request.reference, amount=money(amount),
                                     note=note or "—")
            else:  # reject_reason
                await repo.record(request.id, "rejected", who.member.id, text, now, status="rejected")
                member_text = self.t("hardship.member.rejected", reference=request.reference, reason=text)
            await self._notify(session, [request.member.id], f"{state.step}:{request.id}:{now.timestamp()}",
                               member_text, now, (Choice(self.t("ask_info.button"), f"hs:info:{request.id}"),)
                               if state.step == "ask_info" else ())
            await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                  actor_member_id=who.member.id, action=f"hardship_{state.step}",
                                                  unit_id=request.unit.id, target=request.reference, now=now)
            member_chats = [StateKey(b, c, chat, chat) for b, c, chat in
                            await AccountRepository(session).chats_of(request.member.id)]
        if state.step == "ask_info":  # the member's next message answers it, unless they are in another flow
            await self._ask_member(member_chats, request, who.member.id, now)
        return self._ok(self.t("hardship.review.done", lang, reference=request.reference), intent="review")

    async def _forward(self, incoming: Incoming, who: Identity, request: HardshipRequest, lang: str) -> Outcome:
        now = self.clock()
        async with self.db.sessions.begin() as session:
            parent = await UnitRepository(session).by_id(request.unit.parent_id) if request.unit.parent_id else None
            if request.forwarded_to is not None:  # forwarded already: a second tap
                return self._ok(self.t("once.review", lang, reference=request.reference), intent="review")
            if parent is None:
                return self._ok(self.t("hardship.review.no_parent", lang), intent="review")
            repo = HardshipRepository(session)
            if not await repo.claim(request.id, now, not_forwarded=True):  # forwarded (or decided) meanwhile
                return self._ok(self.t("once.review", lang, reference=request.reference), intent="review")
            await repo.record(request.id, "forwarded", who.member.id, parent.name, now, status="forwarded",
                              forwarded_to_unit_id=parent.id)
            await self._notify(session, [request.member.id], f"forwarded:{request.id}",
                               self.t("hardship.member.forwarded", reference=request.reference, unit=parent.name), now)
            refreshed = await repo.get(request.id)
            await self._notify(session, await self._chairs(session, parent, include_parent=False),
                               f"forwarded-chairs:{request.id}", self._chair_notice(refreshed), now,
                               (Choice(self.t("hardship.button.view"), f"req:view:{request.id}"),))
            await AuditRepository(session).record(actor=f"{incoming.channel}:{incoming.user_id}",
                                                  actor_member_id=who.member.id, action="hardship_forward",
                                                  unit_id=request.unit.id, target=request.reference, now=now)
        return self._ok(self.t("hardship.review.forwarded", lang, reference=request.reference, unit=parent.name),
                        intent="review")
