"""Text helpers shared by the core and the adapters (platform-neutral)."""

from __future__ import annotations

from datetime import date


def fmt_date(d: date) -> str:
    """As Vietnamese news writes dates: 1/7/2021."""
    return f"{d.day}/{d.month}/{d.year}"


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
