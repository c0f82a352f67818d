"""Roster import and export: the member list of a unit as an Excel (.xlsx) or CSV file.

This module knows the file: its formats, the header vocabulary officers use, the validation and the
officers' messages (``roster.*`` in locales); ``storage.roster`` only looks members and units up and upserts.
Import reads the file, validates every row (collecting every problem, never stopping at the first) and
upserts the members by member code; ``import_members`` / ``export_members`` are the use cases (their own
transaction, the actor authorized on the unit, an audit entry), ``import_roster`` / ``export_roster`` the
same inside a caller's transaction. Export writes every member of a unit's subtree with the same Vietnamese
headers, so an exported file imports back unchanged. ``write_table`` is the one spreadsheet writer (rosters,
the requests export, the audit export).

Rules worth knowing:

* Member codes are stored in upper case; a code that already exists with another case is updated, not duplicated.
* A member code that already belongs to a unit outside the import unit's subtree is an issue: an officer can
  only update members of their own subtree.
* A column that is missing from the file leaves that field unchanged for members that already exist (a file
  with only codes and names does not erase phone numbers); an empty cell in a present column clears it.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from pathlib import Path

from locales import Translator
from services.actor import Actor
from services.authz import Action, authorize
from storage.db import Database
from storage.membership import AuditRepository, Member, MemberData, MemberRepository, Unit, UnitRepository
from storage.roster import StoredMember, chunks, members_by_code, units_by_code, upsert_members


@cache
def _messages() -> dict[str, str]:
    """The officer-facing strings of this module (``roster.*`` in locales/vi.yaml)."""
    table = Translator().tables["vi"]
    return {key.removeprefix("roster."): value for key, value in table.items() if key.startswith("roster.")}



FIELDS = ("member_code", "full_name", "unit_code", "phone", "birth_date", "joined_on", "status")
REQUIRED = ("member_code", "full_name")

# Header names as officers write them, folded (lower case, no diacritics, đ -> d, punctuation -> spaces).
HEADER_ALIASES: dict[str, tuple[str, ...]] = {
    "full_name": ("ho va ten", "ho ten", "ho va ten doan vien", "ho ten doan vien", "ten doan vien",
                  "full name", "fullname", "name"),
    "member_code": ("ma doan vien", "ma dv", "ma so doan vien", "ma so dv", "ma the", "ma the doan vien",
                    "member code", "code"),
    "phone": ("so dien thoai", "sdt", "so dt", "dien thoai", "di dong", "so di dong", "phone"),
    "birth_date": ("ngay sinh", "nam sinh", "ngay thang nam sinh", "dob", "birth date"),
    "joined_on": ("ngay vao cong doan", "ngay gia nhap", "ngay ket nap", "ngay vao cd", "joined on"),
    "status": ("trang thai", "tinh trang", "status"),
    "unit_code": ("ma don vi", "don vi", "to cong doan", "ma to", "unit code", "unit"),
}
_HEADER_FIELD = {alias: name for name, aliases in HEADER_ALIASES.items() for alias in aliases}

STATUS_VALUES = {
    "": "active", "dang sinh hoat": "active", "hoat dong": "active", "active": "active",
    "da nghi": "left", "nghi viec": "left", "chuyen di": "left", "left": "left",
}

HEADER_SEARCH_ROWS = 10  # a title block above the header row is common in rosters
MIN_BIRTH = date(1940, 1, 1)
MIN_AGE = 16

_CODE_RE = re.compile(r"[A-Za-z0-9_-]+")
_PHONE_RE = re.compile(r"0[35789]\d{8}")
_DATE_PATTERNS = (
    (re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})"), ("d", "m", "y")),
    (re.compile(r"(\d{1,2})-(\d{1,2})-(\d{4})"), ("d", "m", "y")),
    (re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"), ("y", "m", "d")),
)


def _msg(key: str, **values: object) -> str:
    return _messages()[key].format(**values)


def label(name: str) -> str:
    return _messages()[f"column.{name}"]


def fold(text: str) -> str:
    """Case-, accent- and spacing-insensitive form: "Họ  và TÊN (*)" -> "ho va ten"."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = "".join(ch for ch in unicodedata.normalize("NFD", text) if unicodedata.category(ch) != "Mn")
    text = re.sub(r"[^0-9a-z]+", " ", text.casefold())
    return text.strip()


