"""The console's routes, served under ``/web/`` by the bot's aiohttp server (bot/runner.py mounts it).

Pages call the same services as the chat (services/knowledge.py, services/web_access.py): every action is
authorized there, by ``services.authz.authorize``. This module only reads forms, checks the session and its
CSRF token, and renders templates.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, timedelta
from pathlib import Path
from urllib.parse import urlencode

import jinja2
import yaml
from aiohttp import web
from yarl import URL

from handlers.types import Incoming
from locales import LOCALES_DIR, Translator
from services.authz import units_acted_on
from services.knowledge import Actor, Forbidden, KnowledgeService, KnowledgeWatcher, NotFound
from services.pictures import PATH as PICTURE_PATH
from services.pictures import PictureShelf
from services.web_access import SignedIn, WebAccess
from storage.knowledge import KINDS, KnowledgeError
from web import knowledge_excel, members

HERE = Path(__file__).parent
COOKIE = "unionbot_web"
SIGNED_IN = web.RequestKey("signed_in", SignedIn)
CONSOLE: web.AppKey[Console] = web.AppKey("console")  # Console is defined below
#: pages an anonymous browser may open: the sign-in link's page and its form, the landing page, the CSS
PUBLIC = ("/web/login", "/web/signin", "/web/static/")


class Console:
    def __init__(self, app, watcher: KnowledgeWatcher | None) -> None:
        settings = app.settings
        self.app = app
        self.watcher = watcher
        self.secure = settings.web.base_url.startswith("https://")
        base = URL(settings.web.base_url or "http://localhost")
        self.origin = f"{base.scheme}://{base.host}" + (f":{base.port}" if base.explicit_port else "")
        self.access = WebAccess(app.db, idle=timedelta(minutes=settings.web.session_minutes), clock=app.core.clock)
        self.knowledge = KnowledgeService(app.db, clock=app.core.clock,
                                          on_change=watcher.check if watcher is not None else None)
        self.t = Translator(LOCALES_DIR / "web")
        #: channel -> ``async (file id) -> (bytes, content type)``: files members sent (bot/runner.py fills it)
        self.files: dict[str, Callable[[str], Awaitable[tuple[bytes, str]]]] = {}
        self.templates = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"),
                                            autoescape=True, undefined=jinja2.StrictUndefined)
        self.templates.globals.update(t=self.t, kinds=KINDS)
        zone = app.core.config.timezone
        #: a moment as the office reads it: in the deployment's time zone (Hà Nội), a naive one taken as UTC
        self.templates.filters["local"] = lambda at: (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(zone)

    def same_origin(self, request: web.Request) -> bool:
        """A browser's POST names the page it came from in Origin: ours (the public address, or the host asked
        for), or none (not a browser). Guards the sign-in form too, which has no session token yet."""
        origin = request.headers.get("Origin")
        if origin is None:
            return True
        return origin in (self.origin, f"{request.scheme}://{request.host}")

    def render(self, request: web.Request, name: str, status: int = 200, **context) -> web.Response:
        signed_in = request.get(SIGNED_IN)
        identity = signed_in.identity if signed_in else None
        html = self.templates.get_template(name).render(
            me=identity.member if identity else None, is_admin=bool(identity and identity.is_admin),
            csrf=signed_in.session.csrf if signed_in else "", **context)
        return web.Response(text=html, content_type="text/html", status=status,
                            headers={"Cache-Control": "no-store", "X-Frame-Options": "DENY",
                                     "Referrer-Policy": "same-origin",
                                     "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"})

    def refuse(self, request: web.Request, reason: str, status: int = 403) -> web.Response:
        return self.render(request, "message.html", status=status, title=self.t(f"web.error.{status}"),
                           text=self.t(reason) if reason.startswith("web.") else self.t("web.error.forbidden"))


def actor(request: web.Request) -> Actor:
    signed_in: SignedIn = request[SIGNED_IN]
    return Actor(signed_in.identity, f"web:{signed_in.identity.member.member_code}")


@web.middleware
async def guard(request: web.Request, handler):
    """Every page but the public ones needs a live session; every POST its session's CSRF token."""
    console: Console = request.app[CONSOLE]
    if request.method == "POST" and not console.same_origin(request):  # a form posted from another site
        return console.refuse(request, "web.error.csrf", 403)
    if request.path.startswith(PUBLIC):
        return await handler(request)
    signed_in = await console.access.current(request.cookies.get(COOKIE))
    if signed_in is None:
        if request.method == "GET":
            raise web.HTTPSeeOther("/web/signin")
        return console.refuse(request, "web.error.signed_out", 403)
    request[SIGNED_IN] = signed_in
    if request.method == "POST":
        try:
            form = await request.post()
        except web.HTTPRequestEntityTooLarge:  # an upload over the server's limit
            return console.refuse(request, "web.error.too_large", 413)
        if not hmac.compare_digest(str(form.get("csrf", "")), signed_in.session.csrf):
            return console.refuse(request, "web.error.csrf", 403)
    try:
        return await handler(request)
    except Forbidden:
        return console.refuse(request, "web.error.forbidden", 403)
    except NotFound:
        return console.refuse(request, "web.error.not_found", 404)


