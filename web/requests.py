"""The console's hardship requests: the list (filters), a request with its photos and history, the chat's
actions (ask for information, approve with a confirmation, reject, forward) and the export.

Everything goes through ``services.hardship`` (the chat's use cases: authorization, audit and the member's
notification through the outbox happen there); this module reads forms and renders pages.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from aiohttp import web

from handlers.hardship import parse_amount
from services.actor import Actor as ChatActor
from services.base import Refused
from services.hardship import CATEGORIES, OPEN, Decided, ExportRefused, HardshipService, money
from services.knowledge import Forbidden, NotFound
from storage.hardship import HardshipRequest
from web.app import CONSOLE, SIGNED_IN, Console, query_url

STATUSES = (*OPEN, "approved", "rejected")
DONE = ("asked", "approved", "rejected", "forwarded")  # the notice after an action (``?done=``)
MAX_TEXT = 2000


def web_actor(request: web.Request) -> ChatActor:
    """The signed-in officer as the chat's services know an actor (audited as ``web:<member code>``)."""
    identity = request[SIGNED_IN].identity
    return ChatActor(channel="web", user_id=identity.member.member_code, bot_id="web", identity=identity)


def _service(request: web.Request) -> tuple[Console, HardshipService]:
    console: Console = request.app[CONSOLE]
    return console, console.app.core.hardship.service


def _day(raw: str) -> date | None:
    try:
        return date.fromisoformat(raw.strip()) if raw.strip() else None
    except ValueError:
        return None


def _id(request: web.Request) -> int:
    return int(request.match_info["request_id"])


def _refused(decided: Decided) -> None:
    """A step that did not happen for a reason the page cannot show next to the request: a denial or no request."""
    if decided.status == "unknown" or decided.request is None:
        raise NotFound()
    if decided.status.startswith("authz."):
        raise Forbidden(decided.status)


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page links to show: the first, the last and ``around`` either side of ``page``; None for a gap."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    numbers: list[int | None] = []
    for n in shown:
        if numbers and n - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(n)
    return numbers


async def request_list(request: web.Request) -> web.Response:
    console, service = _service(request)
    q = request.query
    status = q.get("status", "") if q.get("status", "") in STATUSES else ""
    category = q.get("category", "") if q.get("category", "") in CATEGORIES else ""
    urgent = {"1": True, "0": False}.get(q.get("urgent", ""))
    start, end = _day(q.get("from", "")), _day(q.get("to", ""))
    page = int(q["page"]) if q.get("page", "").isdigit() and len(q["page"]) < 7 else 1
    try:
        found = await service.search(web_actor(request), status=status, category=category, urgent=urgent,
                                     start=start, end=end, page=page)
    except Refused as refusal:
        raise Forbidden(refusal.key) from None
    filters = {"status": status, "category": category, "urgent": q.get("urgent", "") if urgent is not None else "",
               "from": start.isoformat() if start else "", "to": end.isoformat() if end else ""}
    link = lambda n: query_url("/web/requests", **filters, page=n if n > 1 else "")  # noqa: E731  # filters kept
    links = [(n, link(n) if n is not None else "") for n in page_numbers(found.page, found.pages)]
    today = console.app.core.clock().astimezone(service.tz).date()
    return console.render(request, "requests_list.html", requests=found.requests, found=found, links=links,
                          previous=link(found.page - 1) if found.page > 1 else "",
                          next=link(found.page + 1) if found.page < found.pages else "",
                          statuses=STATUSES, categories=CATEGORIES,
                          chosen=status, category=category, money=money, urgent=q.get("urgent", ""),
                          start=start.isoformat() if start else "", end=end.isoformat() if end else "",
                          units=web_actor(request).roots(), year_start=today.replace(month=1, day=1).isoformat(),
                          today=today.isoformat(), tz=service.tz)


async def _detail(request: web.Request, *, status: int = 200, error: str = "", **form) -> web.Response:
    console, service = _service(request)
    viewed = await service.view(web_actor(request), _id(request))  # the member's details: audited
    _refused(viewed)
    r: HardshipRequest = viewed.request  # type: ignore[assignment]  # _refused: there is one
    done = request.query.get("done", "")
    return console.render(request, "requests_view.html", status=status, r=r, open=r.status in OPEN, error=error,
                          done=done if done in DONE else "", form=form, tz=service.tz, money=money,
                          details=service.details(r, "vi"), can_forward=r.forwarded_to is None, actor=service.actor)


async def request_view(request: web.Request) -> web.Response:
    return await _detail(request)


async def _after(request: web.Request, decided: Decided, done: str) -> web.Response:
    """Back to the request with what happened, or the request again with why nothing did."""
    if decided.ok:
        raise web.HTTPSeeOther(f"/web/requests/{_id(request)}?done={done}")
    _refused(decided)
    r = decided.request
    assert r is not None
    error = request.app[CONSOLE].app.translator(
        {"closed": "hardship.review.closed", "repeat": "once.review",
         "no_parent": "hardship.review.no_parent"}.get(decided.status, "hardship.review.closed"),
        reference=r.reference)
    return await _detail(request, status=409, error=error)