@dataclass(frozen=True)
class RosterIssue:
    row: int  # spreadsheet row number (the header is row 1); 0 for the whole file
    column: str  # column label ("" when the issue is not about one column)
    message: str

    def render(self) -> str:
        if self.row <= 0:
            return self.message
        if not self.column:
            return _msg("issue.row", row=self.row, message=self.message)
        return _msg("issue.cell", row=self.row, column=self.column, message=self.message)


@dataclass(frozen=True)
class RosterRow:
    row: int
    member_code: str
    full_name: str
    unit_code: str | None
    phone: str | None
    birth_date: date | None
    joined_on: date | None
    status: str


@dataclass
class RosterReport:
    rows: list[RosterRow]  # the valid rows
    issues: list[RosterIssue]
    inserted: int = 0
    updated: int = 0
    skipped: int = 0  # invalid rows left out (skip_invalid=True)
    applied: bool = False  # whether the valid rows were written (False: the file was refused, nothing written)

    @property
    def ok(self) -> bool:
        return not self.issues

    @property
    def invalid_rows(self) -> int:
        """How many data rows have at least one issue."""
        return len({i.row for i in self.issues if i.row > 0})

    def render(self) -> str:
        """One line per issue, in file order; empty when there is none."""
        return "\n".join(issue.render() for issue in self.issues)

    def summary(self) -> str:
        return _msg("summary", inserted=self.inserted, updated=self.updated, skipped=self.skipped)

    def verdict(self) -> str:
        """What happened, in one line: the counts when rows were written, else why nothing was."""
        if self.applied:
            return self.summary()
        if self.invalid_rows:
            return _msg("refused.rows", rows=self.invalid_rows)
        return _msg("refused.file")


# --- reading -------------------------------------------------------------------------------------------------


def read_roster(path: Path) -> tuple[list[dict[str, object]], list[RosterIssue]]:
    """Raw data rows keyed by canonical field (plus "row", the spreadsheet row number) and header problems.

    Only the columns present in the file appear as keys; unknown columns are ignored, empty rows skipped.
    Rows come back empty when the file cannot be read or lacks a required column.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".xls":
        return [], [RosterIssue(0, "", _msg("file.xls"))]
    if suffix not in (".xlsx", ".xlsm", ".csv"):
        return [], [RosterIssue(0, "", _msg("file.unsupported", suffix=path.suffix or path.name))]
    if not path.is_file():
        return [], [RosterIssue(0, "", _msg("file.not_found", path=path.name))]
    if suffix == ".csv":
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError:
            return [], [RosterIssue(0, "", _msg("file.not_utf8"))]
        return _table_rows(_csv_records(text))
    try:
        import openpyxl

        workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # corrupt zip, not a workbook, ...: all mean the same to the officer
        return [], [RosterIssue(0, "", _msg("file.unreadable", error=exc.__class__.__name__))]
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()  # some generators write a wrong dimension; read every cell instead
        return _table_rows(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def _csv_records(text: str) -> Iterable[Sequence[object]]:
    sample = "\n".join(text.splitlines()[:20])
    try:
        delimiter = csv.Sniffer().sniff(sample, delimiters=",;").delimiter
    except csv.Error:
        delimiter = ";" if sample.count(";") > sample.count(",") else ","
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _table_rows(records: Iterable[Sequence[object]]) -> tuple[list[dict[str, object]], list[RosterIssue]]:
    records = iter(records)
    head: list[tuple[int, Sequence[object]]] = []
    header_at: int | None = None
    for number, values in enumerate(records, start=1):
        head.append((number, values))
        if _required_present(values):
            header_at = len(head) - 1
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if all(all(_blank(c) for c in values) for _, values in head):
        return [], [RosterIssue(0, "", _msg("file.empty"))]
    if header_at is None:
        # no row has both required columns: report against the first row that looks like a header
        candidates = [(n, v) for n, v in head if any(_HEADER_FIELD.get(fold(str(c))) for c in v if not _blank(c))]
        number, values = candidates[0] if candidates else (1, head[0][1] if head else ())
        _, issues = _map_header(number, values)
        return [], issues
    number, values = head[header_at]
    columns, issues = _map_header(number, values)
    rows: list[dict[str, object]] = []
    for row_number, cells in [*head[header_at + 1:], *enumerate(records, start=len(head) + 1)]:
        raw: dict[str, object] = {"row": row_number}
        empty = True
        for index, name in columns.items():
            value = cells[index] if index < len(cells) else None
            if isinstance(value, str):
                value = value.strip()
            raw[name] = value
            empty = empty and _blank(value)
        if not empty:
            rows.append(raw)
    if not rows and not issues:
        issues.append(RosterIssue(0, "", _msg("file.empty")))
    return rows, issues


def _required_present(values: Sequence[object]) -> bool:
    found = {_HEADER_FIELD.get(fold(str(v))) for v in values if not _blank(v)}
    return all(name in found for name in REQUIRED)


def _map_header(number: int, values: Sequence[object]) -> tuple[dict[int, str], list[RosterIssue]]:
    """Column index -> field; issues for missing required and repeated columns."""
    columns: dict[int, str] = {}
    seen: dict[str, str] = {}
    issues: list[RosterIssue] = []
    for index, value in enumerate(values):
        if _blank(value):
            continue
        title = " ".join(str(value).split())
        name = _HEADER_FIELD.get(fold(title))
        if name is None:
            continue
        if name in seen:
            issues.append(RosterIssue(number, title, _msg("header.duplicate", other=seen[name],
                                                          label=f"“{label(name)}”")))
            continue
        seen[name] = title
        columns[index] = name
    for name in REQUIRED:
        if name not in seen:
            issues.append(RosterIssue(number, label(name), _msg("header.missing", label=label(name))))
    return columns, issues


# --- validation ----------------------------------------------------------------------------------------------


def _text(value: object) -> str:
    """A cell as text: numbers without a spurious ".0", whitespace collapsed."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        value = value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return " ".join(str(value).split())


