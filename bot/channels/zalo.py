"""Zalo Bot Platform adapter: a thin client of our own (aiohttp) and the channel.

The platform copies the Telegram Bot API's shape (``POST {base}/bot<TOKEN>/<method>``, ``{ok, result}``)
with differences this module absorbs: getUpdates returns one event and HTTP 408 when nothing is new,
ids are hex strings, dates are milliseconds, text is 1–2,000 characters, there are no buttons (choices
are numbered and answered with a digit or the option's words), and webhook calls carry the secret in
``X-Bot-Api-Secret-Token``. Webhook payloads are accepted wrapped in ``{ok, result}`` or bare.
A reply's photos (URLs) are sent before its text; the pictures the bot drew (a chart's PNG) are published at a
short-lived address of the bot's web server and sent by URL too (``send_reply``).

``ZaloSender`` delivers outbox payloads for the delivery worker: a client without retries (the worker
schedules them) and ``ZaloError`` mapped to the worker's typed errors.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Any

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr, ValidationError

from bot.channels.base import ZALO
from bot.channels.errors import Blocked, Pace, Permanent, RetryAfter, Transient
from bot.channels.payloads import BadPayload, MessengerStopped, check_numbers, field_names, read_body
from bot.governor import SendGovernor
from bot.intake import Intake, retry_while_unavailable
from bot.workers.delivery import payload_reply
from handlers.core import Core
from handlers.text import split_text
from handlers.types import Attachment, Incoming, Reply
from locales import Translator
from storage.db import Database
from storage.updates import UpdateLog

log = logging.getLogger(__name__)

SPEC = ZALO  # what the platform can do (bot/channels/base.py)
CHANNEL = SPEC.name
TEXT_LIMIT = SPEC.text_limit
SECRET_HEADER = "X-Bot-Api-Secret-Token"
MAX_WEBHOOK_BODY = 64 * 1024
EVENT_TEXT = "message.text.received"
EVENT_IMAGE = "message.image.received"
EVENT_STICKER = "message.sticker.received"
EVENT_UNSUPPORTED = "message.unsupported.received"


#: the calls that count against the bot's message rate (bot/governor.py)
GOVERNED = frozenset({"sendMessage", "sendPhoto", "sendSticker"})


class ZaloError(Exception):
    def __init__(self, status: int, description: str, retry_after: float | None = None) -> None:
        super().__init__(f"Zalo API error {status}: {description}")
        self.status = status
        self.description = description
        self.retry_after = retry_after


class ZaloClient:
    """``POST {base}/bot{token}/{method}`` with JSON; raises ``ZaloError`` (the token never in messages)."""

    def __init__(self, token: str, base_url: str = "https://bot-api.zaloplatforms.com", *,
                 attempts: int = 5, base_delay: float = 0.5, governor: SendGovernor | None = None,
                 max_wait: float = 300.0) -> None:
        self._token = token
        self.base_url = base_url.rstrip("/")
        self.attempts = attempts
        self.base_delay = base_delay
        #: the bot token's send budget (bot/governor.py), shared with the outbox worker: the calls in ``GOVERNED``
        #: take it at reply priority, a 429 pauses every sender of the token and uses up no attempt (the call waits
        #: its turn again, until ``max_wait`` seconds of retry_after have passed)
        self.governor = governor
        self.max_wait = max_wait
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def call(self, method: str, *, wait: float = 30, retry: bool = True, **params: Any) -> Any:
        """One API call. 429 waits ``retry_after``; 5xx and network errors back off; others raise."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        url = f"{self.base_url}/bot{self._token}/{method}"
        attempts = self.attempts if retry else 1
        governor = self.governor if method in GOVERNED else None
        attempt, waited = 0, 0.0
        while True:
            attempt += 1
            if governor is not None:
                error = await governor.send(lambda: self._post(url, params, wait))
            else:
                error = await self._post(url, params, wait)
            if not isinstance(error, ZaloError):
                return error
            if governor is not None and error.status == 429:
                governor.pause(error.retry_after or 1.0)  # the next turn waits it out, with every other sender
                waited += error.retry_after or 1.0
                if waited <= self.max_wait:
                    attempt -= 1
                    continue
            if attempt >= attempts or not (error.status in (0, 429) or error.status >= 500):
                raise error
            delay = error.retry_after if error.status == 429 and error.retry_after else \
                self.base_delay * 2 ** (attempt - 1)
            log.warning("zalo %s: %s, retry %d in %.1fs", method, error.status or "network error", attempt, delay)
            await asyncio.sleep(delay)

    async def _post(self, url: str, params: dict[str, Any], wait: float) -> Any:
        """One HTTP call: the result, or the ``ZaloError`` (returned, not raised) to retry or raise."""
        assert self._session is not None
        try:
            async with self._session.post(url, json=params, timeout=aiohttp.ClientTimeout(total=wait + 10)) as resp:
                try:
                    payload = await resp.json(content_type=None)
                except (json.JSONDecodeError, aiohttp.ContentTypeError, ValueError):
                    payload = {"ok": False, "description": (await resp.text())[:200]}
                if resp.status == 200 and isinstance(payload, dict) and payload.get("ok", False):
                    return payload.get("result")
                description = str(payload.get("description", "")) if isinstance(payload, dict) else ""
                retry_after = None
                if isinstance(payload, dict):
                    retry_after = (payload.get("parameters") or {}).get("retry_after")
                if retry_after is None and resp.headers.get("Retry-After", "").isdigit():
                    retry_after = float(resp.headers["Retry-After"])
                return ZaloError(resp.status if resp.status != 200 else int(payload.get("error_code") or 400),
                                 description.replace(self._token, "***"), retry_after)
        except (TimeoutError, aiohttp.ClientError) as exc:
            return ZaloError(0, type(exc).__name__)

    async def get_me(self) -> dict:
        return await self.call("getMe")

    async def get_updates(self, timeout: int = 30) -> dict | None:
        """One event, or None when the long poll timed out (HTTP 408)."""
        try:
            return await self.call("getUpdates", wait=timeout, retry=False, timeout=timeout)
        except ZaloError as exc:
            if exc.status == 408:
                return None
            raise

    async def get_webhook_info(self) -> dict:
        try:
            return await self.call("getWebhookInfo") or {}
        except ZaloError as exc:
            if exc.status == 404:  # some deployments answer 404 when no webhook is set
                return {}
            raise

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", url=url, secret_token=secret_token)

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", chat_id=chat_id, text=text)

    async def send_photo(self, chat_id: str, photo: str, caption: str | None = None) -> Any:
        params: dict[str, Any] = {"caption": caption} if caption else {}
        return await self.call("sendPhoto", chat_id=chat_id, photo=photo, **params)

    async def send_chat_action(self, chat_id: str, action: str = "typing") -> Any:
        return await self.call("sendChatAction", chat_id=chat_id, action=action, retry=False)


