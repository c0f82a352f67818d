# ruff: noqa: ASYNC109  (the conversation helpers take a timeout on purpose: it is part of their API)
"""A fake Telegram Bot API server for offline end-to-end tests.

``FakeTelegram`` is an aiohttp application that answers ``/bot{token}/{method}`` the way
``https://api.telegram.org`` does, closely enough for aiogram to parse every answer, and keeps
a transcript of what the bot did.  Tests drive it as a conversation::

    async with FakeTelegram.running(token="123:ABC") as fake:
        bot = Bot("123:ABC", session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        ...start polling (or setWebhook) in the background...
        user = fake.user(101, first_name="Lan", language_code="vi")
        await user.says("/start")
        assert "Xin chao" in user.last_reply
        await user.presses("kb:menu")

What it does, in short:

* parameters are read from the query string, a JSON body, a urlencoded form or multipart form data
  (aiogram's ``AiohttpSession`` sends multipart; nested objects arrive as JSON strings and are decoded,
  ``attach://name`` values are replaced by the uploaded file);
* the answer is always ``{"ok": true, "result": ...}`` or ``{"ok": false, "error_code": N, "description": ...}``
  with the same HTTP status, plus ``parameters.retry_after`` for 429;
* Telegram's checks that bots trip over are imitated: empty or over-long text, over-long captions, broken HTML
  in ``parse_mode="HTML"``, unescaped reserved characters in MarkdownV2, callback data over 64 bytes,
  "message is not modified", unknown chats, answering a callback query twice, getUpdates while a webhook is set
  or from two pollers at once (409);
* injected updates go to ``getUpdates`` (long polling, capped at 2 s) or, once ``setWebhook`` was called,
  are POSTed to the webhook with ``X-Telegram-Bot-Api-Secret-Token``; a method returned in the webhook
  response (aiogram's ``handle_in_background=False``) is executed like Telegram does;
* faults (``fail``) and rate limits (``rate_limit``, ``per_chat_limit``) can be injected.

Everything binds to 127.0.0.1 on a random port; nothing reaches the network.
Known simplifications: chats and transcripts are shared by all tokens of one fake; failed webhook deliveries
are recorded but not retried; legacy ``Markdown`` text is not parsed.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, MultipartReader, web

BOT_USERNAME = "union_test_bot"
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
CALLBACK_DATA_LIMIT = 64
LONG_POLL_CAP = 2.0
#: Calls that change what the user sees in a chat; ``says``/``presses`` wait for one of them.
VISIBLE_METHODS = frozenset({"sendMessage", "editMessageText", "editMessageReplyMarkup", "sendPhoto"})
#: Calls counted by ``rate_limit`` / ``per_chat_limit``.
RATE_LIMITED_METHODS = frozenset({"sendMessage", "sendPhoto"})

DEFAULT_DESCRIPTIONS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Fields sent by aiogram as JSON strings inside form data.
_JSON_FIELDS = frozenset({
    "reply_markup", "reply_parameters", "link_preview_options", "entities", "caption_entities", "commands",
    "scope", "allowed_updates", "media", "results", "menu_button", "rights", "options", "message_ids",
})
_INT_FIELDS = frozenset({
    "chat_id", "message_id", "offset", "limit", "timeout", "reply_to_message_id", "max_connections",
    "from_chat_id", "user_id", "cache_time", "message_thread_id", "duration", "width", "height",
})
_BOOL_FIELDS = frozenset({
    "show_alert", "drop_pending_updates", "disable_notification", "disable_web_page_preview", "protect_content",
    "allow_sending_without_reply", "has_spoiler", "show_caption_above_media", "is_personal",
})
_CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice", "upload_document",
    "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})
_HTML_TAGS = frozenset({
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a", "code", "pre",
    "blockquote", "tg-emoji",
})
_HTML_TAG = re.compile(r"<(/?)([A-Za-z][\w-]*)(?:\s[^<>]*)?>")
_MD2_MUST_ESCAPE = frozenset(".!-=+#{}")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]+)?")
_MENTION = re.compile(r"(?<![\w@])@[A-Za-z0-9_]{5,32}")
_BOT_COMMAND_NAME = re.compile(r"[a-z0-9_]{1,32}")
_SECRET_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,256}")
_DEFAULT = object()


class ApiError(Exception):
    """An error answer: raised by method handlers, turned into ``{"ok": false, ...}``."""

    def __init__(self, status: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.status, self.description, self.retry_after = status, description, retry_after

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(description: str) -> ApiError:
    return ApiError(400, f"Bad Request: {description}")


@dataclass
class UploadedFile:
    """A file part of a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class StoredFile:
    """A file the fake knows: ``getFile`` answers with it, ``/file/bot{token}/{file_path}`` serves ``data``."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes

    def as_api(self) -> dict[str, Any]:
        return {"file_id": self.file_id, "file_unique_id": self.file_unique_id, "file_size": len(self.data),
                "file_path": self.file_path}


@dataclass
class Fault:
    """A prepared error answer for the next ``times`` calls of ``method`` (optionally only for one chat)."""

    method: str
    status: int
    times: int = 1
    retry_after: int | None = None
    description: str | None = None
    chat_id: int | str | None = None

    def matches(self, method: str, chat_id: int | str | None) -> bool:
        if self.times <= 0 or self.method.lower() != method.lower():
            return False
        return self.chat_id is None or str(self.chat_id) == str(chat_id)

    def error(self) -> ApiError:
        retry_after = self.retry_after
        if self.status == 429 and retry_after is None:
            retry_after = 1
        if self.description is not None:
            description = self.description
        elif self.status == 429:
            description = f"Too Many Requests: retry after {retry_after}"
        else:
            description = DEFAULT_DESCRIPTIONS.get(self.status) or HTTPStatus(self.status).phrase
        return ApiError(self.status, description, retry_after if self.status == 429 else None)


@dataclass
class Chat:
    """One chat as the fake sees it.

    ``messages`` is the transcript of the bot's messages (dicts with message_id, text, caption, photo,
    reply_markup, edited, date, plus parse_mode, raw_text, deleted); edits update the entry in place.
    ``callback_answers`` holds the bot's answerCallbackQuery calls for queries from this chat.
    """

    id: int
    type: str = "private"
    title: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    username: str | None = None
    blocked: bool = False
    messages: list[dict[str, Any]] = field(default_factory=list)
    callback_answers: list[dict[str, Any]] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)
    # Every message of the chat (user's and bot's) as the API object, by message_id.
    api_messages: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)
    # Transcript entries in the order they were created or changed (what ``says`` returns from).
    events: list[dict[str, Any]] = field(default_factory=list, repr=False)
    visible_calls: int = field(default=0, repr=False)
    last_activity: float = field(default=0.0, repr=False)
    _message_ids: itertools.count = field(default_factory=lambda: itertools.count(1), repr=False)

    def next_message_id(self) -> int:
        return next(self._message_ids)

    def as_api(self) -> dict[str, Any]:
        chat: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "first_name", "last_name", "username"):
            if getattr(self, key) is not None:
                chat[key] = getattr(self, key)
        return chat

    @property
    def last_message(self) -> dict[str, Any] | None:
        return self.messages[-1] if self.messages else None


@dataclass
class BotAccount:
    """State of one bot token: its user, pending updates, webhook and commands."""

    token: str
    user: dict[str, Any]
    pending: list[dict[str, Any]] = field(default_factory=list)
    handed_out: set[int] = field(default_factory=set)  # id() of pending updates getUpdates already returned
    webhook_url: str | None = None
    webhook_secret: str | None = None
    webhook_max_connections: int = 40
    webhook_allowed_updates: list[str] | None = None
    webhook_last_error: tuple[int, str] | None = None
    webhook_in_flight: int = 0
    webhook_worker: asyncio.Task | None = field(default=None, repr=False)
    commands: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    poll_generation: int = 0


@dataclass
class SimUser:
    """A simulated Telegram user; its private chat has ``chat_id == id``.

    The conversation helpers inject an update and wait until the bot answered in that chat and went quiet,
    then return the new or changed transcript entries (see ``FakeTelegram.wait_reply``).
    """

    fake: FakeTelegram = field(repr=False)
    id: int
    first_name: str = "Test"
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "vi"

    def as_api(self) -> dict[str, Any]:
        user: dict[str, Any] = {"id": self.id, "is_bot": False, "first_name": self.first_name}
        for key in ("last_name", "username", "language_code"):
            if getattr(self, key) is not None:
                user[key] = getattr(self, key)
        return user

    @property
    def chat(self) -> Chat:
        return self.fake.chat(self.id)

    @property
    def replies(self) -> list[dict[str, Any]]:
        """The bot's messages in the private chat, in order (deleted ones included, flagged)."""
        return self.chat.messages

    @property
    def last_reply(self) -> str | None:
        """Text (or caption) of the bot's last message in the private chat."""
        last = self.chat.last_message
        return None if last is None else (last["text"] if last["text"] is not None else last["caption"])

    @property
    def last_keyboard(self) -> list[list[dict[str, Any]]] | None:
        """Inline keyboard rows of the bot's last message that has one."""
        for entry in reversed(self.chat.messages):
            markup = entry.get("reply_markup") or {}
            if markup.get("inline_keyboard") and not entry.get("deleted"):
                return markup["inline_keyboard"]
        return None

    async def says(self, text: str, *, timeout: float = 5.0, expect_reply: bool = True) -> list[dict[str, Any]]:
        """Send ``text`` to the bot in the private chat and wait for its answer."""
        return await self.says_in(self.chat, text, timeout=timeout, expect_reply=expect_reply)

    async def says_in(self, chat: Chat | int, text: str, *, timeout: float = 5.0,
                      expect_reply: bool = True) -> list[dict[str, Any]]:
        """Send ``text`` in ``chat`` (e.g. a group from ``fake.group``) and wait for the bot's answer there."""
        chat = self.fake.chat(chat) if isinstance(chat, int) else chat
        message = self.fake.new_user_message(self, chat, text=text)
        return await self.fake.converse(chat, {"message": message}, timeout=timeout, expect_reply=expect_reply)

    async def sends_photo(self, file_id: str, caption: str | None = None, *, chat: Chat | int | None = None,
                          timeout: float = 5.0, expect_reply: bool = True) -> list[dict[str, Any]]:
        """Send a photo (known to the fake as ``file_id``; largest size has exactly that id)."""
        target = self.chat if chat is None else (self.fake.chat(chat) if isinstance(chat, int) else chat)
        sizes = self.fake.photo_sizes(file_id)
        message = self.fake.new_user_message(self, target, photo=sizes, caption=caption)
        return await self.fake.converse(target, {"message": message}, timeout=timeout, expect_reply=expect_reply)

    async def shares_contact(self, phone_number: str, *, first_name: str | None = None, own: bool = True,
                             timeout: float = 5.0, expect_reply: bool = True) -> list[dict[str, Any]]:
        """Share a contact (by default the user's own, as a "request_contact" keyboard button does)."""
        contact: dict[str, Any] = {"phone_number": phone_number, "first_name": first_name or self.first_name}
        if own:
            contact["user_id"] = self.id
        message = self.fake.new_user_message(self, self.chat, contact=contact)
        return await self.fake.converse(self.chat, {"message": message}, timeout=timeout,
                                        expect_reply=expect_reply)

    async def presses(self, data: str, *, message_id: int | None = None, chat: Chat | int | None = None,
                      timeout: float = 5.0, expect_reply: bool = True, strict: bool = True) -> list[dict[str, Any]]:
        """Press the inline button with callback ``data``.

        The button is looked for on message ``message_id`` or else on the bot's last message with an inline
        keyboard.  With ``strict`` a ``LookupError`` is raised when no button carries that data.
        Set ``expect_reply=False`` when the bot only answers the callback query (no visible message).
        """
        target = self.chat if chat is None else (self.fake.chat(chat) if isinstance(chat, int) else chat)
        entry = self.fake.keyboard_message(target, message_id)
        if strict:
            available = [b.get("callback_data") for row in entry["reply_markup"]["inline_keyboard"] for b in row]
            if data not in available:
                raise LookupError(f"no button with callback_data={data!r} on message {entry['message_id']}; "
                                  f"buttons: {available}")
        query = {
            "id": str(next(self.fake._callback_ids)),
            "from": self.as_api(),
            "message": target.api_messages[entry["message_id"]],
            "chat_instance": str(target.id),
            "data": data,
        }
        self.fake._callbacks[query["id"]] = {"chat_id": target.id, "answered": False, "data": data}
        return await self.fake.converse(target, {"callback_query": query}, timeout=timeout,
                                        expect_reply=expect_reply)

    def blocks_bot(self) -> None:
        """From now on sending to this user answers 403 "bot was blocked by the user"."""
        self.chat.blocked = True

    def unblocks_bot(self) -> None:
        self.chat.blocked = False


