"""The errors a channel's sender raises when it cannot deliver a payload; the delivery worker
(bot/workers/delivery.py) acts on the type. Adapters map their platform's answers to these and import
nothing of the worker.

* ``RetryAfter(seconds)`` (429): the whole worker pauses for ``seconds``; the attempt is not a failure;
* ``Blocked`` (403): the recipient blocked the bot; the row is ``blocked`` and the recipient unreachable;
* ``Transient`` (5xx, network): retried with exponential backoff, ``failed`` after ``max_attempts``;
* ``Permanent`` (400 and the like): ``failed`` at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

#: awaited by a sender before every API call of a multi-part payload after the first (the worker's rate)
Pace = Callable[[], Awaitable[None]]


class DeliveryError(Exception):
    """A sender could not deliver a payload; the subclass says what the worker should do."""


class RetryAfter(DeliveryError):
    """Rate limited (429): nothing may be sent for ``seconds``."""

    def __init__(self, seconds: float, description: str = "") -> None:
        super().__init__(description or f"rate limited: retry after {seconds}s")
        self.seconds = float(seconds)


class Blocked(DeliveryError):
    """The recipient blocked the bot (403)."""


class Transient(DeliveryError):
    """Server error or network failure: worth retrying later."""


class Permanent(DeliveryError):
    """The request itself is wrong (400, unknown chat, ...): retrying cannot help."""
