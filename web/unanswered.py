"""The console's unanswered questions: grouped, with the rejected (👎) ones marked; attach a group to an entry,
create an entry from it (the knowledge form, prefilled), dismiss it. The rules are services/unanswered.py's."""

from __future__ import annotations

from aiohttp import web

from services.knowledge import NotFound
from services.unanswered import UnansweredService
from storage.knowledge import KnowledgeError
from web.app import CONSOLE, Console, _fields, actor, readable


def service(request: web.Request) -> UnansweredService:
    console: Console = request.app[CONSOLE]
    return UnansweredService(console.app.db, console.knowledge, clock=console.app.core.clock,
                             log=console.app.core.unanswered)


def _ids(value) -> list[int]:
    """The questions of a group, as its forms and links name them: "12,15,16"."""
    ids = [int(v) for v in str(value or "").split(",") if v.strip().isdigit()][:500]
    if not ids:
        raise NotFound("")
    return ids


async def _page(request: web.Request, status: int = 200, **context) -> web.Response:
    console: Console = request.app[CONSOLE]
    groups = await service(request).groups(actor(request))
    entries = [v for v in await console.knowledge.entries(actor(request)) if v.editable]
    return console.render(request, "unanswered_list.html", status=status, groups=groups, entries=entries,
                          **{"done": None, "errors": [], **context})


async def unanswered_list(request: web.Request) -> web.Response:
    done = request.query.get("done", "")
    console: Console = request.app[CONSOLE]
    return await _page(request, done=console.t("web.unanswered.dismissed") if done == "dismissed" else None)


async def unanswered_attach(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    form = await request.post()
    entry_id = str(form.get("entry", ""))
    if not entry_id:
        return await _page(request, 422, errors=[console.t("web.unanswered.pick")])
    try:
        count = await service(request).attach(actor(request), _ids(form.get("ids")), entry_id)
    except KnowledgeError as exc:
        return await _page(request, 422, errors=[readable(console.t, e) for e in exc.errors])
    view, _ = await console.knowledge.entry(actor(request), entry_id)
    return await _page(request, done=console.t("web.unanswered.attached", count=count, entry=view.entry.name))


async def unanswered_dismiss(request: web.Request) -> web.Response:
    form = await request.post()
    await service(request).dismiss(actor(request), _ids(form.get("ids")))
    raise web.HTTPSeeOther("/web/unanswered?done=dismissed")


async def unanswered_new_entry(request: web.Request) -> web.Response:
    """The knowledge form for a new entry, its name and aliases taken from the group's questions."""
    console: Console = request.app[CONSOLE]
    questions = await service(request).questions(actor(request), _ids(request.query.get("ids")))
    texts = list(dict.fromkeys(" ".join(q.sample_text.split())[:200] for q in questions))
    fields = _fields({"kind": request.query.get("kind", "fact")})
    fields.update(name=texts[0], aliases="\n".join(texts[1:]))
    return console.render(request, "knowledge_form.html", fields=fields, entry_id=None, errors=[], title="",
                          owners=await console.knowledge.owner_choices(actor(request)))


def routes() -> list[web.RouteDef]:
    return [web.get("/unanswered", unanswered_list), web.post("/unanswered/attach", unanswered_attach),
            web.post("/unanswered/dismiss", unanswered_dismiss), web.get("/unanswered/new", unanswered_new_entry)]
