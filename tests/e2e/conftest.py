"""The real bot (build_app + Server) against the fake Bot API servers, in polling and webhook mode; and the helpers
the end-to-end and browser tests share (a linking code, waiting for a delivery, the hardship form filled in)."""

from __future__ import annotations

import asyncio
import socket
from contextlib import asynccontextmanager
from datetime import timedelta

import pytest
import pytest_asyncio
from pydantic import SecretStr

from bot.app import build_app
from bot.runner import Server
from storage.membership import AccountRepository, MemberRepository
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


@asynccontextmanager
async def attached(fake, mode: str, settings, clock, overrides: dict):
    """The whole bot running against ``fake`` in ``mode``; the fake keeps its mode, app and server for the test."""
    async with running_bot(settings, clock, **overrides) as (app, server):
        fake.mode, fake.app, fake.server = mode, app, server
        yield


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
        async with attached(fake, request.param, settings, clock, overrides):
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
        async with attached(fake, request.param, settings, clock, overrides):
            yield fake


def console_overrides(fake: FakeTelegram, port: int) -> dict:
    """The bot on ``fake`` Telegram (polling) with the web console on ``port``, for the browser tests."""
    return {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": fake.base_url, "telegram_mode": "polling",
            "web_port": port, "web_base_url": f"http://127.0.0.1:{port}"}


async def code_for(app, member_code: str) -> str:
    """A fresh linking code of the member ``member_code`` (what a chair hands out), valid a day."""
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        return await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))


async def eventually(condition, timeout: float = 10.0):
    """``condition()``'s value once it is true (polled every 50 ms); an assertion error after ``timeout`` s."""
    for _ in range(int(timeout / 0.05)):
        if value := condition():
            return value
        await asyncio.sleep(0.05)
    raise AssertionError("not delivered in time")


async def fill_hardship_on_telegram(member, *, amount: str | None = None, photo: str | None = None) -> None:
    """A Telegram member's hardship form up to its last step (8/8, not sent yet): illness since yesterday, a
    description, ``amount`` typed (or skipped), the file id ``photo`` sent (or none), the roster's phone kept."""
    await member.says("/hotro")
    await member.presses("hs:cat:illness")
    await member.says("hôm qua")
    await member.says("Em bị sốt xuất huyết phải nằm viện 5 ngày")
    await (member.says(amount) if amount else member.presses("hs:skip"))
    if photo:
        await member.sends_photo(photo)
    await member.presses("hs:next")
    await member.presses("hs:keep")
    await member.presses("hs:agree")
    assert "Bước 8/8" in member.last_reply


async def fill_hardship_on_zalo(member) -> None:
    """A Zalo member's hardship form (numbered choices, no buttons) up to its last step (8/8, not sent yet)."""
    await member.says("/hotro")
    for answer in ["5", "hôm nay", "Công ty cắt giảm giờ làm, thu nhập giảm một nửa", "3 triệu", "xong", "1", "1"]:
        await member.says(answer)
    assert "Bước 8/8" in member.last_reply.text
