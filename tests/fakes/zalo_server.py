"""An offline fake of the Zalo Bot Platform API for end-to-end tests of the bot.

The real service lives at ``https://bot-api.zaloplatforms.com`` and copies the shape of the Telegram Bot API:
``POST {base}/bot<TOKEN>/<method>`` with a JSON body, answers ``{ok, result, description, error_code}``.
The differences that matter, all reproduced here (see ``/work/shared/research/zalo.md`` §1 and §6.3):

* ``getUpdates`` answers ONE update (an object, not a list); when nothing arrives within ``timeout`` seconds it
  answers HTTP 408 ``{"ok": false, "error_code": 408, "description": "Request timeout"}`` ("no updates", not a
  failure). There is no ``offset``. While a webhook is set it refuses to work (HTTP 409 here; the real code is
  undocumented, so bot code should only rely on ``ok`` being false).
* ids are hex strings, ``date`` is in milliseconds, text and captions are 1–2,000 characters, there are no buttons.
* webhook requests carry the secret in ``X-Bot-Api-Secret-Token``; the docs show the body wrapped in
  ``{"ok": true, "result": event}`` while working implementations see the bare event, so the fake can send both.

Typical use::

    async with FakeZalo.running(token="zalo-token-1") as fake:
        bot = start_bot(base_url=fake.base_url, token=fake.token)
        lan = fake.user("a1b2c3d4e5f60718", display_name="Lan")
        replies = await lan.says("xin chào")          # waits until the bot answered and went quiet
        assert "chào" in lan.last_reply.text
        fake.fail("sendMessage", 429, retry_after=1)  # next sendMessage is rate-limited

The server binds 127.0.0.1 on a free port only. Everything runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import secrets
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import aiohttp
from aiohttp import web

__all__ = [
    "DEFAULT_BOT_ID",
    "EVENT_IMAGE",
    "EVENT_STICKER",
    "EVENT_TEXT",
    "EVENT_UNSUPPORTED",
    "SECRET_HEADER",
    "Call",
    "ChatAction",
    "ChatLog",
    "FakeUser",
    "FakeZalo",
    "Fault",
    "SentMessage",
    "WebhookDelivery",
    "new_hex_id",
    "now_ms",
]

DEFAULT_TOKEN = "zalo-token-1"
DEFAULT_BOT_ID = "1459232241454765289"  # the getMe sample of the official docs (digits only, still a hex string)
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_TEXT = 2000

EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"

CHAT_ACTIONS = frozenset({"typing", "upload_photo"})
DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    408: "Request timeout",
    409: "Conflict",
    429: "Quota exceeded",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}

_HEX = re.compile(r"^[0-9a-f]+$")
_UNSET: Any = object()
_POLL_STEP = 0.01


def now_ms() -> int:
    """Current time in epoch milliseconds, the unit Zalo uses for ``date`` and ``updated_at``."""
    return int(time.time() * 1000)


def new_hex_id(nbytes: int = 10) -> str:
    """A random lowercase hex id shaped like Zalo's (20 hex digits by default)."""
    return secrets.token_hex(nbytes)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units; assign to ``FakeZalo.text_length`` to count the stricter way."""
    return len(text.encode("utf-16-le")) // 2


# ------------------------------------------------------------------------------------------------ records


@dataclass
class Call:
    """One HTTP request the bot made to the fake (including rejected and failed ones)."""

    method: str
    params: dict[str, Any]
    status: int
    response: Any
    token_ok: bool
    at: float  # event-loop time

    @property
    def ok(self) -> bool:
        return isinstance(self.response, dict) and self.response.get("ok") is True

    @property
    def chat_id(self) -> str | None:
        value = self.params.get("chat_id")
        return None if value is None else str(value)


@dataclass
class SentMessage:
    """A message the bot sent (sendMessage / sendPhoto / sendSticker) that the fake accepted."""

    chat_id: str
    kind: str  # "text" | "photo" | "sticker"
    message_id: str
    date: int  # ms
    text: str | None = None
    photo: str | None = None
    caption: str | None = None
    sticker: str | None = None
    #: with ``fetch_photos``: the bytes and content type the fake fetched from ``photo``
    photo_data: bytes | None = None
    photo_type: str | None = None

    @property
    def content(self) -> str | None:
        """The text, else the caption, else the photo url, else the sticker id."""
        return self.text or self.caption or self.photo or self.sticker


class ChatAction(NamedTuple):
    chat_id: str
    action: str


@dataclass
class ChatLog:
    chat_id: str
    messages: list[SentMessage] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)

    @property
    def texts(self) -> list[str]:
        return [m.text for m in self.messages if m.kind == "text" and m.text is not None]

    @property
    def last(self) -> SentMessage | None:
        return self.messages[-1] if self.messages else None


class WebhookDelivery(NamedTuple):
    """One POST the fake made to the bot's webhook. ``status`` is None when the connection failed."""

    message_id: str | None
    status: int | None
    event_name: str | None = None
    wrapped: bool | None = None
    secret: str | None = None


