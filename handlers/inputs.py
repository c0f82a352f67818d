"""What a member types, made safe once: control characters stripped, ids and numbers range-checked.

Every parser of user input in the core is total: it returns a value or ``None`` (the caller answers with a
clear message), never raises. Python's ``str.isdigit`` accepts superscripts ("²") that ``int`` refuses, and
``int`` accepts any length, while the database stores 32-bit ids: these helpers take ASCII digits only and
check the range before a number reaches SQL.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import replace
from typing import Literal, overload

from handlers.types import Incoming
from nlu.normalize import fold

#: the largest id a database column holds (PostgreSQL ``integer``; SQLite's are wider)
MAX_ID = 2**31 - 1
#: "go back one step" in any form (the /hotro form, /thongbao composing), folded
BACK_WORDS = frozenset({"quay lai", "/quaylai", "back", "tro lai"})
_KEPT = {"\n", "\t"}
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


@overload
def clean_text(text: str) -> str: ...
@overload
def clean_text(text: str | None) -> str | None: ...
def clean_text(text: str | None) -> str | None:
    """Drop NUL and every other control character but newline and tab ("\\r\\n" becomes "\\n").

    PostgreSQL refuses NUL in text (``invalid byte sequence for encoding "UTF8": 0x00``) and lone surrogates
    cannot be encoded at all, so neither may reach storage."""
    if not text or not _NEEDS_CLEANING.search(text):
        return text
    text = text.replace("\r\n", "\n")
    return "".join(ch for ch in text if ch in _KEPT or unicodedata.category(ch) not in ("Cc", "Cs"))


def clean_incoming(incoming: Incoming) -> Incoming:
    """The event with its free text (message, display name, shared phone, button data) cleaned."""
    text, action = clean_text(incoming.text), clean_text(incoming.action)
    display_name, contact_phone = clean_text(incoming.display_name), clean_text(incoming.contact_phone)
    if text is incoming.text and action is incoming.action and display_name is incoming.display_name \
            and contact_phone is incoming.contact_phone:
        return incoming
    return replace(incoming, text=text, action=action, display_name=display_name, contact_phone=contact_phone)


def ascii_number(text: str | None, low: int, high: int) -> int | None:
    """"12" -> 12 when ``low <= 12 <= high``; anything else (superscripts, "1e9", 400 digits) -> None."""
    words = (text or "").strip()
    if not words or len(words) > len(str(high)) or not (words.isascii() and words.isdecimal()):
        return None
    value = int(words)
    return value if low <= value <= high else None


def parse_id(text: str | None) -> int | None:
    """A database id typed or carried in a button: 1 .. ``MAX_ID``, ASCII digits only; None otherwise."""
    return ascii_number(text, 1, MAX_ID)


# ----- amounts of money -------------------------------------------------------------------------------
_UNITS = {"k": 1_000, "nghin": 1_000, "ngan": 1_000, "trieu": 1_000_000, "tr": 1_000_000, "cu": 1_000_000,
          "ty": 1_000_000_000, "ti": 1_000_000_000,
          "thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}  # the form also takes English
_DIGIT_WORDS = {"khong": 0, "mot": 1, "mots": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5, "lam": 5,
                "sau": 6, "bay": 7, "tam": 8, "chin": 9}
_CURRENCY = {"d", "dong", "vnd", "chan", "khoang"}  # "2 triệu đồng chẵn", "khoảng 2 triệu"
_AMOUNT_TOKEN = re.compile(r"[0-9]+(?:[.,][0-9]+)*|[a-z]+")


def parse_vnd(text: str | None) -> int | None:
    """An amount of money as people write it -> whole đồng, or None when the text is no amount.

    "2.000.000đ", "2 triệu", "1,5tr", "1tr5" (1.5 million), "2 triệu rưỡi", "500 nghìn", "500k",
    "1 triệu 500 nghìn", "hai triệu", "năm trăm nghìn", "hai mươi lăm triệu". Total: no float, any length
    (the caller checks the range); a word that is no part of an amount makes the text no amount."""
    words = fold(text or "").replace("đ", "d").strip()
    found = _AMOUNT_TOKEN.findall(words)
    if not found or _AMOUNT_TOKEN.sub("", words).strip():
        return None  # "-2 triệu", "²": a character no amount has
    toks = [t for t in found if t not in _CURRENCY]
    total, last_unit, i = 0, None, 0
    pending: tuple[int, int] | None = None  # (value, its digits) of a quantity waiting for its unit
    while i < len(toks):
        t = toks[i]
        if t in _UNITS:
            unit = _UNITS[t]
            if pending is None or last_unit is not None and unit >= last_unit:
                return None  # "triệu" alone; "2 nghìn 3 triệu"
            total += pending[0] * unit // 10 ** pending[1]
            pending, last_unit = None, unit
            i += 1
        elif t == "ruoi":
            if pending is not None or last_unit is None:
                return None  # "2 rưỡi": half of what?
            total += last_unit // 2
            last_unit, i = last_unit // 2 or None, i + 1
        elif pending is not None:
            return None  # "2 3 triệu"
        elif t[0].isdigit():
            nxt = toks[i + 1] if i + 1 < len(toks) else None
            pending = _figure(t, nxt in _UNITS or nxt == "tram")
            if pending is None:
                return None
            i += 1
        else:
            j = i
            while j < len(toks) and (toks[j] in _DIGIT_WORDS or toks[j] in ("muoi", "tram", "linh", "le")):
                j += 1
            value = _number_words(toks[i:j])
            if value is None:
                return None
            pending, i = (value, 0), j
        if pending is not None and i < len(toks) and toks[i] == "tram":  # "5 trăm nghìn"
            pending, i = (pending[0] * 100, pending[1]), i + 1
    if pending is not None:
        if last_unit is None:
            if pending[1]:
                return None  # "1,5": a fraction of a đồng
            return pending[0]
        # what follows the last unit is its fraction: "1tr5", "1 triệu 2", "2 triệu 500" (1.5, 1.2, 2.5 million)
        digits = len(str(pending[0]))
        if pending[1] or digits > len(str(last_unit)) - 1:
            return None
        total += pending[0] * last_unit // 10 ** digits
    return total if toks else None


def _figure(token: str, before_unit: bool) -> tuple[int, int] | None:
    """A figure as (integer value, decimal places): "2.000.000" -> (2000000, 0); before a unit "1,5" -> (15, 1)."""
    groups = re.split(r"[.,]", token)
    if len(groups) == 1:
        return int(token), 0
    if all(len(g) == 3 for g in groups[1:]) and not (before_unit and len(groups) == 2):
        if len({s for s in token if s in ".,"}) > 1:
            return None
        return int("".join(groups)), 0
    if before_unit and len(groups) == 2:  # "1,5 triệu", "1.5tr": a decimal point
        return int("".join(groups)), len(groups[1])
    return None


def _number_words(words: list[str]) -> int | None:
    """Vietnamese number words below a thousand: "hai trăm năm mươi" -> 250, "mười lăm" -> 15."""
    if not words:
        return None
    total, cur = 0, None
    tens: bool | Literal["done"] = False  # "done": the tens were followed by their unit ("hai mươi mốt")
    for w in words:
        if w == "tram":
            if cur is None or cur >= 10:
                return None
            total, cur, tens = total + cur * 100, None, False
        elif w == "muoi":
            if cur is None:
                cur, tens = 10, True  # "mười"
            elif cur < 10 and not tens:
                cur, tens = cur * 10, True  # "hai mươi"
            else:
                return None
        elif w in ("linh", "le"):
            if cur is not None:
                return None
            tens = True
        elif cur is None:
            cur = _DIGIT_WORDS[w]
            if tens:  # "một trăm linh năm"
                tens = "done"
        elif tens is True and cur % 10 == 0:
            cur += _DIGIT_WORDS[w]
            tens = "done"
        else:
            return None  # "hai hai"
    return total + (cur or 0)
