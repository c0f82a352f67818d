"""Updates per second through the whole bot (aiogram polling -> core -> reply) against the fake Telegram
Bot API server, next to a bare aiogram echo bot on the same server in the same run.

Usage: .venv/bin/python bench/e2e_throughput.py [--updates 1000] [--rounds 3] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from aiogram import Bot, Dispatcher  # noqa: E402
from aiogram.client.session.aiohttp import AiohttpSession  # noqa: E402
from aiogram.client.telegram import TelegramAPIServer  # noqa: E402
from aiogram.types import Message  # noqa: E402
from pydantic import SecretStr  # noqa: E402

from bench._common import ROOT, header, write_section  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.runner import Server  # noqa: E402
from bot.settings import Settings  # noqa: E402
from tests.fakes.telegram_server import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH"


async def drive(fake: FakeTelegram, questions: list[str], n: int) -> float:
    """Inject ``n`` messages from 100 users and wait until the bot has answered every one."""
    base = fake.count("sendMessage")
    users = [fake.user(10_000 + i) for i in range(100)]
    t0 = time.perf_counter()
    for i in range(n):
        user = users[i % len(users)]
        fake.inject({"message": fake.new_user_message(user, user.chat, text=questions[i % len(questions)])})
    while fake.count("sendMessage") - base < n:
        if time.perf_counter() - t0 > 120:
            raise TimeoutError(f"only {fake.count('sendMessage') - base} of {n} answered")
        await asyncio.sleep(0.005)
    return n / (time.perf_counter() - t0)


async def whole_bot(questions: list[str], n: int, tmp: Path) -> float:
    async with FakeTelegram.running(token=TOKEN) as fake:
        settings = Settings(_env_file=None, data_dir=tmp / "bot", telegram_token=SecretStr(TOKEN),
                            telegram_api_url=fake.base_url)
        app = await build_app(settings)
        server = Server(app)
        await server.start()
        try:
            await drive(fake, questions, 50)  # warm-up
            return await drive(fake, questions, n)
        finally:
            await server.stop()
            await app.close()


async def echo_bot(questions: list[str], n: int) -> float:
    async with FakeTelegram.running(token=TOKEN) as fake:
        bot = Bot(TOKEN, session=AiohttpSession(api=TelegramAPIServer.from_base(fake.base_url)))
        dp = Dispatcher()

        @dp.message()
        async def echo(message: Message) -> None:
            await message.answer(message.text or "")

        task = asyncio.create_task(dp.start_polling(bot, handle_signals=False, polling_timeout=20))
        try:
            await drive(fake, questions, 50)
            return await drive(fake, questions, n)
        finally:
            await dp.stop_polling()
            task.cancel()
            await bot.session.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    questions = [json.loads(line)["text"] or "xin chào"
                 for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line]
    ours, echo = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.rounds):  # alternate, so drift on the machine hits both alike
            echo.append(await echo_bot(questions, args.updates))
            ours.append(await whole_bot(questions, args.updates, Path(tmp) / str(r)))
    o, e = statistics.median(ours), statistics.median(echo)
    body = "\n".join([
        header("e2e"), "",
        f"{args.updates} messages from 100 users injected at once into the fake Telegram Bot API "
        f"(tests/fakes/telegram_server.py), answered by long polling; median of {args.rounds} rounds.", "",
        "| bot | updates/s | rounds |", "|---|---|---|",
        f"| whole bot (dedupe, state, NLU, answer, reply) | {o:.0f} | {', '.join(f'{x:.0f}' for x in ours)} |",
        f"| reference: bare aiogram echo bot | {e:.0f} | {', '.join(f'{x:.0f}' for x in echo)} |",
        "", f"Ratio whole bot / echo bot: **{o / e:.2f}** (target ≥ 0.5)."])
    print(body)
    if args.write:
        write_section("e2e-throughput", body)


if __name__ == "__main__":
    asyncio.run(main())
