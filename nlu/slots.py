"""Small slot extractors over folded tokens (phase numbers, "the current one")."""

from __future__ import annotations

from collections.abc import Sequence

# "năm" (five/year) and "tư"/"từ" (four/from) are left out: folded, they are far more often not numbers
_NUMBER_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "nhi": 2, "ba": 3, "bon": 4}
_PHASE_WORDS = ("dot", "phase", "giai")
_CURRENT = {("hien", "tai"), ("hien", "nay"), ("bay", "gio"), ("luc", "nay"), ("dang", "dien"),
            ("nam", "nay"), ("thang", "nay")}
_CURRENT_SINGLE = {"current", "now", "nay"}


def phase_number(tokens: Sequence[str]) -> int | None:
    """"dot 2", "đợt thứ hai", "phase 1", "giai doan 2" -> the number."""
    for i, tok in enumerate(tokens):
        if tok not in _PHASE_WORDS:
            continue
        rest = list(tokens[i + 1:i + 6])
        if tok == "giai" and rest[:1] == ["doan"]:
            rest = rest[1:]
        if rest[:2] == ["thi", "dua"]:
            rest = rest[2:]
        if rest[:1] in (["thu"], ["so"]):
            rest = rest[1:]
        if not rest:
            continue
        word = rest[0]
        if word.isdigit() and 0 < int(word) < 20:
            return int(word)
        if word in _NUMBER_WORDS:
            return _NUMBER_WORDS[word]
    return None


def asks_current(tokens: Sequence[str]) -> bool:
    pairs = set(zip(tokens, tokens[1:], strict=False))
    return bool(pairs & _CURRENT) or any(t in _CURRENT_SINGLE for t in tokens)
