"""Self-tests of the fake Zalo Bot Platform server, driven by a plain aiohttp client."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from aiohttp import web

from tests.fakes.zalo_server import (
    EVENT_IMAGE,
    EVENT_TEXT,
    EVENT_UNSUPPORTED,
    SECRET_HEADER,
    FakeZalo,
    utf16_len,
)

TOKEN = "zalo-token-1"
USER_ID = "a1b2c3d4e5f60718"
SECRET = "s3cret-token-xyz"


def _is_hex(value: str) -> bool:
    return isinstance(value, str) and bool(value) and all(c in "0123456789abcdef" for c in value)


@pytest_asyncio.fixture
async def fake() -> AsyncIterator[FakeZalo]:
    async with FakeZalo.running(token=TOKEN) as server:
        yield server


@pytest_asyncio.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def call(http: aiohttp.ClientSession, fake: FakeZalo, method: str, token: str | None = None,
               **params: Any) -> tuple[int, dict[str, Any], Any]:
    url = f"{fake.base_url}/bot{token or fake.token}/{method}"
    async with http.post(url, json=params) as resp:
        return resp.status, await resp.json(content_type=None), resp.headers


class WebhookReceiver:
    """A tiny aiohttp app on 127.0.0.1 that records what the fake POSTs to it."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret
        self.requests: list[tuple[dict[str, str], Any]] = []
        self.on_event = None  # optional async callback(event)
        self.app = web.Application()
        self.app.router.add_post("/zalo/webhook", self._handle)
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        headers = dict(request.headers)
        raw = await request.read()
        self.requests.append((headers, raw))
        if request.headers.get(SECRET_HEADER) != self.secret:
            return web.json_response({"message": "forbidden"}, status=403)
        try:
            body = await request.json()
        except ValueError:
            return web.json_response({"message": "bad json"}, status=400)
        event = body["result"] if isinstance(body, dict) and "result" in body else body
        if self.on_event is not None:
            asyncio.get_running_loop().create_task(self.on_event(event))
        return web.json_response({"message": "Success"})

    def bodies(self) -> list[Any]:
        import json

        return [json.loads(raw) for _, raw in self.requests]

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[WebhookReceiver]:
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}/zalo/webhook"
        try:
            yield self
        finally:
            await runner.cleanup()


# ------------------------------------------------------------------------------------------------ basics


async def test_get_me(fake, http):
    status, body, _ = await call(http, fake, "getMe")
    assert status == 200 and body["ok"] is True
    assert set(body["result"]) == {"id", "account_name", "account_type", "can_join_groups"}
    assert _is_hex(body["result"]["id"]) and body["result"]["account_type"] == "BASIC"
    assert fake.count("getMe") == 1


async def test_wrong_token_and_unknown_method(fake, http):
    status, body, _ = await call(http, fake, "getMe", token="nope")
    assert status == 401
    assert body == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    status, body, _ = await call(http, fake, "editMessageText", chat_id=USER_ID, text="x")
    assert status == 404 and body["ok"] is False and body["error_code"] == 404


async def test_send_message_and_limits(fake, http):
    status, body, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="Xin chào 👋")
    assert status == 200 and body["ok"] is True
    result = body["result"]
    assert _is_hex(result["message_id"])
    assert abs(result["date"] - time.time() * 1000) < 60_000  # milliseconds
    [msg] = fake.chat(USER_ID).messages
    assert (msg.kind, msg.text, msg.message_id, msg.date) == ("text", "Xin chào 👋", result["message_id"],
                                                              result["date"])

    status, body, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="a" * 2000)
    assert status == 200 and body["ok"] is True
    status, body, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="a" * 2001)
    assert status == 400 and body["ok"] is False and body["error_code"] == 400 and "2000" in body["description"]
    status, body, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="")
    assert status == 400
    status, body, _ = await call(http, fake, "sendMessage", text="no chat")
    assert status == 400
    assert len(fake.chat(USER_ID).messages) == 2
    assert fake.count("sendMessage") == 5 and fake.count("sendMessage", ok=True) == 2

    fake.text_length = utf16_len  # emoji count twice in UTF-16
    status, _, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="😀" * 1001)
    assert status == 400


