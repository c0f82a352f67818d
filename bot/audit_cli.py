"""``unionbot audit export``: the audit log of a unit's subtree as .csv or .xlsx (help texts from locales)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from locales import Translator

_t = Translator()  # the help texts are read when the command line is built
audit_app = typer.Typer(help=_t("audit.cli.help"))


@audit_app.command("export", help=_t("audit.cli.export_help"))
def audit_export(
    unit: Annotated[str, typer.Option("--unit", help=_t("audit.cli.unit"))],
    out: Annotated[Path, typer.Option("--out", help=_t("audit.cli.out"))],
    date_from: Annotated[str | None, typer.Option("--from", help=_t("audit.cli.from"))] = None,
    date_to: Annotated[str | None, typer.Option("--to", help=_t("audit.cli.to"))] = None,
) -> None:
    from bot.cli import _fail, _open_db, _run, _settings

    settings = _settings()

    async def work() -> None:
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from services.audit import export_audit
        from services.roster import parse_date
        from storage.audit import audit_of_subtree
        from storage.membership import AuditRepository, UnitRepository

        t = _t
        start = parse_date(date_from) if date_from else None
        end = parse_date(date_to) if date_to else None
        if isinstance(start, str) or isinstance(end, str) or (start and end and start > end) \
                or out.suffix.lower() not in (".csv", ".xlsx"):
            _fail(t("audit.cli.bad_args"))
        db = await _open_db(settings)
        try:
            async with db.sessions.begin() as session:
                root = await UnitRepository(session).by_code(unit)
                if root is None:
                    _fail(t("member.unit.unknown", code=unit))
                tz = ZoneInfo(settings.timezone)
                lines = await audit_of_subtree(session, root, start, end, tz)
                count = export_audit(lines, out, t("audit.cli.headers").split("|"), t("audit.cli.sheet"), tz)
                await AuditRepository(session).record(actor="cli", actor_member_id=None, action="export_audit",
                                                      unit_id=root.id, target=out.name, now=datetime.now(UTC),
                                                      count=count)
        finally:
            await db.dispose()
        print(t("audit.cli.written", count=count, path=out))

    _run(work())
