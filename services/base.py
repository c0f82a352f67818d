"""What every service shares: how it says no, and how a caller makes a step happen once.

A service method owns its transaction. It either returns what it did (a small dataclass) or raises
:class:`Refused` with an interface-string key and its values, which the caller renders in the member's
language (a chat reply, a CLI line, later a web page). Nothing is written when it refuses.
"""

from __future__ import annotations

from typing import Any, Protocol


class Refused(Exception):  # noqa: N818 - an answer, not a bug
    """The use case did not happen: ``key`` (a locale key) says why, ``values`` fill its placeholders."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values


class AlreadyDone(Exception):  # noqa: N818 - an answer, not a bug
    """The step was taken already (a second tap, a retry, another worker): ``seen`` is what the caller's
    :class:`Once` found in its place, for the caller to answer the repeat with."""

    def __init__(self, seen: Any) -> None:
        super().__init__("already done")
        self.seen = seen


class Once(Protocol):
    """A caller's guard making a step happen once, taken in the service's own transaction (compare-and-set of
    the chat's conversation state, for instance): ``take`` returns a token, or None when the step was taken
    already; ``settle`` completes the token with what the step produced; ``current`` says what is there now."""

    async def take(self, session: Any) -> Any | None: ...

    async def settle(self, session: Any, taken: Any, **result: Any) -> None: ...

    async def current(self, session: Any) -> Any: ...