async def test_photo_sticker_and_chat_action(fake, http):
    status, body, _ = await call(http, fake, "sendPhoto", chat_id=USER_ID, photo="https://x.test/a.jpg",
                                 caption="ảnh")
    assert status == 200 and _is_hex(body["result"]["message_id"])
    status, body, _ = await call(http, fake, "sendSticker", chat_id=USER_ID, sticker="abc123")
    assert status == 200
    status, body, _ = await call(http, fake, "sendChatAction", chat_id=USER_ID, action="typing")
    assert status == 200 and body == {"ok": True}
    status, body, _ = await call(http, fake, "sendChatAction", chat_id=USER_ID, action="dancing")
    assert status == 400
    status, body, _ = await call(http, fake, "sendPhoto", chat_id=USER_ID)
    assert status == 400
    kinds = [(m.kind, m.content) for m in fake.chat(USER_ID).messages]
    assert kinds == [("photo", "ảnh"), ("sticker", "abc123")]
    assert fake.chat(USER_ID).messages[0].photo == "https://x.test/a.jpg"
    assert [tuple(a) for a in fake.chat_actions] == [(USER_ID, "typing")]


# ------------------------------------------------------------------------------------------------ getUpdates


async def test_get_updates_one_event_then_408(fake, http):
    lan = fake.user(USER_ID, display_name="Lan")
    fake.inject(lan.text_event("một"))
    fake.inject(lan.text_event("hai"))
    status, body, _ = await call(http, fake, "getUpdates", timeout=1)
    assert status == 200 and body["ok"] is True
    event = body["result"]
    assert isinstance(event, dict)  # one object, not a list
    assert event["event_name"] == EVENT_TEXT
    msg = event["message"]
    assert msg["text"] == "một"
    assert msg["from"] == {"id": USER_ID, "display_name": "Lan", "is_bot": False}
    assert msg["chat"] == {"id": USER_ID, "chat_type": "PRIVATE"}
    assert _is_hex(msg["message_id"]) and msg["date"] > 10**12

    status, body, _ = await call(http, fake, "getUpdates", timeout="1")  # docs type the timeout as a string
    assert body["result"]["message"]["text"] == "hai"

    started = time.monotonic()
    status, body, _ = await call(http, fake, "getUpdates", timeout=0.3)
    assert time.monotonic() - started >= 0.25
    assert status == 408
    assert body == {"ok": False, "error_code": 408, "description": "Request timeout"}


async def test_get_updates_timeout_is_capped_and_long_poll_wakes(fake, http):
    started = time.monotonic()
    status, _, _ = await call(http, fake, "getUpdates", timeout=30)
    assert status == 408 and time.monotonic() - started < 3

    lan = fake.user(USER_ID)

    async def later():
        await asyncio.sleep(0.1)
        fake.inject(lan.text_event("muộn"))

    task = asyncio.create_task(later())
    started = time.monotonic()
    status, body, _ = await call(http, fake, "getUpdates", timeout=2)
    await task
    assert status == 200 and body["result"]["message"]["text"] == "muộn"
    assert time.monotonic() - started < 1.0


async def test_replay_updates_serves_duplicates(fake, http):
    fake.replay_updates = 1
    event = fake.inject(fake.user(USER_ID).text_event("lặp"))
    first = (await call(http, fake, "getUpdates", timeout=0.2))[1]["result"]
    second = (await call(http, fake, "getUpdates", timeout=0.2))[1]["result"]
    assert first == second == event
    assert (await call(http, fake, "getUpdates", timeout=0.1))[0] == 408


# ------------------------------------------------------------------------------------------------ webhook


