"""Personal details out of a text before it is kept: phone numbers, e-mail addresses, ID (CMND/CCCD) numbers,
bank accounts and street addresses are replaced by a marker (``[phone]``, ``[email]``, ``[id]``,
``[account]``, ``[address]``, ``[number]``) — used on every question stored in the unanswered log.

Matching is done on the folded text (accents optional: "số nhà" and "so nha" alike) and applied to the
original, so what is kept keeps its diacritics. Amounts ("2 triệu", "5.000.000 đồng"), percentages,
dates and years are kept: a chair reading the log needs the question, not the person.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from nlu.normalize import fold

#: (starting only where a run of such characters starts: linear on a long word, not quadratic)
_EMAIL = re.compile(r"(?<![\w.+\-])[\w.+\-]+@[\w\-]+(?:\.[\w\-]+)+")
#: a Vietnamese mobile or landline number: 0 or +84/84 then 9 (or 10) digits, spaces, dots or dashes between
_PHONE = re.compile(r"(?<![\w/.,])(?:\+84|0084|84|0)(?:[\s.\-]?\d){9,10}(?![\w/])")
#: an ID number named as such: CMND (9 digits), CCCD / căn cước (12), passport (letter + 7 digits)
_ID = re.compile(r"\b(?:cmnd|cccd|cmt|can cuoc(?: cong dan)?|chung minh(?: nhan dan| thu)?|ho chieu|passport|"
                 r"so dinh danh)\b[\s:#.\-]*(?:so\s*)?[:#]?\s*[a-z]?\d[\d\s.\-]{5,16}\d")
#: a bank account named as such: "stk", "số tài khoản", "tk", "tài khoản ngân hàng" then 6 to 19 digits
_ACCOUNT = re.compile(r"\b(?:stk|so tai khoan|so tk|tai khoan(?: ngan hang)?|tk|account|acc)\b[\s:#.\-]*"
                      r"(?:so\s*)?[:#]?\s*(?:[a-z]+\s+)?\d[\d\s.\-]{4,22}\d")
#: any other long run of digits (8 or more), unless it is an amount grouped by thousands ("10.000.000")
_LONG = re.compile(r"(?<![\w.,])(?!\d{1,3}(?:[.,]\d{3})+(?![\d]))\d(?:[\s\-.]?\d){7,}(?![\w])")
#: where an address starts: a house number with its street word, or the words "địa chỉ" / "số nhà"
_ADDRESS_START = re.compile(
    r"\b(?:dia chi(?: nha| la)?\s*:?|so nha|nha so|"
    r"(?:so\s+)?\d+[a-z]?(?:/\d+[a-z]?)*\s+(?=(?:ngo|ngach|hem|kiet|duong|pho|to|thon|xom|ap|khu pho)\b)|"
    r"(?:ngo|ngach|hem|kiet)\s+(?=\d))")
#: the parts of an address that follow, each after a comma: ward, district, province...
_ADDRESS_PART = re.compile(r"\s*(?:phuong|quan|huyen|xa|thi xa|thi tran|tp|thanh pho|tinh|p\.|q\.|khu pho|kp|"
                           r"to dan pho|to|thon|xom|ap|duong|pho|ngo|ngach|hem)\b")
_CLAUSE_END = re.compile(r"[,;.!?\n]|\s(?:va|nhung|ma|thi|de|xin|muon|can|duoc|co|bi)\s")


def _folded(text: str) -> str:
    """The folded text, one character for each of ``text``'s (so a match's span is the original's)."""
    return "".join(map(_folded_char, text))


@lru_cache(maxsize=4096)
def _folded_char(ch: str) -> str:
    """One character folded (each distinct character once: a text repeats a few dozen)."""
    f = fold(ch)
    return f[0] if f else " "


def _address_spans(folded: str) -> list[tuple[int, int]]:
    spans = []
    for start in _ADDRESS_START.finditer(folded):
        end = _clause_end(folded, start.end())
        while end < len(folded) and folded[end] == "," and _ADDRESS_PART.match(folded, end + 1):
            end = _clause_end(folded, end + 1)
        spans.append((start.start(), end))
    return spans


def _clause_end(folded: str, pos: int) -> int:
    found = _CLAUSE_END.search(folded, pos)
    return found.start() if found else len(folded.rstrip())


def scrub(text: str) -> str:
    """``text`` with its personal details replaced by markers (see the module's docstring)."""
    text = unicodedata.normalize("NFC", text or "")
    folded = _folded(text)
    spans: list[tuple[int, int, str]] = []
    for marker, pattern in (("[email]", _EMAIL), ("[id]", _ID), ("[account]", _ACCOUNT), ("[phone]", _PHONE)):
        spans.extend((m.start(), m.end(), marker) for m in pattern.finditer(folded))
    spans.extend((start, end, "[address]") for start, end in _address_spans(folded))
    spans.extend((m.start(), m.end(), "[number]") for m in _LONG.finditer(folded))
    out, pos = [], 0
    for start, end, marker in sorted(spans, key=lambda s: (s[0], -s[1])):
        if start < pos:  # inside a span already replaced
            continue
        out.append(text[pos:start].rstrip(" ") + (" " if start and text[pos:start].strip() else ""))
        out.append(marker)
        pos = end
    out.append(text[pos:])
    return "".join(out).strip()
