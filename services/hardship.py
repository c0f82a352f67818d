"""Hardship support requests, the use cases: submit, answer a chair's question, view, forward, decide, export.

Each method is one transaction: it authorizes the actor (``services.authz``), changes the request, writes the
audit entry (ids and action names only) and queues the notifications (``services.notifications``) in that same
transaction, so a notice goes out if and only if the change it reports is committed. The chat dialogue
(``handlers.hardship``), the CLI and the web console call these; none of them opens a transaction of its own.

A step that must happen once per conversation (a form sent, a decision typed) passes a ``Once``: its ``take``
runs first inside the transaction (a compare-and-set on the conversation state) and a repeat stops there.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any, Literal, Protocol

from handlers.text import clip, fmt_date
from handlers.types import Choice, Reply
from locales import Translator
from services.actor import Actor
from services.authz import Action, authorize, can_review_request, may_act_as_chair, reviewing_role, units_acted_on
from services.base import Refused
from services.notifications import Notifier, chairs_of
from services.roster import write_table
from storage.db import Database
from storage.hardship import CATEGORIES, OPEN, URGENT, Event, HardshipRepository, HardshipRequest, NewRequest
from storage.membership import AccountRepository, AuditRepository, Unit, UnitRepository

__all__ = ["CATEGORIES", "OPEN", "PER_PAGE", "URGENT", "Decided", "ExportRefused", "Form", "Found", "HardshipService",
           "Once", "Submitted", "Verdict", "money"]

Verdict = Literal["ask_info", "approve", "reject"]  # what a chair decides


def money(amount: int | None) -> str:
    return "—" if amount is None else f"{amount:,}".replace(",", ".") + " đ"


class Once(Protocol):
    """A conversation step that happens once: ``take`` (in the service's transaction) is False for a repeat."""

    async def take(self, session) -> bool: ...

    async def settle(self, session, **result: object) -> None: ...


@dataclass(frozen=True, slots=True)
class Form:
    """A member's answers, ready to be sent."""

    category: str
    happened_on: date
    description: str
    contact_phone: str
    amount_requested: int | None = None
    photos: Sequence[tuple[str, str]] = ()  # (channel, file id)
    form_id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True, slots=True)
class Submitted:
    status: Literal["ok", "not_linked", "repeat"]  # "repeat": sent before (``request``: the one filed then)
    request: HardshipRequest | None = None
    unit: Unit | None = None
    chairs_notified: int = 0  # notification rows queued for the chairs of the member's grassroots union
    parent_notified: int = 0  # and for the parent union's (an urgent request)
    waiting: tuple[HardshipRequest, ...] = ()  # the member's requests on which a chair waits for an answer


@dataclass(frozen=True, slots=True)
class Decided:
    """The result of a chair's step. ``status``: "ok", or why nothing changed: a denial key ("authz.*"),
    "unknown", "closed" (decided meanwhile), "repeat" (the same message twice), "no_parent"."""

    status: str
    request: HardshipRequest | None = None
    parent: Unit | None = None
    member_chats: tuple[tuple[str, str, str], ...] = ()  # (bot id, channel, chat id) of the member

    @property
    def ok(self) -> bool:
        return self.status == "ok"


PER_PAGE = 50  # requests on a page of the console's list


@dataclass(frozen=True, slots=True)
class Found:
    """A page of the requests a reviewer searched: ``total`` in all ``pages``, this one is ``page`` (from 1)."""

    requests: list[HardshipRequest]
    total: int
    page: int
    pages: int


class ExportRefused(ValueError):
    """An export that cannot run: ``str()`` says why (one line for the officer); ``denied``: the denial key
    when the actor may not export that unit's requests."""

    def __init__(self, message: str, denied: str = "") -> None:
        super().__init__(message)
        self.denied = denied


