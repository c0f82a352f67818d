"""`unionbot run`: serve every messenger whose token is set (polling or webhook), else the console chat.

Next to each channel runs its outbox ``DeliveryWorker`` (bot/workers/delivery.py), which sends the proactive
messages (broadcasts, notifications, reminders) queued for that bot token.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.app import App, build_app
from bot.governor import SendGovernor, build_governor
from bot.intake import build_intake
from bot.settings import Settings

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


def _report_crash(task: asyncio.Task) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("%s stopped", task.get_name(), exc_info=task.exception())


class Server:
    """The running messenger channels of one process; ``start`` and ``stop`` are what tests drive."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.channels: list = []
        self.tasks: list[asyncio.Task] = []
        self.workers: list = []  # DeliveryWorker, one per bot token
        self.scheduler = None
        self.senders: list = []
        self.web_runner: web.AppRunner | None = None
        self.web_app = web.Application(client_max_size=1024 * 1024)
        self.web_app.router.add_get("/healthz", healthz)
        self.port: int | None = None
        self.intake = build_intake(self.settings, app.db)  # every channel's updates, bounded (bot/intake.py)
        self.governors: dict[str, SendGovernor] = {}  # channel -> its bot token's send budget (bot/governor.py)

    async def start(self) -> None:
        s = self.settings
        needs_web = False
        webhooks = []  # registered with the platform once the server listens
        if s.telegram_token is not None:
            from bot.channels.telegram import CHANNEL as TELEGRAM
            from bot.channels.telegram import TelegramChannel

            self.governors[TELEGRAM] = build_governor(s, TELEGRAM, s.telegram_token.get_secret_value(),
                                                      s.delivery_rate_telegram)
            telegram = TelegramChannel(self.app.core, self.app.db, self.app.translator,
                                       s.telegram_token.get_secret_value(), api_url=s.telegram_api_url,
                                       durable_dedupe=s.telegram_mode == "webhook", intake=self.intake,
                                       governor=self.governors[TELEGRAM], reply_max_wait=s.reply_max_wait)
            self.channels.append(telegram)
            if s.telegram_mode == "webhook":
                if s.telegram_webhook_secret is None or not s.telegram_webhook_url:
                    raise SystemExit("Telegram webhook mode needs UNIONBOT_TELEGRAM_WEBHOOK_URL and "
                                     "UNIONBOT_TELEGRAM_WEBHOOK_SECRET")
                secret = s.telegram_webhook_secret.get_secret_value()
                telegram.webhook_app(s.telegram_webhook_path, secret, self.web_app)
                webhooks.append(lambda t=telegram, sec=secret: t.set_webhook(s.telegram_webhook_url, sec))
                needs_web = True
            else:
                self._task(telegram.run_polling(), "telegram-polling")
            self._start_telegram_delivery(s.telegram_token.get_secret_value(), telegram.bot_id)
        if s.zalo_token is not None:
            from bot.channels.zalo import CHANNEL as ZALO
            from bot.channels.zalo import ZaloChannel

            self.governors[ZALO] = build_governor(s, ZALO, s.zalo_token.get_secret_value(), s.delivery_rate_zalo)

            zalo = ZaloChannel(self.app.core, self.app.db, self.app.translator, s.zalo_token.get_secret_value(),
                               api_url=s.zalo_api_url, durable_dedupe=s.zalo_mode == "webhook", intake=self.intake)
            self.channels.append(zalo)
            if s.zalo_mode == "webhook":
                if s.zalo_webhook_secret is None or not s.zalo_webhook_url:
                    raise SystemExit("Zalo webhook mode needs UNIONBOT_ZALO_WEBHOOK_URL and "
                                     "UNIONBOT_ZALO_WEBHOOK_SECRET")
                zsecret = s.zalo_webhook_secret.get_secret_value()
                zalo.webhook_app(s.zalo_webhook_path, zsecret, self.web_app)
                webhooks.append(lambda z=zalo, sec=zsecret: z.set_webhook(s.zalo_webhook_url, sec))
                needs_web = True
            else:
                self._task(zalo.run_polling(), "zalo-polling")
            self._start_zalo_delivery(s.zalo_token.get_secret_value())
        if needs_web:
            self.web_runner = web.AppRunner(self.web_app, access_log=None)
            await self.web_runner.setup()
            site = web.TCPSite(self.web_runner, s.web_host, s.web_port)
            await site.start()
            self.port = site._server.sockets[0].getsockname()[1]  # the real port when 0 was asked
            log.info("webhook server listening on %s:%s", s.web_host, self.port)
        for register in webhooks:
            await register()
        if self.channels:  # reminders and broadcast progress reports, queued for the delivery workers
            from bot.workers.scheduler import Scheduler

            self.scheduler = Scheduler(self.app.core, progress_every=self.settings.progress_interval)
            self._task(self.scheduler.run(), "scheduler")

    def _worker(self, sender, bot_id: str, channel: str, rate: float):
        from bot.workers.delivery import DeliveryWorker

        worker = DeliveryWorker(self.app.db, sender, bot_id=bot_id, channel=channel, rate_per_second=rate,
                                per_chat_interval=self.settings.delivery_per_chat_interval,
                                governor=self.governors.get(channel))
        self.workers.append(worker)
        return worker

    def _start_telegram_delivery(self, token: str, bot_id: str) -> None:
        """The outbox worker of the Telegram bot (its own Bot session, without the retry middleware)."""
        from bot.channels.telegram import CHANNEL, TelegramSender

        sender = TelegramSender(token, self.settings.telegram_api_url)
        self.senders.append(sender)
        worker = self._worker(sender, bot_id, CHANNEL, self.settings.delivery_rate_telegram)
        self._task(worker.run(), "telegram-delivery")

    def _start_zalo_delivery(self, token: str) -> None:
        """The outbox worker of the Zalo bot; its bot id comes from getMe, as the channel's does."""
        from bot.channels.zalo import CHANNEL, ZaloSender

        sender = ZaloSender(token, self.settings.zalo_api_url, translator=self.app.translator)
        self.senders.append(sender)
        sender = ChoicesNoted(sender, self.app.core, CHANNEL)

        async def run() -> None:
            delay = 1.0
            while True:
                try:
                    bot_id = await sender.bot_id()
                    break
                except Exception as exc:  # the platform is unreachable at start: try again
                    log.warning("zalo delivery: getMe failed (%s); retrying in %.0fs", exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 60.0)
            await self._worker(sender, bot_id, CHANNEL, self.settings.delivery_rate_zalo).run()

        self._task(run(), "zalo-delivery")

    def _task(self, coro, name: str) -> None:
        task = asyncio.create_task(coro, name=name)
        task.add_done_callback(_report_crash)
        self.tasks.append(task)

    async def stop(self) -> None:
        if self.scheduler is not None:
            self.scheduler.stop()
        await self.intake.stop(timeout=10)  # the updates taken in are handled (their replies sent) first
        for worker in self.workers:  # let the sends in flight settle their rows before tasks are cancelled
            worker.stop()
        deliveries = [t for t in self.tasks if t.get_name().endswith("-delivery")]
        if deliveries:
            await asyncio.wait(deliveries, timeout=5)
        for sender in self.senders:
            with contextlib.suppress(Exception):
                await sender.close()
        for channel in self.channels:
            with contextlib.suppress(Exception):
                await channel.stop()
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.web_runner is not None:
            await self.web_runner.cleanup()
        for governor in self.governors.values():
            await governor.close()


async def serve(settings: Settings) -> None:
    if settings.telegram_token is None and settings.zalo_token is None:
        from bot.channels.console import run_console

        await run_console(settings)
        return
    app = await build_app(settings)
    server = Server(app)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        waiters = [asyncio.create_task(stop.wait()), *server.tasks]
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        await server.stop()
        await app.close()