def render(reply: Reply, t: Translator, lang: str = "vi") -> list[str]:
    """A reply as Zalo messages: choices numbered in the text, split cleanly at 2,000 characters."""
    text = reply.text
    if reply.choices:
        options = "\n".join(f"{i}. {c.label}" for i, c in enumerate(reply.choices, start=1))
        text = f"{text}\n\n{options}\n{t('bot.choose_hint', lang)}"
    return [part for part in split_text(text, TEXT_LIMIT) if part.strip()]


#: publishes a picture the bot drew (PNG bytes) at a public, short-lived address and returns it (services/pictures.py)
Publish = Callable[[bytes], Awaitable[str]]


async def send_reply(client: ZaloClient, chat_id: str, reply: Reply, t: Translator, lang: str = "vi",
                     pace: Pace | None = None, publish: Publish | None = None) -> None:
    """Send a reply's photos (URLs), then the pictures the bot drew, then its text parts; ``pace`` is awaited
    before every call after the first.

    A drawn picture (PNG bytes) goes by sendPhoto, which takes a URL: ``publish`` puts it at a public address
    first. One picture with a text that fits one message is one message (the text as its caption). Without
    ``publish`` (no public address configured), or when publishing or sending it fails, the picture is left out
    and the text goes alone (it says what the picture shows and links to the console)."""
    calls = 0

    async def paced() -> None:
        nonlocal calls
        if pace is not None and calls:
            await pace()
        calls += 1

    for photo in reply.photos:
        await paced()
        await client.send_photo(chat_id, photo)
    parts = render(reply, t, lang)
    captioned = False
    if reply.pictures and publish is not None:
        caption = parts[0] if len(parts) == 1 and len(reply.pictures) == 1 else None
        for picture in reply.pictures:
            try:
                url = await publish(picture)
                await paced()
                await client.send_photo(chat_id, url, caption)
            except Exception as exc:  # noqa: BLE001 - the text still goes: it says what the chart shows
                log.warning("zalo: a drawn picture could not be sent (%s); the text goes without it",
                            exc.status if isinstance(exc, ZaloError) else type(exc).__name__)
                break
            captioned = caption is not None
    if captioned:
        return
    for part in parts:
        await paced()
        await client.send_message(chat_id, part)


