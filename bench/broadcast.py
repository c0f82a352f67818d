"""Broadcast delivery through the outbox: one DeliveryWorker sending 10,000 queued messages to the fake Telegram
Bot API, which enforces a global rate cap (429 past it). Reports the achieved rate against the cap, the 429s
served, duplicates and lost messages.

With ``--replies`` direct replies flow at the same time (half the cap, as members writing during the broadcast),
through the Telegram channel's send path and the same ``SendGovernor`` as the worker (bot/governor.py): the total
must stay at the cap without a 429, replies going first.

Usage: .venv/bin/python bench/broadcast.py [--recipients 10000] [--cap 200] [--database URL] [--replies] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import header, write_section  # noqa: E402
from bot.channels.telegram import CHANNEL, TelegramChannel, TelegramSender  # noqa: E402
from bot.governor import SendGovernor  # noqa: E402
from bot.workers.delivery import DeliveryWorker  # noqa: E402
from handlers.types import Reply  # noqa: E402
from locales import Translator  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.outbox import OutboxItem, OutboxRepository  # noqa: E402
from tests.fakes.telegram_server import FakeTelegram  # noqa: E402

TOKEN = "123456:BENCH"
BOT_ID = "123456"
FIRST = 1_000_000


def max_in_window(times: list[float], window: float = 1.0) -> int:
    """The most arrivals in any sliding window of ``window`` seconds."""
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= window:
            first += 1
        best = max(best, last - first + 1)
    return best


REPLY_CHATS = 500_000


async def run(recipients: int, cap: float, url: str, replies: bool = False) -> dict:
    db = Database(url)
    await migrate.upgrade(db)
    payload = {"text": "Công đoàn thông báo: hội nghị người lao động sáng thứ Bảy, 8 giờ.", "choices": [],
               "photos": []}
    queued = [OutboxItem(dedupe_key=f"bench:{FIRST + i}", bot_id=BOT_ID, channel=CHANNEL, chat_id=str(FIRST + i),
                         payload=payload, kind="broadcast", broadcast_id=1) for i in range(recipients)]
    async with db.sessions.begin() as session:
        await OutboxRepository(db).enqueue(session, queued, datetime.now(UTC))
    async with FakeTelegram.running(token=TOKEN) as fake:
        users = [fake.user(FIRST + i) for i in range(recipients)]
        fake.rate_limit(cap)
        arrivals: list[float] = []
        send_message = fake._handlers["sendMessage"]

        async def timed(bot, params):  # when each message reached the platform
            arrivals.append(time.perf_counter())
            return await send_message(bot, params)

        fake._handlers["sendMessage"] = timed
        sender = TelegramSender(TOKEN, fake.base_url)
        governor = SendGovernor(cap, name="bench") if replies else None
        worker = DeliveryWorker(db, sender, bot_id=BOT_ID, channel=CHANNEL, rate_per_second=cap, governor=governor)
        # a channel used only to send (its replies' path through the governor): it answers no update, so no core
        channel = TelegramChannel(SimpleNamespace(), db, Translator(), TOKEN, api_url=fake.base_url,  # type: ignore[arg-type]
                                  governor=governor) if replies else None
        answered: list[int] = []
        repliers: set[asyncio.Task] = set()

        async def reply(n: int) -> None:
            await channel.send(REPLY_CHATS + n % 1000, Reply("Gạo Kim Sáng: giảm 20% cho đoàn viên."))
            answered.append(n)

        async def members_writing() -> None:  # half the cap of direct replies, for as long as the broadcast runs
            loop = asyncio.get_running_loop()
            begin, n = loop.time(), 0
            while True:
                n += 1
                await asyncio.sleep(max(0.0, begin + n * 2 / cap - loop.time()))
                task = asyncio.create_task(reply(n))
                repliers.add(task)
                task.add_done_callback(repliers.discard)

        if replies:
            for i in range(1000):
                fake.user(REPLY_CHATS + i)
        try:
            await sender.send(str(fake.user(FIRST - 1).id), payload)  # warm-up: connection, aiogram's models
            await asyncio.sleep(1.0)  # an empty sliding window for the broadcast
            gc.collect()
            gc.freeze()  # the 10,000 simulated chats are the harness's, not the worker's: no GC passes over them
            arrivals.clear()
            started = time.perf_counter()
            writing = asyncio.create_task(members_writing()) if replies else None
            await worker.run_until_idle(timeout=recipients / cap * (6 if replies else 3) + 60)
            elapsed = time.perf_counter() - started
            if writing is not None:
                writing.cancel()
                queued = len(repliers)
                await asyncio.gather(*repliers, return_exceptions=True)
        finally:
            await sender.close()
            if channel is not None:
                await channel.bot.session.close()
        per_user = [len(u.chat.messages) for u in users]
        during = len(answered) - (queued if replies else 0)  # replies sent while the broadcast was going
        result = {
            "elapsed": elapsed, "rate": recipients / elapsed,
            "steady": (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0,
            "max_window": max_in_window(arrivals),
            "rate_limited": sum(1 for f in fake.faults_served if f["kind"] == "rate_limit"),
            "duplicates": sum(n - 1 for n in per_user if n > 1),
            "lost": sum(1 for n in per_user if n != 1),
            "counts": await OutboxRepository(db).counts(1),
            "replies": len(answered), "replies_during": max(during, 0),
            "total_rate": (recipients + max(during, 0)) / elapsed,
        }
    await db.dispose()
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--cap", type=float, default=200)
    parser.add_argument("--database", default="", help="SQLAlchemy URL (default: a scratch SQLite file)")
    parser.add_argument("--replies", action="store_true", help="direct replies at half the cap meanwhile")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database or f"sqlite+aiosqlite:///{Path(tmp) / 'broadcast.db'}"
        r = await run(args.recipients, args.cap, url, args.replies)
    database = "PostgreSQL" if "postgresql" in url else "SQLite (embedded)"
    ratio = r["rate"] / args.cap
    body = "\n".join([
        header("broadcast"), "",
        f"{args.recipients:,} broadcast messages queued in the outbox ({database}) and sent by one DeliveryWorker "
        f"(bot/workers/delivery.py, rate = cap) to the fake Telegram Bot API (tests/fakes/telegram_server.py), "
        f"which answers 429 past {args.cap:.0f} sendMessage per sliding second.", "",
        "| cap msg/s | achieved msg/s | achieved / cap | busiest second | 429 served | duplicates | lost | time s |",
        "|---|---|---|---|---|---|---|---|",
        f"| {args.cap:.0f} | {r['rate']:.1f} | **{ratio:.3f}** | {r['max_window']} | {r['rate_limited']} | "
        f"{r['duplicates']} | {r['lost']} | {r['elapsed']:.1f} |", "",
        "Achieved = recipients / time from the worker's start to the last row settled (connection and aiogram "
        f"warmed up by one message before); between the first and the last arrival: {r['steady']:.1f} msg/s. "
        "Busiest second = most messages the fake received in any sliding second.", "",
        "Target: ≥ 0.97 of the cap, no 429, no duplicate, nothing lost."])
    if args.replies:
        body = "\n".join([
            header("broadcast with replies"), "",
            f"The same broadcast ({args.recipients:,} rows, {database}) while members write: direct replies are "
            f"started at half the cap ({args.cap / 2:.0f}/s) through the Telegram channel's send path, sharing one "
            "`SendGovernor` (bot/governor.py) with the worker; replies go first, the broadcast takes the rest.", "",
            "| cap msg/s | broadcast msg/s | replies sent meanwhile | (broadcast + replies) / cap | busiest second | "
            "429 served | duplicates | lost | time s |",
            "|---|---|---|---|---|---|---|---|---|",
            f"| {args.cap:.0f} | {r['rate']:.1f} | {r['replies_during']:,} | **{r['total_rate'] / args.cap:.3f}** | "
            f"{r['max_window']} | {r['rate_limited']} | {r['duplicates']} | {r['lost']} | {r['elapsed']:.1f} |", "",
            "Busiest second counts the broadcast's messages and the replies together. Target: ≥ 0.97 of the cap, "
            "no 429, no duplicate, nothing lost."])
    print(body)
    print(f"outbox rows: {r['counts']}")
    if args.write:
        write_section("broadcast-replies" if args.replies else "broadcast", body)


if __name__ == "__main__":
    asyncio.run(main())