def clean_code(value: object) -> str:
    return _text(value).upper()


def normalize_phone(value: object) -> str | None:
    """"0912 345 678", "+84 912.345.678", "84912345678" -> "0912345678"; None when not a valid mobile number.

    A number cell (Excel drops the leading zero: 912345678) is accepted as well.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        if isinstance(value, float) and not value.is_integer():
            return None
        digits = str(int(value))
        if len(digits) == 9:
            digits = "0" + digits
    else:
        digits = re.sub(r"[\s.\-]", "", str(value))
    if digits.startswith("+84"):
        digits = "0" + digits[3:] if len(digits) == 12 else ""
    elif digits.startswith("84") and len(digits) == 11:
        digits = "0" + digits[2:]
    return digits if _PHONE_RE.fullmatch(digits) else None


def parse_date(value: object) -> date | str:
    """A date cell or text -> the date, or the key of the message saying why not."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return "date.year_only" if float(value).is_integer() and 1000 <= value <= 9999 else "date.invalid"
    text = _text(value)
    if re.fullmatch(r"\d{4}", text):
        return "date.year_only"
    for pattern, order in _DATE_PATTERNS:
        match = pattern.fullmatch(text)
        if match:
            parts = dict(zip(order, (int(g) for g in match.groups()), strict=True))
            try:
                return date(parts["y"], parts["m"], parts["d"])
            except ValueError:
                return "date.invalid"
    return "date.invalid"


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)


def _show(value: date) -> str:
    return value.strftime("%d/%m/%Y")