class ZaloSender:
    """Delivers outbox payloads (``{"text", "choices", "photos"}``) for ``DeliveryWorker``.

    One attempt per call: 429 -> ``RetryAfter``, 403 -> ``Blocked``, network errors and 5xx -> ``Transient``,
    every other error -> ``Permanent``. Choices are numbered in the text, as in direct replies. Calls time out
    after 40 s (``ZaloClient``), below the worker's default lease of 60 s.
    """

    def __init__(self, token: str, api_url: str = "https://bot-api.zaloplatforms.com", *,
                 translator: Translator | None = None, lang: str = "vi") -> None:
        self.client = ZaloClient(token, api_url, attempts=1)
        self.t = translator or Translator()
        self.lang = lang

    async def bot_id(self) -> str:
        """The bot's id as the channel computes it (getMe), so the worker takes the rows the core queued."""
        me = await self.client.get_me()
        return str((me or {}).get("id") or "zalo")

    async def send(self, chat_id: str, payload: dict, *, pace: Pace | None = None,
                   edit: str | None = None) -> str | None:
        """Send the payload. The Zalo Bot API cannot edit a message: ``edit`` is ignored (a new message is sent;
        the core does not keep live messages on Zalo, it sends progress at steps instead)."""
        del edit
        try:
            await send_reply(self.client, str(chat_id), payload_reply(payload), self.t, self.lang, pace)
            return None
        except ZaloError as exc:
            if exc.status == 429:
                raise RetryAfter(exc.retry_after or 1.0, exc.description) from exc
            if exc.status == 403:
                raise Blocked(exc.description) from exc
            if exc.status == 0 or exc.status >= 500:
                raise Transient(f"{exc.status or 'network'}: {exc.description}") from exc
            raise Permanent(f"{exc.status}: {exc.description}") from exc

    async def download(self, url: str, max_bytes: int = 10 * 1024 * 1024) -> tuple[bytes, str]:
        """A photo a member sent: on Zalo its "file id" is the image's address on Zalo's servers (no token
        needed). Returns (bytes, content type); raises ``Permanent`` for anything but an image within
        ``max_bytes`` at an http(s) address, ``Transient`` when it cannot be reached."""
        if not url.startswith(("https://", "http://")):
            raise Permanent("zalo: a photo without an address")
        try:
            async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session, \
                    session.get(url, allow_redirects=True, max_redirects=3) as response:
                content_type = response.content_type or ""
                if response.status != 200 or not content_type.startswith("image/"):
                    raise Permanent(f"zalo: photo answered {response.status} {content_type}")
                body = await response.content.read(max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise Transient(f"zalo: photo download failed ({type(exc).__name__})") from exc
        if len(body) > max_bytes:
            raise Permanent("zalo: photo too large")
        return body, content_type

    async def close(self) -> None:
        await self.client.close()


MAX_DATE_MS = 253_402_300_799_000  # 9999-12-31: later dates are not dates
_Id = Annotated[StrictStr, Field(min_length=1, max_length=64)] | StrictInt


class _User(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: _Id | None = None
    display_name: StrictStr | None = None
    is_bot: StrictBool | None = None


class _Chat(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: _Id
    chat_type: StrictStr | None = None


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)
    sender: _User | None = Field(default=None, alias="from")
    chat: _Chat
    message_id: _Id | None = None
    date: Annotated[StrictInt | StrictFloat, Field(ge=0, le=MAX_DATE_MS)] | None = None
    text: StrictStr | None = None
    caption: StrictStr | None = None
    photo: StrictStr | None = None
    url: StrictStr | None = None
    sticker: StrictStr | None = None


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore")
    event_name: StrictStr
    message: _Message


def parse_event(event: Any) -> _Event:
    """A Zalo event checked field by field; ``BadPayload`` (naming the fields, never their values) otherwise."""
    check_numbers(event)
    try:
        return _Event.model_validate(event)
    except ValidationError as exc:
        raise BadPayload(f"malformed Zalo event ({field_names(exc)})") from None


def unwrap(payload: Any) -> dict | None:
    """Webhook bodies come as ``{ok, result: event}`` or as the bare event."""
    if isinstance(payload, dict) and "event_name" not in payload and isinstance(payload.get("result"), dict):
        payload = payload["result"]
    return payload if isinstance(payload, dict) and "event_name" in payload else None


class ZaloChannel:
    def __init__(self, core: Core, db: Database, translator: Translator, token: str, *,
                 api_url: str = "https://bot-api.zaloplatforms.com", durable_dedupe: bool = True,
                 intake: Intake | None = None, governor: SendGovernor | None = None,
                 reply_max_wait: float = 300.0, publish: Publish | None = None) -> None:
        self.core = core
        self.publish = publish  # the drawn pictures' public addresses (None: no public base URL)
        core.defer_when_unavailable = True  # this channel retries the update (``handle_event``)
        self.intake = intake
        self.t = translator
        self.client = ZaloClient(token, api_url, governor=governor, max_wait=reply_max_wait)
        self.updates = UpdateLog(db.sessions, durable=durable_dedupe)
        self.bot_id = "zalo"
        self._stopping = asyncio.Event()
        self._ready = asyncio.Event()  # the bot id is known (getMe answered)
        self._tasks: set[asyncio.Task] = set()

    # ----- events ------------------------------------------------------------------------------------
    def incoming(self, event: Any) -> Incoming | None:
        """The event as an ``Incoming``; None for the bot's own messages. Raises ``BadPayload`` when malformed."""
        parsed = parse_event(event)
        message = parsed.message
        sender = message.sender or _User()
        chat = message.chat
        if sender.is_bot:
            return None
        attachments: tuple[Attachment, ...] = ()
        text = message.text or ""
        if parsed.event_name == EVENT_IMAGE:
            attachments = (Attachment("photo", message.photo or message.url or ""),)
            text = message.caption or ""
        elif parsed.event_name == EVENT_STICKER:
            attachments = (Attachment("sticker", message.sticker or ""),)
        received = datetime.fromtimestamp(message.date / 1000, UTC) if message.date is not None else datetime.now(UTC)
        return Incoming(channel=CHANNEL, bot_id=self.bot_id, chat_id=str(chat.id),
                        user_id=str(sender.id if sender.id is not None else chat.id), text=text,
                        message_id=str(message.message_id if message.message_id is not None else ""),
                        display_name=sender.display_name, attachments=attachments, received_at=received,
                        buttons=SPEC.buttons, is_group=(chat.chat_type or "PRIVATE").upper() != "PRIVATE")

    @staticmethod
    def update_key(incoming: Incoming) -> str:
        received = incoming.received_at.timestamp() if incoming.received_at is not None else ""  # always set here
        return incoming.message_id or f"{incoming.chat_id}:{received}"

    async def handle_event(self, event: Any, *, stored: bool = False) -> None:
        """Handle one event (polling, or a webhook update already ``stored``); a malformed one is skipped."""
        try:
            incoming = self.incoming(event)
        except BadPayload as exc:
            log.warning("zalo: %s; skipped", exc)
            return
        if incoming is None:
            return
        key = self.update_key(incoming)
        try:  # the claim too: a database outage gets the member an apology, never silence
            if not stored and not await self.updates.claim(self.bot_id, CHANNEL, key):
                log.info("zalo message %s already handled; skipped", key)
                return
            if event.get("event_name") in (EVENT_UNSUPPORTED, EVENT_STICKER) and not incoming.text:
                replies = [Reply(self.t("zalo.unsupported"))]
            else:
                with contextlib.suppress(ZaloError):
                    await self.client.send_chat_action(incoming.chat_id)
                replies = await retry_while_unavailable(lambda: self.core.handle(incoming), f"zalo message {key}")
            for reply in replies:
                await self.send(incoming.chat_id, reply)
        except Exception:
            log.exception("zalo message %s failed", key)
            with contextlib.suppress(Exception):
                await self.send(incoming.chat_id, Reply(self.t("bot.apology")))

    async def send(self, chat_id: str, reply: Reply) -> None:
        await send_reply(self.client, chat_id, reply, self.t, publish=self.publish)

    # ----- polling -----------------------------------------------------------------------------------
    async def run_polling(self, poll_timeout: int = 30, min_interval: float = 1.0) -> None:
        """One poller per token. Refuses to start while a webhook is set; stops on 401 (``MessengerStopped``)."""
        await self.learn_bot_id()
        try:
            info = await self.client.get_webhook_info()
        except ZaloError as exc:  # optional: getUpdates answers 409 if a webhook is set after all
            log.warning("zalo: getWebhookInfo failed (%s); polling anyway", exc.status or "network error")
            info = {}
        if isinstance(info, dict) and info.get("url"):
            raise SystemExit(f"Zalo: a webhook is set ({info['url']}), so polling cannot work. Either run in "
                             "webhook mode (UNIONBOT_ZALO_MODE=webhook) or remove the webhook first "
                             "(the platform's deleteWebhook method).")
        log.info("zalo: polling")
        delay = min_interval
        while not self._stopping.is_set():
            started = asyncio.get_running_loop().time()
            try:
                event = await self.client.get_updates(poll_timeout)
            except ZaloError as exc:
                if exc.status in (401, 403):
                    raise MessengerStopped(f"zalo: the bot token was rejected ({exc.status}); polling stopped. "
                                           "Check UNIONBOT_ZALO_TOKEN.") from None
                delay = exc.retry_after if exc.status == 429 and exc.retry_after else min(delay * 2, 60.0)
                log.warning("zalo getUpdates failed (%s); next poll in %.1fs", exc.status or "network", delay)
                await self._sleep(delay)
                continue
            delay = min_interval
            if event is None:
                # nothing new: keep at least min_interval between empty polls
                await self._sleep(min_interval - (asyncio.get_running_loop().time() - started))
                continue
            event = unwrap(event) or event
            if self.intake is None:
                self._spawn(self.handle_event(event))
                continue
            try:
                incoming = self.incoming(event)
            except BadPayload as exc:
                log.warning("zalo: %s; skipped", exc)
                continue
            if incoming is not None:  # waits while the intake is full: no more polls than it can hold
                await self.intake.put(*self._queued(incoming, lambda e=event: self.handle_event(e)))

    async def _sleep(self, seconds: float) -> None:
        if seconds > 0:
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)

    def _queued(self, incoming: Incoming, job) -> tuple:
        """``Intake.put`` arguments for an event: its chat, the job, and flood control by member."""
        chat = incoming.chat_id

        async def slow_down() -> None:
            with contextlib.suppress(Exception):
                await self.send(chat, Reply(self.t("flood.slow_down")))

        return chat, job, f"{CHANNEL}:{incoming.user_id}", slow_down

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # ----- webhook -----------------------------------------------------------------------------------
    def webhook_app(self, path: str, secret: str, app: web.Application | None = None, *,
                    lease: float = 60.0) -> web.Application:
        """Serve the webhook at ``path``: 403 without the secret (compared as bytes, in constant time, before
        anything is parsed), 503 until the bot knows its id (the platform retries), 400 for a malformed body; a
        well-formed event is stored in the database before the 200 and handled after (``lease``: see
        ``run_stored``)."""
        app = app or web.Application()
        expected = secret.encode()

        async def receive(request: web.Request) -> web.Response:
            # aiohttp decodes header bytes as UTF-8 with surrogateescape: this gives the exact bytes back
            given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "surrogateescape")
            if not hmac.compare_digest(given, expected):
                return web.Response(status=403, text="forbidden")
            if not self._ready.is_set():
                return web.Response(status=503, text="starting", headers={"Retry-After": "5"})
            body = await read_body(request, MAX_WEBHOOK_BODY)
            if body is None:
                return web.Response(status=413, text="too large")
            try:
                event = unwrap(json.loads(body))
                if event is None:
                    raise BadPayload("not a Zalo event (no event_name)")
                incoming = self.incoming(event)
            except (ValueError, RecursionError, BadPayload) as exc:  # not JSON, not UTF-8, nested too deep
                reason = str(exc) if isinstance(exc, BadPayload) else "the body is not JSON"
                return web.Response(status=400, text=f"bad request: {reason}")
            if incoming is None:  # the bot's own message, echoed
                return web.json_response({"ok": True})
            key = self.update_key(incoming)
            try:
                fresh = await self.updates.accept(self.bot_id, CHANNEL, key, json.dumps(event), lease=lease)
            except Exception:  # the database is away: the platform delivers it again later
                log.warning("zalo: could not store message %s; answered 503", key, exc_info=True)
                return web.Response(status=503, text="try again", headers={"Retry-After": "5"})
            if not fresh:
                log.info("zalo message %s already received; skipped", key)
            elif self.intake is None:
                self._spawn(self._handle_stored(key, event))
            else:
                queued = self.intake.offer(*self._queued(incoming, lambda: self._handle_stored(key, event)))
                if queued is None:  # full: it is stored, so the 200 stands; the stored-update pass takes it later
                    self.updates.release(self.bot_id, CHANNEL, key)
                    log.warning("zalo: intake full; message %s left for the stored-update pass", key)
                elif not queued:  # flood control dropped it: never handled later either
                    self._spawn(self.updates.done(self.bot_id, CHANNEL, key))
            return web.json_response({"ok": True})

        app.router.add_post(path, receive)
        return app

    async def _handle_stored(self, key: str, event: Any) -> None:
        await self.handle_event(event, stored=True)
        try:
            await self.updates.done(self.bot_id, CHANNEL, key)
        except Exception:
            log.warning("zalo: message %s handled but not marked so; it may be handled again", key, exc_info=True)

    async def run_stored(self, lease: float = 60.0) -> None:
        """Handle the webhook updates stored but left unhandled (a worker crashed after the 200): once the bot knows
        its id, then every few seconds, oldest first, each once its holder's ``lease`` ran out."""
        await self._ready.wait()
        every = max(1.0, min(lease / 2, 10.0))
        while not self._stopping.is_set():
            try:
                for key, payload in await self.updates.take_pending(self.bot_id, CHANNEL, lease=lease, limit=20):
                    log.info("zalo: handling stored message %s", key)
                    await self._handle_stored(key, json.loads(payload))
            except Exception:
                log.warning("zalo: stored updates could not be read; trying again in %.0fs", every, exc_info=True)
            await self._sleep(every)

    async def learn_bot_id(self) -> None:
        """getMe until it answers (backing off), then the bot id is known and the webhook serves."""
        delay = 1.0
        while True:
            try:
                me = await self.client.get_me()
                break
            except ZaloError as exc:
                if exc.status in (401, 403):
                    raise MessengerStopped(f"zalo: the bot token was rejected ({exc.status}); Zalo stopped. "
                                           "Check UNIONBOT_ZALO_TOKEN.") from None
                log.warning("zalo: getMe failed (%s); nothing is handled until it works; retrying in %.0fs",
                            exc.status or "network error", delay)
                await self._sleep(delay)
                if self._stopping.is_set():
                    raise asyncio.CancelledError from None
                delay = min(delay * 2, 60.0)
        self.bot_id = str((me or {}).get("id") or "zalo")
        self._ready.set()

    async def set_webhook(self, url: str, secret: str) -> None:
        await self.learn_bot_id()
        try:
            await self.client.set_webhook(url, secret)
        except ZaloError as exc:
            raise MessengerStopped(f"zalo: setWebhook failed ({exc.status or 'network error'}: {exc.description}); "
                                   "Zalo stopped. Check UNIONBOT_ZALO_WEBHOOK_URL.") from None

    async def stop(self) -> None:
        self._stopping.set()
        if self._tasks:  # the events in hand are finished (webhook ones not finished stay stored for the next start)
            await asyncio.wait(list(self._tasks), timeout=10)
        await self.client.close()
