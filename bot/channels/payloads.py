"""Checks shared by the webhook adapters: a payload from outside is checked before anything acts on it."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

if TYPE_CHECKING:
    from aiohttp import web

INT64 = 2**63


class BadPayload(ValueError):
    """A webhook body or event that is not what the platform sends; the message names fields, never values."""


def check_numbers(value: Any, depth: int = 0) -> None:
    """Every integer within 64 bits and every float finite: ids and dates beyond that are not ids or dates
    (they would overflow the database's integers or the calendar)."""
    if depth > 64:
        raise BadPayload("nested too deep")
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int):
        if not -INT64 <= value < INT64:
            raise BadPayload("a number out of range")
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise BadPayload("a number out of range")
    elif isinstance(value, dict):
        for item in value.values():
            check_numbers(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            check_numbers(item, depth + 1)


def field_names(exc: ValidationError, limit: int = 5) -> str:
    """The fields a validation error is about ("message.chat.id, message.date"), without the values."""
    names = sorted({".".join(str(part) for part in error["loc"] if not isinstance(part, int))
                    for error in exc.errors()})
    return ", ".join(names[:limit]) or "the body"


class MessengerStopped(Exception):  # noqa: N818 - a state, not a bug
    """A messenger cannot go on (its token was rejected, the platform refuses its webhook): the message is the one
    clear line logged; the other messengers keep serving, and the process exits non-zero when none is left."""


async def read_body(request: web.Request, limit: int) -> bytes | None:
    """A webhook request's body; None when it is larger than ``limit`` bytes, as declared or as sent (a missing or
    false Content-Length reads at most one byte more than the limit)."""
    if (request.content_length or 0) > limit:
        return None
    body = await request.content.read(limit + 1)
    return None if len(body) > limit else body
