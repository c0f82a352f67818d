"""No way in without the secret, no 500 for anything a caller sends, no update lost after the 200 (issue 11)."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import signal
import sys
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.runner import Server
from tests.e2e.conftest import TELEGRAM_TOKEN, WEBHOOK_SECRET, ZALO_TOKEN, free_port, running_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.zalo_server import FakeZalo

ROOT = Path(__file__).resolve().parents[2]


async def raw_post(port: int, path: str, headers: list[tuple[bytes, bytes]], body: bytes) -> int:
    """POST with header bytes exactly as given (an HTTP client library would refuse or re-encode some)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        head = [b"POST " + path.encode() + b" HTTP/1.1", b"Host: 127.0.0.1", b"Connection: close",
                b"Content-Type: application/json", b"Content-Length: " + str(len(body)).encode()]
        head += [name + b": " + value for name, value in headers]
        writer.write(b"\r\n".join(head) + b"\r\n\r\n" + body)
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        return int(status_line.split()[1])
    finally:
        writer.close()


async def wait_for(condition, timeout: float = 15.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def bot_env(tmp_path: Path, model_cache: Path, **values: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update({"UNIONBOT_DATA_DIR": str(tmp_path / "data"), "UNIONBOT_CACHE_DIR": str(model_cache),
                "PYTHONPATH": str(ROOT)})
    env.update({f"UNIONBOT_{k.upper()}": v for k, v in values.items()})
    return env


# ----- secrets -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("messenger", "secret"), [
    ("telegram", ""), ("telegram", "short"), ("telegram", "spaces are not allowed in it"),
    ("zalo", ""), ("zalo", "1234567"),
])
async def test_an_empty_or_short_webhook_secret_stops_the_start(tmp_path, model_cache, messenger, secret):
    port = free_port()
    closed = f"http://127.0.0.1:{free_port()}"  # nothing listens: the check comes before any call
    token = TELEGRAM_TOKEN if messenger == "telegram" else ZALO_TOKEN
    env = bot_env(tmp_path, model_cache, web_port=str(port), **{
        f"{messenger}_token": token, f"{messenger}_api_url": closed, f"{messenger}_mode": "webhook",
        f"{messenger}_webhook_url": f"https://bot.example.org/{messenger}", f"{messenger}_webhook_secret": secret})
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode != 0
    lines = err.decode().strip().splitlines()
    assert len(lines) == 1, lines
    assert f"UNIONBOT_{messenger.upper()}_WEBHOOK_SECRET" in lines[0] and "Traceback" not in lines[0]
    assert not (tmp_path / "data" / "unionbot.db").exists()  # nothing started


HEADERS = ["bí-mật-không-đúng".encode(), b"\xff\xfe\xfd", WEBHOOK_SECRET.encode() + b"\xc3", b"\x01" * 30,
           b"A" * 8000, b"", WEBHOOK_SECRET.upper().encode()]


async def test_a_malformed_secret_header_is_refused_not_a_server_error(settings, clock):
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo:
        port = free_port()
        async with running_bot(settings, clock, **webhook_overrides(telegram, zalo, port)):
            update = json.dumps({"update_id": 1, "message": {"message_id": 1, "date": 1, "text": "gạo",
                                 "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False,
                                                                                "first_name": "A"}}}).encode()
            event = json.dumps(zalo.user("a1b2c3d4e5f60719").text_event("gạo kim sáng")).encode()
            for header in HEADERS:
                # 400: aiohttp's HTTP parser refuses control characters in a header before any handler runs
                assert await raw_post(port, "/telegram/webhook", [(b"X-Telegram-Bot-Api-Secret-Token", header)],
                                      update) in (400, 401), header
                assert await raw_post(port, "/zalo/webhook", [(b"X-Bot-Api-Secret-Token", header)],
                                      event) in (400, 403), header
            await asyncio.sleep(0.3)
            assert telegram.count("sendMessage") == 0 and zalo.sent == []


