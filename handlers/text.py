"""Text helpers shared by the core and the adapters (platform-neutral)."""

from __future__ import annotations

from datetime import date, datetime, tzinfo


def fmt_date(d: date) -> str:
    """A date, one format in every reply and notification: 01/07/2021 (dd/mm/yyyy)."""
    return f"{d:%d/%m/%Y}"


def fmt_time(moment: datetime, tz: tzinfo | None = None) -> str:
    """A moment, one format in every reply and notification: 08:00 01/07/2021 (hh:mm dd/mm/yyyy), in ``tz``."""
    local = moment.astimezone(tz) if tz is not None else moment
    return f"{local:%H:%M} {fmt_date(local.date())}"


def clip(text: str, limit: int) -> str:
    """Shorten to ``limit`` characters at a word boundary, with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:") + "…"


def split_text(text: str, limit: int) -> list[str]:
    """Split into chunks of at most ``limit`` characters: at paragraph breaks, then lines, then words."""
    if limit < 1:
        raise ValueError("limit must be positive")
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[: limit + 1]
        cut = -1
        for sep in ("\n\n", "\n", " "):
            cut = window.rfind(sep)
            if cut > limit // 3:
                break
        if cut <= 0:
            cut = limit
        piece = rest[:cut].rstrip()
        if piece:
            chunks.append(piece)
        rest = rest[cut:].lstrip()
    if rest.strip() or not chunks:
        chunks.append(rest)
    return chunks
