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

from handlers.types import Incoming

#: the largest id a database column holds (PostgreSQL ``integer``; SQLite's are wider)
MAX_ID = 2**31 - 1
_KEPT = {"\n", "\t"}
_NEEDS_CLEANING = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")


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
    fields = {name: clean_text(getattr(incoming, name))
              for name in ("text", "action", "display_name", "contact_phone")}
    if all(fields[name] is getattr(incoming, name) for name in fields):
        return incoming
    return replace(incoming, **fields)


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