def parse_rows(raw: Iterable[Mapping[str, object]], *, import_unit: Unit, units: Mapping[str, Unit],
               now: datetime, existing: Mapping[str, Unit] | None = None) -> RosterReport:
    """Validate raw rows (from ``read_roster``).

    ``units`` maps upper-case unit codes to the units the file names (unknown codes are simply absent);
    ``existing`` maps upper-case member codes already in the database to their current unit.
    """
    existing = existing or {}
    today = now.date()
    youngest = _years_before(today, MIN_AGE)
    first_row: dict[str, int] = {}
    rows: list[RosterRow] = []
    issues: list[RosterIssue] = []
    for data in raw:
        number = int(data["row"])  # type: ignore[call-overload]
        found: list[RosterIssue] = []

        def issue(name: str, key: str, /, _found: list[RosterIssue] = found, _number: int = number,
                  **values: object) -> None:
            _found.append(RosterIssue(_number, label(name), _msg(key, **values)))

        code = clean_code(data.get("member_code"))
        if not code:
            issue("member_code", "code.required")
        else:
            if len(code) > 64:
                issue("member_code", "code.too_long", length=len(code))
            if not _CODE_RE.fullmatch(code):
                issue("member_code", "code.chars", value=_text(data.get("member_code")))
            if code in first_row:
                issue("member_code", "code.duplicate", value=code, other=first_row[code])
            else:
                first_row[code] = number
            current = existing.get(code)
            if current is not None and not import_unit.contains(current):
                issue("member_code", "code.elsewhere", value=code, unit=current.code, scope=import_unit.code)

        name = _text(data.get("full_name"))
        if not name:
            issue("full_name", "name.required")
        else:
            if len(name) > 200:
                issue("full_name", "name.too_long", length=len(name))
            if any(ch.isdigit() for ch in name):
                issue("full_name", "name.digits", value=name)

        unit_code = clean_code(data.get("unit_code")) or None
        if unit_code is not None:
            unit = units.get(unit_code)
            if unit is None:
                issue("unit_code", "unit.unknown", value=unit_code, scope=import_unit.code)
            elif not import_unit.contains(unit):
                issue("unit_code", "unit.outside", value=unit.code, scope=import_unit.code)
            else:
                unit_code = unit.code

        phone: str | None = None
        if not _blank(data.get("phone")):
            phone = normalize_phone(data["phone"])
            if phone is None:
                issue("phone", "phone.invalid", value=_text(data["phone"]))

        dates: dict[str, date | None] = {"birth_date": None, "joined_on": None}
        for field_name in dates:
            value = data.get(field_name)
            if _blank(value):
                continue
            parsed = parse_date(value)
            if isinstance(parsed, str):
                issue(field_name, parsed, label=_messages()[f"date.label.{field_name}"], value=_text(value))
            else:
                dates[field_name] = parsed
        birth, joined = dates["birth_date"], dates["joined_on"]
        if birth is not None and birth < MIN_BIRTH:
            issue("birth_date", "birth.too_early", value=_show(birth))
        elif birth is not None and birth > youngest:
            issue("birth_date", "birth.too_young", value=_show(birth), limit=_show(youngest))
        if joined is not None and joined > today:
            issue("joined_on", "joined.future", value=_show(joined))

        status_text = _text(data.get("status"))
        status = STATUS_VALUES.get(fold(status_text))
        if status is None:
            issue("status", "status.invalid", value=status_text)

        if found:
            issues.extend(found)
        else:
            rows.append(RosterRow(number, code, name, unit_code, phone, birth, joined, status or "active"))
    return RosterReport(rows=rows, issues=issues)


# --- the use cases -------------------------------------------------------------------------------------------


class RosterRefused(ValueError):
    """An import or export that cannot start (unknown unit, file type, an actor not allowed): ``str()`` says why."""


def _refuse(key: str, **values: object) -> RosterRefused:
    return RosterRefused(_msg(key, **values))


async def _scope(session, unit_code: str, actor: Actor | None, action: Action) -> Unit:
    scope = await UnitRepository(session).by_code(unit_code)
    if scope is None:
        raise _refuse("error.import_unit", code=unit_code.strip())
    if actor is not None:  # None: the operator at the terminal, who runs the whole deployment
        decision = authorize(actor.identity, action, scope)
        if not decision:
            raise RosterRefused(_translator()(decision.reason))
    return scope


@cache
def _translator() -> Translator:
    return Translator()


def _audit_actor(actor: Actor | None) -> tuple[str, int | None]:
    return ("cli", None) if actor is None else (actor.audit, actor.member_id)


