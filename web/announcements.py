"""The console's announcements: compose (text, audience), preview the recipients per channel, send now or at a
time written as in chat ("8h sáng mai", read by nlu/dates.py and echoed), then the live progress (a page that
reloads itself, no JavaScript), the report and cancel.

Everything goes through ``services.broadcasts`` (the chat's use cases: authorization, audit, the outbox rows the
delivery workers send); this module reads forms and renders pages.
"""

from __future__ import annotations

import re
import uuid
from datetime import datetime
from typing import Any

from aiohttp import web

from handlers.broadcast import parse_when
from handlers.text import fmt_date, fmt_time
from services.base import AlreadyDone, Refused
from services.broadcasts import AUDIENCE_ROLES, SCHEDULED, SENDING, STOPPED, BroadcastService, Draft, check_draft, tally
from services.knowledge import Forbidden, NotFound
from web.app import CONSOLE, Console
from web.requests import web_actor

REFRESH_SENDING, REFRESH_SCHEDULED = 3, 30  # seconds between reloads of a broadcast's page
DRAFT_ID = re.compile(r"[0-9a-f]{32}")


def _service(request: web.Request) -> tuple[Console, BroadcastService]:
    console: Console = request.app[CONSOLE]
    return console, console.app.core.broadcasts.service


def _denied(refusal: Refused) -> None:
    """A refusal the page cannot show as a mistake in the form: a denial, or no such broadcast."""
    if refusal.key.startswith("authz."):
        raise Forbidden(refusal.key) from None
    if refusal.key == "broadcast.error.unknown":
        raise NotFound() from None


def _example(service: BroadcastService) -> str:
    """A valid answer to "when?", as the chat gives it: tomorrow at 08:00."""
    from datetime import timedelta

    return f"08:00 {fmt_date(service.clock().astimezone(service.tz).date() + timedelta(days=1))}"


def _status(b, now: datetime) -> str:
    return {"cancelled": "cancelled", "done": "done"}.get(b.status, "scheduled" if b.scheduled_at > now else "sending")


async def announcement_list(request: web.Request) -> web.Response:
    console, service = _service(request)
    actor = web_actor(request)
    decision = actor.as_chair()
    if not decision:
        raise Forbidden(decision.reason)
    recent = await service.visible(actor, 30)
    now = service.clock()
    return console.render(request, "announcements_list.html", recent=recent, tz=service.tz,
                          statuses={b.id: _status(b, now) for b in recent})


async def _compose(request: web.Request, *, status: int = 200, error: str = "", text: str = "", unit: str = "",
                   mode: str = "now", when_text: str = "", draft_id: str = "", who: str = "all") -> web.Response:
    console, service = _service(request)
    try:
        audiences = await service.audiences(web_actor(request))
    except Refused as refusal:
        raise Forbidden(refusal.key) from None
    return console.render(request, "announcements_new.html", status=status, error=error, text=text, unit=unit,
                          mode=mode, when_text=when_text, audiences=audiences, who=who,
                          draft_id=draft_id if DRAFT_ID.fullmatch(draft_id) else uuid.uuid4().hex,
                          example=_example(service))


def _fields(form) -> dict[str, Any]:
    get = lambda name: str(form.get(name, "")).strip()  # noqa: E731
    return {"text": get("text"), "unit": get("unit"), "mode": "later" if get("mode") == "later" else "now",
            "when_text": get("when_text")[:200], "draft_id": get("draft_id"),
            "who": "officers" if get("who") == "officers" else "all"}


def _roles(fields: dict[str, Any]) -> tuple[str, ...]:
    """The audience's roles: everyone, or the unions' officers (chairs and deputies)."""
    return tuple(sorted(AUDIENCE_ROLES)) if fields["who"] == "officers" else ()


async def compose(request: web.Request) -> web.Response:
    """The form; posted back (from the preview's "edit"), the same form with what was typed."""
    if request.method == "POST":
        return await _compose(request, **_fields(await request.post()))
    return await _compose(request)


