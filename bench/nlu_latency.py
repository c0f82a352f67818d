"""Time per question through ``Core.handle`` (in-process): demo knowledge, and scaled ×100.

Usage: .venv/bin/python bench/nlu_latency.py [--rounds 5] [--write]

The questions are the dev set (eval/dev.jsonl), answered `--rounds` times each after a warm-up round.
The ×100 base adds 99 generated copies of every entry with new, unique names (so the entity index
and the classifier's vocabulary really grow). The reference is the demo-size run of the same script.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402
from bot.app import build_app, training_examples  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.types import Incoming  # noqa: E402
from storage import migrate  # noqa: E402
from storage.db import Database  # noqa: E402
from storage.knowledge import KnowledgeRepository, load_directory  # noqa: E402

SYLLABLE_TEXT = ("an bao binh cam chi dung giang ha hai hanh hoa hung khanh lam linh long mai minh nam ngoc "
                 "phuc quang son tam thanh thao thu trung tuan van viet xuan yen")
SYLLABLES = SYLLABLE_TEXT.split()


def scaled_entries(factor: int):
    base = load_directory(Settings(_env_file=None).knowledge.dir)
    rng = random.Random(7)
    out = list(base)
    used = set()
    for copy in range(1, factor):
        for e in base:
            while True:
                label = " ".join(rng.choice(SYLLABLES) for _ in range(3))
                if label not in used:
                    used.add(label)
                    break
            out.append(e.model_copy(update={
                "id": f"{e.id}-g{copy}", "name": f"{e.name} {label}", "aliases": [f"{label}"]}))
    return out


async def measure(settings: Settings, questions: list[str], rounds: int) -> tuple[list[float], int]:
    app = await build_app(settings)
    try:
        n_entries = len(app.core.knowledge.entries)
        for q in questions:  # warm-up: caches, first-call costs
            await app.core.handle(Incoming(channel="bench", chat_id="1", user_id="1", text=q))
        times = []
        for _ in range(rounds):
            for q in questions:
                incoming = Incoming(channel="bench", chat_id="1", user_id="1", text=q)
                t0 = time.perf_counter()
                await app.core.handle(incoming)
                times.append(time.perf_counter() - t0)
        return times, n_entries
    finally:
        await app.close()


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] * 1000


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    questions = [json.loads(line)["text"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line]
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        demo = Settings(_env_file=None, data_dir=tmp / "demo")
        times, n = await measure(demo, questions, args.rounds)
        rows.append(("demo", n, times))

        big = Settings(_env_file=None, data_dir=tmp / "big", autoload_knowledge=False)
        entries = scaled_entries(args.factor)
        db = Database(big.effective_database_url)
        await migrate.upgrade(db)
        async with db.sessions.begin() as session:
            await KnowledgeRepository(session).replace_from_files(entries)
        await db.dispose()
        t0 = time.perf_counter()
        n_examples = len(training_examples(entries))
        times_big, n_big = await measure(big, questions, args.rounds)
        build_s = time.perf_counter() - t0
        rows.append((f"×{args.factor}", n_big, times_big))

    ref_p99 = pct(rows[0][2], 0.99)
    lines = [header("nlu"), "",
             f"{len(questions)} dev-set questions × {args.rounds} rounds through `Core.handle`, in-process, "
             "SQLite (fallbacks are logged to the database, as in production).", "",
             "| knowledge base | entries | p50 ms | p90 ms | p99 ms | max ms | p99 ratio to demo |",
             "|---|---|---|---|---|---|---|"]
    for label, n, times in rows:
        p99 = pct(times, 0.99)
        lines.append(f"| {label} | {n} | {pct(times, 0.50):.3f} | {pct(times, 0.90):.3f} | {p99:.3f} | "
                     f"{max(times) * 1000:.2f} | {p99 / ref_p99:.2f} |")
    lines += ["", f"The ×{args.factor} base trains on {n_examples} examples; building it (training once, "
              f"then cached) took {build_s:.1f} s. Target: p99 ≤ 2 ms."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section("nlu-latency", body)


if __name__ == "__main__":
    asyncio.run(main())
