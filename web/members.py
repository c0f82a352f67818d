"""The console's members pages: the unit tree, a unit's members, roster import (a preview of every problem and
change before anything is written), export, and the printable sheet of linking codes with QR codes.

Everything goes through the chat's and the CLI's services (``services.membership``, ``services.roster``), which
authorize (``services.authz``) and audit; this module reads forms and renders.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
from pathlib import Path

from aiohttp import web

from services.actor import Actor
from services.knowledge import Forbidden, NotFound
from services.roster import RosterRefused, import_members, preview_members

MAX_ROSTER_BYTES = 700 * 1024  # the preview carries the file back in its confirm form (base64: a third more)
SUFFIXES = (".xlsx", ".csv")


def _console(request: web.Request):
    from web.app import CONSOLE

    return request.app[CONSOLE]


def _actor(request: web.Request) -> Actor:
    from web.app import SIGNED_IN

    identity = request[SIGNED_IN].identity
    return Actor(channel="web", user_id=identity.member.member_code, identity=identity)


def _service(request: web.Request):
    return _console(request).app.core.membership.service


async def tree(request: web.Request) -> web.Response:
    try:
        lines = await _service(request).unit_tree(_actor(request))
    except PermissionError as exc:
        raise Forbidden(str(exc)) from None
    return _console(request).render(request, "members_tree.html", lines=lines)


async def unit_page(request: web.Request) -> web.Response:
    try:
        found = await _service(request).unit_members(_actor(request), request.match_info["unit"])
    except PermissionError as exc:
        raise Forbidden(str(exc)) from None
    if found is None:
        raise NotFound(request.match_info["unit"])
    return _console(request).render(request, "members_unit.html", unit=found.unit, members=found.members,
                                    linked=sum(1 for _, linked in found.members if linked))


async def export(request: web.Request) -> web.Response:
    console, unit = _console(request), request.match_info["unit"]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"doan-vien-{unit}.xlsx"
        from services.roster import export_members

        try:
            await export_members(console.app.db, unit, path, now=console.app.core.clock(), actor=_actor(request))
        except RosterRefused as exc:
            return _refused(request, str(exc))
        body = path.read_bytes()
    return web.Response(body=body, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": f'attachment; filename="{path.name}"',
                                 "Cache-Control": "no-store"})


def _refused(request: web.Request, message: str) -> web.Response:
    console = _console(request)
    return console.render(request, "message.html", status=403, title=console.t("web.error.403"), text=message)


async def import_roster(request: web.Request) -> web.Response:
    """Without ``confirm``: the uploaded file's preview (nothing written). With it: the file carried back by the
    preview's form is written — all of it when it has no problem; with problems, only when the chair chose
    ``valid_only`` (the valid rows; the others are left out and counted)."""
    console, unit = _console(request), request.match_info["unit"]
    form = await request.post()
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        name, data = Path(upload.filename or "").name, upload.file.read(MAX_ROSTER_BYTES + 1)
    else:
        name = Path(str(form.get("name", ""))).name
        try:
            data = base64.b64decode(str(form.get("content", "")), validate=True)
        except binascii.Error:
            data = b""
    if not data or Path(name).suffix.lower() not in SUFFIXES:
        return _refused(request, console.t("web.members.import.bad_file"))
    if len(data) > MAX_ROSTER_BYTES:
        return _refused(request, console.t("web.members.import.too_big"))
    now, actor = console.app.core.clock(), _actor(request)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / ("roster" + Path(name).suffix.lower())
        path.write_bytes(data)
        try:
            if form.get("confirm"):
                report = await import_members(console.app.db, path, unit, now=now, actor=actor,
                                              skip_invalid=bool(form.get("valid_only")))
                return console.render(request, "members_imported.html", unit=unit, report=report, file_name=name)
            preview = await preview_members(console.app.db, path, unit, now=now, actor=actor)
        except RosterRefused as exc:
            return _refused(request, str(exc))
    return console.render(request, "members_preview.html", unit=unit, preview=preview, file_name=name,
                          content=base64.b64encode(data).decode("ascii"))


async def codes(request: web.Request) -> web.Response:
    """New one-time codes for the unit's members (audited by the service), as a sheet to print and cut."""
    console, unit = _console(request), request.match_info["unit"]
    form = await request.post()
    try:
        issued = await _service(request).issue_unit_codes(unit, only_unlinked=bool(form.get("only_unlinked")),
                                                          actor=_actor(request))
    except PermissionError as exc:
        raise Forbidden(str(exc)) from None
    if issued is None:
        raise NotFound(unit)
    username = console.app.settings.telegram.username
    cards = []
    for member, code in issued.codes:  # the deep link (the QR code, and printed beside it for typing)
        link = f"https://t.me/{username}?start={code}" if username else ""
        cards.append((member, code, link, _qr(link) if link else ""))
    return console.render(request, "members_codes.html", unit=issued.unit, until=issued.until, cards=cards,
                          username=username)


def _qr(url: str) -> str:
    """The link as an inline SVG QR code (segno: pure Python, no image files)."""
    import segno

    return segno.make(url, error="m").svg_inline(scale=3, border=2, omitsize=False)


def routes() -> list[web.RouteDef]:
    return [
        web.get("/members", tree), web.get("/members/{unit}", unit_page),
        web.get("/members/{unit}/export", export), web.post("/members/{unit}/import", import_roster),
        web.post("/members/{unit}/codes", codes),
    ]
