"""`unionbot run`: serve every messenger whose token is set (polling or webhook), else the console chat.

Next to each channel runs its outbox ``DeliveryWorker`` (bot/workers/delivery.py), which sends the proactive
messages (broadcasts, notifications, reminders) queued for that bot token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING

from aiohttp import web

from bot.app import App, build_app
from bot.channels.base import TELEGRAM, ZALO, Channel
from bot.governor import SendGovernor, build_governor
from bot.intake import build_intake
from bot.settings import Settings
from services.pictures import PictureShelf
from storage.db import unreachable

if TYPE_CHECKING:
    from bot.workers.scheduler import Scheduler

log = logging.getLogger(__name__)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"ok": True})


class ChoicesNoted:
    """Wraps the sender of a channel without buttons: once a notification with numbered choices is delivered,
    the core remembers them, so the recipient's "1" picks the first (as for replies)."""

    def __init__(self, sender, core, channel: str) -> None:
        self._sender = sender
        self._core = core
        self._channel = channel
        self._bot_id: str | None = None

    async def bot_id(self) -> str:
        self._bot_id = await self._sender.bot_id()
        return self._bot_id

    async def send(self, chat_id: str, payload: dict, **kwargs) -> str | None:
        message_id = await self._sender.send(chat_id, payload, **kwargs)
        if payload.get("choices") and self._bot_id is not None:
            await self._core.offer_choices(self._bot_id, self._channel, str(chat_id), payload["choices"])
        return message_id

    async def close(self) -> None:
        await self._sender.close()


#: the task that serves each messenger (polling, or the webhook's registration and stored updates); when it ends,
#: that messenger stopped
MESSENGER_TASKS = ("telegram-polling", "telegram-webhook", "zalo-polling", "zalo-webhook")


class OneLineFault(RuntimeError):
    """A fault the process stops for, reported in one line (what happened and what to do)."""


def _inode(path) -> int | None:
    try:
        return os.stat(path).st_ino
    except OSError:
        return None


def _report_crash(task: asyncio.Task) -> None:
    if task.cancelled() or task.exception() is None:
        return
    from bot.channels.payloads import MessengerStopped

    if isinstance(task.exception(), MessengerStopped | OneLineFault):
        log.error("%s", task.exception())  # one clear line; what to check is in it
    else:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


@dataclass(frozen=True)
class Messenger:
    """One messenger to run: its platform's spec (bot/channels/base.py) and its settings."""

    spec: Channel
    token: str
    mode: str  # "polling" or "webhook"
    rate: float
    webhook_path: str
    webhook_secret: str
    webhook_url: str


