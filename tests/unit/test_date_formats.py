"""One date format per kind (issue 15): a day is dd/mm/yyyy, a moment hh:mm dd/mm/yyyy (handlers/text.py's
``fmt_date`` / ``fmt_time``). Scanned in every rendered reply and notification template (locales/*.yaml,
locales/web, the web pages' templates) and in every date format the code writes (``strftime`` and f-strings).

The other kinds, each with its one format: an audit line's moment to the second (hh:mm:ss dd/mm/yyyy), a file
name's day stamp (yyyymmdd), a chart's day axis (dd/mm, in services/stats.py only)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = [*ROOT.glob("locales/*.yaml"), *ROOT.glob("locales/web/*.yaml"), *ROOT.glob("web/templates/*.html")]
CODE = [p for folder in ("bot", "handlers", "services", "storage", "web", "nlu", "locales")
        for p in (ROOT / folder).rglob("*.py")]
FORMATS = {"%d/%m/%Y", "%H:%M", "%H:%M %d/%m/%Y", "%H:%M:%S %d/%m/%Y", "%Y%m%d"}
CHART_AXIS = ("%d/%m", "services/stats.py")
_STRFTIME = re.compile(r"strftime\(\s*[\"']([^\"']*)[\"']")
_FSTRING = re.compile(r"\{[\w.()\[\], ]+:(%[^{}\"']*)\}")


def _formats(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return _STRFTIME.findall(text) + _FSTRING.findall(text)


@pytest.mark.parametrize("path", CODE + [p for p in TEMPLATES if p.suffix == ".html"],
                         ids=lambda p: str(p.relative_to(ROOT)))
def test_the_code_writes_dates_in_the_one_format_of_their_kind(path):
    where = str(path.relative_to(ROOT))
    wrong = [f for f in _formats(path) if f not in FORMATS and (f, where) != CHART_AXIS]
    assert not wrong, f"{where}: {wrong}"


#: a day with a one-digit day or month ("2/12/2026"), a moment written day first ("02/12/2026 08:00"), a time
#: with a one-digit hour ("8:00")
_SHORT_DAY = re.compile(r"(?<![\d/])(?:\d/\d{1,2}|\d{2}/\d)/\d{4}(?!\d)")
_DAY_FIRST = re.compile(r"\d{2}/\d{2}/\d{4},? \d{1,2}:\d{2}")
_SHORT_TIME = re.compile(r"(?<![\d:])\d:\d{2}(?!\d)")


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_template_writes_dates_in_the_one_format_of_their_kind(path):
    text = path.read_text(encoding="utf-8")
    found = [m.group(0) for pattern in (_SHORT_DAY, _DAY_FIRST, _SHORT_TIME) for m in pattern.finditer(text)]
    assert not found, f"{path.relative_to(ROOT)}: {found}"


def test_the_scan_finds_what_it_looks_for():
    assert _STRFTIME.findall('x.strftime("%d/%m/%Y %H:%M")') == ["%d/%m/%Y %H:%M"]
    assert _FSTRING.findall('f"{line.at.astimezone(tz):%d/%m/%Y %H:%M:%S}"') == ["%d/%m/%Y %H:%M:%S"]
    assert _SHORT_DAY.findall("ví dụ 21/7/2027, 5/07/2021") == ["21/7/2027", "5/07/2021"]
    assert not _SHORT_DAY.findall("15/11/2026, Bước 2/8, 25/12")
    assert _DAY_FIRST.findall("lúc 02/12/2026 08:00") and _SHORT_TIME.findall("lúc 8:00")