async def import_roster(session, path: Path, unit_code: str, *, skip_invalid: bool = False,
                        now: datetime, progress: Callable[[int], None] | None = None,
                        actor: Actor | None = None) -> RosterReport:
    """Validate the file and upsert its members into ``unit_code``'s subtree, in the caller's transaction.

    With any issue and ``skip_invalid`` false nothing is written. With ``skip_invalid`` the valid rows are
    written and the invalid ones counted in ``skipped``; problems with the file or its header always stop
    the import. ``progress(n)`` is called with the number of rows just processed (an increment, as for a
    progress bar's ``update``), once per chunk of rows written. Raises ``RosterRefused`` (a ``ValueError``)
    for an unknown unit or an actor who may not import there.
    """
    scope = await _scope(session, unit_code, actor, Action.IMPORT_MEMBERS)
    raw, header_issues = read_roster(Path(path))
    if header_issues:
        return RosterReport(rows=[], issues=header_issues)

    present = set().union(*(r.keys() for r in raw))
    units = await units_by_code(session, (c for r in raw if (c := clean_code(r.get("unit_code")))))
    existing = await members_by_code(session, (c for r in raw if (c := clean_code(r.get("member_code")))))
    report = parse_rows(raw, import_unit=scope, units=units, now=now,
                        existing={code: m.unit for code, m in existing.items()})
    if report.issues and not skip_invalid:
        return report
    report.skipped = report.invalid_rows
    report.applied = True

    valid = {r.row: r for r in report.rows}
    for chunk in chunks(raw):
        records: list[MemberData] = []
        for data in chunk:
            r = valid.get(int(data["row"]))
            if r is None:
                continue
            records.append(_record(r, existing.get(r.member_code), units, scope, present))
        inserted, updated = await upsert_members(session, records, now)
        report.inserted += inserted
        report.updated += updated
        if progress is not None:
            progress(len(chunk))
    if report.inserted or report.updated:
        who, member_id = _audit_actor(actor)
        await AuditRepository(session).record(actor=who, actor_member_id=member_id, action="import_roster",
                                              unit_id=scope.id, target=Path(path).name, now=now,
                                              inserted=report.inserted, updated=report.updated,
                                              skipped=report.skipped)
    return report


def _record(r: RosterRow, old: StoredMember | None, units: Mapping[str, Unit], scope: Unit, present: set) -> MemberData:
    """What a valid row writes: a column missing from the file keeps an existing member's value."""
    if r.unit_code is not None:
        unit_id = units[r.unit_code.upper()].id
    elif old is not None and "unit_code" not in present:
        unit_id = old.unit.id  # no unit column: existing members stay where they are
    else:
        unit_id = scope.id
    return MemberData(
        member_code=old.member_code if old is not None else r.member_code,
        full_name=r.full_name,
        unit_id=unit_id,
        phone=r.phone if old is None or "phone" in present else old.phone,
        birth_date=r.birth_date if old is None or "birth_date" in present else old.birth_date,
        joined_on=r.joined_on if old is None or "joined_on" in present else old.joined_on,
        status=r.status if old is None or "status" in present else old.status,
    )


@dataclass
class RosterPreview:
    """What an import would do, before anything is written: the report's issues (by row), the members it
    would add, and the ones it would change with the columns that change (labels)."""

    report: RosterReport
    added: list[RosterRow]
    changed: list[tuple[RosterRow, list[str]]]
    unchanged: int = 0


async def preview_members(db: Database, path: Path, unit_code: str, *, now: datetime,
                          actor: Actor | None = None) -> RosterPreview:
    """Validate the file as ``import_roster`` does and say what it would write; writes nothing. Raises
    ``RosterRefused`` as the import does."""
    async with db.sessions() as session:
        scope = await _scope(session, unit_code, actor, Action.IMPORT_MEMBERS)
        raw, header_issues = read_roster(Path(path))
        if header_issues:
            return RosterPreview(RosterReport(rows=[], issues=header_issues), [], [])
        present = set().union(*(r.keys() for r in raw))
        units = await units_by_code(session, (c for r in raw if (c := clean_code(r.get("unit_code")))))
        existing = await members_by_code(session, (c for r in raw if (c := clean_code(r.get("member_code")))))
    report = parse_rows(raw, import_unit=scope, units=units, now=now,
                        existing={code: m.unit for code, m in existing.items()})
    preview = RosterPreview(report, [], [])
    for r in report.rows:
        old = existing.get(r.member_code)
        if old is None:
            preview.added.append(r)
            continue
        new = _record(r, old, units, scope, present)
        was = MemberData(member_code=old.member_code, full_name=old.full_name, unit_id=old.unit.id,
                         phone=old.phone, birth_date=old.birth_date, joined_on=old.joined_on, status=old.status)
        fields = [label(name) for name in FIELDS if name != "member_code" and
                  getattr(new, "unit_id" if name == "unit_code" else name) !=
                  getattr(was, "unit_id" if name == "unit_code" else name)]
        if fields:
            preview.changed.append((r, fields))
        else:
            preview.unchanged += 1
    return preview


