"""Time per question through ``Core.handle`` with source documents: the seed articles, and a ×100 corpus.

Usage: .venv/bin/python bench/facts_latency.py [--seeds DIR] [--factor 100] [--rounds 3] [--write]

Questions: the dev set (eval/dev.jsonl) and our tuning set (bench/tuning/facts_tune.jsonl, follow-ups as
separate questions). The ×100 corpus is 100 generated copies of each seed article (500 documents): in each
copy the place names and the numbers are replaced at random, so the vocabulary, the postings and the
candidate lists really grow. The reference is the same questions with no documents, in the same run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402
from bench.tuning.score import read_passages  # noqa: E402
from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.types import Incoming  # noqa: E402
from nlu.evidence import Language, Passage  # noqa: E402

PLACES = ["Ba Đình", "Hoàn Kiếm", "Tây Hồ", "Long Biên", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàng Mai",
          "Thanh Xuân", "Nam Từ Liêm", "Bắc Từ Liêm", "Hà Đông", "Sơn Tây", "Ba Vì", "Phúc Thọ", "Đan Phượng"]


def scaled(passages: list[Passage], factor: int) -> list[Passage]:
    rng = random.Random(11)
    place_re = re.compile("|".join(map(re.escape, PLACES)))
    out = list(passages)
    docs = sorted({p.document_id for p in passages})
    for copy in range(1, factor):
        for doc in docs:
            new_doc = copy * 1000 + doc
            for p in (x for x in passages if x.document_id == doc):
                text = place_re.sub(lambda _m: rng.choice(PLACES), p.text)
                text = re.sub(r"\d+", lambda m: str(rng.randint(1, 999)) if len(m.group()) < 4 else m.group(), text)
                out.append(replace(p, id=len(out) + 1, document_id=new_doc, title=f"{p.title} ({copy})",
                                   origin=f"{p.origin}.{copy}", text=text))
    return out


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] * 1000


async def measure(settings: Settings, passages: list[Passage], questions: list[str], rounds: int
                  ) -> tuple[list[float], float]:
    app = await build_app(settings)
    try:
        t0 = time.perf_counter()
        app.core.set_passages(passages)
        build_s = time.perf_counter() - t0
        for q in questions:
            await app.core.handle(Incoming(channel="bench", chat_id="1", user_id="1", text=q))
        times = []
        for _ in range(rounds):
            for i, q in enumerate(questions):
                incoming = Incoming(channel="bench", chat_id=str(i % 50), user_id="1", text=q)
                t1 = time.perf_counter()
                await app.core.handle(incoming)
                times.append(time.perf_counter() - t1)
        return times, build_s
    finally:
        await app.close()


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=Path, default=ROOT.parent.parent / "shared" / "seeds")
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--write", action="store_true", help="update docs/benchmarks.md")
    args = parser.parse_args()
    questions = [json.loads(x)["text"] for x in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if x]
    for line in (ROOT / "bench" / "tuning" / "facts_tune.jsonl").read_text().splitlines():
        q = json.loads(line)["q"]
        questions.extend(q if isinstance(q, list) else [q])
    seeds = read_passages(args.seeds)
    big = scaled(seeds, args.factor)
    Language.load()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, passages in (("no documents", []), ("seed articles", seeds), (f"×{args.factor} corpus", big)):
            settings = Settings(_env_file=None, data_dir=Path(tmp) / "d", demo_data=False)
            times, build_s = await measure(settings, passages, questions, args.rounds)
            n_docs = len({p.document_id for p in passages})
            rows.append((label, n_docs, len(passages), times, build_s))
    ref = pct(rows[0][3], 0.99)
    lines = [header("nlu"), "",
             f"{len(questions)} questions (dev set and bench/tuning) × {args.rounds} rounds through `Core.handle`, "
             "in-process, SQLite, demo knowledge (87 entries).", "",
             "| documents | docs | passages | index build s | p50 ms | p90 ms | p99 ms | max ms | p99 ratio |",
             "|---|---|---|---|---|---|---|---|---|"]
    for label, n_docs, n_pass, times, build_s in rows:
        p99 = pct(times, 0.99)
        lines.append(f"| {label} | {n_docs} | {n_pass} | {build_s:.2f} | {pct(times, 0.5):.3f} | "
                     f"{pct(times, 0.9):.3f} | {p99:.3f} | {max(times) * 1000:.2f} | {p99 / ref:.2f} |")
    lines += ["", "Target: p99 ≤ 3 ms with the ×100 corpus."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section("facts-latency", body)


if __name__ == "__main__":
    asyncio.run(main())
