"""Telegram adapter (aiogram 3). The only module that imports aiogram.

Updates (messages, button presses, shared contacts, photos) become ``Incoming``; ``Reply`` objects are
sent as plain text (no parse mode, so nothing a member or the knowledge base wrote can break the
markup), split at 4,096 characters, with choices as an inline keyboard on the last part; a reply's photos
(Telegram file ids) are sent first.

``TelegramSender`` delivers outbox payloads for the delivery worker: a Bot of its own *without* the
``RetryMiddleware`` (the worker schedules retries itself) and aiogram's errors mapped to the worker's typed ones.
It edits a live row's earlier message in place (``editMessageText``), e.g. a chair's broadcast progress.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.default import DefaultBotProperties
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.session.middlewares.base import BaseRequestMiddleware, NextRequestMiddlewareType
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramBadRequest,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods import TelegramMethod
from aiogram.methods.base import Response, TelegramType
from aiogram.types import (
    BotCommand,
    BotCommandScopeDefault,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    Update,
    User,
)
from aiohttp import web

from bot.channels.base import TELEGRAM
from bot.channels.errors import Blocked, Pace, Permanent, RetryAfter, Transient
from bot.channels.payloads import BadPayload, MessengerStopped, check_numbers, read_body
from bot.governor import SendGovernor
from bot.intake import Intake, retry_while_unavailable
from bot.workers.delivery import payload_reply
from handlers.core import Core
from handlers.registry import Registry
from handlers.text import split_text
from handlers.types import Attachment, Incoming, Reply
from locales import Translator
from storage.db import Database
from storage.updates import UpdateLog

log = logging.getLogger(__name__)
#: the next step of an update middleware (aiogram's own signature)
_Next = Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]]

SPEC = TELEGRAM  # what the platform can do (bot/channels/base.py)
CHANNEL = SPEC.name
TEXT_LIMIT = SPEC.text_limit
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 1024 * 1024
DRAIN_SECONDS = 10.0  # at a stop (SIGTERM), how long the updates in hand may take to finish


#: the calls that count against the bot's message rate (bot/governor.py)
GOVERNED = frozenset({"SendMessage", "SendPhoto", "SendMediaGroup", "SendDocument", "EditMessageText",
                      "EditMessageReplyMarkup", "EditMessageCaption"})


class RetryMiddleware(BaseRequestMiddleware):
    """Waits out 429 (``retry_after``) and retries 5xx and network errors with backoff.

    With a ``governor`` (bot/governor.py) the calls in ``GOVERNED`` take the bot token's send budget at reply
    priority, a 429 pauses every sender of the token, and 429s do not use up attempts: the call waits its turn
    again until ``max_wait`` seconds of retry_after have passed.
    """

    def __init__(self, attempts: int = 5, base_delay: float = 0.5, max_retry_after: float = 60.0,
                 governor: SendGovernor | None = None, max_wait: float = 300.0,
                 on_rejected: Callable[[], None] | None = None) -> None:
        self.on_rejected = on_rejected  # getUpdates answered 401 (the token was revoked while polling)
        self.attempts = attempts
        self.base_delay = base_delay
        self.max_retry_after = max_retry_after
        self.governor = governor
        self.max_wait = max_wait

    async def __call__(self, make_request: NextRequestMiddlewareType[TelegramType], bot: Bot,
                       method: TelegramMethod[TelegramType]) -> Response[TelegramType]:
        governor = self.governor if type(method).__name__ in GOVERNED else None
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            try:
                if governor is not None:
                    return await governor.send(lambda: make_request(bot, method))
                return await make_request(bot, method)
            except TelegramRetryAfter as exc:
                if governor is not None:
                    governor.pause(exc.retry_after)  # the next turn waits it out, with every other sender
                    waited += exc.retry_after
                    attempt -= 1
                    if waited <= self.max_wait:
                        continue
                if attempt >= self.attempts or exc.retry_after > self.max_retry_after or waited > self.max_wait:
                    raise
                log.warning("telegram %s: 429, retrying after %ss", type(method).__name__, exc.retry_after)
                await asyncio.sleep(exc.retry_after)
            except TelegramUnauthorizedError:
                if self.on_rejected is not None and type(method).__name__ == "GetUpdates":
                    self.on_rejected()  # polling stops; aiogram alone would retry a revoked token forever
                    await asyncio.get_running_loop().create_future()
                raise
            except (TelegramServerError, TelegramNetworkError) as exc:
                if attempt >= self.attempts:
                    raise
                delay = self.base_delay * 2 ** (attempt - 1)
                log.warning("telegram %s: %s, retry %d in %.1fs", type(method).__name__, type(exc).__name__,
                            attempt, delay)
                await asyncio.sleep(delay)


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.choices:
        return None
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=c.label[:64], callback_data=c.action)]
                                                 for c in reply.choices])


def render(reply: Reply) -> list[tuple[str, InlineKeyboardMarkup | None]]:
    """A reply as Telegram messages: text parts of at most 4,096 characters, the keyboard on the last."""
    parts = split_text(reply.text, TEXT_LIMIT)
    return [(part, keyboard(reply) if i == len(parts) - 1 else None) for i, part in enumerate(parts)]


async def send_reply(bot: Bot, chat_id: int | str, reply: Reply, pace: Pace | None = None) -> list[int]:
    """Send a reply's photos (file ids), then its text parts; returns the message ids.

    ``pace`` is awaited before every call after the first (the delivery worker's rate limiter). A reply
    without text but with photos carries its keyboard on the last photo.
    """
    # photos by file id, then the pictures the bot drew, uploaded (sendPhoto multipart)
    media: list[str | BufferedInputFile] = [*reply.photos, *(BufferedInputFile(data, filename=f"picture-{i + 1}.png")
                                                             for i, data in enumerate(reply.pictures))]
    parts = [(text, markup) for text, markup in render(reply) if text.strip()] if media else render(reply)
    ids: list[int] = []
    for i, photo in enumerate(media):
        if pace is not None and ids:
            await pace()
        last_markup = keyboard(reply) if not parts and i == len(media) - 1 else None
        sent = await bot.send_photo(chat_id=chat_id, photo=photo, reply_markup=last_markup, parse_mode=None)
        ids.append(sent.message_id)
    for text, markup in parts:
        if pace is not None and ids:
            await pace()
        sent = await bot.send_message(chat_id=chat_id, text=text, reply_markup=markup, parse_mode=None)
        ids.append(sent.message_id)
    return ids


def _chat(chat_id: str) -> int | str:
    """Telegram chat ids are integers; ``@channel`` names stay strings."""
    return int(chat_id) if chat_id.lstrip("-").isdigit() else chat_id


class TelegramSender:
    """Delivers outbox payloads (``{"text", "choices", "photos"}``) for ``DeliveryWorker``.

    No retries here: 429 -> ``RetryAfter``, 403 -> ``Blocked``, 5xx and network errors -> ``Transient``,
    400 and every other API error -> ``Permanent``. Requests time out after ``timeout`` seconds, which must
    stay below the worker's lease.
    """

    def __init__(self, token: str, api_url: str = "https://api.telegram.org", *, timeout: float = 20.0) -> None:
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")), timeout=timeout)
        self.bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=None))

    @property
    def bot_id(self) -> str:
        return str(self.bot.id)

    async def send(self, chat_id: str, payload: dict, *, pace: Pace | None = None,
                   edit: str | None = None) -> str | None:
        """Send the payload, or with ``edit`` replace the text of that earlier message (one API call); returns the
        message id. A message that cannot be edited any more (deleted, too old) is replaced by a new one."""
        reply = payload_reply(payload)
        try:
            if edit is not None and not reply.photos and len(parts := render(reply)) == 1:
                text, markup = parts[0]
                try:
                    await self.bot.edit_message_text(chat_id=_chat(str(chat_id)), message_id=int(edit), text=text,
                                                     reply_markup=markup, parse_mode=None)
                    return edit
                except TelegramBadRequest as exc:
                    if "not modified" in exc.message:  # the same text again: nothing to do
                        return edit
                    log.info("telegram: message %s in chat %s cannot be edited (%s); sending a new one", edit,
                             chat_id, exc.message)
                if pace is not None:
                    await pace()
            ids = await send_reply(self.bot, _chat(str(chat_id)), reply, pace)
            return str(ids[-1]) if ids else None
        except TelegramRetryAfter as exc:
            raise RetryAfter(exc.retry_after, exc.message) from exc
        except TelegramForbiddenError as exc:
            raise Blocked(exc.message) from exc
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc.message}") from exc
        except (TelegramBadRequest, TelegramAPIError) as exc:
            raise Permanent(f"{type(exc).__name__}: {exc.message}") from exc

    async def download(self, file_id: str, max_bytes: int = 10 * 1024 * 1024) -> tuple[bytes, str]:
        """A file a member sent (a hardship request's photo), by its file id: getFile, then the download (the
        token stays here: the web console streams the bytes). Returns (bytes, content type); raises
        ``Permanent`` for an unknown or too large file, ``Transient`` when Telegram is unreachable."""
        import mimetypes

        try:
            file = await self.bot.get_file(file_id)
            if not file.file_path or (file.file_size or 0) > max_bytes:
                raise Permanent("telegram: no such file, or too large")
            data = await self.bot.download_file(file.file_path)
        except (TelegramServerError, TelegramNetworkError) as exc:
            raise Transient(f"{type(exc).__name__}: {exc.message}") from exc
        except (TelegramBadRequest, TelegramAPIError) as exc:
            raise Permanent(f"{type(exc).__name__}: {exc.message}") from exc
        if data is None:
            raise Permanent("telegram: empty download")
        body = data.read(max_bytes + 1)
        if len(body) > max_bytes:
            raise Permanent("telegram: file too large")
        return body, mimetypes.guess_type(file.file_path)[0] or "image/jpeg"

    async def close(self) -> None:
        await self.bot.session.close()


def bot_commands(registry: Registry, t: Translator, lang: str) -> list[BotCommand]:
    """The command menu (setMyCommands) in ``lang``: the registry's menu commands, in registration order."""
    return [BotCommand(command=name, description=description) for name, description in registry.menu(t, lang)]


class TelegramChannel:
    def __init__(self, core: Core, db: Database, translator: Translator, token: str, *,
                 api_url: str = "https://api.telegram.org", bot_id: str | None = None,
                 durable_dedupe: bool = True, intake: Intake | None = None,
                 governor: SendGovernor | None = None, reply_max_wait: float = 300.0) -> None:
        self.core = core
        core.defer_when_unavailable = True  # this channel retries the update (``answer``)
        self.t = translator
        self.updates = UpdateLog(db.sessions, durable=durable_dedupe)
        session = AiohttpSession(api=TelegramAPIServer.from_base(api_url.rstrip("/")))
        session.middleware(RetryMiddleware(governor=governor, max_wait=reply_max_wait, on_rejected=self._rejected))
        self.bot = Bot(token, session=session, default=DefaultBotProperties(parse_mode=None))
        self.bot_id = bot_id or str(self.bot.id)
        self.username: str | None = None
        self.dispatcher = Dispatcher()
        self.dispatcher.include_router(self._router())
        self.intake = intake
        if intake is not None:  # bounded processing, in order per chat (bot/intake.py)
            self.dispatcher.update.outer_middleware(self._queue)
        self.dispatcher.update.outer_middleware(self._dedupe)
        self._tasks: set[asyncio.Task] = set()
        self._stopping = asyncio.Event()
        self._revoked: asyncio.Task | None = None  # stopping the polling of a revoked token

    # ----- parsing ---------------------------------------------------------------------------------
    def _router(self) -> Router:
        router = Router(name="unionbot")
        router.message.register(self.on_message, F.chat.type == "private")
        router.message.register(self.on_group_message, F.chat.type.in_({"group", "supergroup"}))
        router.callback_query.register(self.on_callback)
        return router

    def incoming(self, message: Message, text: str | None = None, action: str | None = None) -> Incoming:
        user = message.from_user
        attachments: tuple[Attachment, ...] = ()
        if message.photo:
            attachments = (Attachment("photo", message.photo[-1].file_id),)
        contact = message.contact.phone_number if message.contact and user and \
            message.contact.user_id == user.id else None
        return Incoming(
            channel=CHANNEL, bot_id=self.bot_id, chat_id=str(message.chat.id),
            user_id=str(user.id) if user else str(message.chat.id),
            text=text if text is not None else (message.text or message.caption or ""), action=action,
            message_id=str(message.message_id), display_name=user.full_name if user else None,
            language=user.language_code if user else None, contact_phone=contact, attachments=attachments,
            received_at=message.date or datetime.now(UTC), is_group=message.chat.type != "private",
            bot_username=self.username)

    async def _queue(self, handler: _Next, update: TelegramObject, data: dict[str, Any]) -> None:
        """Hand the update to the intake; waits while it is full, so polling fetches no more than it can hold.
        A stored webhook update comes already queued (``_handle_stored``)."""
        assert self.intake is not None and isinstance(update, Update)  # an outer middleware of dispatcher.update
        if data.get("queued"):
            return await handler(update, data)
        chat, user = _chat_and_user(update)
        await self.intake.put(chat, lambda: handler(update, data), member=f"{CHANNEL}:{user.id}" if user else None,
                              on_flood=self._slow_down(chat, user))

    def _slow_down(self, chat: str, user) -> Callable[[], Awaitable] | None:
        """The polite note flood control sends a member once (None: an update without a chat)."""
        if not chat.lstrip("-").isdigit():
            return None
        lang = user.language_code if user else None

        async def slow_down() -> None:
            await self._safe_send(int(chat), Reply(self.t("flood.slow_down", self.t.language_for(lang))))

        return slow_down

    async def _dedupe(self, handler: _Next, update: TelegramObject, data: dict[str, Any]) -> Any:
        """The same update delivered twice (webhook retries, a restart mid-batch) is handled once. A webhook update
        comes ``stored`` (claimed when it was stored). The claim is inside the error handling: a database outage
        gets the member an apology, never silence. Every update in hand is tracked, so a stop drains them."""
        assert isinstance(update, Update)  # an outer middleware of dispatcher.update
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            if not data.get("stored") and not await self.updates.claim(self.bot_id, CHANNEL, str(update.update_id)):
                log.info("telegram update %s already handled; skipped", update.update_id)
                return None
            return await handler(update, data)
        except Exception:
            log.exception("telegram update %s failed", update.update_id)
            chat = update.message.chat.id if update.message else (
                update.callback_query.message.chat.id if update.callback_query and update.callback_query.message
                else None)
            if chat is not None:
                await self._safe_send(chat, Reply(self.t("bot.apology")))
            return None
        finally:
            if task is not None:
                self._tasks.discard(task)

    # ----- handlers ----------------------------------------------------------------------------------
    async def on_message(self, message: Message) -> None:
        await self.answer(message.chat.id, self.incoming(message))

    async def on_group_message(self, message: Message) -> None:
        """In groups: only commands and messages that mention the bot (or reply to it)."""
        text = message.text or message.caption or ""
        mention = f"@{self.username}".lower() if self.username else None
        is_command = text.startswith("/") and (
            "@" not in text.split()[0] or (mention is not None and text.split()[0].lower().endswith(mention)))
        mentioned = mention is not None and mention in text.lower()
        replied = bool(message.reply_to_message and message.reply_to_message.from_user
                       and str(message.reply_to_message.from_user.id) == self.bot_id)
        if not (is_command or mentioned or replied):
            return
        if mentioned and not is_command:
            text = " ".join(w for w in text.split() if w.lower() != mention)
        await self.answer(message.chat.id, self.incoming(message, text=text))

    async def on_callback(self, query: CallbackQuery) -> None:
        await query.answer()  # every button press is acknowledged, whatever follows
        if query.message is None or not query.data:
            return
        message = query.message
        user = query.from_user
        incoming = Incoming(channel=CHANNEL, bot_id=self.bot_id, chat_id=str(message.chat.id), user_id=str(user.id),
                            action=query.data, message_id=str(message.message_id), display_name=user.full_name,
                            language=user.language_code, received_at=datetime.now(UTC),
                            is_group=message.chat.type != "private", bot_username=self.username)
        await self.answer(message.chat.id, incoming)

    async def answer(self, chat_id: int, incoming: Incoming) -> None:
        # a database outage costs the update a wait, not an apology: handled again once the database is back
        replies = await retry_while_unavailable(lambda: self.core.handle(incoming),
                                                f"telegram message {incoming.message_id}")
        for reply in replies:
            await self.send(chat_id, reply)

    # ----- sending -----------------------------------------------------------------------------------
    async def send(self, chat_id: int | str, reply: Reply) -> list[int]:
        """Send one reply (photos first, text split as needed); returns the message ids."""
        return await send_reply(self.bot, chat_id, reply)

    async def _safe_send(self, chat_id: int | str, reply: Reply) -> None:
        try:
            await self.send(chat_id, reply)
        except TelegramForbiddenError:
            log.info("telegram chat %s blocked the bot", chat_id)
        except Exception:
            log.exception("telegram: could not send to chat %s", chat_id)

    # ----- lifecycle ---------------------------------------------------------------------------------
    async def prepare(self) -> None:
        """Who am I (a rejected token stops Telegram: ``MessengerStopped``), and the command list in every interface
        language (optional: a server without setMyCommands gets a warning, and the bot serves)."""
        try:
            me = await self.bot.get_me()
        except TelegramUnauthorizedError:
            raise MessengerStopped("telegram: the bot token was rejected (401 Unauthorized); Telegram stopped. "
                                   "Check UNIONBOT_TELEGRAM_TOKEN.") from None
        self.username = me.username
        self.bot_id = str(me.id)
        for lang in self.t.languages:
            commands = bot_commands(self.core.registry, self.t, lang)
            try:
                await self.bot.set_my_commands(commands, scope=BotCommandScopeDefault(),
                                               language_code=None if lang == "vi" else lang)
            except Exception as exc:  # an API error, or an answer aiogram cannot read (a server without the method)
                log.warning("telegram: setMyCommands failed (%s); serving without the command menu", _short(exc))
                break

    async def run_polling(self) -> None:
        await self.prepare()
        try:
            await self.bot.delete_webhook(drop_pending_updates=False)
        except Exception as exc:  # no webhook to delete on many servers; getUpdates tells if one is set
            log.warning("telegram: deleteWebhook failed (%s); polling anyway", _short(exc))
        await self.dispatcher.start_polling(self.bot, handle_signals=False, close_bot_session=False,
                                            polling_timeout=20, handle_as_tasks=self.intake is None)
        if self._revoked is not None:
            raise MessengerStopped("telegram: the bot token was rejected (401 Unauthorized) while polling; Telegram "
                                   "stopped. Check UNIONBOT_TELEGRAM_TOKEN.")

    def _rejected(self) -> None:
        """getUpdates answered 401 mid-run: polling stops (``run_polling`` then raises ``MessengerStopped``)."""
        if self._revoked is None and not self._stopping.is_set():
            self._revoked = asyncio.create_task(self.dispatcher.stop_polling())

    async def stop(self) -> None:
        self._stopping.set()
        with contextlib.suppress(RuntimeError):  # not polling
            await self.dispatcher.stop_polling()
        if self._tasks:  # the updates in hand are finished (webhook ones not finished stay stored for the next start)
            await asyncio.wait(list(self._tasks), timeout=DRAIN_SECONDS)
        await self.bot.session.close()

    # ----- webhook -----------------------------------------------------------------------------------
    def parse_update(self, body: bytes | str) -> Update:
        """A webhook body as an ``Update``; ``BadPayload`` when it is not JSON, not UTF-8 or not an update."""
        try:
            data = json.loads(body)
        except (ValueError, RecursionError):
            raise BadPayload("the body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            raise BadPayload("not a Telegram update (no update_id)")
        check_numbers(data)
        try:
            return Update.model_validate(data, context={"bot": self.bot})
        except Exception:  # pydantic's error quotes the values: personal data stays out of the answer and logs
            raise BadPayload("malformed Telegram update") from None

    def webhook_app(self, path: str, secret: str, app: web.Application | None = None, *,
                    lease: float = 60.0) -> web.Application:
        """Serve the webhook at ``path``: 401 without the secret (compared as bytes, in constant time, before
        anything is parsed), 400 for a malformed body; a well-formed update is stored in the database before the
        200 and handled after (``lease``: see ``run_stored``)."""
        app = app or web.Application(client_max_size=MAX_WEBHOOK_BODY)
        expected = secret.encode()

        async def receive(request: web.Request) -> web.Response:
            # aiohttp decodes header bytes as UTF-8 with surrogateescape: this gives the exact bytes back
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(given, expected):
                return web.Response(status=401, text="unauthorized")
            body = await read_body(request, MAX_WEBHOOK_BODY)
            if body is None:
                return web.Response(status=413, text="too large")
            try:
                update = self.parse_update(body)
            except BadPayload as exc:
                return web.Response(status=400, text=f"bad request: {exc}")
            key = str(update.update_id)
            try:
                fresh = await self.updates.accept(self.bot_id, CHANNEL, key, json.dumps(json.loads(body)),
                                                  lease=lease)
            except Exception:  # the database is away: Telegram delivers it again later
                log.warning("telegram: could not store update %s; answered 503", key, exc_info=True)
                return web.Response(status=503, text="try again", headers={"Retry-After": "5"})
            if fresh:
                self._spawn(self._handle_stored(key, update))
            else:
                log.info("telegram update %s already received; skipped", key)
            return web.json_response({})

        app.router.add_post(path, receive)
        return app

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _handle_stored(self, key: str, update: Update) -> None:
        """Handle a stored webhook update, then mark it handled: through the intake when there is one (waiting
        while it is full), so the mark comes only after the handling, never when the update was just queued."""
        async def handle() -> None:
            await self.dispatcher.feed_update(self.bot, update, stored=True, queued=True)
            await self._mark_done(key)

        if self.intake is None:
            await handle()
            return
        chat, user = _chat_and_user(update)
        if not await self.intake.put(chat, handle, member=f"{CHANNEL}:{user.id}" if user else None,
                                     on_flood=self._slow_down(chat, user)):
            await self._mark_done(key)  # flood control dropped it: not handled later either

    async def _mark_done(self, key: str) -> None:
        try:
            await self.updates.done(self.bot_id, CHANNEL, key)
        except Exception:
            log.warning("telegram: update %s handled but not marked so; it may be handled again", key, exc_info=True)

    async def run_stored(self, lease: float = 60.0) -> None:
        """Handle the webhook updates stored but left unhandled (a worker crashed after the 200): at start, then
        every few seconds, oldest first, each once its holder's ``lease`` ran out."""
        every = max(1.0, min(lease / 2, 10.0))
        while not self._stopping.is_set():
            try:
                for key, payload in await self.updates.take_pending(self.bot_id, CHANNEL, lease=lease, limit=20):
                    log.info("telegram: handling stored update %s", key)
                    try:
                        update = self.parse_update(payload)
                    except BadPayload:
                        await self.updates.done(self.bot_id, CHANNEL, key)
                        continue
                    await self._handle_stored(key, update)
            except Exception:
                log.warning("telegram: stored updates could not be read; trying again in %.0fs", every,
                            exc_info=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=every)

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.prepare()
        try:
            await self.bot.set_webhook(url, secret_token=secret, drop_pending_updates=False,
                                       allowed_updates=["message", "callback_query"])
        except TelegramAPIError as exc:
            raise MessengerStopped(f"telegram: setWebhook failed ({_short(exc)}); Telegram stopped. Check "
                                   "UNIONBOT_TELEGRAM_WEBHOOK_URL.") from None


def _chat_and_user(update: Update) -> tuple[str, User | None]:
    """The chat an update belongs to (its intake queue) and who sent it."""
    query = update.callback_query
    message = update.message or (query.message if query else None)
    user = update.message.from_user if update.message else (query.from_user if query else None)
    chat = str(message.chat.id) if message is not None else f"update:{update.update_id}"
    return chat, user


def _short(exc: BaseException) -> str:
    """An error in a few words for a log line (aiogram's pydantic errors run over dozens of lines)."""
    text = exc.message if isinstance(exc, TelegramAPIError) else str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text[:160]}" if text else type(exc).__name__