async def import_members(db: Database, path: Path, unit_code: str, *, now: datetime, skip_invalid: bool = False,
                         progress: Callable[[int], None] | None = None, actor: Actor | None = None) -> RosterReport:
    """The roster import as one use case: its own transaction, the authorization, the audit entry."""
    async with db.sessions.begin() as session:
        return await import_roster(session, path, unit_code, skip_invalid=skip_invalid, now=now,
                                   progress=progress, actor=actor)


def member_table(members: Sequence[Member]) -> tuple[list[str], list[tuple]]:
    """The roster's headers and rows, in the import format (an exported file imports back unchanged)."""
    headers = [label(name) for name in FIELDS]
    rows = [(m.member_code, m.full_name, m.unit.code, m.phone, m.birth_date, m.joined_on,
             _messages().get(f"status.{m.status}", m.status)) for m in members]
    return headers, rows


async def export_roster(session, unit_code: str, path: Path, *, actor: Actor | None = None,
                        now: datetime | None = None) -> int:
    """Write every member of the unit's subtree to ``path`` (.xlsx, or .csv by suffix); returns how many.

    The CSV is UTF-8 with a byte-order mark and ";" between fields, as Excel with Vietnamese settings expects.
    With ``now`` the export is audited (in the caller's transaction).
    """
    path = Path(path)
    if path.suffix.lower() not in (".xlsx", ".csv"):
        raise _refuse("error.export_suffix", suffix=path.suffix or path.name)
    scope = await _scope(session, unit_code, actor, Action.VIEW_MEMBERS)
    members = await MemberRepository(session).in_subtree(scope)
    headers, rows = member_table(members)
    write_table(path, headers, rows, sheet=_messages()["sheet"])
    if now is not None:
        who, member_id = _audit_actor(actor)
        await AuditRepository(session).record(actor=who, actor_member_id=member_id, action="export_roster",
                                              unit_id=scope.id, target=path.name, now=now, count=len(members))
    return len(members)


async def export_members(db: Database, unit_code: str, path: Path, *, now: datetime,
                         actor: Actor | None = None) -> int:
    """The roster export as one use case: authorized, audited (who exported which unit's members, and how many)."""
    async with db.sessions.begin() as session:
        return await export_roster(session, unit_code, path, actor=actor, now=now)


# --- spreadsheets --------------------------------------------------------------------------------------------


def write_table(path: Path, headers: Sequence[str], rows: Iterable[Sequence], *, sheet: str,
                widths: Sequence[int] = (16, 32, 16, 16, 13, 20, 16)) -> None:
    """Write a table to .csv (UTF-8 with BOM, ";") or .xlsx (a bold frozen header, named sheet) by suffix."""
    if Path(path).suffix.lower() == ".csv":
        write_csv(path, headers, rows)
    else:
        write_xlsx(path, headers, rows, title=sheet, widths=widths)


def write_csv(path: Path, headers: Sequence[str], rows: Iterable[Sequence]) -> None:
    with Path(path).open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(headers)
        for row in rows:
            writer.writerow([_show(v) if isinstance(v, date) else ("" if v is None else v) for v in row])


def write_xlsx(path: Path, headers: Sequence[str], rows: Iterable[Sequence], title: str,
               widths: Sequence[int] = (16, 32, 16, 16, 13, 20, 16)) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])  # Excel's limit on a sheet name
    for index, width in enumerate(widths[:len(headers)], start=1):
        sheet.column_dimensions[get_column_letter(index)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header_cells = []
    for text in headers:
        cell = WriteOnlyCell(sheet, value=text)
        cell.font = bold
        header_cells.append(cell)
    sheet.append(header_cells)
    for row in rows:
        cells: list[object] = []
        for value in row:
            if isinstance(value, date):
                cell = WriteOnlyCell(sheet, value=value)
                cell.number_format = "DD/MM/YYYY"
                cells.append(cell)
            else:
                cells.append(value)  # phones stay text: Excel keeps their leading zero
        sheet.append(cells)
    workbook.save(path)