def webhook_overrides(telegram: FakeTelegram | None, zalo: FakeZalo | None, port: int) -> dict:
    overrides: dict = {"web_port": port}
    if telegram is not None:
        overrides.update(telegram_token=SecretStr(TELEGRAM_TOKEN), telegram_api_url=telegram.base_url,
                         telegram_mode="webhook", telegram_webhook_secret=SecretStr(WEBHOOK_SECRET),
                         telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook")
    if zalo is not None:
        overrides.update(zalo_token=SecretStr(ZALO_TOKEN), zalo_api_url=zalo.base_url, zalo_mode="webhook",
                         zalo_webhook_secret=SecretStr(WEBHOOK_SECRET),
                         zalo_webhook_url=f"http://127.0.0.1:{port}/zalo/webhook")
    return overrides


# ----- malformed bodies with the right secret ----------------------------------------------------------------

BODIES = [
    b"", b"not json", b"\xff\xfe\x00\x01", b"null", b"[1, 2]", b'"text"', b"1e400", b"[" * 50_000,
    b'{"update_id": "12"}', b'{"update_id": 1, "message": "hi"}', b'{"update_id": 1e30}',
    b'{"update_id": 100000000000000000000000}', b'{"update_id": 1, "message": {"chat": []}}',
    b'{"update_id": NaN}', '{"update_id": 1, "message": {"text": "gạo\udc80"}}'.encode("utf-8", "surrogatepass"),
]


def zalo_events(user_event: dict) -> list[dict]:
    """A real event of a member, each time with one part broken the way the fault probe broke it."""
    message = user_event["message"]
    return [
        {**user_event, "message": "gạo kim sáng"},
        {**user_event, "message": {**message, "from": "a1b2c3"}},
        {**user_event, "message": {**message, "chat": [message["chat"]]}},
        {**user_event, "message": {**message, "chat": {"id": ""}}},
        {**user_event, "message": {**message, "chat": {"id": {"nested": 1}}}},
        {**user_event, "message": {**message, "date": 10**20}},
        {**user_event, "message": {**message, "date": -5}},
        {**user_event, "message": {**message, "text": ["gạo"]}},
        {**user_event, "message": {**message, "message_id": 10**30}},
        {**user_event, "event_name": 7},
        {**user_event, "message": None},
    ]


async def test_a_malformed_body_with_the_right_secret_is_a_clear_400(settings, clock):
    async with (FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo,
                running_bot(settings, clock, **webhook_overrides(telegram, zalo, free_port()))):
            for body in BODIES:
                assert await telegram.deliver_raw(body=body) == 400, body[:80]
                assert await zalo.deliver_raw(body=body) == 400, body[:80]
            await asyncio.sleep(0.3)
            assert telegram.count("sendMessage") == 0 and zalo.sent == []


async def test_a_body_over_the_limit_is_a_413_on_both_webhooks(settings, clock):
    from bot.channels import telegram as telegram_adapter
    from bot.channels import zalo as zalo_adapter

    async with (FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo,
                running_bot(settings, clock, **webhook_overrides(telegram, zalo, free_port()))):
        assert await telegram.deliver_raw(body=b"x" * (telegram_adapter.MAX_WEBHOOK_BODY + 1)) == 413
        assert await zalo.deliver_raw(body=b"x" * (zalo_adapter.MAX_WEBHOOK_BODY + 1)) == 413
        assert await telegram.deliver_raw(body=b"x" * telegram_adapter.MAX_WEBHOOK_BODY) == 400  # read, not JSON
        assert await zalo.deliver_raw(body=b"x" * zalo_adapter.MAX_WEBHOOK_BODY) == 400


async def test_malformed_zalo_events_get_a_400_on_the_webhook_and_no_reply(zalo, caplog):
    user = zalo.user("b2b2c3d4e5f60718")
    caplog.set_level(logging.WARNING)
    for event in zalo_events(user.text_event("gạo kim sáng")):
        if zalo.mode == "webhook":
            assert await zalo.deliver_raw(event, wrapped=False) == 400, event
            assert await zalo.deliver_raw(event, wrapped=True) == 400, event
        else:
            zalo.inject(event)
    await zalo.wait_idle(timeout=10)
    await asyncio.sleep(0.5)
    gc.collect()  # an exception of a forgotten task is reported when the task is collected
    assert zalo.sent == []
    assert "Task exception was never retrieved" not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    await user.says("gạo kim sáng")  # and the bot goes on
    assert "20%" in user.last_reply.text


# ----- Zalo: no event handled before the bot knows its id --------------------------------------------------


async def test_zalo_webhook_answers_503_until_getme_works(settings, clock):
    async with FakeZalo.running(token=ZALO_TOKEN) as zalo:
        zalo.fail("getMe", 500, times=None)  # the platform is failing when the bot starts
        port = free_port()
        app = await build_app(settings.replace(**webhook_overrides(None, zalo, port)), clock=clock)
        server = Server(app)
        try:
            await server.start()
            url = f"http://127.0.0.1:{port}/zalo/webhook"
            user = zalo.user("c3b2c3d4e5f60718")
            await wait_for(lambda: zalo.count("getMe") >= 2)
            event = user.text_event("gạo kim sáng")
            assert await zalo.deliver_raw(event, url=url, secret=WEBHOOK_SECRET) == 503  # the platform retries
            await asyncio.sleep(0.3)
            assert zalo.sent == [] and not server.registered.is_set()
            zalo.clear_faults()
            await asyncio.wait_for(server.registered.wait(), timeout=60)
            assert zalo.webhook_url == url
            await user.says("gạo kim sáng")
            assert "20%" in user.last_reply.text
            assert app.core is not None and server.channels[0].bot_id == zalo.bot_id
        finally:
            await server.stop()
            await app.close()


# ----- durable acknowledgement: kill -9 right after the 200 -----------------------------------------------


async def test_a_webhook_update_survives_a_kill_right_after_the_200(tmp_path, model_cache):
    await killed_after_the_200(tmp_path, model_cache, None)


async def test_a_webhook_update_survives_a_kill_right_after_the_200_on_postgresql(tmp_path, model_cache,
                                                                                  pg_database_url):
    await upgraded(pg_database_url)
    await killed_after_the_200(tmp_path, model_cache, pg_database_url)


async def upgraded(url: str) -> None:
    """What `unionbot db upgrade` (scripts/run.sh) does before a bot starts on PostgreSQL."""
    from storage import migrate
    from storage.db import Database

    db = Database(url)
    try:
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def killed_after_the_200(tmp_path: Path, model_cache: Path, database_url: str | None) -> None:
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram:
        port = free_port()
        env = bot_env(tmp_path, model_cache, telegram_token=TELEGRAM_TOKEN, telegram_api_url=telegram.base_url,
                      telegram_mode="webhook", telegram_webhook_secret=WEBHOOK_SECRET, web_port=str(port),
                      telegram_webhook_url=f"http://127.0.0.1:{port}/telegram/webhook", webhook_lease_seconds="1",
                      **({"database_url": database_url} if database_url else {}))

        async def start():
            proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "bot", "run", cwd=tmp_path, env=env,
                                                        stdout=asyncio.subprocess.DEVNULL,
                                                        stderr=asyncio.subprocess.PIPE)
            calls = telegram.count("setWebhook")
            await wait_for(lambda: telegram.count("setWebhook") > calls or proc.returncode is not None, 120)
            assert proc.returncode is None
            return proc

        first = await start()
        user = telegram.user(201)
        telegram.fail("sendMessage", 500, times=1000)  # the reply cannot go out before the crash
        update = {"update_id": 700_001, "message": telegram.new_user_message(user, user.chat, text="gạo kim sáng")}
        assert await telegram.deliver_raw(update) == 200
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert user.replies == []
        telegram.faults.clear()

        second = await start()
        try:
            await wait_for(lambda: user.replies, timeout=30)
            await asyncio.sleep(1.5)  # and only once
            assert len(user.replies) == 1 and "20%" in user.last_reply
            assert await telegram.deliver_raw(update) == 200  # a redelivery of it is recognised
            await asyncio.sleep(0.5)
            assert len(user.replies) == 1
        finally:
            second.send_signal(signal.SIGTERM)
            _out, err = await asyncio.wait_for(second.communicate(), timeout=30)
        assert second.returncode == 0, err.decode()[-2000:]
