"""The real bot (build_app + Server) against the fake Bot API servers, in polling and webhook mode."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.app import build_app
from bot.runner import Server
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.zalo_server import FakeZalo

TELEGRAM_TOKEN = "123456:TEST-token-never-logged"
ZALO_TOKEN = "3344556677:zalo-test-token-never-logged"
WEBHOOK_SECRET = "webhook-secret-for-tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@asynccontextmanager
async def running_bot(settings, clock, **overrides):
    app = await build_app(settings.replace(**overrides), clock=clock)
    server = Server(app)
    try:
        await server.start()
        await asyncio.wait_for(server.registered.wait(), timeout=30)  # Zalo registers its webhook after getMe
        yield app, server
    finally:
        await server.stop()
        await app.close()


@pytest_asyncio.fixture(params=["polling", "webhook"])
async def telegram(request, settings, clock):
    """A fake Telegram with the whole bot attached, in both run modes."""
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake:
        overrides = {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": fake.base_url,
                     "telegram_mode": request.param}
        if request.param == "webhook":
            port = free_port()
            overrides.update(telegram_webhook_secret=SecretStr(WEBHOOK_SECRET), web_port=port,
                             telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")
        async with running_bot(settings, clock, **overrides) as (app, server):
            fake.mode = request.param
            fake.app = app
            fake.server = server
            yield fake


@pytest.fixture
def polling_only(telegram):
    if telegram.mode != "polling":
        pytest.skip("polling mode only")
    return telegram


@pytest_asyncio.fixture(params=["polling", "webhook"])
async def zalo(request, settings, clock):
    """A fake Zalo Bot API with the whole bot attached, in both run modes."""
    async with FakeZalo.running(token=ZALO_TOKEN) as fake:
        overrides = {"zalo_token": SecretStr(ZALO_TOKEN), "zalo_api_url": fake.base_url, "zalo_mode": request.param}
        if request.param == "webhook":
            port = free_port()
            overrides.update(zalo_webhook_secret=SecretStr(WEBHOOK_SECRET), web_port=port,
                             zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/webhook")
        async with running_bot(settings, clock, **overrides) as (app, server):
            fake.mode = request.param
            fake.app = app
            fake.server = server
            yield fake
