"""The audit log as a file for the union's records (the entries themselves are read by ``storage.audit``)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from pathlib import Path

from locales import Translator
from services.membership import CLI
from services.roster import write_table
from storage.audit import AuditLine, audit_of_subtree
from storage.db import Database
from storage.membership import AuditRepository, UnitRepository


class AuditExportRefused(ValueError):
    """An audit export that cannot run: ``str()`` says why (one line for the operator)."""


def export_audit(lines: list[AuditLine], path: Path, headers: list[str], sheet: str, tz: tzinfo) -> int:
    """Write the lines to .xlsx or .csv (by the file's suffix); times in the union's time zone."""
    rows = [(f"{line.at.astimezone(tz):%H:%M:%S %d/%m/%Y}", line.actor, line.actor_member_code, line.action,
             line.unit_code, line.target, json.dumps(line.details, ensure_ascii=False, sort_keys=True)
             if line.details else None) for line in lines]
    write_table(path, headers, rows, sheet=sheet)
    return len(rows)


class AuditService:
    """The audit log of a unit's subtree, exported by the operator at the terminal (``unionbot audit export``)."""

    def __init__(self, db: Database, t: Translator, clock: Callable[[], datetime], timezone: tzinfo) -> None:
        self.db = db
        self.t = t
        self.clock = clock
        self.tz = timezone

    async def export(self, unit_code: str, start: date | None, end: date | None, path: Path) -> int:
        """The entries about the unit and the units under it from ``start`` to ``end`` (the union's days; None:
        open) written to ``path`` (.csv or .xlsx); the export itself is audited. Raises ``AuditExportRefused``."""
        if (start is not None and end is not None and start > end) or path.suffix.lower() not in (".csv", ".xlsx"):
            raise AuditExportRefused(self.t("audit.cli.bad_args"))
        async with self.db.sessions.begin() as session:
            root = await UnitRepository(session).by_code(unit_code)
            if root is None:
                raise AuditExportRefused(self.t("member.unit.unknown", code=unit_code))
            lines = await audit_of_subtree(session, root, start, end, self.tz)
            count = export_audit(lines, path, self.t("audit.cli.headers").split("|"), self.t("audit.cli.sheet"),
                                 self.tz)
            await AuditRepository(session).record(actor=CLI, actor_member_id=None, action="export_audit",
                                                  unit_id=root.id, target=path.name, now=self.clock(), count=count)
        return count