# ----- sign-in ------------------------------------------------------------------------------------
async def signin_page(request: web.Request) -> web.Response:
    return request.app[CONSOLE].render(request, "signin.html")


async def login_page(request: web.Request) -> web.Response:
    """The link from chat opens a page with a button: a link preview's GET does not use the link up."""
    return request.app[CONSOLE].render(request, "login.html", token=request.match_info["token"])


async def login(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    form = await request.post()
    result = await console.access.sign_in(str(form.get("token", "")))
    if result is None:
        return console.refuse(request, "web.error.link", 403)
    cookie, _ = result
    response = web.Response(status=303, headers={"Location": "/web/knowledge"})
    response.set_cookie(COOKIE, cookie, path="/web", httponly=True, samesite="Lax", secure=console.secure)
    return response


async def logout(request: web.Request) -> web.Response:
    await request.app[CONSOLE].access.sign_out(request[SIGNED_IN])
    response = web.Response(status=303, headers={"Location": "/web/signin"})
    response.del_cookie(COOKIE, path="/web")
    return response


async def home(_request: web.Request) -> web.Response:
    raise web.HTTPSeeOther("/web/knowledge")


# ----- knowledge ----------------------------------------------------------------------------------
async def knowledge_list(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    query, kind = request.query.get("q", "").strip(), request.query.get("kind", "")
    views = await console.knowledge.entries(actor(request), query, kind if kind in KINDS else "")
    return console.render(request, "knowledge_list.html", views=views, query=query, kind=kind,
                          retired=await console.knowledge.retired(actor(request)))


async def knowledge_view(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    view, revisions = await console.knowledge.entry(actor(request), request.match_info["entry_id"])
    return console.render(request, "knowledge_view.html", view=view, revisions=revisions, changes=changes,
                          rows=shown_fields(console.t, view.entry.model_dump(mode="json", exclude_none=True)),
                          label=lambda key: _label(console.t, "block" if key in KINDS else key))


#: the entry's fields in the order the page shows them (the kind's own block where ``kind`` stands)
SHOWN = ("kind", "id", "name", "aliases", "summary", "details", "as_of", "unit", "source", "block")
ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")


def _value(t: Translator, key: str, value) -> list[str]:
    """A value as lines the office reads: dates day/month/year, 30.0 as 30, a list one line per item, a phase
    (a mapping) as its labelled parts on one line, a programme's category by its name."""
    if isinstance(value, list):
        return [line for item in value for line in _value(t, key, item)]
    if isinstance(value, dict):
        return ["; ".join(f"{_label(t, k)}: {', '.join(_value(t, k, v))}" for k, v in value.items() if v is not None)]
    if isinstance(value, bool):
        return [t("web.kb.yes" if value else "web.kb.no")]
    if isinstance(value, float) and value.is_integer():
        return [str(int(value))]
    if isinstance(value, str) and (found := ISO_DATE.match(value)):
        return [f"{found.group(3)}/{found.group(2)}/{found.group(1)}"]
    if key == "category" and isinstance(value, str):
        return [_known(t, f"web.kb.categories.{value}", value)]
    return [str(value)]


def _label(t: Translator, key: str) -> str:
    """A field's name on the page: ``web.kb.shown.<key>`` (a kind's block field too); unknown ones as written."""
    return _known(t, f"web.kb.shown.{key}", key)


def _known(t: Translator, key: str, otherwise: str) -> str:
    try:
        return t(key)
    except KeyError:
        return otherwise


def shown_fields(t: Translator, data: dict) -> list[tuple[str, list[str]]]:
    """The entry as labelled rows (label, lines) in Vietnamese: no YAML, no English keys."""
    rows: list[tuple[str, list[str]]] = []
    kind = data.get("kind", "")
    for key in SHOWN:
        if key == "kind":
            rows.append((_label(t, "kind"), [t(f"web.kinds.{kind}")]))
        elif key == "source":
            rows += [(_label(t, f"source_{k}"), _value(t, k, v)) for k, v in (data.get("source") or {}).items()
                     if v not in (None, "", [])]
        elif key == "block":
            rows += [(_label(t, k), _value(t, k, v)) for k, v in (data.get(kind) or {}).items()
                     if v not in (None, "", [])]
        elif data.get(key) not in (None, "", []):
            rows.append((_label(t, key), _value(t, key, data[key])))
    return rows


def changes(before: dict | None, after: dict | None) -> list[tuple[str, str, str]]:
    """The fields a revision changed: (field, before, after), each value as YAML ("" when absent)."""
    before, after = before or {}, after or {}
    show = lambda v: "" if v is None else yaml.safe_dump(v, allow_unicode=True, sort_keys=False).removesuffix(  # noqa: E731
        "\n...\n").strip()
    return [(k, show(before.get(k)), show(after.get(k))) for k in dict.fromkeys([*before, *after])
            if before.get(k) != after.get(k)]


#: the loader's and the service's problems ("field 'as_of': Input should be a valid date ...") -> the reason's
#: message in locales/web (web.kb.problem.*), its values read from the text; tried in order, the first that matches
PROBLEMS: tuple[tuple[re.Pattern[str], str], ...] = tuple((re.compile(p), key) for p, key in (
    (r"^Field required", "required"), (r"^String should have at least 1 character", "required"),
    (r"^String should have at most (?P<limit>\d+) character", "too_long"),
    (r"^List should have at most (?P<limit>\d+) item", "too_many"),
    (r"^String should match pattern", "slug"),
    (r"^Input should be a valid date", "date"), (r"^Input should be a valid datetime", "date"),
    (r"^Input should be a valid (integer|number)", "number"),
    (r"^Input should be (greater|less) than( or equal to)? (?P<bound>[-\d.]+)", "range"),
    (r"^Input should be a valid list", "list"), (r"^Input should be a valid (string|dictionary)", "shape"),
    (r"^Input should be '", "choice"), (r"^Extra inputs are not permitted", "unknown_field"),
    (r"^not valid YAML", "yaml"), (r"^duplicate, '(?P<id>[^']*)' exists already", "duplicate"),
    (r"^an entry's id cannot change", "id_fixed"), (r"^unknown unit '(?P<unit>[^']*)'", "owner"),
    (r"needs exactly the block", "block"), (r"ends_on is before starts_on", "dates_order"),
))
FIELD_PROBLEM = re.compile(r"^field '(?P<loc>[^']*)': (?P<problem>.*)$", re.S)
#: the loader's field names that are not the form's own (the form's names are ``web.kb.<name>``)
FORM_FIELDS = {"source.document": "source_document", "source.title": "source_title",
               "source.publication": "source_publication", "source.published": "source_published",
               "source.passages": "source_passages", "(entry)": ""}


def readable(t: Translator, error: str) -> str:
    """A problem of the knowledge form in the office's words: the field by the form's label, then the reason
    (a problem that names no field, a source passage not found, already is a sentence in Vietnamese)."""
    found = FIELD_PROBLEM.match(error)
    if found is None:
        return error
    loc, problem = found.group("loc"), found.group("problem")
    top, _, rest = loc.partition(".")
    if loc in FORM_FIELDS:
        field = FORM_FIELDS[loc]
    elif top in KINDS:  # inside the kind's own block: its label, then the key as written there
        field = "block"
    else:
        field = top
    label = t(f"web.kb.{field}") if field else ""
    name = loc.rsplit(".", 1)[-1]
    if field == "block" and rest and not problem.startswith("Extra inputs"):  # (that one names the key itself)
        label = t("web.kb.problem.in_block", label=label, item=rest)
    for pattern, key in PROBLEMS:
        if matched := pattern.search(problem):
            values = {"limit": "", "bound": "", "id": "", "unit": "", "name": name, "kind": top, **{
                k: v for k, v in matched.groupdict().items() if v is not None}}
            reason = t(f"web.kb.problem.{key}", **values)
            break
    else:
        reason = t("web.kb.problem.other")
    return t("web.kb.problem.field", field=label, reason=reason) if label else reason[:1].upper() + reason[1:]


def _fields(data: dict) -> dict:
    kind = data.get("kind", "benefit")
    block = data.get(kind) or {}
    source = data.get("source") or {}
    return {"id": data.get("id", ""), "kind": kind, "name": data.get("name", ""),
            "aliases": "\n".join(data.get("aliases") or []), "summary": data.get("summary", ""),
            "details": data.get("details") or "", "as_of": data.get("as_of", ""), "unit": data.get("unit") or "",
            "source_document": source.get("document", ""), "source_title": source.get("title", ""),
            "source_publication": source.get("publication") or "", "source_published": source.get("published") or "",
            "source_passages": "\n".join(source.get("passages") or []),
            "block": yaml.safe_dump(block, allow_unicode=True, sort_keys=False) if block else "", "owner": ""}


def _entry_from(form) -> dict:
    """The form's fields as the YAML loader's mapping (validated by the service)."""
    get = lambda name: str(form.get(name, "")).strip()  # noqa: E731
    lines = lambda name: [x.strip() for x in get(name).splitlines() if x.strip()]  # noqa: E731
    kind = get("kind")
    try:
        block = yaml.safe_load(get("block")) if get("block") else {}
    except yaml.YAMLError as exc:
        raise KnowledgeError([f"field '{kind}': not valid YAML: {exc}"]) from None
    raw = {"id": get("id"), "kind": kind, "name": get("name"), "aliases": lines("aliases"), "summary": get("summary"),
           "source": {"document": get("source_document"), "title": get("source_title"),
                      "publication": get("source_publication") or None, "published": get("source_published") or None,
                      "passages": lines("source_passages")},
           "as_of": get("as_of"), "unit": get("unit") or None, "details": get("details") or None}
    if kind in KINDS:
        raw[kind] = block if block is not None else {}
    return raw


async def knowledge_form(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    entry_id = request.match_info.get("entry_id")
    owners = await console.knowledge.owner_choices(actor(request))
    title = ""
    if entry_id is None:
        fields = _fields({"kind": request.query.get("kind", "benefit")})
    else:
        view, _ = await console.knowledge.entry(actor(request), entry_id)
        if not view.editable:
            raise Forbidden("authz.other_unit")
        fields = _fields(view.entry.model_dump(mode="json", exclude_none=True))
        title = view.entry.name
    return console.render(request, "knowledge_form.html", fields=fields, entry_id=entry_id, owners=owners, errors=[],
                          title=title)


async def knowledge_save(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    entry_id = request.match_info.get("entry_id")
    form = await request.post()
    try:
        entry = await console.knowledge.save(actor(request), _entry_from(form), entry_id=entry_id,
                                             owner=str(form.get("owner", "")))
    except KnowledgeError as exc:
        fields = {k: str(form.get(k, "")) for k in _fields({})}
        title = (await console.knowledge.entry(actor(request), entry_id))[0].entry.name if entry_id else ""
        return console.render(request, "knowledge_form.html", status=422, fields=fields, entry_id=entry_id,
                              owners=await console.knowledge.owner_choices(actor(request)), title=title,
                              errors=[readable(console.t, e) for e in exc.errors])
    raise web.HTTPSeeOther(f"/web/knowledge/{entry.id}")


async def knowledge_retire(request: web.Request) -> web.Response:
    await request.app[CONSOLE].knowledge.retire(actor(request), request.match_info["entry_id"])
    raise web.HTTPSeeOther("/web/knowledge")


async def revision_rollback(request: web.Request) -> web.Response:
    entry_id = await request.app[CONSOLE].knowledge.rollback(actor(request), int(request.match_info["revision_id"]))
    raise web.HTTPSeeOther(f"/web/knowledge/{entry_id}")


async def preview(request: web.Request) -> web.Response:
    """How the bot answers a typed question: through the core, on the "web" channel, as a member of the unit
    picked (one of the actor's subtrees; at first the unit they chair) or as an unlinked member ("")."""
    console: Console = request.app[CONSOLE]
    who = actor(request)
    units = await console.knowledge.preview_units(who)
    chaired = units_acted_on(who.identity)
    unit_code, question, replies = chaired[0].code if chaired else "", "", []
    if request.method == "POST":
        form = await request.post()
        question, unit_code = str(form.get("q", "")).strip()[:1000], str(form.get("unit", unit_code))
    unit = next((u for u in units if u.code == unit_code), None)
    if unit_code and unit is None:
        raise Forbidden("authz.other_unit")
    if question:
        chat = f"preview-{request[SIGNED_IN].session.id}"
        replies = await console.app.core.preview(Incoming(channel="web", chat_id=chat, user_id=chat, text=question),
                                                 unit.path if unit else None)
    return console.render(request, "preview.html", question=question, replies=replies, units=units,
                          unit=unit_code)


# ----- sessions (admins) --------------------------------------------------------------------------
async def sessions_page(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    lines = await console.access.sessions(request[SIGNED_IN])
    if lines is None:
        raise Forbidden("authz.members_only")
    return console.render(request, "sessions.html", lines=lines)


async def session_revoke(request: web.Request) -> web.Response:
    done = await request.app[CONSOLE].access.revoke(request[SIGNED_IN], int(request.match_info["session_id"]))
    if done is None:
        raise Forbidden("authz.members_only")
    raise web.HTTPSeeOther("/web/sessions")


def query_url(path: str, **params) -> str:
    return f"{path}?{urlencode({k: v for k, v in params.items() if v})}"


def serve_pictures(web_app: web.Application, shelf: PictureShelf) -> None:
    """The charts the bot drew, at their short-lived unguessable addresses (services/pictures.py): for Zalo's
    sendPhoto, which takes a URL the platform fetches. No session (the platform has none): the token is the key;
    an unknown or expired one is a 404, like any address that does not exist."""

    async def picture(request: web.Request) -> web.Response:
        found = await shelf.fetch(request.match_info["token"])
        if found is None:
            raise web.HTTPNotFound()
        data, content_type = found
        return web.Response(body=data, content_type=content_type, headers={
            "Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
            "X-Robots-Tag": "noindex"})

    web_app.router.add_get(PICTURE_PATH.format(token="{token:[A-Za-z0-9_-]+}"), picture)


def mount_console(web_app: web.Application, app, watcher: KnowledgeWatcher | None = None) -> Console:
    """Serve the console under ``/web/`` of ``web_app`` (before it starts)."""
    console = Console(app, watcher)
    sub = web.Application(middlewares=[guard])
    sub[CONSOLE] = console
    sub.add_routes([
        web.get("/signin", signin_page), web.get("/login/{token}", login_page), web.post("/login", login),
        web.post("/logout", logout), web.get("/", home),
        web.get("/knowledge", knowledge_list), web.get("/knowledge/new", knowledge_form),
        web.post("/knowledge/new", knowledge_save), web.get("/knowledge/{entry_id}", knowledge_view),
        web.get("/knowledge/{entry_id}/edit", knowledge_form), web.post("/knowledge/{entry_id}/edit", knowledge_save),
        web.post("/knowledge/{entry_id}/retire", knowledge_retire),
        web.post("/revisions/{revision_id:\\d+}/rollback", revision_rollback),
        web.get("/preview", preview), web.post("/preview", preview),
        web.get("/sessions", sessions_page), web.post("/sessions/{session_id:\\d+}/revoke", session_revoke),
        web.static("/static", HERE / "static"),
    ])
    from web import announcements, documents, requests, stats, unanswered  # noqa: PLC0415 - they import this module
    sub.add_routes(requests.routes())
    sub.add_routes(announcements.routes())
    sub.add_routes(members.routes())
    sub.add_routes(knowledge_excel.routes())
    sub.add_routes(documents.routes())
    sub.add_routes(unanswered.routes())
    sub.add_routes(stats.routes())
    console.templates.globals["query_url"] = query_url
    console.templates.globals["bt"] = app.translator  # the chat's strings (statuses, categories) where reused
    web_app.add_subapp("/web/", sub)
    return console


async def serve_beside(app):
    """The console on a web server of its own (the console chat has no webhook server), with the knowledge
    watcher; returns the coroutine that stops both."""
    import asyncio

    from services.knowledge import watch_core

    settings = app.settings
    watcher = watch_core(app.db, app.core, settings.knowledge.poll_seconds)
    await watcher.check()
    task = asyncio.create_task(watcher.run(), name="knowledge-watch")
    web_app = web.Application(client_max_size=max(1024 * 1024, settings.documents.max_bytes + 64 * 1024))
    mount_console(web_app, app, watcher)
    runner = web.AppRunner(web_app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.web.host, settings.web.port).start()

    async def stop() -> None:
        watcher.stop()
        await runner.cleanup()
        task.cancel()

    return stop
