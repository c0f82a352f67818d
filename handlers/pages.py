"""Replies for a phone: at most ``MAX_LINES`` lines a message, the rest behind "xem thêm".

A handler that knows its layout gives the core a reply's first page and the pages after it
(``layout``: the lines that must stay on the first page, such as the source line, are its ``footer``);
any other reply over the limit is cut here at line ends (``split``). The core (``Core._settle``) shows
the first page with a "Xem thêm (còn N)" choice — a button on Telegram, a number on Zalo and the
console — and keeps the other pages in the chat's idle state, in the same write as the choices.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from handlers.text import split_text

#: lines a message shows before "xem thêm"
MAX_LINES = 6
#: characters a page holds (a long line is several lines on a phone)
MAX_CHARS = 700


def too_long(text: str) -> bool:
    return len(text.splitlines()) > MAX_LINES or len(text) > MAX_CHARS


_SENTENCE_END = re.compile(r"(?<=[.;!?…])\s+")


def _cut(line: str) -> list[str]:
    """A line over ``MAX_CHARS`` as pieces within it: whole sentences packed together, so a figure ("3 tỷ 521,45
    triệu đồng") is not cut; only a sentence longer than a page is cut at words."""
    pieces: list[str] = []
    for sentence in _SENTENCE_END.split(line):
        for part in split_text(sentence, MAX_CHARS) if len(sentence) > MAX_CHARS else [sentence]:
            if pieces and len(pieces[-1]) + 1 + len(part) <= MAX_CHARS:
                pieces[-1] = f"{pieces[-1]} {part}"
            else:
                pieces.append(part)
    return pieces


def _lines(texts: Sequence[str]) -> list[str]:
    """Lines, each within ``MAX_CHARS`` (a longer one is cut between sentences)."""
    out: list[str] = []
    for text in texts:
        for line in text.splitlines():
            out.extend(_cut(line) if len(line) > MAX_CHARS else [line])
    return out


def _chunks(lines: list[str], room: int, chars: int = MAX_CHARS) -> tuple[list[str], list[str]]:
    """The leading lines that fit ``room`` lines and ``chars`` characters (at least one), and the rest."""
    taken: list[str] = []
    size = 0
    for line in lines:
        if taken and (len(taken) >= room or size + len(line) + 1 > chars):
            break
        taken.append(line)
        size += len(line) + 1
    return taken, lines[len(taken):]


def layout(body: Sequence[str], footer: Sequence[str] = ()) -> tuple[str, tuple[str, ...]]:
    """The first page (the first lines of ``body``, then ``footer``) and the pages after it."""
    lines, tail = _lines(body), _lines(footer)
    if len(lines) + len(tail) <= MAX_LINES and sum(len(x) + 1 for x in (*lines, *tail)) <= MAX_CHARS + 1:
        return "\n".join((*lines, *tail)), ()
    room = max(1, MAX_LINES - len(tail))
    # the footer's characters are the first page's too: the body gets what is left (the footer stays on it)
    first, rest = _chunks(lines, room, MAX_CHARS - sum(len(x) + 1 for x in tail))
    pages: list[str] = []
    while rest:
        page, rest = _chunks(rest, MAX_LINES)
        pages.append("\n".join(page))
    return "\n".join((*first, *tail)), tuple(pages)


def split(text: str) -> tuple[str, tuple[str, ...]]:
    """Any reply cut into pages at line ends."""
    return layout(text.splitlines())


def remaining(pages: Sequence[str]) -> int:
    """The lines still to show (what "còn N" counts)."""
    return sum(len([x for x in p.splitlines() if x.strip()]) for p in pages)
