"""The knowledge round trip through Excel: export the entries the signed-in officer may edit (one row per entry,
the columns of the console's entry form), edit the file, import it back with a preview of what changes (added,
changed field by field, problems by row), then apply it: every change a revision.

The rows are the entry form's fields (``web.app._fields`` / ``_entry_from``), so a cell means what the form's
field means; validation, authorization and revisions are ``KnowledgeService.save_all``'s (the YAML loader's
validation and the form's). An entry missing from the file is left alone: a chair's file holds only their
entries, and retiring stays a deliberate click on the entry's page.
"""

from __future__ import annotations

import base64
import binascii
import io
from datetime import date, datetime

from aiohttp import web

from services.knowledge import Change

MAX_BYTES = 700 * 1024
#: the columns, in order: the entry form's fields, and the unit the entry belongs to (its code; empty: the top)
COLUMNS = ("id", "kind", "name", "aliases", "summary", "details", "as_of", "unit", "source_document",
           "source_title", "source_passages", "block", "owner")
WIDTHS = (22, 12, 34, 28, 50, 40, 14, 24, 22, 28, 30, 40, 14)


def _app():
    import web.app as app

    return app


def _headers(t) -> list[str]:
    return [t(f"web.kb.{name}") for name in COLUMNS]


async def excel_page(request: web.Request) -> web.Response:
    app = _app()
    return request.app[app.CONSOLE].render(request, "knowledge_excel.html", changes=None, errors=[])


async def export(request: web.Request) -> web.Response:
    import openpyxl
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    app = _app()
    console = request.app[app.CONSOLE]
    views = [v for v in await console.knowledge.entries(app.actor(request)) if v.editable]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = console.t("web.kbx.sheet")[:31]
    sheet.append(_headers(console.t))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for view in views:
        fields = app._fields(view.entry.model_dump(mode="json", exclude_none=True))
        fields["owner"] = view.unit.code
        sheet.append([fields[name] for name in COLUMNS])
    wrap = Alignment(wrap_text=True, vertical="top")
    for index, width in enumerate(WIDTHS, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = wrap
    sheet.freeze_panes = "B2"
    out = io.BytesIO()
    book.save(out)
    return web.Response(body=out.getvalue(),
                        content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                        headers={"Content-Disposition": 'attachment; filename="kien-thuc.xlsx"',
                                 "Cache-Control": "no-store"})


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).replace("\r\n", "\n")


def read_sheet(data: bytes, t) -> tuple[list[tuple[int, dict, str]], list[str]]:
    """The file's rows as (row number, the loader's mapping, owner unit code); or the problems with the file."""
    import openpyxl

    app = _app()
    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # not an .xlsx (openpyxl raises several kinds)
        return [], [t("web.kbx.not_xlsx")]
    rows = book.worksheets[0].iter_rows(values_only=True)
    header = [_cell(v).strip() for v in next(rows, ())]
    by_label = {label: name for label, name in zip(_headers(t), COLUMNS, strict=True)}
    index = {by_label.get(h, h): i for i, h in enumerate(header)}
    missing = [t(f"web.kb.{name}") for name in ("id", "kind", "name", "summary") if name not in index]
    if missing:
        return [], [t("web.kbx.missing_columns", columns=", ".join(missing))]
    out = []
    for number, values in enumerate(rows, start=2):
        cells = {name: _cell(values[i]) if i < len(values) else "" for name, i in index.items() if name in COLUMNS}
        if not any(v.strip() for v in cells.values()):
            continue
        out.append((number, app._entry_from(cells), cells.get("owner", "").strip()))
    return out, []


async def import_sheet(request: web.Request) -> web.Response:
    """Without ``apply``: the uploaded file's preview (nothing written). With it: the file the preview carried
    back is applied, all or nothing. A row the officer may not change (another unit's entry) makes it 403, a row
    that is not valid 422; the page lists them by row either way."""
    app = _app()
    console = request.app[app.CONSOLE]
    form = await request.post()
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        data = upload.file.read(MAX_BYTES + 1)
    else:
        try:
            data = base64.b64decode(str(form.get("content", "")), validate=True)
        except binascii.Error:
            data = b""
    if not data or len(data) > MAX_BYTES:
        return console.render(request, "knowledge_excel.html", status=422, changes=None,
                              errors=[console.t("web.kbx.no_file" if not data else "web.kbx.too_big")])
    rows, problems = read_sheet(data, console.t)
    if problems:
        return console.render(request, "knowledge_excel.html", status=422, changes=None, errors=problems)
    applying = bool(form.get("apply"))
    results = await console.knowledge.save_all(app.actor(request), [(raw, owner) for _, raw, owner in rows],
                                               dry_run=not applying)
    lines = [(number, change, app.changes(change.before, change.after) if change.action == "edit" else [])
             for (number, _, _), change in zip(rows, results, strict=True)]
    failed = any(c.action == "error" for c in results)
    forbidden = any(e.startswith("authz.") for c in results for e in c.errors)  # another unit's entry
    return console.render(request, "knowledge_excel.html", status=403 if forbidden else 422 if failed else 200,
                          changes=lines,
                          errors=[], applied=applying and not failed, failed=failed,
                          counts=_counts(results), content=base64.b64encode(data).decode("ascii"))


def _counts(results: list[Change]) -> dict[str, int]:
    counts = dict.fromkeys(("create", "edit", "same", "error"), 0)
    for change in results:
        counts[change.action] += 1
    return counts


def routes() -> list[web.RouteDef]:
    return [web.get("/knowledge-excel", excel_page), web.get("/knowledge-excel/export", export),
            web.post("/knowledge-excel/import", import_sheet)]
