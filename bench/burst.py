"""A burst of members writing at once to the whole bot (``python -m bot run``, polling), against the
fake Telegram Bot API in this process, while the bot runs as ``python -m bot run`` in a process of its own; the fake
answers 429 past a global cap of sendMessage per sliding second.

Each of N members sends one message at the same moment: a question (default) or ``/lienket CODE`` with a code
issued beforehand (``--link``). Reports members answered exactly once, apologies, members without a reply, 429s
served, the reply rate against the cap, and (``--link``) members linked.

Usage: .venv/bin/python bench/burst.py [--members 2000] [--cap 100] [--link] [--database-url URL] [--write]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench._common import ROOT, header, write_section  # noqa: E402
from locales import Translator  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.membership import format_code  # noqa: E402
from tests.fakes.telegram_server import FakeTelegram  # noqa: E402
from tests.load.roster import members_with_codes  # noqa: E402

TOKEN = "123456:BURST"
FIRST = 2_000_000
QUESTION = "gạo kim sáng giảm giá bao nhiêu"


async def run(members: int, cap: float, url: str, link: bool, data_dir: Path, timeout: float,
              profile: str = "", flood: int = 0) -> dict:
    t = Translator()
    apology = t("bot.apology")
    linked_text = t("member.linked").split("{")[0]  # "Đã liên kết tài khoản này với hồ sơ đoàn viên "
    codes: list[str] = []
    db = Database(url)
    await migrate.upgrade(db)  # `unionbot db upgrade`: the bot itself only checks the schema
    if link:  # issued beforehand, as `unionbot members codes` does
        codes = await members_with_codes(db, members, prefix="BURST", unit="BURST")
    await db.dispose()
    async with FakeTelegram.running(token=TOKEN) as fake:
        users = [fake.user(FIRST + i) for i in range(members)]
        flooder = users[0]
        fake.rate_limit(cap)
        arrivals: list[float] = []
        send_message = fake._handlers["sendMessage"]

        async def timed(bot, params):  # when each message reached the platform (and was accepted)
            result = await send_message(bot, params)
            arrivals.append(time.monotonic())
            return result

        fake._handlers["sendMessage"] = timed
        env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
        env.update(UNIONBOT_TELEGRAM_TOKEN=TOKEN, UNIONBOT_TELEGRAM_API_URL=fake.base_url, UNIONBOT_DATABASE_URL=url,
                   UNIONBOT_DATA_DIR=str(data_dir), UNIONBOT_CACHE_DIR=str(ROOT / "var" / "cache"),
                   UNIONBOT_DELIVERY_RATE_TELEGRAM=str(cap), UNIONBOT_LOG_LEVEL="WARNING",
                   PYTHONPATH=str(ROOT))
        log_path = data_dir / "bot.log"
        with log_path.open("w") as log_file:
            profiler = ["-m", "cProfile", "-o", profile] if profile else []
            bot = await asyncio.create_subprocess_exec(sys.executable, *profiler, "-m", "bot", "run", env=env,
                                                       cwd=str(data_dir),
                                                       stdout=log_file, stderr=log_file)
            try:
                deadline = time.monotonic() + 300
                while fake.count("getUpdates") < 2:  # the bot is up and polling
                    if bot.returncode is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"the bot did not start; see {log_path}")
                    await asyncio.sleep(0.2)
                await asyncio.sleep(1.5)
                texts = [f"/lienket {format_code(c)}" for c in codes] if link else [QUESTION] * members
                if flood:  # the first member floods, then every other member writes once
                    for i in range(flood):
                        fake.inject({"message": fake.new_user_message(users[0], users[0].chat,
                                                                      text=f"{QUESTION} {i}")})
                    await asyncio.sleep(0.5)
                    users, texts = users[1:], texts[1:]
                started = time.monotonic()
                for user, text in zip(users, texts, strict=True):
                    fake.inject({"message": fake.new_user_message(user, user.chat, text=text)})
                deadline = started + timeout
                first_replies: dict[int, float] = {}
                while time.monotonic() < deadline and len(first_replies) < len(users):
                    for n, u in enumerate(users):
                        if u.replies and n not in first_replies:
                            first_replies[n] = time.monotonic() - started
                    await asyncio.sleep(0.01 if flood else 0.5)  # the fake's transcript, bounded
                await asyncio.sleep(3.0)  # anything late (a second reply) shows up
            finally:
                if bot.returncode is None:
                    bot.send_signal(signal.SIGTERM)
                    try:
                        await asyncio.wait_for(bot.wait(), 30)
                    except TimeoutError:
                        bot.kill()
                        await bot.wait()
        if flood:  # the flooder's replies, and how long each other member waited for theirs
            waits = sorted(first_replies.values())
            return {"flooder_replies": len(flooder.replies), "others": len(users), "answered": len(waits),
                    "max_wait": waits[-1] if waits else None, "median_wait": waits[len(waits) // 2] if waits else None}
        errors = sum(1 for line in log_path.read_text(errors="replace").splitlines() if " ERROR " in line)
        counts = [len(u.replies) for u in users]
        elapsed = max(arrivals[-1] - started, 1e-9) if arrivals else 0.0
        return {
            "once": sum(1 for n in counts if n == 1), "none": sum(1 for n in counts if n == 0),
            "more": sum(1 for n in counts if n > 1),
            "apologies": sum(1 for u in users for m in u.replies if apology in (m["text"] or "")),
            "rate_limited": sum(1 for f in fake.faults_served if f["kind"] == "rate_limit"),
            "linked": sum(1 for u in users if any(linked_text in (m["text"] or "") for m in u.replies)),
            "sent": len(arrivals), "elapsed": elapsed, "rate": len(arrivals) / elapsed if elapsed else 0.0,
            "errors": errors,
        }


async def flood_round(args) -> None:
    """Per-member flood control: how long the other members wait for their answer while one member floods."""
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'burst.db'}"
        if args.database_url and args.database_url.startswith("postgresql"):
            url = await fresh_pg(args.database_url)
        r = await run(args.members, args.cap, url, False, Path(tmp), args.timeout, args.profile, flood=args.flood)
    database = "PostgreSQL" if "postgresql" in url else "SQLite"
    body = "\n".join([
        header("burst"), "",
        f"One member sends {args.flood} questions at once to the whole bot (`python -m bot run`, Telegram polling, "
        f"fake Bot API capped at {args.cap:.0f}/s); half a second later {r['others']} other members write once each. "
        "Wait = from the other members' messages to their answer reaching the platform.", "",
        "| database | flood | flooder's replies | others | answered | median wait s | max wait s |",
        "|---|---|---|---|---|---|---|",
        f"| {database} | {args.flood} | {r['flooder_replies']} | {r['others']} | {r['answered']} | "
        f"{r['median_wait']:.2f} | {r['max_wait']:.2f} |"])
    print(body)
    if args.write:
        write_section("burst-flood", body)


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--members", type=int, default=2_000)
    parser.add_argument("--cap", type=float, default=100)
    parser.add_argument("--link", action="store_true", help="each member sends /lienket CODE")
    parser.add_argument("--both", action="store_true", help="a question round, then a /lienket round")
    parser.add_argument("--database-url", default="", help="SQLAlchemy URL (default: a scratch SQLite file)")
    parser.add_argument("--timeout", type=float, default=600)
    parser.add_argument("--profile", default="", help="run the bot under cProfile, writing this file")
    parser.add_argument("--write", action="store_true", help="write the results into docs/benchmarks.md")
    parser.add_argument("--flood", type=int, default=0,
                        help="one member sends this many messages at once, then the other --members - 1 write once")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    if args.flood:
        await flood_round(args)
        return
    rounds = [False, True] if args.both else [args.link]
    rows = []
    for link in rounds:
        with tempfile.TemporaryDirectory() as tmp:
            url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'burst.db'}"
            if args.database_url and args.database_url.startswith("postgresql"):
                url = await fresh_pg(args.database_url)
            r = await run(args.members, args.cap, url, link, Path(tmp), args.timeout, args.profile)
        database = "PostgreSQL" if "postgresql" in url else "SQLite"
        what = "`/lienket CODE`" if link else "a question"
        linked = f"{r['linked']:,}" if link else "—"
        rows.append(f"| {database} | {what} | {args.members:,} | {r['once']:,} | {r['more']} | {r['none']} | "
                    f"{r['apologies']} | {linked} | {r['rate_limited']} | {r['rate']:.1f} | "
                    f"**{r['rate'] / args.cap:.2f}** | {r['elapsed']:.1f} | {r['errors']} |")
        print(rows[-1], flush=True)
    body = "\n".join([
        header("burst"), "",
        "N members each send one message at the same moment to the whole bot (`python -m bot run`, Telegram "
        "polling, a process of its own) through the fake Telegram Bot API (the bench's process), which answers 429 "
        f"past {args.cap:.0f} sendMessage per sliding second; the bot's rate (`UNIONBOT_DELIVERY_RATE_TELEGRAM`) "
        "is the cap. Reply rate = replies accepted by the fake / time from the burst to the last reply.", "",
        "| database | message | members | answered once | answered twice+ | no reply | apologies | linked | "
        "429 served | replies/s | / cap | time s | ERROR lines |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        *rows, "",
        "Before (issue 12, `/lienket CODE`, SQLite, cap 100/s): 1,395 apologies, 594 not linked, 7 no reply, "
        "2,643 × 429, replies at 32/s."])
    print(body)
    if args.write:
        write_section(f"burst-{'pg' if args.database_url.startswith('postgresql') else 'sqlite'}", body)


async def fresh_pg(base: str) -> str:
    """A new database on the server of ``base`` for this run."""
    import uuid

    import asyncpg
    from sqlalchemy.engine import make_url

    parsed = make_url(base)
    name = f"unionbot_burst_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(user=parsed.username, password=parsed.password, host=parsed.host,
                                 port=parsed.port or 5432, database="postgres")
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return parsed.set(database=name).render_as_string(hide_password=False)


if __name__ == "__main__":
    asyncio.run(main())