class HardshipService:
    def __init__(self, db: Database, t: Translator, clock: Callable[[], datetime], timezone: tzinfo,
                 notifier: Notifier | None = None) -> None:
        self.db = db
        self.t = t
        self.clock = clock
        self.tz = timezone
        self.notifier = notifier or Notifier(db)

    # ----- reading ----------------------------------------------------------------------------------------
    async def get(self, request_id: int) -> HardshipRequest | None:
        async with self.db.sessions() as session:
            return await HardshipRepository(session).get(request_id)

    async def of_member(self, actor: Actor) -> list[HardshipRequest] | None:
        """The actor's own requests, newest first (None when the account is not linked)."""
        if actor.identity is None:
            return None
        async with self.db.sessions() as session:
            return await HardshipRepository(session).of_member(actor.identity.member.id)

    async def pending(self, actor: Actor) -> tuple[list[HardshipRequest], str]:
        """Open requests the actor reviews, urgent first; or ([], the denial key)."""
        decision = may_act_as_chair(actor.identity)
        if not decision:
            return [], decision.reason
        assert actor.identity is not None
        async with self.db.sessions() as session:
            repo = HardshipRepository(session)
            if actor.identity.is_admin:
                return await repo.open_all(), ""
            return await repo.open_for(units_acted_on(actor.identity)), ""

    async def search(self, actor: Actor, *, status: str = "", category: str = "", urgent: bool | None = None,
                     start: date | None = None, end: date | None = None, page: int = 1,
                     per_page: int = PER_PAGE) -> Found:
        """The requests the actor reviews (any status, newest first: filed with a unit they chair or with one
        just below it, or forwarded to it; all of them for an admin), narrowed by status, category, urgency and
        the union's days they were submitted on (``start`` to ``end``, both included), one page of ``per_page``
        (``page`` from 1; past the last page: the last). Nothing audited: the list shows no phone number or
        description. Raises ``Refused`` (the denial key) for a non-chair."""
        decision = may_act_as_chair(actor.identity)
        if not decision:
            raise Refused(decision.reason)
        assert actor.identity is not None
        day = lambda d: datetime.combine(d, time(), self.tz).astimezone(UTC)  # noqa: E731
        async with self.db.sessions() as session:
            units: list[int] | None = None
            if not actor.identity.is_admin:
                chaired = units_acted_on(actor.identity)
                units = [u.id for root in chaired for u in await UnitRepository(session).subtree(root)
                         if u.id == root.id or u.parent_id == root.id]
            repo = HardshipRepository(session)
            filters: dict[str, Any] = {"status": status, "category": category, "urgent": urgent,
                                       "since": day(start) if start else None,
                                       "until": day(end + timedelta(days=1)) if end else None}
            total = await repo.count(units, **filters)
            pages = max(1, -(-total // per_page))
            page = min(max(1, page), pages)
            found = await repo.search(units, **filters, limit=per_page, offset=(page - 1) * per_page)
            unit_repo = UnitRepository(session)
            parents = {i: u for i in {r.unit.parent_id for r in found if r.unit.parent_id}
                       if (u := await unit_repo.by_id(i)) is not None}
        return Found([r for r in found  # the rule of who reviews a request, as everywhere: services.authz
                      if can_review_request(actor.identity, r.unit, parents.get(r.unit.parent_id or 0))],
                     total, page, pages)

    async def photo(self, actor: Actor, request_id: int, index: int) -> tuple[str, str] | None:
        """A photo of a request the actor may review: (channel, platform file id); None if there is none.
        Raises ``Refused`` with the denial key."""
        async with self.db.sessions() as session:
            request, denied = await self._reviewable(session, actor, request_id)
            if request is None or denied:
                raise Refused(denied or "unknown")
            return await HardshipRepository(session).photo(request_id, index)

    async def _reviewable(self, session, actor: Actor, request_id: int) -> tuple[HardshipRequest | None, str]:
        request = await HardshipRepository(session).get(request_id)
        if request is None:
            return None, "unknown"
        parent = await UnitRepository(session).by_id(request.unit.parent_id) if request.unit.parent_id else None
        decision = can_review_request(actor.identity, request.unit, parent)
        return request, ("" if decision else decision.reason)

    async def _acting(self, session, actor: Actor, request: HardshipRequest) -> dict:
        """The reviewer's role on the request, as its history keeps it (``record``'s actor_role, actor_unit_id)."""
        assert actor.identity is not None, "a reviewer is linked (_reviewable)"
        parent = await UnitRepository(session).by_id(request.unit.parent_id) if request.unit.parent_id else None
        role, unit = reviewing_role(actor.identity, request.unit, parent)
        return {"actor_role": role, "actor_unit_id": unit.id if unit is not None else None}

    async def reviewable(self, actor: Actor, request_id: int) -> Decided:
        """The request if the actor may review it (nothing audited: no personal detail is shown)."""
        async with self.db.sessions() as session:
            request, denied = await self._reviewable(session, actor, request_id)
        return Decided(denied or "ok", request)

    async def view(self, actor: Actor, request_id: int) -> Decided:
        """The request with the member's personal details, for a reviewer: the view is audited."""
        async with self.db.sessions.begin() as session:
            request, denied = await self._reviewable(session, actor, request_id)
            if request is None or denied:  # no request: denied is "unknown"
                return Decided(denied, request)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="hardship_view", unit_id=request.unit.id,
                                                  target=request.reference, now=self.clock())
        return Decided("ok", request)

    # ----- the member ----------------------------------------------------------------------------------------
    async def submit(self, actor: Actor, form: Form, *, once: Once | None = None) -> Submitted:
        """File the request with the member's grassroots union and notify its chairs (and the parent union's
        for an urgent one). Once per form: ``form_id`` is unique, and ``once`` stops a second tap."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            who = await AccountRepository(session).identity(actor.bot_id, actor.channel, actor.user_id)
            if who is None:
                return Submitted("not_linked")
            if once is not None and not await once.take(session):
                return Submitted("repeat")
            repo = HardshipRepository(session)
            filed = await repo.by_form(form.form_id)
            if filed is not None:  # the same form sent again (a web page reloaded): filed already
                return Submitted("repeat", filed, filed.unit)
            unit = await repo.grassroots_of(who.member.unit)
            request = await repo.create(NewRequest(
                member_id=who.member.id, unit_id=unit.id, category=form.category, happened_on=form.happened_on,
                description=form.description, amount_requested=form.amount_requested,
                contact_phone=form.contact_phone, consent=True, photos=list(form.photos), form_id=form.form_id),
                now, year=now.astimezone(self.tz).year)
            notice = self._view_notice(self.chair_notice(request), request)
            local = await chairs_of(session, unit)
            notified = await self.notifier.to_members(session, f"hs:new:{request.id}", local, notice, now)
            parent_notified = 0
            if request.urgent:
                above = [m for m in await chairs_of(session, unit, include_parent=True) if m not in local]
                parent_notified = await self.notifier.to_members(session, f"hs:new:{request.id}", above, notice, now)
            if once is not None:
                await once.settle(session, reference=request.reference)
            waiting = await repo.awaiting_info(who.member.id)
        return Submitted("ok", request, unit, notified, parent_notified, tuple(waiting))

    async def provide_info(self, actor: Actor, request_id: int, text: str | None, photos: Sequence[tuple[str, str]],
                           *, asked_by: int | None = None, once: Once | None = None) -> Decided:
        """The member's answer to a chair's question: added to the history, the request back to "submitted",
        the chair who asked (or the unit's chairs) notified."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            repo = HardshipRepository(session)
            request = await repo.get(request_id)
            if request is None or actor.identity is None or request.member.id != actor.identity.member.id:
                return Decided("unknown", request)
            if once is not None and not await once.take(session):
                return Decided("repeat", request)
            await repo.record(request.id, "info_provided", request.member.id, text or None, now, status="submitted",
                              photos=photos, actor_role="member")
            recipients = [asked_by] if asked_by else await chairs_of(session, request.unit)
            notice = self.t("hardship.notice.info", reference=request.reference, name=request.member.full_name,
                            answer=text or "—", photos=len(photos))
            await self.notifier.to_members(session, f"hs:info:{request.id}:{now.timestamp()}", recipients,
                                           self._view_notice(notice, request), now)
        return Decided("ok", request)

    # ----- the chairs ---------------------------------------------------------------------------------------
    async def forward(self, actor: Actor, request_id: int) -> Decided:
        """Forward to the parent union: its chairs get the request, the member is told."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            request, denied = await self._reviewable(session, actor, request_id)
            if request is None or denied:  # no request: denied is "unknown"
                return Decided(denied, request)
            if request.status not in OPEN:
                return Decided("closed", request)
            parent = await UnitRepository(session).by_id(request.unit.parent_id) if request.unit.parent_id else None
            if request.forwarded_to is not None:  # forwarded already: a second tap
                return Decided("repeat", request, parent)
            if parent is None:
                return Decided("no_parent", request)
            repo = HardshipRepository(session)
            if not await repo.claim(request.id, now, not_forwarded=True):  # forwarded (or decided) meanwhile
                return Decided("repeat", request, parent)
            await repo.record(request.id, "forwarded", actor.member_id, parent.name, now, status="forwarded",
                              forwarded_to_unit_id=parent.id, **await self._acting(session, actor, request))
            await self.notifier.to_member(session, f"hs:forwarded:{request.id}", request.member.id, Reply(
                self.t("hardship.member.forwarded", reference=request.reference, unit=parent.name)), now)
            refreshed = await repo.get(request.id)
            if refreshed is None:  # read back in the transaction that has just updated it
                raise LookupError("a forwarded hardship request vanished")
            await self.notifier.to_members(session, f"hs:forwarded-chairs:{request.id}",
                                           await chairs_of(session, parent),
                                           self._view_notice(self.chair_notice(refreshed), refreshed), now)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="hardship_forward", unit_id=request.unit.id,
                                                  target=request.reference, now=now)
        return Decided("ok", refreshed, parent)

    async def decide(self, actor: Actor, request_id: int, decision: Verdict, text: str | None = None, *,
                     amount: int | None = None, once: Once | None = None) -> Decided:
        """Ask the member for information (``text``: the question), approve (``amount``, ``text``: an optional
        note) or reject (``text``: the reason). Of two concurrent decisions exactly one goes on."""
        if decision == "approve" and amount is None:
            raise ValueError("an approval needs an amount")
        if decision in ("ask_info", "reject") and not text:
            raise ValueError(f"{decision} needs a text")
        now = self.clock()
        async with self.db.sessions.begin() as session:
            request, denied = await self._reviewable(session, actor, request_id)
            if request is None or denied:  # no request: denied is "unknown"
                return Decided(denied, request)
            if once is not None and not await once.take(session):  # the same message twice: decided by the first
                return Decided("repeat", request)
            repo = HardshipRepository(session)
            if request.status not in OPEN or not await repo.claim(request.id, now):  # decided meanwhile
                return Decided("closed", request)
            choices: tuple[Choice, ...] = ()
            role = await self._acting(session, actor, request)
            if decision == "ask_info":
                await repo.record(request.id, "info_requested", actor.member_id, text, now, status="info_requested",
                                  **role)
                notice = self.t("hardship.member.ask_info", reference=request.reference, question=text)
                choices = (Choice(self.t("ask_info.button"), f"hs:info:{request.id}"),)
            elif decision == "approve":
                await repo.record(request.id, "approved", actor.member_id, text or None, now, status="approved",
                                  approved_amount=amount, **role)
                notice = self.t("hardship.member.approved", reference=request.reference, amount=money(amount),
                                note=text or "—")
            else:
                await repo.record(request.id, "rejected", actor.member_id, text, now, status="rejected", **role)
                notice = self.t("hardship.member.rejected", reference=request.reference, reason=text)
            step = {"ask_info": "ask_info", "approve": "approve_note", "reject": "reject_reason"}[decision]
            await self.notifier.to_member(session, f"hs:{step}:{request.id}:{now.timestamp()}", request.member.id,
                                          Reply(notice, choices), now)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action=f"hardship_{step}", unit_id=request.unit.id,
                                                  target=request.reference, now=now)
            chats = tuple(await AccountRepository(session).chats_of(request.member.id))
            decided = await repo.get(request.id)
        return Decided("ok", decided, member_chats=chats)

    # ----- the union's records --------------------------------------------------------------------------------
    async def export(self, unit_code: str, start: date, end: date, path: Path, *, actor: Actor | None = None) -> int:
        """Requests of the unit's subtree (or forwarded to it) submitted from ``start`` to ``end`` (the union's
        days) written to ``path`` (.xlsx or .csv), with their history and who decided; audited.
        ``actor`` None: the operator at the terminal. Raises ``ExportRefused``."""
        if start > end:
            raise ExportRefused(self.t("hardship.export.bad_period", start=fmt_date(start), end=fmt_date(end)))
        if Path(path).suffix.lower() not in (".xlsx", ".csv"):
            raise ExportRefused(self.t("cli.bad_export_args"))
        async with self.db.sessions.begin() as session:
            root = await UnitRepository(session).by_code(unit_code)
            if root is None:
                raise ExportRefused(self.t("member.unit.unknown", code=unit_code))
            if actor is not None:  # None: the operator at the terminal, who runs the whole deployment
                allowed = authorize(actor.identity, Action.REVIEW_REQUESTS, root)
                if not allowed:
                    raise ExportRefused(self.t(allowed.reason), denied=allowed.reason)
            requests = await HardshipRepository(session).in_period(root, start, end, self.tz)
            headers, rows = self.request_table(requests)
            write_table(path, headers, rows, sheet=self.t("hardship.export.sheet"),
                        widths=(16, 12, 14, 24, 24, 22, 12, 40, 14, 8, 18, 14, 30, 8, 60))
            await AuditRepository(session).record(actor="cli" if actor is None else actor.audit,
                                                  actor_member_id=None if actor is None else actor.member_id,
                                                  action="export_requests", unit_id=root.id, target=Path(path).name,
                                                  now=self.clock(), count=len(rows))
        return len(rows)

    def actor(self, e: Event, lang: str = "vi") -> str:
        """Who took a history step, as every history shows it (the web console, the chat's view, the export): the
        member's own steps as "đoàn viên", an officer by role, name and the unit they chair; never a phone."""
        if e.actor_role == "member":
            return self.t("hardship.actor.member", lang)
        if e.actor_name is None:  # the operator at the terminal, or a member since removed
            return self.t("hardship.actor.unknown", lang)
        role = e.actor_role if e.actor_role in ("chair", "deputy", "admin") else "officer"
        return self.t(f"hardship.actor.{role}", lang, name=e.actor_name, code=e.actor_code or "",
                      unit=e.actor_unit or "")

    def step(self, e: Event, lang: str = "vi") -> str:
        """A history step on one line: what, who, and its note (the caller puts the time in front)."""
        by = self.t("hardship.export.by", lang, actor=self.actor(e, lang))
        return f"{self.t(f'hardship.action.{e.action}', lang)} — {by}" + (f": {e.note}" if e.note else "")

    def request_table(self, requests: Sequence[HardshipRequest], lang: str = "vi") -> tuple[list[str], list[list]]:
        """The export's headers and rows; each history step names who took it (``actor``)."""
        t = self.t
        rows = []
        for r in requests:
            steps = [f"{e.at.astimezone(self.tz):%H:%M %d/%m/%Y} {self.step(e, lang)}" for e in r.history]
            rows.append([r.reference, r.created_at.astimezone(self.tz).strftime("%d/%m/%Y"), r.member.member_code,
                         r.member.full_name, r.unit.name, t(f"hardship.category.{r.category}", lang),
                         r.happened_on.strftime("%d/%m/%Y"), r.description, r.amount_requested,
                         t("hardship.export.urgent_yes" if r.urgent else "hardship.export.urgent_no", lang),
                         t(f"hardship.status.{r.status}", lang), r.approved_amount, r.decision_note or "",
                         len(r.photos), "; ".join(steps)])
        return t("hardship.export.headers", lang).split("|"), rows

    # ----- what the notices say ----------------------------------------------------------------------------
    def _view_notice(self, text: str, request: HardshipRequest) -> Reply:
        return Reply(text, (Choice(self.t("hardship.button.view"), f"req:view:{request.id}"),))

    def chair_notice(self, r: HardshipRequest) -> str:
        """The notice of a new request for a phone (six lines at most: the request in short); "Xem" shows it whole."""
        head = self.t("hardship.notice.urgent" if r.urgent else "hardship.notice.new", reference=r.reference)
        return "\n".join([head, self.t("hardship.notice.member", name=r.member.full_name, code=r.member.member_code,
                                       unit=r.member.unit.name), *self.summary_lines(
            r.category, r.happened_on, r.description, r.amount_requested, len(r.photos), r.contact_phone, "vi")])

    def details(self, r: HardshipRequest, lang: str) -> str:
        """The request whole, one answer a line (a reviewer's view)."""
        return "\n".join(self.summary_lines(r.category, r.happened_on, r.description, r.amount_requested,
                                            len(r.photos), r.contact_phone, lang, whole=True))

    def summary_lines(self, category: str, happened_on: date, description: str, amount: int | None, photos: int,
                      phone: str, lang: str, whole: bool = False) -> list[str]:
        """A request's answers as lines: ``whole``, one a line; else for a phone, in four lines (two short answers a
        line, the description on one line, clipped) — the member's summary before sending, the chair's notice."""
        t = self.t
        lines = [t("hardship.summary.category", lang, value=t(f"hardship.category.{category}", lang)),
                 t("hardship.summary.date", lang, value=fmt_date(happened_on)),
                 t("hardship.summary.description", lang,
                   value=description if whole else clip(" ".join(description.split()), 160)),
                 t("hardship.summary.amount", lang, value=money(amount)),
                 t("hardship.summary.photos", lang, value=photos),
                 t("hardship.summary.phone", lang, value=phone)]
        if whole:
            return lines
        pair = "hardship.summary.pair"
        return [t(pair, lang, first=lines[0], second=lines[1]), lines[2],
                t(pair, lang, first=lines[3], second=lines[4]), lines[5]]

