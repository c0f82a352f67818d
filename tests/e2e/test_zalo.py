"""End to end through the Zalo adapter against the fake Zalo Bot API, polling and webhook."""

import asyncio

import pytest
from pydantic import SecretStr

from bot.app import build_app
from bot.channels.payloads import MessengerStopped
from bot.channels.zalo import ZaloChannel
from handlers import pages
from handlers.types import Reply
from tests.e2e.conftest import WEBHOOK_SECRET, ZALO_TOKEN
from tests.fakes.zalo_server import FakeZalo

LAN = "a1b2c3d4e5f60718"


async def wait_for(condition, timeout: float = 8.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def test_questions_with_and_without_diacritics(zalo):
    lan = zalo.user(LAN, display_name="Lan")
    await lan.says("Gạo Kim Sáng giảm giá bao nhiêu?")
    assert "20%" in lan.last_reply.text and "40%" in lan.last_reply.text
    await lan.says("sua ha lan dc giam bn")
    assert "30%" in lan.last_reply.text


async def test_choices_are_numbered_and_answered_with_digits_or_words(zalo):
    user = zalo.user("b1b2c3d4e5f60718")
    await user.says("menu")
    assert "1. Ưu đãi cho đoàn viên" in user.last_reply.text and "Trả lời bằng số" in user.last_reply.text
    await user.says("1")
    assert "Kim Sáng" in user.last_reply.text and "2. " in user.last_reply.text
    await user.says("số 2")
    assert user.last_reply.text.startswith("Gạo sạch Kim Sáng: giảm")  # the second entry's sheet
    await user.says("menu")
    await user.says("cum thi dua")  # the option's words, without accents
    assert "Cụm thi đua số 1" in user.last_reply.text


async def test_a_reply_over_2000_characters_is_split(zalo, monkeypatch):
    long_text = "Đoạn thử nghiệm dài. " * 150  # about 3,000 characters
    monkeypatch.setattr(zalo.app.core.answers, "answer", lambda *_args: [Reply(long_text)])
    monkeypatch.setattr(zalo.app.core, "feedback", None)  # the split alone, without the 👍/👎 line
    monkeypatch.setattr(pages, "MAX_CHARS", 10_000)  # one long line not cut into pages: the channel's split alone
    user = zalo.user("c1b2c3d4e5f60718")
    messages = await user.says("có những ưu đãi gì")
    texts = [m.text for m in messages]
    assert len(texts) == 2 and all(0 < len(t) <= 2000 for t in texts)
    assert " ".join(texts).split() == long_text.split()


async def test_a_long_help_is_continued_by_the_number_of_xem_them(zalo):
    user = zalo.user("e2b2c3d4e5f60718")
    await user.says("/help")
    first = user.last_reply.text
    option = next(line for line in first.splitlines() if "Xem thêm (còn " in line)
    await user.says(option.split(".")[0])  # "8. Xem thêm (còn 3)" -> "8"
    assert "/hoso" in first + user.last_reply.text and user.last_reply.text != first


async def test_a_duplicate_is_handled_once(zalo):
    user = zalo.user("d1b2c3d4e5f60718")
    event = user.text_event("gạo kim sáng")
    if zalo.mode == "webhook":
        assert await zalo.deliver_raw(event, wrapped=True) == 200
        assert await zalo.deliver_raw(event, wrapped=False) == 200
    else:
        zalo.inject(event)
        zalo.inject(event)
    await wait_for(lambda: user.replies)
    await asyncio.sleep(1.5)  # time for a second reply, if the duplicate were handled
    assert len(user.replies) == 1


async def test_wrapped_and_bare_webhook_payloads_and_a_wrong_secret(zalo):
    if zalo.mode != "webhook":
        pytest.skip("webhook only")
    user = zalo.user("e1b2c3d4e5f60718")
    rejected = user.text_event("gạo kim sáng")
    assert await zalo.deliver_raw(rejected, secret="wrong-secret") == 403
    assert await zalo.deliver_raw(rejected, secret=None) == 403
    await asyncio.sleep(0.3)
    assert user.replies == []  # nothing processed
    assert await zalo.deliver_raw(user.text_event("sữa hà lan"), wrapped=True) == 200
    await wait_for(lambda: len(user.replies) == 1)
    assert await zalo.deliver_raw(user.text_event("gạo kim sáng"), wrapped=False) == 200
    await wait_for(lambda: len(user.replies) == 2)
    assert "30%" in user.replies[0].text and "20%" in user.replies[1].text
    assert await zalo.deliver_raw(body=b"x" * 100_000) == 413


async def test_unsupported_messages_get_a_polite_answer_and_own_messages_are_ignored(zalo):
    user = zalo.user("f1b2c3d4e5f60718")
    await user.sends_unsupported()
    assert "chỉ đọc được tin nhắn chữ" in user.last_reply.text
    zalo.echo_bot_messages = True  # the platform echoes the bot's own messages back
    await user.says("xin chào")
    await zalo.wait_idle()
    assert len(user.replies) == 2  # no answer to its own echo


async def test_429_on_send_is_backed_off_and_retried(zalo):
    zalo.fail("sendMessage", 429, retry_after=1)
    user = zalo.user("a2b2c3d4e5f60718")
    started = asyncio.get_running_loop().time()
    await user.says("gạo kim sáng", timeout=8)
    assert "20%" in user.last_reply.text
    assert asyncio.get_running_loop().time() - started >= 1.0


async def test_polling_backs_off_on_429_and_stops_on_401(settings, clock, caplog):
    async with FakeZalo.running(token=ZALO_TOKEN) as fake:
        app = await build_app(settings, clock=clock)
        channel = ZaloChannel(app.core, app.db, app.translator, ZALO_TOKEN, api_url=fake.base_url,
                              durable_dedupe=False)
        fake.fail("getUpdates", 429, retry_after=1)
        task = asyncio.create_task(channel.run_polling(poll_timeout=1))
        try:
            user = fake.user("a3b2c3d4e5f60718")
            await user.says("sữa hà lan", timeout=8)
            assert "30%" in user.last_reply.text
            polls = [c for c in fake.calls if c.method == "getUpdates"]
            assert polls[1].at - polls[0].at >= 1.0  # waited out retry_after
            fake.fail("getUpdates", 401, times=None)
            with pytest.raises(MessengerStopped, match="token was rejected") as stopped:
                await asyncio.wait_for(task, timeout=8)  # a clear stop, not a retry loop
            assert ZALO_TOKEN not in caplog.text and ZALO_TOKEN not in str(stopped.value)
        finally:
            task.cancel()
            await channel.stop()
            await app.close()


async def test_polling_refuses_to_start_while_a_webhook_is_set(settings, clock):
    async with FakeZalo.running(token=ZALO_TOKEN) as fake:
        app = await build_app(settings.replace(zalo_token=SecretStr(ZALO_TOKEN)), clock=clock)
        channel = ZaloChannel(app.core, app.db, app.translator, ZALO_TOKEN, api_url=fake.base_url)
        try:
            await channel.client.set_webhook("https://example.invalid/zalo", WEBHOOK_SECRET)
            with pytest.raises(SystemExit, match="webhook is set"):
                await channel.run_polling()
        finally:
            await channel.stop()
            await app.close()


async def test_run_serves_telegram_and_zalo_at_once(settings, clock):
    from tests.e2e.conftest import TELEGRAM_TOKEN, running_bot
    from tests.fakes.telegram_server import FakeTelegram

    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo:
        overrides = {"telegram_token": SecretStr(TELEGRAM_TOKEN), "telegram_api_url": telegram.base_url,
                     "zalo_token": SecretStr(ZALO_TOKEN), "zalo_api_url": zalo.base_url}
        async with running_bot(settings, clock, **overrides):
            tg_user = telegram.user(301)
            zalo_user = zalo.user("a9b2c3d4e5f60718")
            await asyncio.gather(tg_user.says("gạo kim sáng"), zalo_user.says("sua ha lan"))
            assert "20%" in tg_user.last_reply and "30%" in zalo_user.last_reply.text


async def test_the_vote_numbers_follow_the_replys_own_choices(zalo):
    """Zalo has no buttons: the 👍/👎 line is numbered after the reply's own choices ("Gửi đề nghị hỗ trợ", "Xem
    thêm"), never "1"/"2" beside them, and each number does what its line says."""
    user = zalo.user("f3b2c3d4e5f60718")
    await user.says("hỗ trợ covid")
    text = user.last_reply.text
    numbered = dict(line.split(". ", 1) for line in text.splitlines() if line[:1].isdigit() and ". " in line[:4])
    labels = list(numbered.values())
    assert list(numbered) == [str(i) for i in range(1, len(numbered) + 1)], text  # one number each, in order
    assert labels[0] == zalo.app.translator("answer.programme.request_button"), text
    up, down = zalo.app.translator("feedback.up"), zalo.app.translator("feedback.down")
    assert labels[-2:] == [up, down] and len(labels) >= 3, text
    await user.says(str(len(labels)))  # 👎, by the number after the reply's own
    assert user.last_reply.text == zalo.app.translator("feedback.thanks_down")
    await user.says("hỗ trợ covid")
    await user.says("1")  # the reply's own first choice: the form
    assert "Bước 1/8" in user.last_reply.text or "/lienket" in user.last_reply.text
