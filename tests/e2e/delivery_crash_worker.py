"""A delivery worker in its own process, for the crash test in tests/e2e/test_delivery.py (which SIGKILLs it).

Usage: python tests/e2e/delivery_crash_worker.py --db FILE --api-url URL --token TOKEN --bot-id ID
       [--rate 400] [--lease 1]

Sends every outbox row of the bot on Telegram through ``TelegramSender`` and exits 0 once none is pending or
sending (``DeliveryWorker.run_until_idle``).
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bot.channels.telegram import CHANNEL, TelegramSender  # noqa: E402
from bot.workers.delivery import DeliveryWorker  # noqa: E402
from storage.db import Database  # noqa: E402


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--bot-id", required=True)
    parser.add_argument("--rate", type=float, default=400)
    parser.add_argument("--lease", type=float, default=1.0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    db = Database(f"sqlite+aiosqlite:///{args.db}")
    sender = TelegramSender(args.token, args.api_url)
    worker = DeliveryWorker(db, sender, bot_id=args.bot_id, channel=CHANNEL, rate_per_second=args.rate,
                            lease=args.lease)
    try:
        await worker.run_until_idle(timeout=120)
    finally:
        await sender.close()
        await db.dispose()
    print(f"sent {worker.sent}", flush=True)


if __name__ == "__main__":
    asyncio.run(main())
