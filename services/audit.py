"""The audit log as a file for the union's records (the entries themselves are read by ``storage.audit``)."""

from __future__ import annotations

import json
from datetime import tzinfo
from pathlib import Path

from services.roster import write_table
from storage.audit import AuditLine


def export_audit(lines: list[AuditLine], path: Path, headers: list[str], sheet: str, tz: tzinfo) -> int:
    """Write the lines to .xlsx or .csv (by the file's suffix); times in the union's time zone."""
    rows = [(f"{line.at.astimezone(tz):%d/%m/%Y %H:%M:%S}", line.actor, line.actor_member_code, line.action,
             line.unit_code, line.target, json.dumps(line.details, ensure_ascii=False, sort_keys=True)
             if line.details else None) for line in lines]
    write_table(path, headers, rows, sheet=sheet)
    return len(rows)
