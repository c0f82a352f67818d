"""``unionbot audit export``: the audit log of a unit's subtree as .csv or .xlsx (help texts from locales)."""

from pathlib import Path
from typing import Annotated

import typer

from bot.cli_texts import TranslatedCommand, TranslatedGroup
from locales import Translator


def audit_app(t: Translator) -> typer.Typer:
    """The ``audit`` commands, their help texts in ``t``'s default language."""
    audit = typer.Typer(add_completion=False, help=t("audit.cli.help"), rich_markup_mode=None,
                        pretty_exceptions_enable=False, cls=TranslatedGroup)

    @audit.command("export", help=t("audit.cli.export_help"), cls=TranslatedCommand)
    def audit_export(
        unit: Annotated[str, typer.Option("--unit", help=t("audit.cli.unit"), show_default=False)],
        out: Annotated[Path, typer.Option("--out", help=t("audit.cli.out"), show_default=False)],
        date_from: Annotated[str | None, typer.Option("--from", help=t("audit.cli.from"), show_default=False)]
        = None,
        date_to: Annotated[str | None, typer.Option("--to", help=t("audit.cli.to"), show_default=False)] = None,
    ) -> None:
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from bot.cli import _export, _fail, _settings
        from services.audit import AuditExportRefused, AuditService
        from services.roster import parse_date

        start = parse_date(date_from) if date_from else None
        end = parse_date(date_to) if date_to else None
        if isinstance(start, str) or isinstance(end, str):
            _fail(t("audit.cli.bad_args"))
        settings = _settings()
        zone = ZoneInfo(settings.timezone)
        _export(settings, lambda db: AuditService(db, t, lambda: datetime.now(UTC), zone).export(unit, start, end, out),
                AuditExportRefused, lambda count: t("audit.cli.written", count=count, path=out))

    return audit