def _text(form, name: str) -> str:
    return str(form.get(name, "")).strip()[:MAX_TEXT]


async def request_ask(request: web.Request) -> web.Response:
    console, service = _service(request)
    question = _text(await request.post(), "question")
    if not question:
        return await _detail(request, status=422, error=console.app.translator("hardship.error.review_text"))
    actor = web_actor(request)
    decided = await service.decide(actor, _id(request), "ask_info", question)
    await console.app.core.hardship.expect_answer(decided, actor.member_id)  # as after a question in chat
    return await _after(request, decided, "asked")


async def request_reject(request: web.Request) -> web.Response:
    console, service = _service(request)
    reason = _text(await request.post(), "reason")
    if not reason:
        return await _detail(request, status=422, error=console.app.translator("hardship.error.review_text"))
    return await _after(request, await service.decide(web_actor(request), _id(request), "reject", reason), "rejected")


async def request_forward(request: web.Request) -> web.Response:
    _, service = _service(request)
    return await _after(request, await service.forward(web_actor(request), _id(request)), "forwarded")


async def request_approve(request: web.Request) -> web.Response:
    """Money is decided after a confirmation, as in chat: the first post shows the amount read and asks; the
    confirmation's post (``confirm``) approves."""
    console, service = _service(request)
    form = await request.post()
    amount, note = parse_amount(_text(form, "amount")), _text(form, "note")
    if not isinstance(amount, int):
        return await _detail(request, status=422, error=console.app.translator("hardship.error.approve_amount"),
                             amount=_text(form, "amount"), note=note)
    if form.get("confirm") != "yes":
        found = await service.reviewable(web_actor(request), _id(request))
        _refused(found)
        r = found.request
        assert r is not None
        if r.status not in OPEN:
            return await _after(request, Decided("closed", r), "")
        return console.render(request, "requests_confirm.html", r=r, amount=amount, note=note, money=money,
                              question=console.t("web.requests.confirm_question", amount=money(amount),
                                                 reference=r.reference))
    decided = await service.decide(web_actor(request), _id(request), "approve", note or None, amount=amount)
    return await _after(request, decided, "approved")


async def request_photo(request: web.Request) -> web.StreamResponse:
    """A photo the member sent, fetched from the platform by the bot (its token never reaches the browser)."""
    console, service = _service(request)
    try:
        found = await service.photo(web_actor(request), _id(request), int(request.match_info["index"]))
    except Refused as refusal:
        if refusal.key.startswith("authz."):
            raise Forbidden(refusal.key) from None
        raise NotFound() from None
    fetch = console.files.get(found[0]) if found else None
    if found is None or fetch is None:
        raise NotFound()
    try:
        body, content_type = await fetch(found[1])
    except Exception:  # the platform does not have it (any more), or is unreachable: no photo, no details
        raise NotFound() from None
    return web.Response(body=body, content_type=content_type,
                        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"})


async def request_export(request: web.Request) -> web.StreamResponse:
    """The CLI's ``unionbot requests export``, as a download: the same service, an .xlsx file."""
    console, service = _service(request)
    q = request.query
    today = console.app.core.clock().astimezone(service.tz).date()
    start, end = _day(q.get("from", "")) or today.replace(month=1, day=1), _day(q.get("to", "")) or today
    unit = q.get("unit", "").strip()
    with tempfile.TemporaryDirectory(prefix="unionbot-export-") as folder:
        path = Path(folder) / f"yeu-cau-ho-tro-{unit or 'x'}-{start:%Y%m%d}-{end:%Y%m%d}.xlsx"
        try:
            await service.export(unit, start, end, path, actor=web_actor(request))
        except ExportRefused as exc:
            if exc.denied:
                raise Forbidden(exc.denied) from None
            return console.render(request, "message.html", status=422, title=console.t("web.error.422"),
                                  text=str(exc))
        body = path.read_bytes()
    return web.Response(body=body, headers={
        "Content-Type": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "Content-Disposition": f'attachment; filename="{path.name}"', "Cache-Control": "no-store"})


def routes() -> list[web.RouteDef]:
    return [
        web.get("/requests", request_list), web.get("/requests/export", request_export),
        web.get(r"/requests/{request_id:\d+}", request_view),
        web.get(r"/requests/{request_id:\d+}/photos/{index:\d+}", request_photo),
        web.post(r"/requests/{request_id:\d+}/ask", request_ask),
        web.post(r"/requests/{request_id:\d+}/approve", request_approve),
        web.post(r"/requests/{request_id:\d+}/reject", request_reject),
        web.post(r"/requests/{request_id:\d+}/forward", request_forward),
    ]