async def preview(request: web.Request) -> web.Response:
    """Who would get it, per channel, and when: nothing is stored yet."""
    console, service = _service(request)
    fields = _fields(await request.post())
    bt = console.app.translator
    actor = web_actor(request)
    try:
        check_draft(fields["text"])
        audience = await service.audience(actor, fields["unit"], _roles(fields))
    except Refused as refusal:
        _denied(refusal)
        return await _compose(request, status=422, error=bt(refusal.key, **refusal.values), **fields)
    when = None
    if fields["mode"] == "later":
        when, error = parse_when(fields["when_text"], service.clock().astimezone(service.tz))
        if error:
            return await _compose(request, status=422, **fields, error=bt(
                error, example=_example(service), when=fmt_time(when, service.tz) if when else ""))
    return console.render(request, "announcements_preview.html", **fields, audience=audience,
                          when=when.isoformat() if when else "", when_shown=fmt_time(when) if when else "",
                          weekday=bt(f"broadcast.weekday.{when.weekday()}") if when else "",
                          draft_id_ok=fields["draft_id"] if DRAFT_ID.fullmatch(fields["draft_id"]) else "")


async def send(request: web.Request) -> web.Response:
    """Queue it (now, or at the time confirmed on the preview): once, however often the form is posted."""
    console, service = _service(request)
    form = await request.post()
    fields = _fields(form)
    bt = console.app.translator
    when = None
    if raw := str(form.get("when", "")).strip():
        try:
            when = datetime.fromisoformat(raw)
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            return await _compose(request, status=422, error=bt("broadcast.error.when", example=_example(service)),
                                  **fields)
        if when <= service.clock():  # the officer took their time: that moment has passed meanwhile
            return await _compose(request, status=422, **{**fields, "mode": "later"}, error=bt(
                "broadcast.error.when_past", when=fmt_time(when, service.tz), example=_example(service)))
    if not DRAFT_ID.fullmatch(fields["draft_id"]):
        return await _compose(request, status=422, error=console.t("web.error.csrf"), **fields)
    draft = Draft(fields["text"], fields["unit"], draft_id=fields["draft_id"], roles=_roles(fields))
    try:
        queued = await service.queue(web_actor(request), draft, when)
    except AlreadyDone as repeat:  # the form posted again: the broadcast the first post queued
        raise web.HTTPSeeOther(f"/web/announcements/{repeat.seen.id}") from None
    except Refused as refusal:
        _denied(refusal)
        return await _compose(request, status=422, error=bt(refusal.key, **refusal.values), **fields)
    raise web.HTTPSeeOther(f"/web/announcements/{queued.broadcast_id}")


def _broadcast_id(request: web.Request) -> int:
    return int(request.match_info["broadcast_id"])


async def report(request: web.Request) -> web.Response:
    """Where it stands: while it is sending (or waiting for its time) the page reloads itself."""
    console, service = _service(request)
    try:
        found = await service.report(web_actor(request), _broadcast_id(request))
    except Refused as refusal:
        _denied(refusal)
        raise NotFound() from None
    b, counts = found.broadcast, found.counts
    waiting, done, percent = tally(b, counts)
    refresh = {SENDING: REFRESH_SENDING, SCHEDULED: REFRESH_SCHEDULED}.get(found.phase, 0)
    return console.render(request, "announcements_view.html", b=b, counts=counts, phase=found.phase,
                          waiting=waiting, done=done, percent=percent, refresh=refresh, tz=service.tz,
                          cancellable=found.phase in (SCHEDULED, SENDING), stopped=found.phase == STOPPED,
                          cancelled_now=request.query.get("cancelled", ""))


async def cancel(request: web.Request) -> web.Response:
    console, service = _service(request)
    try:
        done = await service.cancel(web_actor(request), _broadcast_id(request))
    except Refused as refusal:
        _denied(refusal)
        return console.render(request, "message.html", status=409, title=console.t("web.announce.title"),
                              text=console.app.translator(refusal.key, **refusal.values))
    raise web.HTTPSeeOther(f"/web/announcements/{done.broadcast_id}?cancelled={done.cancelled}")


def routes() -> list[web.RouteDef]:
    return [
        web.get("/announcements", announcement_list),
        web.get("/announcements/new", compose), web.post("/announcements/new", compose),
        web.post("/announcements/preview", preview), web.post("/announcements/send", send),
        web.get(r"/announcements/{broadcast_id:\d+}", report),
        web.post(r"/announcements/{broadcast_id:\d+}/cancel", cancel),
    ]