@dataclass
class Fault:
    """A scripted failure; see ``FakeZalo.fail``."""

    method: str  # "*" matches every method
    status: int
    times: int | None = 1  # None: until cleared
    retry_after: int | None = None
    description: str | None = None
    chat_id: str | None = None
    raw_body: str | None = None
    hits: int = 0

    @property
    def exhausted(self) -> bool:
        return self.times is not None and self.hits >= self.times

    def matches(self, method: str, chat_id: str | None) -> bool:
        if self.exhausted or self.method not in ("*", method):
            return False
        return self.chat_id is None or self.chat_id == chat_id


@dataclass
class _Queued:
    event: dict[str, Any]
    served: int = 0
    consumed: asyncio.Event = field(default_factory=asyncio.Event)


class _ApiError(Exception):
    def __init__(self, status: int, description: str | None = None, *, parameters: dict | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description or DEFAULT_DESCRIPTIONS.get(status, "Error")
        self.parameters = parameters
        self.headers = headers or {}


def _message_id_of(event: Any) -> str | None:
    if isinstance(event, dict):
        inner = event.get("result") if isinstance(event.get("result"), dict) else event
        message = inner.get("message")
        if isinstance(message, dict) and message.get("message_id") is not None:
            return str(message["message_id"])
    return None


def _event_name_of(event: Any) -> str | None:
    if isinstance(event, dict):
        inner = event.get("result") if isinstance(event.get("result"), dict) else event
        name = inner.get("event_name")
        return str(name) if name is not None else None
    return None


# ------------------------------------------------------------------------------------------------ users


class FakeUser:
    """A simulated Zalo user talking to the bot. Create with ``fake.user(...)``."""

    def __init__(self, fake: FakeZalo, user_id: str, display_name: str, chat_id: str, chat_type: str,
                 is_bot: bool = False) -> None:
        self.fake = fake
        self.id = user_id
        self.display_name = display_name
        self.chat_id = chat_id
        self.chat_type = chat_type
        self.is_bot = is_bot

    def __repr__(self) -> str:
        return f"FakeUser(id={self.id!r}, display_name={self.display_name!r}, chat_id={self.chat_id!r})"

    # -- event builders (no delivery) -------------------------------------------------------------------

    def _message(self, **content: Any) -> dict[str, Any]:
        message: dict[str, Any] = {
            "from": {"id": self.id, "display_name": self.display_name, "is_bot": self.is_bot},
            "chat": {"id": self.chat_id, "chat_type": self.chat_type},
        }
        message.update({k: v for k, v in content.items() if v is not None})
        message["message_id"] = new_hex_id()
        message["date"] = self.fake.now_ms()
        return message

    def text_event(self, text: str) -> dict[str, Any]:
        return {"event_name": EVENT_TEXT, "message": self._message(text=text)}

    def photo_event(self, url: str, caption: str | None = None) -> dict[str, Any]:
        return {"event_name": EVENT_IMAGE, "message": self._message(photo=url, caption=caption)}

    def sticker_event(self, sticker: str, url: str | None = None) -> dict[str, Any]:
        return {"event_name": EVENT_STICKER, "message": self._message(sticker=sticker, url=url)}

    def unsupported_event(self) -> dict[str, Any]:
        return {"event_name": EVENT_UNSUPPORTED, "message": self._message()}

    # -- conversations --------------------------------------------------------------------------------

    async def send_event(self, event: dict[str, Any], *, expect_reply: bool = True, wrapped: bool | None = None,
                         quiet: float = 0.15, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Deliver ``event`` (from this user's chat) and wait for the bot; see ``FakeZalo.exchange``."""
        return await self.fake.exchange(self.chat_id, event, expect_reply=expect_reply, wrapped=wrapped,
                                        quiet=quiet, timeout=timeout)

    async def says(self, text: str, **kwargs: Any) -> list[SentMessage]:
        """Send ``message.text.received``; returns the bot's new messages in this chat.

        Waits until the bot sent at least one message to the chat and then nothing for ``quiet`` seconds
        (``timeout`` 5 s in all). ``expect_reply=False`` waits for the bot to take the event and go quiet, and
        returns whatever it sent (possibly nothing) — use it to check that the bot ignores something.
        """
        return await self.send_event(self.text_event(text), **kwargs)

    async def sends_photo(self, url: str, caption: str | None = None, **kwargs: Any) -> list[SentMessage]:
        return await self.send_event(self.photo_event(url, caption), **kwargs)

    async def sends_sticker(self, sticker: str, url: str | None = None, **kwargs: Any) -> list[SentMessage]:
        return await self.send_event(self.sticker_event(sticker, url), **kwargs)

    async def sends_unsupported(self, **kwargs: Any) -> list[SentMessage]:
        return await self.send_event(self.unsupported_event(), **kwargs)

    @property
    def chat(self) -> ChatLog:
        return self.fake.chat(self.chat_id)

    @property
    def replies(self) -> list[SentMessage]:
        """Everything the bot has sent to this user's chat so far."""
        return list(self.chat.messages)

    @property
    def last_reply(self) -> SentMessage | None:
        return self.chat.last


# ------------------------------------------------------------------------------------------------ server


class FakeZalo:
    """The fake Bot Platform: an aiohttp app (``self.app``) plus state, users, fault injection and a webhook sender.

    Tunables (plain attributes, change them at any time):

    * ``max_poll_timeout`` (2.0) — getUpdates never blocks longer than this many seconds.
    * ``replay_updates`` (0) — each queued update is served this many extra times (the "consumed updates
      reappear" behaviour one implementation measured) to test de-duplication.
    * ``webhook_wrapped`` (None) — True: wrap webhook bodies in ``{"ok": true, "result": ...}``; False: bare
      event; None: alternate, starting with wrapped.
    * ``webhook_secret_override`` (None) — send this secret instead of the registered one;
      ``webhook_omit_secret`` (False) — send no secret header at all.
    * ``webhook_timeout`` (5.0) — seconds the fake waits for the bot's webhook to answer.
    * ``echo_bot_messages`` (False) — also deliver the bot's own messages back as events with ``from.is_bot``.
    * ``webhook_conflict_status`` (409) — HTTP status of getUpdates while a webhook is set.
    * ``webhook_info_404_when_unset`` (False) — getWebhookInfo answers 404 "Not Found" with no webhook
      (one implementation measured that); by default it answers ``{"url": "", ...}``.
    * ``require_https`` (False) — setWebhook refuses http:// urls like the real service.
    * ``max_text_length`` (2000) and ``text_length`` (``len``; ``utf16_len`` counts UTF-16 units).
    * ``fetch_photos`` (False) — sendPhoto fetches the photo URL, as the platform does to show it: anything but
      HTTP 200 with an image/* body (or a network error) is refused with 400 and nothing is sent; the bytes are
      kept in ``SentMessage.photo_data``. Off by default: most tests send made-up URLs.
    """

    def __init__(self, token: str = DEFAULT_TOKEN, *, bot_id: str = DEFAULT_BOT_ID, account_name: str = "bot.test",
                 account_type: str = "BASIC", can_join_groups: bool = False,
                 bot_display_name: str = "Bot Test") -> None:
        self.token = token
        self.bot_id = bot_id
        self.account_name = account_name
        self.account_type = account_type
        self.can_join_groups = can_join_groups
        self.bot_display_name = bot_display_name
        self.base_url = ""

        self.max_poll_timeout = 2.0
        self.replay_updates = 0
        self.webhook_wrapped: bool | None = None
        self.webhook_secret_override: str | None = None
        self.webhook_omit_secret = False
        self.webhook_timeout = 5.0
        self.echo_bot_messages = False
        self.webhook_conflict_status = 409
        self.webhook_info_404_when_unset = False
        self.require_https = False
        self.fetch_photos = False
        self.max_text_length = MAX_TEXT
        self.text_length: Callable[[str], int] = len
        self.now_ms: Callable[[], int] = now_ms

        self.calls: list[Call] = []
        self.sent: list[SentMessage] = []
        self.chat_actions: list[ChatAction] = []
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.faults: list[Fault] = []
        self.webhook_url = ""
        self.webhook_secret: str | None = None
        self.webhook_updated_at = 0

        self._chats: dict[str, ChatLog] = {}
        self._users: dict[str, FakeUser] = {}
        self._chat_types: dict[str, str] = {}
        self._updates: deque[_Queued] = deque()
        self._update_signal = asyncio.Event()
        self._wrap_next = True
        self._last_activity = 0.0
        self._chat_activity: dict[str, float] = {}
        self._webhook_tasks: set[asyncio.Task[int | None]] = set()
        self._session: aiohttp.ClientSession | None = None
        self._closing = False
        self._global_limit: float | None = None
        self._sent_times: deque[float] = deque()
        self.rate_limited = 0  # 429s served by the global cap
        self.busiest_second = 0  # most sendMessage/sendPhoto accepted in one sliding second

        self.app = web.Application()
        self.app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "sendPhoto": self._send_photo,
            "sendSticker": self._send_sticker,
            "sendChatAction": self._send_chat_action,
        }

    # -- lifecycle ------------------------------------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, token: str = DEFAULT_TOKEN, **kwargs: Any) -> AsyncIterator[FakeZalo]:
        """Serve a new fake on 127.0.0.1 (free port); ``fake.base_url`` is ``http://127.0.0.1:<port>``."""
        fake = cls(token, **kwargs)
        runner = web.AppRunner(fake.app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        try:
            port = runner.addresses[0][1]
            fake.base_url = f"http://127.0.0.1:{port}"
            yield fake
        finally:
            await fake.close()
            await runner.cleanup()

    async def close(self) -> None:
        """Wake long polls (they answer 408), stop webhook deliveries, close the client session."""
        self._closing = True
        self._update_signal.set()
        for task in list(self._webhook_tasks):
            task.cancel()
        if self._webhook_tasks:
            await asyncio.gather(*self._webhook_tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()
            self._session = None

    @property
    def api_url(self) -> str:
        """``{base_url}/bot{token}`` — append ``/<method>``."""
        return f"{self.base_url}/bot{self.token}"

    def url(self, method: str) -> str:
        return f"{self.api_url}/{method}"

    # -- bookkeeping ----------------------------------------------------------------------------------

    def chat(self, chat_id: str) -> ChatLog:
        chat_id = str(chat_id)
        if chat_id not in self._chats:
            self._chats[chat_id] = ChatLog(chat_id)
        return self._chats[chat_id]

    @property
    def chats(self) -> dict[str, ChatLog]:
        return dict(self._chats)

    def count(self, method: str, *, ok: bool | None = None) -> int:
        """How many requests for ``method`` reached the fake (``ok=True``/``False`` to filter by outcome)."""
        return sum(1 for c in self.calls if c.method == method and (ok is None or c.ok == ok))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    @property
    def pending_updates(self) -> int:
        """Updates queued for getUpdates and not yet served."""
        return len(self._updates)

    # -- fault injection ------------------------------------------------------------------------------

    def fail(self, method: str, status: int, *, times: int | None = 1, retry_after: int | None = None,
             description: str | None = None, chat_id: str | None = None, raw_body: str | None = None) -> Fault:
        """Make the next ``times`` calls of ``method`` ("*" = any) answer HTTP ``status`` with ``ok: false``.

        ``chat_id`` limits the fault to calls for that chat. For 429 the body carries
        ``parameters: {"retry_after": N}`` and the response a ``Retry-After: N`` header (N defaults to 1).
        ``raw_body`` replaces the JSON body by this text (e.g. an HTML error page from a proxy).
        ``times=None`` keeps failing until ``clear_faults()``.
        """
        if status == 429 and retry_after is None:
            retry_after = 1
        fault = Fault(method, status, times, retry_after, description,
                      None if chat_id is None else str(chat_id), raw_body)
        self.faults.append(fault)
        return fault

    def rate_limit(self, per_second: float | None) -> None:
        """A global cap on sendMessage/sendPhoto/sendSticker per sliding second; past it: 429, retry_after 1."""
        self._global_limit = per_second
        self._sent_times.clear()

    def _check_rate(self) -> None:
        if self._global_limit is None:
            return
        now = time.monotonic()
        while self._sent_times and now - self._sent_times[0] >= 1.0:
            self._sent_times.popleft()
        if len(self._sent_times) >= self._global_limit:
            self.rate_limited += 1
            raise _ApiError(429, "Quota exceeded", parameters={"retry_after": 1}, headers={"Retry-After": "1"})
        self._sent_times.append(now)
        self.busiest_second = max(self.busiest_second, len(self._sent_times))

    def clear_faults(self) -> None:
        self.faults.clear()

    def _take_fault(self, method: str, chat_id: str | None) -> Fault | None:
        for fault in self.faults:
            if fault.matches(method, chat_id):
                fault.hits += 1
                return fault
        return None

    # -- users and inbound events ---------------------------------------------------------------------

    def user(self, user_id: str | None = None, display_name: str = "Người dùng", *, chat_id: str | None = None,
             chat_type: str | None = None, is_bot: bool = False) -> FakeUser:
        """A simulated user (lowercase hex id; random when omitted). Same id → same object.

        By default the user talks in a private chat whose id is the user id; pass ``chat_id`` (and optionally
        ``chat_type``, default "GROUP" then) for a group.
        """
        user_id = new_hex_id() if user_id is None else str(user_id)
        if not _HEX.match(user_id):
            raise ValueError(f"Zalo ids are lowercase hex strings, got {user_id!r}")
        if user_id in self._users and chat_id is None and chat_type is None:
            return self._users[user_id]
        chat = user_id if chat_id is None else str(chat_id)
        kind = chat_type or ("PRIVATE" if chat == user_id else "GROUP")
        user = FakeUser(self, user_id, display_name, chat, kind, is_bot=is_bot)
        self._users.setdefault(user_id, user)
        self._chat_types.setdefault(chat, kind)
        return user

    def inject(self, event: dict[str, Any], wrapped: bool | None = None) -> dict[str, Any]:
        """Deliver a raw event without waiting: queue it for getUpdates, or POST it to the webhook when one is set.

        ``wrapped`` only matters for webhooks (None: ``webhook_wrapped``). Returns the event.
        """
        if self.webhook_url:
            self._spawn_webhook(event, wrapped)
        else:
            self._enqueue(event)
        return event

    async def deliver(self, event: dict[str, Any], wrapped: bool | None = None) -> int | None:
        """Like ``inject`` but waits: for a webhook, returns the bot's HTTP status (None if unreachable); for
        getUpdates, returns None once the bot has fetched the event."""
        if self.webhook_url:
            return await self._spawn_webhook(event, wrapped)
        queued = self._enqueue(event)
        await queued.consumed.wait()
        return None

    async def deliver_raw(self, event: dict[str, Any] | None = None, *, secret: str | None = _UNSET,
                          wrapped: bool | None = None, body: bytes | str | None = None, url: str | None = None,
                          content_type: str = "application/json") -> int:
        """POST one webhook request and return the HTTP status the bot answered.

        ``secret``: omitted → the usual secret (registered one, or the override); None → no header; a string →
        that header value. ``body`` sends these exact bytes instead of the JSON event (malformed-body tests).
        ``url`` defaults to the registered webhook. Send the same ``event`` twice for duplicate-delivery tests.
        Raises ``RuntimeError`` if there is no url or the bot cannot be reached.
        """
        target = url or self.webhook_url
        if not target:
            raise RuntimeError("no webhook set and no url given")
        status = await self._post_webhook(event if event is not None else {}, wrapped, secret=secret, body=body,
                                          url=target, content_type=content_type)
        if status is None:
            raise RuntimeError(f"webhook {target} unreachable")
        return status

    def _enqueue(self, event: dict[str, Any]) -> _Queued:
        queued = _Queued(event)
        self._updates.append(queued)
        self._update_signal.set()
        return queued

    def _spawn_webhook(self, event: dict[str, Any], wrapped: bool | None) -> asyncio.Task[int | None]:
        task = asyncio.get_running_loop().create_task(self._post_webhook(event, wrapped))
        self._webhook_tasks.add(task)
        task.add_done_callback(self._webhook_tasks.discard)
        return task

    def _next_wrapped(self) -> bool:
        if self.webhook_wrapped is not None:
            return self.webhook_wrapped
        wrapped, self._wrap_next = self._wrap_next, not self._wrap_next
        return wrapped

    async def _post_webhook(self, event: dict[str, Any], wrapped: bool | None, *, secret: str | None = _UNSET,
                            body: bytes | str | None = None, url: str | None = None,
                            content_type: str = "application/json") -> int | None:
        target = url or self.webhook_url
        if wrapped is None:
            wrapped = self._next_wrapped()
        if secret is _UNSET:
            if self.webhook_omit_secret:
                secret = None
            elif self.webhook_secret_override is not None:
                secret = self.webhook_secret_override
            else:
                secret = self.webhook_secret
        if body is None:
            payload = {"ok": True, "result": event} if wrapped else event
            data: bytes = json.dumps(payload, ensure_ascii=False).encode()
        else:
            data = body.encode() if isinstance(body, str) else body
        headers = {"Content-Type": content_type}
        if secret is not None:
            headers[SECRET_HEADER] = secret
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        status: int | None
        try:
            async with self._session.post(target, data=data, headers=headers,
                                          timeout=aiohttp.ClientTimeout(total=self.webhook_timeout)) as resp:
                await resp.read()
                status = resp.status
        except (aiohttp.ClientError, TimeoutError):
            status = None
        self.webhook_deliveries.append(WebhookDelivery(_message_id_of(event), status, _event_name_of(event),
                                                       wrapped if body is None else None, secret))
        return status

    # -- waiting --------------------------------------------------------------------------------------

    async def exchange(self, chat_id: str, event: dict[str, Any], *, expect_reply: bool = True,
                       wrapped: bool | None = None, quiet: float = 0.15, timeout: float = 5.0) -> list[SentMessage]:  # noqa: ASYNC109
        """Deliver ``event`` and return the bot's new messages in ``chat_id`` once it went quiet.

        Polling mode: waits until the bot fetched the event with getUpdates. Webhook mode: waits for the POST
        and raises ``AssertionError`` unless the bot answered 2xx. Then (``expect_reply``) waits for at least one
        new message in the chat, then for ``quiet`` seconds without any call for that chat. ``TimeoutError``
        after ``timeout`` seconds overall.
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        chat = self.chat(chat_id)
        start = len(chat.messages)
        mid = _message_id_of(event)
        if self.webhook_url:
            task = self._spawn_webhook(event, wrapped)
            try:
                status = await asyncio.wait_for(asyncio.shield(task), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise TimeoutError(f"webhook did not answer delivery of {mid} within {timeout}s") from None
            if status is None or not 200 <= status < 300:
                raise AssertionError(f"webhook {self.webhook_url} answered delivery of {mid} with HTTP {status}")
        else:
            queued = self._enqueue(event)
            try:
                await asyncio.wait_for(queued.consumed.wait(), max(deadline - loop.time(), 0))
            except TimeoutError:
                raise TimeoutError(f"the bot did not fetch update {mid} via getUpdates within {timeout}s "
                                   f"({self.count('getUpdates')} getUpdates calls so far)") from None
        consumed_at = loop.time()
        if expect_reply:
            while len(chat.messages) <= start:
                if loop.time() >= deadline:
                    raise TimeoutError(f"no reply in chat {chat_id} within {timeout}s after {mid}; "
                                       f"recent calls: {[(c.method, c.status) for c in self.calls[-5:]]}")
                await asyncio.sleep(_POLL_STEP)
        await self._wait_quiet(chat_id, quiet, deadline, since=consumed_at, drain=False)
        return chat.messages[start:]

    async def wait_idle(self, chat_id: str | None = None, quiet: float = 0.15, timeout: float = 5.0, *,  # noqa: ASYNC109
                        drain: bool = True) -> list[SentMessage]:
        """Wait until the bot made no call (for ``chat_id``, or at all) for ``quiet`` seconds, no webhook POST is in
        flight and (``drain``) no update is waiting in the getUpdates queue. Returns messages sent meanwhile."""
        loop = asyncio.get_running_loop()
        log = self.chat(chat_id).messages if chat_id is not None else self.sent
        start = len(log)
        await self._wait_quiet(None if chat_id is None else str(chat_id), quiet, loop.time() + timeout,
                               since=loop.time(), drain=drain)
        return log[start:]

    async def _wait_quiet(self, chat_id: str | None, quiet: float, deadline: float, *, since: float,
                          drain: bool) -> None:
        loop = asyncio.get_running_loop()
        while True:
            last = self._last_activity if chat_id is None else self._chat_activity.get(chat_id, 0.0)
            busy = bool(self._webhook_tasks) or (drain and bool(self._updates))
            if not busy and loop.time() - max(last, since) >= quiet:
                return
            if loop.time() >= deadline:
                raise TimeoutError(f"the bot did not go quiet (chat {chat_id}); "
                                   f"{len(self._updates)} queued updates, {len(self._webhook_tasks)} webhook POSTs")
            await asyncio.sleep(_POLL_STEP)

    def _touch(self, chat_id: str | None) -> None:
        now = asyncio.get_running_loop().time()
        self._last_activity = now
        if chat_id is not None:
            self._chat_activity[chat_id] = now

    # -- HTTP -----------------------------------------------------------------------------------------

    async def _read_params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if not request.can_read_body:
            return params
        if request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            params.update({k: v for k, v in form.items() if isinstance(v, str)})
            return params
        raw = await request.read()
        if not raw.strip():
            return params
        try:
            body = json.loads(raw)
        except ValueError:
            raise _ApiError(400, "Bad Request: invalid JSON body") from None
        if not isinstance(body, dict):
            raise _ApiError(400, "Bad Request: body must be a JSON object")
        params.update(body)
        return params

    @staticmethod
    def _error_body(err: _ApiError) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": err.status, "description": err.description}
        if err.parameters:
            body["parameters"] = err.parameters
        return body

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        token_ok = secrets.compare_digest(request.match_info["token"].encode(), self.token.encode())
        params: dict[str, Any] = {}
        status, body, headers, raw = 200, None, {}, None
        try:
            try:
                params = await self._read_params(request)
                parse_error = None
            except _ApiError as exc:
                parse_error = exc
            if not token_ok:
                raise _ApiError(401, "Unauthorized")
            handler = self._methods.get(method)
            if handler is None:
                raise _ApiError(404, "Not Found")
            if parse_error is not None:
                raise parse_error
            chat_id = None if params.get("chat_id") is None else str(params["chat_id"])
            if method != "getUpdates":
                self._touch(chat_id)
            fault = self._take_fault(method, chat_id)
            if fault is None and method in ("sendMessage", "sendPhoto", "sendSticker"):
                self._check_rate()
            if fault is not None:
                raw = fault.raw_body
                raise _ApiError(fault.status, fault.description,
                                parameters={"retry_after": fault.retry_after} if fault.retry_after else None,
                                headers={"Retry-After": str(fault.retry_after)} if fault.retry_after else None)
            result = await handler(params)
            body = {"ok": True} if result is None else {"ok": True, "result": result}
            if method != "getUpdates":
                self._touch(chat_id)
        except _ApiError as err:
            status, body, headers = err.status, self._error_body(err), err.headers
        loop = asyncio.get_running_loop()
        self.calls.append(Call(method, params, status, body if raw is None else raw, token_ok, loop.time()))
        if raw is not None:
            return web.Response(status=status, text=raw, content_type="text/html", headers=headers)
        return web.json_response(body, status=status, headers=headers,
                                 dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    # -- methods --------------------------------------------------------------------------------------

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": self.bot_id, "account_name": self.account_name, "account_type": self.account_type,
                "can_join_groups": self.can_join_groups}

    def _webhook_conflict(self) -> _ApiError:
        return _ApiError(self.webhook_conflict_status,
                         "webhook is active: getUpdates does not work while a webhook is set, call deleteWebhook")

    async def _get_updates(self, params: dict[str, Any]) -> dict[str, Any]:
        if self.webhook_url:
            raise self._webhook_conflict()
        try:
            timeout = float(params.get("timeout", 30))
        except (TypeError, ValueError):
            timeout = 30.0
        timeout = min(max(timeout, 0.0), self.max_poll_timeout)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            if self.webhook_url:
                raise self._webhook_conflict()
            if self._updates and not self._closing:
                queued = self._updates[0]
                queued.served += 1
                if queued.served > self.replay_updates:
                    self._updates.popleft()
                queued.consumed.set()
                return queued.event
            remaining = deadline - loop.time()
            if remaining <= 0 or self._closing:
                raise _ApiError(408, "Request timeout")
            self._update_signal.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._update_signal.wait(), remaining)

    async def _set_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        url, secret = params.get("url"), params.get("secret_token")
        if not isinstance(url, str) or not url:
            raise _ApiError(400, "Bad Request: url is required")
        if not url.startswith(("https://", "http://")) or (self.require_https and not url.startswith("https://")):
            raise _ApiError(400, "Bad Request: url must be an HTTPS url")
        if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
            raise _ApiError(400, "Bad Request: secret_token must be 8-256 characters")
        self.webhook_url, self.webhook_secret = url, secret
        self.webhook_updated_at = self.now_ms()
        self._update_signal.set()  # running long polls answer the conflict now
        return {"url": url, "updated_at": self.webhook_updated_at}

    async def _delete_webhook(self, params: dict[str, Any]) -> dict[str, Any]:
        self.webhook_url, self.webhook_secret = "", None
        self.webhook_updated_at = self.now_ms()
        return {"url": "", "updated_at": self.webhook_updated_at}

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        if not self.webhook_url and self.webhook_info_404_when_unset:
            raise _ApiError(404, "Not Found")
        return {"url": self.webhook_url, "updated_at": self.webhook_updated_at}

    @staticmethod
    def _chat_id(params: dict[str, Any]) -> str:
        chat_id = params.get("chat_id")
        if not isinstance(chat_id, str) or not chat_id:
            raise _ApiError(400, "Bad Request: chat_id is required (string)")
        return chat_id

    def _check_text(self, value: Any, name: str, *, required: bool) -> str | None:
        if value is None and not required:
            return None
        if not isinstance(value, str):
            raise _ApiError(400, f"Bad Request: {name} is required (string)")
        size = self.text_length(value)
        if not 1 <= size <= self.max_text_length:
            raise _ApiError(400, f"Bad Request: {name} must be 1-{self.max_text_length} characters, got {size}")
        return value

    def _record(self, chat_id: str, kind: str, **content: Any) -> dict[str, Any]:
        msg = SentMessage(chat_id, kind, new_hex_id(), self.now_ms(), **content)
        self.chat(chat_id).messages.append(msg)
        self.sent.append(msg)
        if self.echo_bot_messages:
            self.inject(self._echo_event(msg))
        return {"message_id": msg.message_id, "date": msg.date}

    def _echo_event(self, msg: SentMessage) -> dict[str, Any]:
        chat_type = self._chat_types.get(msg.chat_id, "PRIVATE")
        message: dict[str, Any] = {
            "from": {"id": self.bot_id, "display_name": self.bot_display_name, "is_bot": True},
            "chat": {"id": msg.chat_id, "chat_type": chat_type},
        }
        names = {"text": EVENT_TEXT, "photo": EVENT_IMAGE, "sticker": EVENT_STICKER}
        for key in ("text", "photo", "caption", "sticker"):
            if getattr(msg, key) is not None:
                message[key] = getattr(msg, key)
        message.update(message_id=msg.message_id, date=msg.date)
        return {"event_name": names[msg.kind], "message": message}

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        text = self._check_text(params.get("text"), "text", required=True)
        return self._record(chat_id, "text", text=text)

    async def _send_photo(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        photo = params.get("photo")
        if not isinstance(photo, str) or not photo:
            raise _ApiError(400, "Bad Request: photo is required (url or id)")
        caption = params.get("caption") or None
        self._check_text(caption, "caption", required=False)
        data = content_type = None
        if self.fetch_photos:
            data, content_type = await self._fetch_photo(photo)
        return self._record(chat_id, "photo", photo=photo, caption=caption, photo_data=data, photo_type=content_type)

    async def _fetch_photo(self, url: str) -> tuple[bytes, str]:
        """The photo at ``url``, as the platform fetches it to show it; 400 when it cannot (the real error text is
        undocumented)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        try:
            async with self._session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as response:
                body = await response.read()
                if response.status != 200 or not response.content_type.startswith("image/"):
                    raise _ApiError(400, f"Bad Request: photo url answered {response.status} {response.content_type}")
                return body, response.content_type
        except (aiohttp.ClientError, TimeoutError, ValueError):
            raise _ApiError(400, "Bad Request: photo url could not be fetched") from None

    async def _send_sticker(self, params: dict[str, Any]) -> dict[str, Any]:
        chat_id = self._chat_id(params)
        sticker = params.get("sticker")
        if not isinstance(sticker, str) or not sticker:
            raise _ApiError(400, "Bad Request: sticker is required")
        return self._record(chat_id, "sticker", sticker=sticker)

    async def _send_chat_action(self, params: dict[str, Any]) -> None:
        chat_id = self._chat_id(params)
        action = params.get("action")
        if action not in CHAT_ACTIONS:
            raise _ApiError(400, f"Bad Request: action must be one of {sorted(CHAT_ACTIONS)}")
        self.chat_actions.append(ChatAction(chat_id, action))
        self.chat(chat_id).actions.append(action)
        return None
