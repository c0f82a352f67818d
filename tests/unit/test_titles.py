"""One title style over every knowledge entry (issue 15; the rule: docs/decisions.md, "Issue 15 (p15)"): a title
names the thing — it never states the answer (no amount, share or count: that is the first line's job) — where and
when go in the one parenthesis at its end, the year after a comma ("(Nam Từ Liêm, 2020)"); it starts with a
capital letter, ends with no full stop and fits a button (≤ 90 characters). A title renamed keeps the old one as
an alias, so what matched before still matches."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from storage.knowledge import load_directory

ENTRIES = load_directory(Path(__file__).resolve().parents[2] / "knowledge")
#: a figure of the answer: a number with the unit of an amount, a share or a count ("300 tỷ", "30%", "178 cá nhân")
FIGURE = re.compile(r"\d[\d.,]*\s*(?:%|tỷ|triệu|nghìn|ngàn|đồng|lượt|người|cá nhân|CNVCLĐ|suất)", re.IGNORECASE)
#: a place and a year in parentheses without the comma between them: "(Nam Từ Liêm 2020)"
YEAR_WITHOUT_COMMA = re.compile(r"\([^()]*[^\d\s,(–-]\s+\d{4}(?:\s*[–-]\s*\d{4})?\)")
#: the old titles, renamed by this rule
RENAMED = {
    "ntl-tien-an-ca": "Nâng tiền ăn ca trên 15.000 đồng/suất (Nam Từ Liêm)",
    "ntl-ho-tro-covid-2020": "Hỗ trợ người lao động khó khăn do Covid-19 (Nam Từ Liêm 2020)",
}


def _breaks(name: str) -> list[str]:
    unquoted = re.sub(r"\"[^\"]*\"|“[^”]*”", "", name)  # a programme's own name in quotes is its name
    broken = []
    if FIGURE.search(unquoted):
        broken.append("states a figure of the answer")
    if YEAR_WITHOUT_COMMA.search(name):
        broken.append("year without a comma in the parenthesis")
    if "(" in name and not name.endswith(")") and not re.search(r"\(\d{4}\): ", name):
        broken.append("a parenthesis not at the end")  # a person's title ("Chủ tịch … (2022): Tên") keeps its own
    if not name[:1].isupper() and not name[:1].isdigit() and name[:1] not in "\"“":
        broken.append("does not start with a capital letter")
    if name.rstrip()[-1:] in ".,;:":
        broken.append("ends with punctuation")
    if len(name) > 90:
        broken.append("longer than 90 characters")
    return broken


def test_every_title_follows_the_one_style():
    broken = {e.id: (e.name, _breaks(e.name)) for e in ENTRIES if _breaks(e.name)}
    assert not broken, broken


@pytest.mark.parametrize(("name", "ok"), [
    ("Gạo sạch Kim Sáng", True), ("Sữa Hà Lan giảm 30%", False), ("Vay vốn Quỹ Trợ vốn (Nam Từ Liêm, 2020)", True),
    ("Vay vốn Quỹ Trợ vốn (Nam Từ Liêm 2020)", False), ("Công đoàn Thủ đô chi trên 300 tỷ chăm lo Tết", False),
    ('Chương trình "1 triệu sáng kiến"', True), ("Chủ tịch LĐLĐ quận Ba Đình (2022): Nguyễn Xuân Trọng", True),
    ("Hiến máu tình nguyện.", False), ("Biểu dương cá nhân điển hình tiên tiến (Cụm thi đua số 6, 2015–2020)", True),
])
def test_the_rule_itself(name, ok):
    assert (not _breaks(name)) is ok, _breaks(name)


def test_a_renamed_title_keeps_the_old_one_as_an_alias():
    by_id = {e.id: e for e in ENTRIES}
    for entry_id, old in RENAMED.items():
        assert by_id[entry_id].name != old and old in by_id[entry_id].aliases
