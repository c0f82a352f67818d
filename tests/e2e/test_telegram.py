"""End to end through aiogram against the fake Telegram Bot API, polling and webhook."""

import asyncio
import logging

import aiohttp

from bot.logs import setup_logging
from handlers import pages
from handlers.types import Reply
from tests.e2e.conftest import TELEGRAM_TOKEN, WEBHOOK_SECRET


async def test_questions_with_and_without_diacritics(telegram):
    lan = telegram.user(101, first_name="Lan")
    await lan.says("Gạo Kim Sáng giảm giá bao nhiêu?")
    assert "20%" in lan.last_reply and "40%" in lan.last_reply
    await lan.says("sua ha lan dc giam bn")
    assert "30%" in lan.last_reply


async def test_start_menu_and_commands_in_both_languages(telegram):
    user = telegram.user(102, language_code="en")
    await user.says("/start")
    assert "Union Assistant" in "\n".join(m["text"] or "" for m in user.replies)
    vi = telegram.commands[("default", "")]
    en = telegram.commands[("default", "en")]
    assert {c["command"] for c in vi} >= {"start", "help", "menu"}
    assert vi[0]["description"] != en[0]["description"]


async def test_button_flow(telegram):
    user = telegram.user(103)
    await user.says("/menu")
    await user.presses("menu:benefit")
    assert "Kim Sáng" in user.last_reply
    await user.presses("kb:sua-ha-lan")
    assert "30%" in user.last_reply
    assert telegram.count("answerCallbackQuery") == 2, telegram.calls  # every press acknowledged


async def test_a_long_answer_is_split_in_two(telegram, monkeypatch):
    long_text = "Dòng thử dài. " * 400  # 5,600 characters: a knowledge entry this long is rare, not impossible
    monkeypatch.setattr(telegram.app.core.answers, "answer", lambda *_args: [Reply(long_text)])
    monkeypatch.setattr(pages, "MAX_CHARS", 10_000)  # one long line not cut into pages: the channel's split alone
    user = telegram.user(104)
    await user.says("có những ưu đãi gì")
    texts = [m["text"] for m in user.replies]
    assert len(texts) == 2 and all(len(t) <= 4096 for t in texts)
    assert "".join(texts).replace(" ", "") == long_text.replace(" ", "")


async def test_429_is_waited_out_and_retried(telegram):
    telegram.fail("sendMessage", 429, retry_after=1)
    user = telegram.user(105)
    started = asyncio.get_running_loop().time()
    await user.says("gao kim sang", timeout=8)
    assert "20%" in user.last_reply
    assert asyncio.get_running_loop().time() - started >= 1.0
    assert [f["status"] for f in telegram.faults_served] == [429]


async def test_500_is_retried(telegram):
    telegram.fail("sendMessage", 500, times=2)
    user = telegram.user(106)
    await user.says("sữa hà lan", timeout=8)
    assert "30%" in user.last_reply
    assert [f["status"] for f in telegram.faults_served] == [500, 500]


async def test_a_duplicated_update_is_handled_once(telegram):
    user = telegram.user(107)
    update = {"update_id": 900_001, "message": telegram.new_user_message(user, user.chat, text="gạo kim sáng")}
    telegram.inject(update)
    telegram.inject(dict(update))
    await telegram.wait_idle(timeout=8)
    assert len(user.replies) == 1


async def test_webhook_with_a_wrong_secret_is_rejected_and_nothing_processed(telegram):
    if telegram.mode != "webhook":
        return
    user = telegram.user(108)
    update = {"update_id": 900_002, "message": telegram.new_user_message(user, user.chat, text="gạo kim sáng")}
    assert await telegram.deliver_raw(update, secret="not-the-secret") == 401
    assert await telegram.deliver_raw(update, secret=None) == 401
    await asyncio.sleep(0.3)
    assert user.replies == []
    async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{telegram.server.port}/healthz") as resp:
        assert resp.status == 200
    assert await telegram.deliver_raw(update, secret=WEBHOOK_SECRET) == 200
    for _ in range(100):  # the webhook answers at once and handles the update after
        if user.replies:
            break
        await asyncio.sleep(0.05)
    assert "20%" in user.last_reply


async def test_group_chats_answer_only_commands_and_mentions(telegram):
    group = telegram.group(-100777, title="Tổ công đoàn 1")
    user = telegram.user(109)
    await user.says_in(group, "gạo kim sáng giảm bao nhiêu", expect_reply=False)
    assert group.messages == []
    await user.says_in(group, "@union_test_bot gạo kim sáng giảm bao nhiêu")
    assert "20%" in group.messages[-1]["text"]
    await user.says_in(group, "/menu")
    assert group.messages[-1]["reply_markup"]


async def test_an_error_inside_a_handler_gives_an_apology_and_the_bot_goes_on(telegram, monkeypatch):
    def broken(*_args, **_kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(telegram.app.core.matcher, "understand", broken)
    user = telegram.user(110)
    await user.says("gạo kim sáng")
    assert "Xin lỗi" in user.last_reply
    monkeypatch.undo()
    await user.says("gạo kim sáng")
    assert "20%" in user.last_reply


async def test_the_token_never_appears_in_logs(telegram, capsys):
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    setup_logging("DEBUG", [TELEGRAM_TOKEN, WEBHOOK_SECRET])
    try:
        telegram.fail("sendMessage", 500, times=1)
        user = telegram.user(111)
        await user.says("sữa hà lan", timeout=8)
        logging.getLogger("test").error("request to %s/bot%s/sendMessage failed", "http://x", TELEGRAM_TOKEN)
    finally:
        root.handlers[:], root.level = saved
    err = capsys.readouterr().err
    assert "sendMessage" in err and "bot***/sendMessage" in err  # the logs were written, redacted
    assert TELEGRAM_TOKEN not in err and WEBHOOK_SECRET not in err


async def test_a_long_help_has_a_xem_them_button_that_shows_the_next_page(telegram):
    user = telegram.user(132)
    await user.says("/help")
    first = user.last_reply
    buttons = [b for m in user.replies for row in (m.get("reply_markup") or {}).get("inline_keyboard", []) for b in row]
    more = [b for b in buttons if b["callback_data"].startswith("more:")]
    assert len(more) == 1 and more[0]["text"].startswith("Xem thêm (còn ")
    assert len(first.splitlines()) <= pages.MAX_LINES
    await user.presses(more[0]["callback_data"])
    assert user.last_reply and user.last_reply != first and "/hoso" in first + user.last_reply


async def test_an_answer_has_the_vote_buttons_and_a_thumbs_down_is_thanked(telegram):
    user = telegram.user(131)
    await user.says("Gạo Kim Sáng giảm giá bao nhiêu?")
    buttons = [b for m in user.replies for row in (m.get("reply_markup") or {}).get("inline_keyboard", [])
               for b in row]
    votes = [b["callback_data"] for b in buttons if b["callback_data"].startswith("fb:")]
    assert [v[:5] for v in votes] == ["fb:u:", "fb:d:"] and any("👎" in b["text"] for b in buttons)
    await user.presses(votes[1])
    assert "Ban Chấp hành" in user.last_reply