class Server:
    """The running messenger channels of one process; ``start`` and ``stop`` are what tests drive."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.channels: list = []
        self.tasks: list[asyncio.Task] = []
        self.workers: list = []  # DeliveryWorker, one per bot token
        self.scheduler: Scheduler | None = None
        self.senders: list = []
        #: channel -> how to download a file a member sent there (hardship photos, for the web console)
        self.files: dict = {}
        self.web_runner: web.AppRunner | None = None
        # the console's document upload is the largest body (the webhooks check their own, smaller limits)
        self.web_app = web.Application(client_max_size=max(1024 * 1024, self.settings.documents.max_bytes + 64 * 1024))
        self.web_app.router.add_get("/healthz", healthz)
        self.port: int | None = None
        #: set once every webhook is registered with its platform (Zalo's waits for getMe, in the background)
        self.registered = asyncio.Event()
        self.intake = build_intake(self.settings, app.db)  # every channel's updates, bounded (bot/intake.py)
        self.governors: dict[str, SendGovernor] = {}  # channel -> its bot token's send budget (bot/governor.py)
        #: the charts the bot drew, at short-lived addresses under the public base URL (Zalo's sendPhoto takes a
        #: URL); None without a public address (Zalo then gets the text and the console's link)
        self.pictures: PictureShelf | None = None
        if self.settings.web.base_url:
            self.pictures = PictureShelf(app.db, self.settings.web.base_url, clock=app.core.clock)

    async def start(self) -> None:
        s = self.settings  # validated when built (bot/settings.py): a webhook has its URL and secret
        needs_web = False
        webhooks = []  # (register, task name): registered with the platform once the server listens
        messengers = self._messengers()
        self._registrations = sum(1 for m in messengers if m.mode == "webhook")
        for m in messengers:  # the same steps for every platform; what differs is in its Channel spec and adapter
            self.governors[m.spec.name] = build_governor(s, m.spec.name, m.token, m.rate)
            channel = self._channel(m)
            self.channels.append(channel)
            if m.mode == "webhook":
                channel.webhook_app(m.webhook_path, m.webhook_secret, self.web_app, lease=s.web.webhook_lease_seconds)
                # getMe may fail at start (Zalo): the webhook answers 503 (the platform retries) until the bot id
                # is known
                webhooks.append((lambda c=channel, m=m: self._webhook(c, m), f"{m.spec.name}-webhook"))
                needs_web = True
            else:
                self._task(channel.run_polling(), f"{m.spec.name}-polling")
            if m.spec.has_delivery:
                self._start_delivery(m, channel)
        # knowledge changed by the web console, the CLI or another worker reaches this process within seconds
        from services.knowledge import watch_core

        self.knowledge_watcher = watch_core(self.app.db, self.app.core, s.knowledge.poll_seconds)
        await self.knowledge_watcher.check()
        self._task(self.knowledge_watcher.run(), "knowledge-watch")
        if s.web.base_url:  # the union office web console (web/), with polling too
            from web.app import mount_console, serve_pictures

            self.console = mount_console(self.web_app, self.app, self.knowledge_watcher)
            if self.pictures is not None:
                serve_pictures(self.web_app, self.pictures)
            self.console.files.update(self.files)
            needs_web = True
        if needs_web:
            self.web_runner = web.AppRunner(self.web_app, access_log=None)
            await self.web_runner.setup()
            site = web.TCPSite(self.web_runner, s.web.host, s.web.port)
            await site.start()
            self.port = self.web_runner.addresses[0][1]  # the real port when 0 was asked
            log.info("webhook server listening on %s:%s", s.web.host, self.port)
        for register, name in webhooks:  # in the background: a failure stops that messenger, not the others
            self._task(register(), name)
        if not self._registrations:
            self.registered.set()
        if self.channels:  # reminders and broadcast progress reports, queued for the delivery workers
            from bot.workers.scheduler import Scheduler

            core = self.app.core
            self.scheduler = Scheduler(core.broadcasts.service, lambda: core.knowledge,
                                       progress_every=self.settings.delivery.progress_interval)
            self._task(self.scheduler.run(), "scheduler")

    def _registered_one(self) -> None:
        self._registrations -= 1
        if self._registrations <= 0:
            self.registered.set()

    def _messengers(self) -> list[Messenger]:
        """The messengers whose tokens are set, with what running them takes from the settings."""
        s = self.settings
        found = []
        if s.telegram.token is not None:
            found.append(Messenger(TELEGRAM, s.telegram.token.get_secret_value(), s.telegram.mode,
                                   s.delivery.rate_telegram, s.telegram.webhook_path,
                                   s.telegram.webhook_secret.get_secret_value() if s.telegram.webhook_secret else "",
                                   s.telegram.webhook_url))
        if s.zalo.token is not None:
            found.append(Messenger(ZALO, s.zalo.token.get_secret_value(), s.zalo.mode, s.delivery.rate_zalo,
                                   s.zalo.webhook_path,
                                   s.zalo.webhook_secret.get_secret_value() if s.zalo.webhook_secret else "",
                                   s.zalo.webhook_url))
        return found

    def _channel(self, m: Messenger):
        """The adapter of one messenger (imported here: aiogram only when Telegram runs)."""
        s, app = self.settings, self.app
        if m.spec is TELEGRAM:
            from bot.channels.telegram import TelegramChannel

            return TelegramChannel(app.core, app.db, app.translator, m.token, api_url=s.telegram.api_url,
                                   durable_dedupe=m.mode == "webhook", intake=self.intake,
                                   governor=self.governors[m.spec.name], reply_max_wait=s.delivery.reply_max_wait)
        from bot.channels.zalo import ZaloChannel

        return ZaloChannel(app.core, app.db, app.translator, m.token, api_url=s.zalo.api_url,
                           durable_dedupe=m.mode == "webhook", intake=self.intake,
                           governor=self.governors[m.spec.name], reply_max_wait=s.delivery.reply_max_wait,
                           publish=self.pictures.publish if self.pictures is not None else None)

    def _start_delivery(self, m: Messenger, channel) -> None:
        if m.spec is TELEGRAM:
            self._start_telegram_delivery(m.token, channel.bot_id)
        else:
            self._start_zalo_delivery(m.token)

    async def _webhook(self, channel, m: Messenger) -> None:
        """Register the webhook (getMe — retried on Zalo —, commands, setWebhook), then handle the stored updates
        left behind."""
        await channel.set_webhook(m.webhook_url, m.webhook_secret)
        self._registered_one()
        await channel.run_stored(self.settings.web.webhook_lease_seconds)

    def _worker(self, sender, bot_id: str, channel: str, rate: float):
        from bot.workers.delivery import DeliveryWorker

        worker = DeliveryWorker(self.app.db, sender, bot_id=bot_id, channel=channel, rate_per_second=rate,
                                per_chat_interval=self.settings.delivery.per_chat_interval,
                                governor=self.governors.get(channel))
        self.workers.append(worker)
        return worker

    def _start_telegram_delivery(self, token: str, bot_id: str) -> None:
        """The outbox worker of the Telegram bot (its own Bot session, without the retry middleware)."""
        from bot.channels.telegram import CHANNEL, TelegramSender

        sender = TelegramSender(token, self.settings.telegram.api_url)
        self.senders.append(sender)
        self.files[CHANNEL] = sender.download
        worker = self._worker(sender, bot_id, CHANNEL, self.settings.delivery.rate_telegram)
        self._task(worker.run(), "telegram-delivery")

    def _start_zalo_delivery(self, token: str) -> None:
        """The outbox worker of the Zalo bot; its bot id comes from getMe, as the channel's does."""
        from bot.channels.zalo import CHANNEL, ZaloSender

        sender = ZaloSender(token, self.settings.zalo.api_url, translator=self.app.translator)
        self.senders.append(sender)
        self.files[CHANNEL] = sender.download
        noted = ChoicesNoted(sender, self.app.core, CHANNEL)

        async def run() -> None:
            delay = 1.0
            while True:
                try:
                    bot_id = await noted.bot_id()
                    break
                except Exception as exc:  # the platform is unreachable at start: try again
                    log.warning("zalo delivery: getMe failed (%s); retrying in %.0fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
            await self._worker(noted, bot_id, CHANNEL, self.settings.delivery.rate_zalo).run()

        self._task(run(), "zalo-delivery")

    def _task(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_crash)
        self.tasks.append(task)

    async def serve_until(self, stop: asyncio.Event) -> bool:
        """Serve until ``stop`` is set (False) or nothing can go on (True: exit non-zero): every messenger stopped
        (its token rejected, ...), or a worker crashed. A stopped messenger's delivery worker stops with it."""
        messengers = {t for t in self.tasks if t.get_name() in MESSENGER_TASKS}
        others = set(self.tasks) - messengers
        stopper = asyncio.create_task(stop.wait())
        try:
            while True:
                done, _ = await asyncio.wait({stopper, *messengers, *others}, return_when=asyncio.FIRST_COMPLETED)
                if stopper in done:
                    return False
                for task in done:
                    failed = not task.cancelled() and task.exception() is not None
                    if task in others:
                        if failed:
                            return True
                        others.discard(task)
                        continue
                    messengers.discard(task)
                    channel = task.get_name().split("-")[0]
                    if not failed:
                        log.error("%s stopped", channel)
                    for worker in self.workers:
                        if worker.channel == channel:
                            worker.stop()
                if not messengers:
                    log.error("no messenger left to serve; exiting")
                    return True
        finally:
            stopper.cancel()

    async def stop(self) -> None:
        """Drain, then stop: no new updates (the webhook server closes, polling stops), the updates in hand finish
        (their replies go out), the outbox sends in flight settle their rows; then every task is cancelled."""
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.web_runner is not None:  # no new webhook updates
            with contextlib.suppress(Exception):
                await self.web_runner.cleanup()
            self.web_runner = None
        await self.intake.stop(timeout=10)  # the updates taken in are handled (their replies sent) first
        for channel in self.channels:  # each stops receiving and waits for its updates in hand
            with contextlib.suppress(Exception):
                await channel.stop()
        for worker in self.workers:  # let the sends in flight settle their rows before tasks are cancelled
            worker.stop()
        deliveries = [t for t in self.tasks if t.get_name().endswith("-delivery")]
        if deliveries:
            await asyncio.wait(deliveries, timeout=10)
        for sender in self.senders:
            with contextlib.suppress(Exception):
                await sender.close()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        for governor in self.governors.values():
            with contextlib.suppress(Exception):
                await governor.close()


async def build_when_reachable(settings: Settings, stop: asyncio.Event, *, first_delay: float = 1.0,
                               max_delay: float = 30.0) -> App | None:
    """``build_app``, retried while the database is unreachable (one log line per try); None if stopped meanwhile."""
    delay = first_delay
    while True:
        try:
            return await build_app(settings, run_migrations=False)  # `unionbot db upgrade` migrates
        except Exception as exc:
            if not unreachable(exc):
                raise
            reason = str(getattr(exc, "orig", None) or exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
            log.warning("the database is unreachable at start (%s); retrying in %.0fs", reason, delay)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay)
        if stop.is_set():
            return None
        delay = min(delay * 2, max_delay)


async def watch_sqlite_file(db, stop: asyncio.Event, every: float = 2.0) -> None:
    """The SQLite file must stay where it was: one deleted or moved while the bot runs takes every later write with
    it, and the next start would find a fresh empty database. A loud error and a stop instead."""
    from pathlib import Path

    from sqlalchemy.engine import make_url

    name = make_url(db.url).database
    if not db.is_sqlite or not name or name == ":memory:":
        return
    path = Path(name)
    inode = _inode(path)
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=every)
        current = _inode(path)
        if current is None or current != inode:
            raise OneLineFault(f"the database file {path} was deleted or replaced while the bot ran; stopping "
                               "(restore it from a backup before starting again)")


async def serve(settings: Settings) -> None:
    if settings.telegram.token is None and settings.zalo.token is None:
        from bot.channels.console import run_console

        await run_console(settings)
        return
    if settings.telegram.token is not None:
        from services.extras import require

        require("telegram")  # before anything starts: one line naming the command that installs aiogram
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    app = await build_when_reachable(settings, stop)
    if app is None:
        return
    server = Server(app)
    try:
        await server.start()
        server._task(watch_sqlite_file(app.db, stop), "database-file")
        failed = await server.serve_until(stop)
    finally:
        await server.stop()
        await app.close()
    if failed:  # a supervisor restarts on a non-zero exit code
        raise SystemExit(1)
