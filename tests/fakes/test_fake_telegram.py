"""Self-tests of the fake Telegram server, driven through aiogram's own client (which proves compatibility)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import aiohttp
import pytest

from tests.conftest import extra_reason

pytest.importorskip("aiogram", reason=extra_reason("telegram"))
from aiogram import Bot, Dispatcher, F, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command
from aiogram.methods import SendMessage
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllPrivateChats,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram_server import FakeTelegram

TOKEN = "123:ABC"


@contextlib.asynccontextmanager
async def fake_and_bot(token: str = TOKEN) -> AsyncIterator[tuple[FakeTelegram, Bot]]:
    async with FakeTelegram.running(token=TOKEN) as fake:
        bot = Bot(token, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        try:
            yield fake, bot
        finally:
            await bot.session.close()


def keyboard(*pairs: tuple[str, str]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text=t, callback_data=d)] for t, d in pairs])


async def echo_loop(bot: Bot) -> None:
    """A minimal bot: echoes text, describes photos and contacts, answers button presses by editing."""
    offset = 0
    while True:
        updates = await bot.get_updates(offset=offset, timeout=1)
        for update in updates:
            offset = update.update_id + 1
            if (message := update.message) is not None:
                if message.text == "/menu":
                    await bot.send_message(message.chat.id, "Menu", reply_markup=keyboard(("A", "kb:a"), ("B", "kb:b")))
                elif message.text:
                    await bot.send_chat_action(message.chat.id, "typing")
                    await bot.send_message(message.chat.id, f"echo: {message.text}",
                                           reply_parameters=ReplyParameters(message_id=message.message_id))
                elif message.photo:
                    await bot.send_message(message.chat.id, f"photo {message.photo[-1].file_id} {message.caption}")
                elif message.contact:
                    await bot.send_message(message.chat.id, f"phone {message.contact.phone_number}")
            elif (query := update.callback_query) is not None:
                await bot.answer_callback_query(query.id, text="ok")
                await bot.edit_message_text(f"chose {query.data}", chat_id=query.message.chat.id,
                                            message_id=query.message.message_id)


@contextlib.asynccontextmanager
async def echo_bot(bot: Bot) -> AsyncIterator[asyncio.Task]:
    task = asyncio.create_task(echo_loop(bot))
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def test_get_me() -> None:
    async with fake_and_bot() as (fake, bot):
        me = await bot.get_me()
        assert me.id == 123 and me.is_bot and me.username == "union_test_bot"
        assert me.can_read_all_group_messages is False and me.supports_inline_queries is False
        assert fake.count("getMe") == 1
        assert fake.base_url.startswith("http://127.0.0.1:")


async def test_send_message_with_keyboard_is_in_transcript() -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101, first_name="Lan")
        first = await bot.send_message(101, "Chao <b>Lan</b>", parse_mode="HTML",
                                       reply_markup=keyboard(("Gao", "kb:gao")))
        second = await bot.send_message(101, "second")
        assert first.message_id + 1 == second.message_id
        assert first.text == "Chao Lan" and first.chat.type == "private" and first.from_user.is_bot
        assert first.reply_markup.inline_keyboard[0][0].callback_data == "kb:gao"
        entry = fake.chat(101).messages[0]
        assert entry["text"] == "Chao Lan" and entry["raw_text"] == "Chao <b>Lan</b>" and not entry["edited"]
        assert entry["reply_markup"] == {"inline_keyboard": [[{"text": "Gao", "callback_data": "kb:gao"}]]}
        assert fake.params_of("sendMessage")[0]["chat_id"] == 101  # form fields decoded back to ints / objects

        edited = await bot.edit_message_text("Changed", chat_id=101, message_id=first.message_id)
        assert edited.text == "Changed" and edited.reply_markup is None
        assert entry["edited"] and entry["text"] == "Changed"
        with pytest.raises(TelegramBadRequest, match="message is not modified"):
            await bot.edit_message_text("Changed", chat_id=101, message_id=first.message_id)
        assert fake.user(101).last_reply == "second"


async def test_text_limits_and_parse_errors() -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101)
        await bot.send_message(101, "x" * 4096)
        with pytest.raises(TelegramBadRequest, match="message is too long"):
            await bot.send_message(101, "x" * 4097)
        with pytest.raises(TelegramBadRequest, match="message text is empty"):
            await bot.send_message(101, "   ")
        with pytest.raises(TelegramBadRequest, match="can't parse entities"):
            await bot.send_message(101, "giam <5%", parse_mode="HTML")
        with pytest.raises(TelegramBadRequest, match="reserved"):
            await bot.send_message(101, "Gia 20.000", parse_mode="MarkdownV2")
        with pytest.raises(TelegramBadRequest, match="caption is too long"):
            await bot.send_photo(101, "photo-id", caption="c" * 1025)
        with pytest.raises(TelegramBadRequest, match="chat not found"):
            await bot.send_message(999, "hello")
        with pytest.raises(TelegramBadRequest, match="BUTTON_DATA_INVALID"):
            await bot.send_message(101, "k", reply_markup=keyboard(("x", "d" * 65)))
        assert len(fake.chat(101).messages) == 1


async def test_fault_429_gives_retry_after_and_then_recovers() -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101)
        fake.fail("sendMessage", 429, retry_after=7)
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(101, "hi")
        assert caught.value.retry_after == 7 and "retry after 7" in caught.value.message
        await bot.send_message(101, "hi")
        assert fake.count("sendMessage") == 2
        assert [f["status"] for f in fake.faults_served] == [429]
        assert [m["text"] for m in fake.chat(101).messages] == ["hi"]


@pytest.mark.parametrize(("status", "error", "text"), [
    (403, TelegramForbiddenError, "bot was blocked by the user"),
    (500, TelegramServerError, "Internal Server Error"),
    (401, TelegramUnauthorizedError, "Unauthorized"),
])
async def test_faults_map_to_aiogram_errors(status: int, error: type[Exception], text: str) -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101)
        fake.user(102)
        fake.fail("sendMessage", status, times=2, chat_id=101)
        await bot.send_message(102, "other chat is not affected")
        for _ in range(2):
            with pytest.raises(error, match=text):
                await bot.send_message(101, "hi")
        await bot.send_message(101, "third time works")
        assert fake.chat(101).messages[0]["text"] == "third time works"


async def test_unknown_token_and_method() -> None:
    async with FakeTelegram.running(token=TOKEN) as fake:
        wrong = Bot("999:WRONG", session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        try:
            with pytest.raises(TelegramUnauthorizedError):
                await wrong.get_me()
        finally:
            await wrong.session.close()
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{fake.base_url}/bot{TOKEN}/noSuchMethod", json={}) as response:
                assert response.status == 404
                assert await response.json() == {"ok": False, "error_code": 404,
                                                 "description": "Not Found: method not found"}
            # JSON and urlencoded bodies are accepted too; method names are case-insensitive like Telegram's.
            fake.user(7)
            async with http.post(f"{fake.base_url}/bot{TOKEN}/sendmessage", json={"chat_id": 7, "text": "a"}) as r:
                assert r.status == 200 and (await r.json())["result"]["text"] == "a"
            async with http.post(f"{fake.base_url}/bot{TOKEN}/sendMessage", data={"chat_id": "7", "text": "b"}) as r:
                assert r.status == 200 and (await r.json())["result"]["chat"]["id"] == 7
            async with http.get(f"{fake.base_url}/bot{TOKEN}/getMe") as r:
                assert (await r.json())["result"]["username"] == "union_test_bot"


async def test_get_updates_returns_injected_updates_and_confirms_with_offset() -> None:
    async with fake_and_bot() as (fake, bot):
        user = fake.user(101, first_name="Lan")
        first = fake.inject({"message": fake.new_user_message(user, user.chat, text="/start")})
        fake.inject({"message": fake.new_user_message(user, user.chat, text="hi @union_test_bot")})
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [first, first + 1]
        assert updates[0].message.entities[0].type == "bot_command"
        assert updates[1].message.entities[0].type == "mention"
        assert updates[0].message.from_user.first_name == "Lan"
        assert len(await bot.get_updates(timeout=0)) == 2  # not confirmed yet
        assert [u.update_id for u in await bot.get_updates(offset=first + 1, timeout=0)] == [first + 1]
        assert await bot.get_updates(offset=first + 2, timeout=0) == []
        assert fake.bot.pending == []

        # Long polling: a waiting getUpdates returns as soon as an update arrives.
        poll = asyncio.create_task(bot.get_updates(offset=first + 2, timeout=30))
        await asyncio.sleep(0.1)
        assert not poll.done()
        fake.inject({"message": fake.new_user_message(user, user.chat, text="late")})
        assert [u.message.text for u in await asyncio.wait_for(poll, 1)] == ["late"]


async def test_webhook_delivery_secret_and_conflict() -> None:
    received: list[tuple[dict, str | None]] = []

    async def receiver(request: web.Request) -> web.Response:
        secret = request.headers.get("X-Telegram-Bot-Api-Secret-Token")
        if secret != "s3cret":
            return web.Response(status=403)
        received.append((await request.json(), secret))
        return web.json_response({})

    app = web.Application()
    app.router.add_post("/hook", receiver)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        async with fake_and_bot() as (fake, bot):
            user = fake.user(101)
            await bot.set_webhook(f"http://{host}:{port}/hook", secret_token="s3cret")
            info = await bot.get_webhook_info()
            assert info.url.endswith("/hook") and info.pending_update_count == 0
            update_id = fake.inject({"message": fake.new_user_message(user, user.chat, text="via webhook")})
            await fake.wait_idle()
            assert fake.webhook_deliveries == [(update_id, 200)]
            assert received[0][0]["message"]["text"] == "via webhook" and received[0][1] == "s3cret"

            with pytest.raises(TelegramConflictError):
                await bot.get_updates(timeout=0)

            assert await fake.deliver_raw({"message": {}}, secret="wrong") == 403
            assert await fake.deliver_raw({"message": {}}, secret=None) == 403
            fake.webhook_secret_override = "wrong"
            rejected = fake.inject({"message": fake.new_user_message(user, user.chat, text="spoofed")})
            await fake.wait_idle()
            assert fake.webhook_deliveries[-1] == (rejected, 403)
            assert (await bot.get_webhook_info()).last_error_message

            await bot.delete_webhook()
            assert await bot.get_updates(timeout=0) == []
    finally:
        await runner.cleanup()


async def test_conversation_helpers_with_an_echo_bot() -> None:
    async with fake_and_bot() as (fake, bot), echo_bot(bot):
        user = fake.user(101, first_name="Lan", language_code="vi")
        replies = await user.says("gao kim sang giam bao nhieu")
        assert [r["text"] for r in replies] == ["echo: gao kim sang giam bao nhieu"]
        assert user.last_reply == "echo: gao kim sang giam bao nhieu"
        assert replies[0]["reply_to_message_id"] is not None
        assert fake.chat(101).actions == ["typing"]

        await user.says("/menu")
        assert user.last_keyboard[1][0]["callback_data"] == "kb:b"
        changed = await user.presses("kb:b")
        assert changed[0]["edited"] and changed[0]["text"] == "chose kb:b"
        assert fake.chat(101).callback_answers[0]["text"] == "ok"
        with pytest.raises(LookupError):
            await user.presses("kb:none")  # the keyboard is gone after the edit

        await user.sends_photo("photo-file-id-1", caption="giay ra vien")
        assert user.last_reply == "photo photo-file-id-1 giay ra vien"
        await user.shares_contact("0912345678")
        assert user.last_reply == "phone 0912345678"

        group = fake.group(-100500, title="To cong doan 1")
        in_group = await fake.user(102, first_name="Binh").says_in(group, "@union_test_bot gao?")
        assert in_group[0]["text"] == "echo: @union_test_bot gao?"
        assert [r["text"] for r in user.replies][-1] == "phone 0912345678"
        assert fake.chat(-100500).messages[0]["text"] == "echo: @union_test_bot gao?"


async def test_duplicate_update_and_wait_idle() -> None:
    async with fake_and_bot() as (fake, bot), echo_bot(bot):
        user = fake.user(101)
        update = {"update_id": 777, "message": fake.new_user_message(user, user.chat, text="once")}
        fake.inject(update)
        fake.inject(update)
        await fake.wait_idle(101)
        # The naive echo bot answers twice: that is what a duplicate-delivery test would catch.
        assert [m["text"] for m in user.replies] == ["echo: once", "echo: once"]
        assert fake.inject({"message": fake.new_user_message(user, user.chat, text="next")}) > 777


async def test_photo_upload_get_file_and_download() -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101)
        sent = await bot.send_photo(101, BufferedInputFile(b"\x89PNG-bytes", filename="card.png"), caption="the card",
                                    reply_markup=keyboard(("Ok", "kb:ok")))
        assert sent.caption == "the card" and sent.photo[-1].file_id.startswith("fake-photo-")
        entry = fake.chat(101).messages[-1]
        assert entry["caption"] == "the card" and entry["photo"] and entry["text"] is None
        file = await bot.get_file(sent.photo[-1].file_id)
        assert file.file_path
        downloaded = await bot.download_file(file.file_path)
        assert downloaded.read() == b"\x89PNG-bytes"
        by_id = await bot.send_photo(101, "photo-file-id-1")
        assert by_id.photo[-1].file_id == "photo-file-id-1"


async def test_commands_per_scope_and_language() -> None:
    async with fake_and_bot() as (fake, bot):
        await bot.set_my_commands([BotCommand(command="start", description="Bat dau")], language_code="vi")
        await bot.set_my_commands([BotCommand(command="help", description="Help")],
                                  scope=BotCommandScopeAllPrivateChats())
        assert fake.commands[("default", "vi")] == [{"command": "start", "description": "Bat dau"}]
        assert [c.command for c in await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats())] == ["help"]
        assert await bot.get_my_commands() == []
        await bot.delete_my_commands(language_code="vi")
        assert ("default", "vi") not in fake.commands
        with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
            await bot.set_my_commands([BotCommand(command="Bad-Command", description="x")])


async def test_rate_limits() -> None:
    async with fake_and_bot() as (fake, bot):
        fake.user(101)
        fake.user(102)
        fake.per_chat_limit(2)
        await bot.send_message(101, "1")
        await bot.send_message(101, "2")
        with pytest.raises(TelegramRetryAfter) as caught:
            await bot.send_message(101, "3")
        assert caught.value.retry_after == 1
        await bot.send_message(102, "other chat")
        fake.per_chat_limit(None)
        fake.rate_limit(1)
        await bot.send_message(101, "a")
        with pytest.raises(TelegramRetryAfter):
            await bot.send_message(102, "b")
        assert [f["kind"] for f in fake.faults_served] == ["rate_limit", "rate_limit"]


async def test_blocked_user_and_callback_answered_twice() -> None:
    async with fake_and_bot() as (fake, bot), echo_bot(bot):
        user = fake.user(101)
        await user.says("/menu")
        user.blocks_bot()
        with pytest.raises(TelegramForbiddenError, match="blocked"):
            await bot.send_message(101, "hi")
        user.unblocks_bot()
        await user.presses("kb:a")
        query_id = fake.chat(101).callback_answers[0]["callback_query_id"]
        with pytest.raises(TelegramBadRequest, match="query is too old"):
            await bot.answer_callback_query(query_id)


def echo_dispatcher() -> Dispatcher:
    router = Router()

    @router.message(Command("start"))
    async def start(message: Message) -> SendMessage:
        # Returned, not awaited: a webhook handler answers with it in the response body.
        return message.answer("Xin chao", reply_markup=keyboard(("Gao", "kb:gao")))

    @router.callback_query(F.data.startswith("kb:"))
    async def pressed(query: CallbackQuery) -> None:
        await query.answer()
        await query.message.edit_text(f"chose {query.data}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(f"echo: {message.text}")

    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    return dispatcher


async def test_aiogram_dispatcher_polling() -> None:
    async with fake_and_bot() as (fake, bot):
        dispatcher = echo_dispatcher()
        polling = asyncio.create_task(dispatcher.start_polling(bot, handle_signals=False, close_bot_session=False))
        try:
            user = fake.user(101, first_name="Lan")
            await user.says("/start")
            assert user.last_reply == "Xin chao"
            await user.presses("kb:gao")
            assert user.last_reply == "chose kb:gao" and fake.count("answerCallbackQuery") == 1
            await user.says("hello")
            assert user.last_reply == "echo: hello"
        finally:
            await dispatcher.stop_polling()
            await asyncio.wait_for(polling, 5)


async def test_aiogram_webhook_reply_in_response_body_is_executed() -> None:
    async with fake_and_bot() as (fake, bot):
        app = web.Application()
        SimpleRequestHandler(echo_dispatcher(), bot, handle_in_background=False, secret_token="s3cret").register(
            app, path="/webhook")
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        host, port = runner.addresses[0][:2]
        try:
            await bot.set_webhook(f"http://{host}:{port}/webhook", secret_token="s3cret")
            user = fake.user(101)
            await user.says("/start")  # answered in the webhook response, not by a separate request
            assert user.last_reply == "Xin chao" and fake.webhook_deliveries[-1][1] == 200
            assert [method for method, _ in fake.webhook_replies] == ["sendMessage"]
            await user.presses("kb:gao")
            assert user.last_reply == "chose kb:gao"
            assert await fake.deliver_raw({"message": {}}, secret="wrong") == 401
        finally:
            await runner.cleanup()