async def test_webhook_blocks_get_updates_and_delivers_wrapped_and_bare(fake, http):
    async with WebhookReceiver().running() as receiver:
        status, body, _ = await call(http, fake, "getWebhookInfo")
        assert status == 200 and body["result"]["url"] == ""

        status, body, _ = await call(http, fake, "setWebhook", url=receiver.url, secret_token="short")
        assert status == 400
        status, body, _ = await call(http, fake, "setWebhook", url=receiver.url, secret_token=SECRET)
        assert status == 200 and body["result"]["url"] == receiver.url and body["result"]["updated_at"] > 10**12
        status, body, _ = await call(http, fake, "getWebhookInfo")
        assert body["result"]["url"] == receiver.url and "secret_token" not in body["result"]

        status, body, _ = await call(http, fake, "getUpdates", timeout=0.2)
        assert status == 409 and body["ok"] is False and body["error_code"] == 409

        lan = fake.user(USER_ID, display_name="Lan")
        fake.webhook_wrapped = True
        wrapped_event = fake.inject(lan.text_event("bọc"))
        await fake.wait_idle()
        fake.webhook_wrapped = False
        bare_event = fake.inject(lan.text_event("trần"))
        await fake.wait_idle()

        assert receiver.bodies() == [{"ok": True, "result": wrapped_event}, bare_event]
        for headers, _ in receiver.requests:
            assert headers[SECRET_HEADER] == SECRET
            assert headers["Content-Type"].startswith("application/json")
        assert [(d.message_id, d.status, d.wrapped) for d in fake.webhook_deliveries] == [
            (wrapped_event["message"]["message_id"], 200, True),
            (bare_event["message"]["message_id"], 200, False),
        ]

        # default: alternate wrapped / bare
        fake.webhook_wrapped = None
        assert [await fake.deliver(lan.text_event(t)) for t in "ab"] == [200, 200]
        assert [("result" in b) for b in receiver.bodies()[2:]] == [True, False]

        # rejected requests and duplicates
        assert await fake.deliver_raw(bare_event, secret="wrong-secret") == 403
        assert await fake.deliver_raw(bare_event, secret=None) == 403
        assert SECRET_HEADER not in receiver.requests[-1][0]
        assert await fake.deliver_raw(body=b"{not json") == 400
        assert await fake.deliver_raw(bare_event, wrapped=False) == 200
        assert await fake.deliver_raw(bare_event, wrapped=False) == 200
        fake.webhook_secret_override = "other-secret"
        fake.inject(lan.text_event("sai"))
        await fake.wait_idle()
        assert fake.webhook_deliveries[-1].status == 403

        status, body, _ = await call(http, fake, "deleteWebhook")
        assert status == 200 and body["result"]["url"] == ""
        assert (await call(http, fake, "getUpdates", timeout=0.1))[0] == 408
        fake.webhook_info_404_when_unset = True
        assert (await call(http, fake, "getWebhookInfo"))[0] == 404


async def test_set_webhook_wakes_running_long_poll(fake, http):
    poll = asyncio.create_task(call(http, fake, "getUpdates", timeout=2))
    await asyncio.sleep(0.1)
    await call(http, fake, "setWebhook", url="https://bot.example/hook", secret_token=SECRET)
    status, body, _ = await asyncio.wait_for(poll, 1)
    assert status == 409 and body["ok"] is False


# ------------------------------------------------------------------------------------------------ faults


async def test_fault_429_with_retry_after(fake, http):
    fake.fail("sendMessage", 429, retry_after=3)
    status, body, headers = await call(http, fake, "sendMessage", chat_id=USER_ID, text="x")
    assert status == 429
    assert body["ok"] is False and body["error_code"] == 429 and body["parameters"] == {"retry_after": 3}
    assert headers["Retry-After"] == "3"
    assert fake.chat(USER_ID).messages == []
    status, body, _ = await call(http, fake, "sendMessage", chat_id=USER_ID, text="x")
    assert status == 200 and len(fake.chat(USER_ID).messages) == 1
    assert fake.count("sendMessage") == 2 and fake.count("sendMessage", ok=False) == 1


async def test_fault_500_times_and_401_and_chat_filter(fake, http):
    fake.fail("getMe", 500, times=2, description="boom")
    assert [(await call(http, fake, "getMe"))[0] for _ in range(3)] == [500, 500, 200]
    assert fake.calls[0].response == {"ok": False, "error_code": 500, "description": "boom"}

    fake.fail("*", 401)
    status, body, _ = await call(http, fake, "getUpdates", timeout=0)
    assert status == 401 and body["description"] == "Unauthorized"

    fake.fail("sendMessage", 403, chat_id="ffff0000")
    assert (await call(http, fake, "sendMessage", chat_id=USER_ID, text="ok"))[0] == 200
    assert (await call(http, fake, "sendMessage", chat_id="ffff0000", text="no"))[0] == 403

    fake.fail("sendMessage", 502, raw_body="<html>bad gateway</html>")
    async with http.post(fake.url("sendMessage"), json={"chat_id": USER_ID, "text": "x"}) as resp:
        assert resp.status == 502 and "bad gateway" in await resp.text()


# ------------------------------------------------------------------------------------------------ users + bots


async def echo_bot_polling(fake: FakeZalo, session: aiohttp.ClientSession) -> None:
    """A minimal polling bot: long-polls getUpdates, ignores bots, answers with typing + sendMessage."""
    while True:
        async with session.post(fake.url("getUpdates"), json={"timeout": 1}) as resp:
            body = await resp.json()
        if resp.status == 408 or not body.get("ok"):
            continue
        await handle_event(fake, session, body["result"])