class FakeTelegram:
    """The fake server.  Create it with ``FakeTelegram.running(token=...)`` (an async context manager)."""

    def __init__(self, token: str = "123:ABC", *more_tokens: str, username: str = BOT_USERNAME) -> None:
        self.bots: dict[str, BotAccount] = {}
        for index, tok in enumerate((token, *more_tokens)):
            bot_id = int(tok.split(":", 1)[0]) if tok.split(":", 1)[0].isdigit() else 1000 + index
            user = {"id": bot_id, "is_bot": True, "first_name": "Union Test Bot",
                    "username": username if index == 0 else f"{username}_{index}",
                    "can_join_groups": True, "can_read_all_group_messages": False,
                    "supports_inline_queries": False}
            self.bots[tok] = BotAccount(token=tok, user=user)
        self.token = token
        self.chats: dict[int, Chat] = {}
        self.users: dict[int, SimUser] = {}
        self.files: dict[str, StoredFile] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.faults: list[Fault] = []
        self.faults_served: list[dict[str, Any]] = []
        self.webhook_deliveries: list[tuple[int, int]] = []
        self.webhook_secret_override: str | None = None
        #: Methods the bot returned in webhook responses (executed like ordinary calls, also listed in ``calls``).
        self.webhook_replies: list[tuple[str, dict[str, Any]]] = []
        self.base_url: str = ""
        self._handlers: dict[str, Callable[[BotAccount, dict[str, Any]], Awaitable[Any]]] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "sendPhoto": self._send_photo,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "getFile": self._get_file,
            "close": self._ok,
            "logOut": self._ok,
        }
        self._by_lower = {name.lower(): name for name in self._handlers}
        self._next_update_id = 10_000
        self._callback_ids = itertools.count(5_000_000)
        self._file_ids = itertools.count(1)
        self._callbacks: dict[str, dict[str, Any]] = {}
        self._last_activity = 0.0
        self._global_limit: float | None = None
        self._chat_limit: float | None = None
        self._sent_times: deque[float] = deque()
        self._chat_sent_times: dict[int, deque[float]] = {}
        self._runner: web.AppRunner | None = None
        self._client: ClientSession | None = None
        self._closing = False

    # ------------------------------------------------------------------ lifecycle

    @classmethod
    @contextlib.asynccontextmanager
    async def running(cls, token: str = "123:ABC", *more_tokens: str, **kwargs: Any) -> AsyncIterator[FakeTelegram]:
        """Start the fake on 127.0.0.1 with a random port for the duration of the block."""
        fake = cls(token, *more_tokens, **kwargs)
        await fake.start()
        try:
            yield fake
        finally:
            await fake.stop()

    def make_app(self) -> web.Application:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        return app

    async def start(self) -> None:
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"
        self._client = ClientSession(timeout=ClientTimeout(total=10))

    async def stop(self) -> None:
        self._closing = True
        for bot in self.bots.values():
            if bot.webhook_worker is not None:
                bot.webhook_worker.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await bot.webhook_worker
        if self._client is not None:
            await self._client.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def file_url(self) -> str:
        """Template for file downloads, like ``TelegramAPIServer.file``: ``{base}/file/bot{token}/{path}``."""
        return f"{self.base_url}/file/bot{{token}}/{{path}}"

    @property
    def bot(self) -> BotAccount:
        """The account of the first token."""
        return self.bots[self.token]

    @property
    def me(self) -> dict[str, Any]:
        return self.bot.user

    @property
    def commands(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """setMyCommands of the first token, keyed by (scope key, language_code or "")."""
        return self.bot.commands

    # ------------------------------------------------------------------ chats, users, faults

    def chat(self, chat_id: int) -> Chat:
        """The chat with that id; unknown positive ids become private chats."""
        if chat_id not in self.chats:
            if chat_id < 0:
                raise KeyError(f"unknown group {chat_id}: create it with fake.group()")
            self.chats[chat_id] = Chat(id=chat_id, type="private", first_name="Test")
        return self.chats[chat_id]

    def user(self, user_id: int, first_name: str = "Test", *, last_name: str | None = None,
             username: str | None = None, language_code: str | None = "vi") -> SimUser:
        """A simulated user (created once per id) and its private chat."""
        if user_id not in self.users:
            self.users[user_id] = SimUser(self, user_id, first_name, last_name, username, language_code)
            chat = self.chats.setdefault(user_id, Chat(id=user_id, type="private"))
            chat.first_name, chat.last_name, chat.username = first_name, last_name, username
        return self.users[user_id]

    def group(self, chat_id: int, title: str = "Test group", *, type: str | None = None) -> Chat:  # noqa: A002
        """A group chat; ids starting with -100 are supergroups unless ``type`` says otherwise."""
        if chat_id not in self.chats:
            kind = type or ("supergroup" if str(chat_id).startswith("-100") else "group")
            self.chats[chat_id] = Chat(id=chat_id, type=kind, title=title)
        return self.chats[chat_id]

    def fail(self, method: str, status: int, *, times: int = 1, retry_after: int | None = None,
             description: str | None = None, chat_id: int | str | None = None) -> Fault:
        """Answer the next ``times`` calls of ``method`` (for ``chat_id`` only, if given) with an error."""
        fault = Fault(method, status, times, retry_after, description, chat_id)
        self.faults.append(fault)
        return fault

    def rate_limit(self, per_second: float | None) -> None:
        """Global cap on sendMessage/sendPhoto per sliding second; past it: 429 with retry_after=1."""
        self._global_limit = per_second
        self._sent_times.clear()

    def per_chat_limit(self, per_second: float | None) -> None:
        """Same cap, counted per chat."""
        self._chat_limit = per_second
        self._chat_sent_times.clear()

    def count(self, method: str) -> int:
        """How many times ``method`` was called (faulted calls included; case-insensitive)."""
        return sum(1 for name, _ in self.calls if name.lower() == method.lower())

    def params_of(self, method: str) -> list[dict[str, Any]]:
        """The parameters of every call of ``method``, in order."""
        return [params for name, params in self.calls if name.lower() == method.lower()]

    # ------------------------------------------------------------------ updates

    def inject(self, update: dict[str, Any], *, token: str | None = None) -> int:
        """Queue a raw update for the bot (getUpdates or webhook).  Returns its update_id.

        Without ``update_id`` one is assigned; an explicit one is kept (inject the same update twice to test
        duplicate delivery).  Chats met in the update become known to the fake.
        """
        bot = self.bots[token or self.token]
        if "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
        self._next_update_id = max(self._next_update_id, update["update_id"] + 1)
        chat = _chat_of_update(update)
        if chat and chat.get("id") is not None and chat["id"] not in self.chats:
            self.chats[chat["id"]] = Chat(id=chat["id"], type=chat.get("type", "private"), title=chat.get("title"),
                                          first_name=chat.get("first_name"), username=chat.get("username"))
        bot.pending.append(update)
        self._ensure_webhook_worker(bot)
        return update["update_id"]

    def new_user_message(self, user: SimUser, chat: Chat, **content: Any) -> dict[str, Any]:
        """Create a message from ``user`` in ``chat`` (stored in the chat, not yet delivered).

        A ``text`` gets Telegram's entities (bot_command, mention) unless ``entities`` is given.
        """
        if isinstance(content.get("text"), str) and "entities" not in content:
            content["entities"] = text_entities(content["text"]) or None
        message = {"message_id": chat.next_message_id(), "date": int(time.time()), "chat": chat.as_api(),
                   "from": user.as_api(), **{k: v for k, v in content.items() if v is not None}}
        chat.api_messages[message["message_id"]] = message
        return message

    def photo_sizes(self, file_id: str, data: bytes | None = None) -> list[dict[str, Any]]:
        """PhotoSize list for a photo; the largest size has exactly ``file_id``."""
        sizes = []
        for suffix, (width, height) in (("-s", (90, 68)), ("", (1280, 960))):
            stored = self._store_file(f"{file_id}{suffix}", data or f"fake-photo:{file_id}{suffix}".encode(), "jpg")
            sizes.append({"file_id": stored.file_id, "file_unique_id": stored.file_unique_id, "width": width,
                          "height": height, "file_size": len(stored.data)})
        return sizes

    def keyboard_message(self, chat: Chat, message_id: int | None = None) -> dict[str, Any]:
        """Transcript entry of ``message_id``, or of the bot's last message with an inline keyboard."""
        for entry in reversed(chat.messages):
            if entry.get("deleted") or not (entry.get("reply_markup") or {}).get("inline_keyboard"):
                continue
            if message_id is None or entry["message_id"] == message_id:
                return entry
        raise LookupError(f"no bot message with an inline keyboard in chat {chat.id}"
                          + (f" (message_id={message_id})" if message_id is not None else ""))

    async def converse(self, chat: Chat, update: dict[str, Any], *, timeout: float = 5.0,
                       expect_reply: bool = True, quiet: float = 0.15) -> list[dict[str, Any]]:
        """Inject ``update`` and wait for the bot's reaction in ``chat``; return new/changed transcript entries."""
        start_calls, start_events = chat.visible_calls, len(chat.events)
        self.inject(update)
        if expect_reply:
            await self.wait_reply(chat, start_calls, timeout=timeout, quiet=quiet)
        else:
            await self.wait_idle(chat.id, quiet=quiet, timeout=timeout)
        new: list[dict[str, Any]] = []
        for entry in chat.events[start_events:]:
            if all(entry is not seen for seen in new):
                new.append(entry)
        return new

    async def wait_reply(self, chat: Chat, after_calls: int, *, timeout: float = 5.0, quiet: float = 0.15) -> None:
        """Wait until the bot made a visible call in ``chat`` beyond ``after_calls`` and then was quiet there."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            if chat.visible_calls > after_calls and now - chat.last_activity >= quiet:
                return
            if now >= deadline:
                recent = [name for name, _ in self.calls[-10:]]
                raise TimeoutError(f"the bot did not answer in chat {chat.id} within {timeout}s "
                                   f"(recent calls: {recent}; pending updates: {len(self.bot.pending)})")
            await asyncio.sleep(0.01)

    async def wait_idle(self, chat_id: int | None = None, quiet: float = 0.15, timeout: float = 5.0) -> None:
        """Wait until every injected update reached the bot and the bot (in ``chat_id``) was quiet for ``quiet``."""
        deadline = time.monotonic() + timeout
        while True:
            now = time.monotonic()
            last = self.chats[chat_id].last_activity if chat_id in self.chats else self._last_activity
            delivered = all(self._all_delivered(bot) for bot in self.bots.values())
            if delivered and now - last >= quiet:
                return
            if now >= deadline:
                raise TimeoutError(f"the fake did not become idle within {timeout}s "
                                   f"(undelivered updates: {not delivered})")
            await asyncio.sleep(0.01)

    def _all_delivered(self, bot: BotAccount) -> bool:
        if bot.webhook_url is not None:
            return not bot.pending and bot.webhook_in_flight == 0
        return all(id(update) in bot.handed_out for update in bot.pending)

    def _touch(self, chat_id: int | None) -> None:
        now = time.monotonic()
        self._last_activity = now
        if chat_id in self.chats:
            self.chats[chat_id].last_activity = now

    # ------------------------------------------------------------------ webhook delivery

    def _ensure_webhook_worker(self, bot: BotAccount) -> None:
        if bot.webhook_url is None or self._client is None:
            return
        if bot.webhook_worker is None or bot.webhook_worker.done():
            bot.webhook_worker = asyncio.get_running_loop().create_task(self._webhook_worker(bot))

    async def _webhook_worker(self, bot: BotAccount) -> None:
        """Deliver pending updates one by one, in order, while a webhook is set."""
        while bot.webhook_url is not None and not self._closing:
            if not bot.pending:
                await asyncio.sleep(0.01)
                continue
            update = bot.pending.pop(0)
            bot.webhook_in_flight += 1
            try:
                secret = bot.webhook_secret if self.webhook_secret_override is None else self.webhook_secret_override
                status = await self._post_webhook(bot, update, secret=secret, body=None, execute_reply=True)
                self.webhook_deliveries.append((update["update_id"], status))
                if not 200 <= status < 300:
                    bot.webhook_last_error = (int(time.time()), f"Wrong response from the webhook: {status}")
            finally:
                bot.webhook_in_flight -= 1
                self._touch(_chat_id_of_update(update))

    async def deliver_raw(self, update: dict[str, Any] | None = None, *, secret: Any = _DEFAULT,
                          body: bytes | None = None, token: str | None = None) -> int:
        """POST one update (or raw ``body`` bytes) to the webhook now and return the HTTP status.

        ``secret`` defaults to the configured secret token; pass a string to send another one, or None to send
        no secret header.  Not recorded in ``webhook_deliveries``; a 0 status means the connection failed.
        """
        bot = self.bots[token or self.token]
        if bot.webhook_url is None:
            raise RuntimeError("no webhook is set")
        if secret is _DEFAULT:
            secret = bot.webhook_secret
        if update is not None and "update_id" not in update:
            update = {"update_id": self._next_update_id, **update}
            self._next_update_id += 1
        return await self._post_webhook(bot, update or {}, secret=secret, body=body, execute_reply=False)

    async def _post_webhook(self, bot: BotAccount, update: dict[str, Any], *, secret: str | None,
                            body: bytes | None, execute_reply: bool) -> int:
        assert self._client is not None and bot.webhook_url is not None
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        data = body if body is not None else json.dumps(update, ensure_ascii=False).encode()
        try:
            async with self._client.post(bot.webhook_url, data=data, headers=headers) as response:
                status = response.status
                if execute_reply and status == 200:
                    reply = await _read_webhook_reply(response)
                    if reply and reply.get("method"):
                        method, params = str(reply.pop("method")), _decode_params(reply)
                        self.webhook_replies.append((method, params))
                        await self._call(bot, method, params)
        except ApiError:  # a broken method in the webhook answer: Telegram ignores it as well
            return status
        except (TimeoutError, ClientError):
            return 0
        return status

    # ------------------------------------------------------------------ HTTP layer

    async def _handle_api(self, request: web.Request) -> web.Response:
        bot = self.bots.get(request.match_info["token"])
        if bot is None:
            error = ApiError(401, "Unauthorized")
            return web.json_response(error.payload(), status=401)
        try:
            params = await _read_params(request)
        except ApiError as error:
            return web.json_response(error.payload(), status=error.status)
        except ValueError as exc:
            error = bad_request(f"can't parse request: {exc}")
            return web.json_response(error.payload(), status=400)
        status, payload = await self._call(bot, request.match_info["method"], params)
        return web.json_response(payload, status=status, dumps=lambda obj: json.dumps(obj, ensure_ascii=False))

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] not in self.bots:
            return web.Response(status=401)
        path = request.match_info["path"]
        for stored in self.files.values():
            if stored.file_path == path:
                return web.Response(body=stored.data, content_type="application/octet-stream")
        return web.json_response({"ok": False, "error_code": 404, "description": "Not Found"}, status=404)

    async def _call(self, bot: BotAccount, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Record, fault-inject, rate-limit and run one API call; returns (HTTP status, JSON body)."""
        name = self._by_lower.get(method.lower(), method)
        self.calls.append((name, params))
        chat_id = self._chat_id_of_call(name, params)
        if name != "getUpdates":
            self._touch(chat_id)
        handler = self._handlers.get(name)
        if handler is None:
            return 404, ApiError(404, "Not Found: method not found").payload()
        try:
            for fault in self.faults:
                if fault.matches(name, chat_id):
                    fault.times -= 1
                    error = fault.error()
                    self.faults_served.append({"method": name, "status": error.status, "chat_id": chat_id,
                                               "description": error.description, "kind": "fault"})
                    raise error
            if name in RATE_LIMITED_METHODS:
                self._check_rate(name, chat_id)
            result = await handler(bot, params)
        except ApiError as error:
            return error.status, error.payload()
        finally:
            if name != "getUpdates":
                self._touch(chat_id)
        return 200, {"ok": True, "result": result}

    def _chat_id_of_call(self, name: str, params: dict[str, Any]) -> int | str | None:
        if name == "answerCallbackQuery":
            info = self._callbacks.get(str(params.get("callback_query_id")))
            return info["chat_id"] if info else None
        return params.get("chat_id")

    def _check_rate(self, name: str, chat_id: Any) -> None:
        now = time.monotonic()
        windows: list[tuple[deque[float], float]] = []
        if self._global_limit is not None:
            windows.append((self._sent_times, self._global_limit))
        if self._chat_limit is not None and chat_id is not None:
            windows.append((self._chat_sent_times.setdefault(chat_id, deque()), self._chat_limit))
        for times, limit in windows:
            while times and now - times[0] >= 1.0:
                times.popleft()
            if len(times) >= limit:
                error = ApiError(429, "Too Many Requests: retry after 1", retry_after=1)
                self.faults_served.append({"method": name, "status": 429, "chat_id": chat_id,
                                           "description": error.description, "kind": "rate_limit"})
                raise error
        for times, _ in windows:
            times.append(now)

    # ------------------------------------------------------------------ method handlers

    async def _ok(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        return bot.user

    async def _get_updates(self, bot: BotAccount, p: dict[str, Any]) -> list[dict[str, Any]]:
        """Long polling: confirm updates below ``offset``, wait up to ``timeout`` (capped) for the rest."""
        if bot.webhook_url is not None:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")
        offset, limit = int(p.get("offset") or 0), int(p.get("limit") or 100)
        timeout = min(float(p.get("timeout") or 0), LONG_POLL_CAP)
        if offset > 0:
            bot.pending = [u for u in bot.pending if u["update_id"] >= offset]
            bot.handed_out = {i for i in bot.handed_out if any(id(u) == i for u in bot.pending)}
        bot.poll_generation += 1
        generation = bot.poll_generation
        deadline = time.monotonic() + timeout
        while True:
            if bot.poll_generation != generation:
                raise ApiError(409, "Conflict: terminated by other getUpdates request; "
                                    "make sure that only one bot instance is running")
            if bot.webhook_url is not None:
                raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                    "use deleteWebhook to delete the webhook first")
            batch = bot.pending[:max(1, min(limit, 100))]
            if batch or time.monotonic() >= deadline or self._closing:
                break
            await asyncio.sleep(0.01)
        for update in batch:
            bot.handed_out.add(id(update))
            self._touch(_chat_id_of_update(update))
        return batch

    async def _set_webhook(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        url = p.get("url") or ""
        secret = p.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(str(secret)):
            raise bad_request("secret token contains unallowed characters")
        if p.get("drop_pending_updates"):
            bot.pending.clear()
        if not url:
            bot.webhook_url = None
            return True
        if not url.startswith(("http://", "https://")):
            raise bad_request("bad webhook: An HTTPS URL must be provided for webhook")
        bot.webhook_url, bot.webhook_secret = url, secret
        bot.webhook_max_connections = int(p.get("max_connections") or 40)
        bot.webhook_allowed_updates = p.get("allowed_updates")
        bot.webhook_last_error = None
        bot.handed_out.clear()
        self._ensure_webhook_worker(bot)
        return True

    async def _delete_webhook(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        bot.webhook_url = bot.webhook_secret = None
        if p.get("drop_pending_updates"):
            bot.pending.clear()
        return True

    async def _get_webhook_info(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        info: dict[str, Any] = {"url": bot.webhook_url or "", "has_custom_certificate": False,
                                "pending_update_count": len(bot.pending)}
        if bot.webhook_url:
            info["max_connections"] = bot.webhook_max_connections
            info["ip_address"] = "127.0.0.1"
            if bot.webhook_allowed_updates:
                info["allowed_updates"] = bot.webhook_allowed_updates
            if bot.webhook_last_error:
                info["last_error_date"], info["last_error_message"] = bot.webhook_last_error
        return info

    async def _send_message(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p)
        text = render_text(p.get("text"), p.get("parse_mode"), limit=TEXT_LIMIT, what="message text")
        markup = _check_markup(p.get("reply_markup"))
        content: dict[str, Any] = {"text": text}
        if isinstance(p.get("link_preview_options"), dict):
            content["link_preview_options"] = p["link_preview_options"]
        return self._bot_message(bot, chat, p, content, markup, raw_text=p.get("text"))

    async def _send_photo(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        chat = self._target_chat(p)
        photo = p.get("photo")
        if isinstance(photo, UploadedFile):
            sizes = self.photo_sizes(f"fake-photo-{next(self._file_ids)}", photo.data)
        elif isinstance(photo, str) and photo:
            sizes = self.photo_sizes(photo)
        else:
            raise bad_request("there is no photo in the request")
        caption = None
        if p.get("caption") is not None:
            caption = render_text(p["caption"], p.get("parse_mode"), limit=CAPTION_LIMIT, what="message caption",
                                  allow_empty=True)
        markup = _check_markup(p.get("reply_markup"))
        content: dict[str, Any] = {"photo": sizes}
        if caption:
            content["caption"] = caption
        return self._bot_message(bot, chat, p, content, markup, raw_text=p.get("caption"))

    async def _edit_message_text(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any] | bool:
        if p.get("inline_message_id"):
            return True
        chat, message = self._editable(bot, p)
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        text = render_text(p.get("text"), p.get("parse_mode"), limit=TEXT_LIMIT, what="message text")
        markup = _check_markup(p.get("reply_markup"))
        inline = markup if markup and "inline_keyboard" in markup else None
        if text == message["text"] and inline == message.get("reply_markup"):
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        message["text"] = text
        return self._bot_edit(chat, message, inline, text=text, raw_text=p.get("text"),
                              parse_mode=p.get("parse_mode"))

    async def _edit_message_reply_markup(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any] | bool:
        if p.get("inline_message_id"):
            return True
        chat, message = self._editable(bot, p)
        markup = _check_markup(p.get("reply_markup"))
        inline = markup if markup and "inline_keyboard" in markup else None
        if inline == message.get("reply_markup"):
            raise bad_request("message is not modified: specified new message content and reply markup are "
                              "exactly the same as a current content and reply markup of the message")
        return self._bot_edit(chat, message, inline)

    async def _delete_message(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        chat = self._target_chat(p)
        message = chat.api_messages.pop(int(p.get("message_id") or 0), None)
        if message is None:
            raise bad_request("message to delete not found")
        for entry in chat.messages:
            if entry["message_id"] == message["message_id"]:
                entry["deleted"] = True
        return True

    async def _answer_callback_query(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        info = self._callbacks.get(query_id)
        if info is None or info["answered"]:
            raise bad_request("query is too old and response timeout expired or query ID is invalid")
        text = p.get("text")
        if text is not None and len(str(text)) > 200:
            raise bad_request("MESSAGE_TOO_LONG")
        info["answered"] = True
        answer = {"callback_query_id": query_id, "data": info["data"], "text": text,
                  "show_alert": bool(p.get("show_alert")), "url": p.get("url")}
        if info["chat_id"] in self.chats:
            self.chats[info["chat_id"]].callback_answers.append(answer)
        return True

    async def _set_my_commands(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        commands = p.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise bad_request("commands must be a list of at most 100 BotCommand")
        for command in commands:
            if not _BOT_COMMAND_NAME.fullmatch(str(command.get("command", ""))):
                raise bad_request("BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise bad_request("command description must be non-empty")
        key = (_scope_key(p.get("scope")), p.get("language_code") or "")
        bot.commands[key] = [{"command": c["command"], "description": c["description"]} for c in commands]
        return True

    async def _get_my_commands(self, bot: BotAccount, p: dict[str, Any]) -> list[dict[str, Any]]:
        return bot.commands.get((_scope_key(p.get("scope")), p.get("language_code") or ""), [])

    async def _delete_my_commands(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        bot.commands.pop((_scope_key(p.get("scope")), p.get("language_code") or ""), None)
        return True

    async def _send_chat_action(self, bot: BotAccount, p: dict[str, Any]) -> bool:
        chat = self._target_chat(p)
        if p.get("action") not in _CHAT_ACTIONS:
            raise bad_request("wrong parameter action in request")
        chat.actions.append(p["action"])
        return True

    async def _get_file(self, bot: BotAccount, p: dict[str, Any]) -> dict[str, Any]:
        file_id = str(p.get("file_id") or "")
        if not file_id:
            raise bad_request("invalid file_id")
        stored = self.files.get(file_id) or self._store_file(file_id, f"fake-file:{file_id}".encode(), "bin")
        return stored.as_api()

    # ------------------------------------------------------------------ helpers for handlers

    def _target_chat(self, p: dict[str, Any]) -> Chat:
        chat_id = p.get("chat_id")
        chat: Chat | None = None
        if isinstance(chat_id, int):
            chat = self.chats.get(chat_id)
        elif isinstance(chat_id, str) and chat_id.startswith("@"):
            chat = next((c for c in self.chats.values() if c.username and f"@{c.username}" == chat_id), None)
        if chat is None:
            raise bad_request("chat not found")
        if chat.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat

    def _editable(self, bot: BotAccount, p: dict[str, Any]) -> tuple[Chat, dict[str, Any]]:
        chat = self._target_chat(p)
        message = chat.api_messages.get(int(p.get("message_id") or 0))
        if message is None:
            raise bad_request("message to edit not found")
        if message["from"]["id"] != bot.user["id"]:
            raise bad_request("message can't be edited")
        return chat, message

    def _bot_message(self, bot: BotAccount, chat: Chat, p: dict[str, Any], content: dict[str, Any],
                     markup: dict[str, Any] | None, *, raw_text: Any) -> dict[str, Any]:
        """Create a bot message in ``chat``: the API object returned and the transcript entry."""
        reply_to = (p.get("reply_parameters") or {}).get("message_id") or p.get("reply_to_message_id")
        allow_missing = bool(p.get("allow_sending_without_reply")
                             or (p.get("reply_parameters") or {}).get("allow_sending_without_reply"))
        message: dict[str, Any] = {"message_id": chat.next_message_id(), "date": int(time.time()),
                                   "chat": chat.as_api(), "from": bot.user, **content}
        if reply_to:
            original = chat.api_messages.get(int(reply_to))
            if original is None and not allow_missing:
                raise bad_request("message to be replied not found")
            if original is not None:
                message["reply_to_message"] = original
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram only echoes inline keyboards
        chat.api_messages[message["message_id"]] = message
        entry = {"message_id": message["message_id"], "text": content.get("text"), "caption": content.get("caption"),
                 "photo": content.get("photo"), "reply_markup": markup, "edited": False, "date": message["date"],
                 "parse_mode": p.get("parse_mode"), "raw_text": raw_text, "reply_to_message_id": reply_to,
                 "deleted": False}
        chat.messages.append(entry)
        chat.events.append(entry)
        chat.visible_calls += 1
        return message

    def _bot_edit(self, chat: Chat, message: dict[str, Any], inline: dict[str, Any] | None,
                  **changes: Any) -> dict[str, Any]:
        if inline is None:
            message.pop("reply_markup", None)
        else:
            message["reply_markup"] = inline
        message["edit_date"] = int(time.time())
        entry = next(e for e in chat.messages if e["message_id"] == message["message_id"])
        entry.update(changes, reply_markup=inline, edited=True)
        chat.events.append(entry)
        chat.visible_calls += 1
        return message

    def _store_file(self, file_id: str, data: bytes, extension: str) -> StoredFile:
        if file_id not in self.files:
            number = next(self._file_ids)
            folder = "photos" if extension == "jpg" else "documents"
            self.files[file_id] = StoredFile(file_id, f"uniq-{number}", f"{folder}/file_{number}.{extension}", data)
        return self.files[file_id]


# ---------------------------------------------------------------------- module helpers


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def text_entities(text: str) -> list[dict[str, Any]]:
    """The entities Telegram would attach to a user's text: a leading bot_command, and @mentions."""
    entities: list[dict[str, Any]] = []
    if text.startswith("/") and (match := _COMMAND.match(text)):
        entities.append({"type": "bot_command", "offset": 0, "length": utf16_len(match.group())})
    for match in _MENTION.finditer(text):
        entities.append({"type": "mention", "offset": utf16_len(text[:match.start()]),
                         "length": utf16_len(match.group())})
    return entities


def render_text(text: Any, parse_mode: str | None, *, limit: int, what: str, allow_empty: bool = False) -> str:
    """The text a user would see: parse ``parse_mode`` markup like Telegram, enforce emptiness and ``limit``."""
    if text is None or not str(text).strip():
        if allow_empty:
            return ""
        raise bad_request(f"{what} is empty")
    text = str(text)
    mode = (parse_mode or "").lower()
    if mode == "html":
        text = _html_to_text(text)
    elif mode == "markdownv2":
        text = _markdown_v2_to_text(text)
    if not text.strip() and not allow_empty:
        raise bad_request(f"{what} is empty")
    if len(text) > limit:
        raise bad_request("message is too long" if what == "message text" else f"{what} is too long")
    return text


def _entity_error(reason: str) -> ApiError:
    return bad_request(f"can't parse entities: {reason}")


def _html_to_text(source: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    position = 0
    while (start := source.find("<", position)) >= 0:
        out.append(source[position:start])
        byte_offset = len(source[:start].encode())
        match = _HTML_TAG.match(source, start)
        if match is None:
            raise _entity_error(f"Unsupported start tag at byte offset {byte_offset}")
        closing, name = match.group(1) == "/", match.group(2).lower()
        if name not in _HTML_TAGS:
            raise _entity_error(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        if closing:
            if not stack or stack[-1] != name:
                raise _entity_error(f'Unexpected end tag at byte offset {byte_offset}')
            stack.pop()
        else:
            stack.append(name)
        position = match.end()
    out.append(source[position:])
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return html.unescape("".join(out))


def _markdown_v2_to_text(source: str) -> str:
    """Check MarkdownV2 escaping (simplified) and strip the markup."""
    out: list[str] = []
    index, in_code, in_url = 0, False, False
    while index < len(source):
        char = source[index]
        if char == "\\" and index + 1 < len(source):
            out.append(source[index + 1])
            index += 2
            continue
        if char == "`":
            in_code = not in_code
        elif in_url:
            if char == ")":
                in_url = False
        elif in_code:
            out.append(char)
        elif char == "]" and source.startswith("](", index):
            in_url = True
            index += 1
        elif char in _MD2_MUST_ESCAPE:
            raise _entity_error(f"Character '{char}' is reserved and must be escaped with the preceding '\\'")
        elif char not in "*_~|[":
            out.append(char)
        index += 1
    return "".join(out)


def _check_markup(markup: Any) -> dict[str, Any] | None:
    """Validate an inline keyboard the way Telegram does (button text, callback data size)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise bad_request("can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard", []):
        for button in row:
            if not button.get("text"):
                raise bad_request("text buttons are unallowed in the inline keyboard")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_LIMIT:
                raise bad_request("BUTTON_DATA_INVALID")
    return markup


def _scope_key(scope: Any) -> str:
    """``default``, ``all_private_chats``, ``chat:ID``, ``chat_member:ID:USER``..."""
    if not scope:
        return "default"
    parts = [str(scope.get("type", "default"))]
    parts += [str(scope[k]) for k in ("chat_id", "user_id") if k in scope]
    return ":".join(parts)


def _chat_of_update(update: dict[str, Any]) -> dict[str, Any] | None:
    for key in ("message", "edited_message", "channel_post", "edited_channel_post", "my_chat_member",
                "chat_member", "chat_join_request"):
        if isinstance(update.get(key), dict):
            return update[key].get("chat")
    query = update.get("callback_query")
    if isinstance(query, dict) and isinstance(query.get("message"), dict):
        return query["message"].get("chat")
    return None


def _chat_id_of_update(update: dict[str, Any]) -> int | None:
    chat = _chat_of_update(update)
    return chat.get("id") if chat else None


def _coerce(key: str, value: Any) -> Any:
    """Turn one form field (always a string) into what the JSON API would have received."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            return value
    if key in _INT_FIELDS and re.fullmatch(r"-?\d+", value):
        return int(value)
    if key in _BOOL_FIELDS and value.lower() in ("true", "false", "1", "0"):
        return value.lower() in ("true", "1")
    return value


def _decode_params(raw: dict[str, Any]) -> dict[str, Any]:
    params = {key: _coerce(key, value) for key, value in raw.items()}
    for key, value in list(params.items()):  # attach://name -> the uploaded part
        if isinstance(value, str) and value.startswith("attach://"):
            attached = raw.get(value.removeprefix("attach://"))
            if not isinstance(attached, UploadedFile):
                raise ApiError(400, "Bad Request: invalid file attach")
            params[key] = attached
    return params


async def _read_params(request: web.Request) -> dict[str, Any]:
    """Query string + JSON / urlencoded / multipart body, decoded."""
    raw: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("JSON body must be an object")
            raw.update(body)
        elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()
            for key, value in form.items():
                if isinstance(value, web.FileField):
                    raw[key] = UploadedFile(value.filename, value.content_type, value.file.read())
                else:
                    raw[key] = value
    return _decode_params(raw)


async def _read_webhook_reply(response: Any) -> dict[str, Any] | None:
    """A method call returned in the webhook response body (JSON or multipart), if any."""
    if response.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await response.json()
            return body if isinstance(body, dict) else None
        return None
    if response.content_type.startswith("multipart/"):
        reply: dict[str, Any] = {}
        reader = MultipartReader.from_response(response)
        while (part := await reader.next()) is not None:
            if part.filename:  # type: ignore[union-attr]
                reply[part.name] = UploadedFile(part.filename, None, bytes(await part.read()))  # type: ignore
            else:
                reply[part.name] = await part.text()  # type: ignore[union-attr]
        return reply
    return None
