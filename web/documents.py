"""The console's source documents: upload (the same reading and storing as ``unionbot kb ingest``), the list, a
document's passages, and a delete behind a confirmation page. Authorized in services/documents.py
(``DocumentLibrary``)."""

from __future__ import annotations

from aiohttp import web

from services.documents import SUFFIXES, DocumentError, DocumentLibrary
from web.app import CONSOLE, Console, actor


def library(request: web.Request) -> DocumentLibrary:
    console: Console = request.app[CONSOLE]
    watcher = console.watcher
    return DocumentLibrary(console.app.db, clock=console.app.core.clock,
                           max_bytes=console.app.settings.documents.max_bytes,
                           on_change=watcher.check if watcher is not None else None)


async def _list(request: web.Request, status: int = 200, **context) -> web.Response:
    console: Console = request.app[CONSOLE]
    docs = library(request)
    lines = await docs.documents(actor(request))
    return console.render(request, "documents_list.html", status=status, lines=lines,
                          may_change=docs.may_change(actor(request)), suffixes=", ".join(SUFFIXES),
                          limit_mb=round(docs.max_bytes / 1024 / 1024), **{"error": None, "done": None, **context})


async def documents_list(request: web.Request) -> web.Response:
    return await _list(request)


async def documents_upload(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    library(request).require_change(actor(request))  # before anything of the form is looked at
    form = await request.post()
    upload = form.get("file")
    if not isinstance(upload, web.FileField) or not upload.filename:
        return await _list(request, 422, error=console.t("web.documents.no_file"))
    try:
        result = await library(request).upload(actor(request), upload.filename, upload.file.read())
    except DocumentError as exc:
        return await _list(request, 422, error=str(exc))
    if result.document_id is not None and result.outcome != "unchanged":
        raise web.HTTPSeeOther(f"/web/documents/{result.document_id}?done={result.outcome}")
    return await _list(request, done=console.t("web.documents.unchanged", file=result.path))


async def document_view(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    docs = library(request)
    line, passages = await docs.document(actor(request), int(request.match_info["document_id"]))
    done = request.query.get("done", "")
    return console.render(request, "documents_view.html", line=line, passages=passages,
                          may_change=docs.may_change(actor(request)),
                          done=console.t(f"web.documents.{done}") if done in ("added", "replaced") else None)


async def document_delete_page(request: web.Request) -> web.Response:
    console: Console = request.app[CONSOLE]
    docs = library(request)
    line, _ = await docs.document(actor(request), int(request.match_info["document_id"]))
    docs.require_change(actor(request))  # the confirmation page only for those who may delete
    return console.render(request, "documents_delete.html", line=line)


async def document_delete(request: web.Request) -> web.Response:
    await library(request).delete(actor(request), int(request.match_info["document_id"]))
    raise web.HTTPSeeOther("/web/documents")


def routes() -> list[web.RouteDef]:
    return [web.get("/documents", documents_list), web.post("/documents", documents_upload),
            web.get("/documents/{document_id:\\d+}", document_view),
            web.get("/documents/{document_id:\\d+}/delete", document_delete_page),
            web.post("/documents/{document_id:\\d+}/delete", document_delete)]