async def handle_event(fake: FakeZalo, session: aiohttp.ClientSession, event: dict[str, Any]) -> None:
    message = event.get("message") or {}
    if message.get("from", {}).get("is_bot"):
        return
    chat_id = message["chat"]["id"]
    if event["event_name"] == EVENT_TEXT:
        reply = f"echo: {message['text']}"
    elif event["event_name"] == EVENT_IMAGE:
        reply = f"ảnh: {message.get('caption') or '-'}"
    elif event["event_name"] == EVENT_UNSUPPORTED:
        reply = "Xin hãy gõ chữ."
    else:
        reply = "?"
    await session.post(fake.url("sendChatAction"), json={"chat_id": chat_id, "action": "typing"})
    for _ in range(3):
        async with session.post(fake.url("sendMessage"), json={"chat_id": chat_id, "text": reply}) as resp:
            if resp.status != 429:
                break
            await asyncio.sleep(float(resp.headers.get("Retry-After", "0")) / 10)


@pytest_asyncio.fixture
async def polling_bot(fake, http) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(echo_bot_polling(fake, http))
    yield task
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


async def test_user_says_with_polling_echo_bot(fake, polling_bot):
    lan = fake.user(USER_ID, display_name="Lan")
    replies = await lan.says("xin chào")
    assert [r.text for r in replies] == ["echo: xin chào"]
    assert lan.last_reply.text == "echo: xin chào"
    assert fake.chat_actions[-1] == (USER_ID, "typing")

    fake.fail("sendMessage", 429, retry_after=1)
    replies = await lan.says("lần hai")
    assert [r.text for r in replies] == ["echo: lần hai"]
    assert fake.count("sendMessage", ok=False) == 1

    replies = await lan.sends_photo("https://x.test/p.jpg", caption="thẻ")
    assert replies[0].text == "ảnh: thẻ"
    replies = await lan.sends_unsupported()
    assert replies[0].text == "Xin hãy gõ chữ."
    assert len(lan.replies) == 4

    # the bot's own messages come back with from.is_bot and must be ignored
    fake.echo_bot_messages = True
    replies = await lan.says("vọng lại")
    await fake.wait_idle()
    assert [r.text for r in lan.replies[4:]] == ["echo: vọng lại"]
    assert fake.pending_updates == 0

    other = fake.user("0fedcba987654321", display_name="Minh")
    replies = await other.says("chào bot")
    assert [r.text for r in replies] == ["echo: chào bot"] and len(lan.replies) == 5


async def test_says_expect_reply_false_and_timeout(fake, http):
    lan = fake.user(USER_ID)
    with pytest.raises(TimeoutError):
        await lan.says("ai đó không?", timeout=0.3)  # nobody polls

    async def silent_bot():
        while True:
            async with http.post(fake.url("getUpdates"), json={"timeout": 1}) as resp:
                await resp.read()

    task = asyncio.create_task(silent_bot())
    try:
        assert await lan.says("im lặng", expect_reply=False) == []
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_user_says_with_webhook_bot(fake, http):
    receiver = WebhookReceiver()
    receiver.on_event = lambda event: handle_event(fake, http, event)
    async with receiver.running():
        await call(http, fake, "setWebhook", url=receiver.url, secret_token=SECRET)
        lan = fake.user(USER_ID, display_name="Lan")
        assert [r.text for r in await lan.says("một")] == ["echo: một"]
        assert [r.text for r in await lan.says("hai")] == ["echo: hai"]
        assert [d.wrapped for d in fake.webhook_deliveries] == [True, False]  # alternates by default

        fake.webhook_secret_override = "not-the-secret"
        with pytest.raises(AssertionError, match="403"):
            await lan.says("bị chặn")


async def test_user_ids_are_hex_and_group_chat(fake):
    with pytest.raises(ValueError):
        fake.user("user-1")
    assert fake.user(USER_ID) is fake.user(USER_ID)
    member = fake.user("abc123", display_name="Hà", chat_id="9999aaaa")
    event = member.text_event("@bot chào")
    assert event["message"]["chat"] == {"id": "9999aaaa", "chat_type": "GROUP"}
    assert _is_hex(fake.user().id)


async def test_real_looking_token_form_and_query_params(http):
    async with FakeZalo.running(token="123456789:abc-XYZ_q") as fake:
        async with http.post(fake.url("sendMessage"), data={"chat_id": USER_ID, "text": "form"}) as resp:
            assert resp.status == 200 and (await resp.json())["ok"] is True
        async with http.get(fake.url("sendMessage"), params={"chat_id": USER_ID, "text": "query"}) as resp:
            assert resp.status == 200
        async with http.post(fake.url("sendMessage"), data=b"{broken", headers={"Content-Type": "application/json"}) \
                as resp:
            assert resp.status == 400 and (await resp.json())["ok"] is False
        assert fake.chat(USER_ID).texts == ["form", "query"]
        assert fake.api_url == f"{fake.base_url}/bot123456789:abc-XYZ_q"
