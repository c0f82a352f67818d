"""Time per question through ``Core.handle``: no documents, the seed articles, a ×100 corpus (500 documents).

Usage: .venv/bin/python bench/nlu_latency.py [--seeds DIR] [--factor 100] [--rounds 3] [--entries]
                                              [--against REV] [--profile FILE] [--case NAME] [--write]

Questions: the dev set (eval/dev.jsonl) and the tuning set (bench/tuning/facts_tune.jsonl, follow-ups as
separate questions), answered ``--rounds`` times each after a warm-up round, in-process, SQLite, demo knowledge.
The ×100 corpus is 100 generated copies of each seed article: in each copy the place names and the numbers
are replaced at random, so the vocabulary, the postings and the candidate lists really grow. ``--entries``
adds the ×100 knowledge base (99 generated copies of every entry with new names, no documents).

Per question the script records the wall time and the process CPU time (``time.process_time``: what the
question cost, without the waits for a core that other processes on a shared machine cause), and the load
average. ``--against REV`` measures the code of commit REV (exported with ``git archive`` into a temporary
folder) in the same run, each case alternating between the two trees, so both see the same load.
The index is built once (timed: "index build") and set again (timed: "next start"): code that stores the index
under the cache dir (``nlu/cache.py``) reads it back the second time, older code rebuilds it.
``--profile FILE`` writes a cProfile of the ×100 rounds (current code) to FILE. ``--case NAME`` (repeatable)
measures only those cases ("no documents", "seed articles", "×100 corpus", "×100 entries").
"min of rounds": each question's least CPU time over the rounds, the steadier figure on a shared machine.
"CPU between messages": the process CPU of the rounds spent outside ``handle`` (the writes behind, flushed at the
end of the rounds too), per question: what the loop does for a message besides answering it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

HERE = Path(__file__).resolve()
CODE = Path(os.environ.get("NLU_BENCH_CODE", HERE.parent.parent))
sys.path.insert(0, str(CODE))

PLACES = ["Ba Đình", "Hoàn Kiếm", "Tây Hồ", "Long Biên", "Cầu Giấy", "Đống Đa", "Hai Bà Trưng", "Hoàng Mai",
          "Thanh Xuân", "Nam Từ Liêm", "Bắc Từ Liêm", "Hà Đông", "Sơn Tây", "Ba Vì", "Phúc Thọ", "Đan Phượng"]
SYLLABLES = ("an bao binh cam chi dung giang ha hai hanh hoa hung khanh lam linh long mai minh nam ngoc "
             "phuc quang son tam thanh thao thu trung tuan van viet xuan yen").split()
CASES = ("no documents", "seed articles", "×100 corpus")


def scaled(passages: list, factor: int) -> list:
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


def _knowledge_dir(settings) -> Path:
    """The knowledge folder, in the flat settings of older commits (``--against``) and the sectioned ones."""
    return settings.knowledge.dir if hasattr(settings, "knowledge") else settings.knowledge.dir


def scaled_entries(knowledge_dir: Path, factor: int) -> list:
    from storage.knowledge import load_directory

    base = load_directory(knowledge_dir)
    rng = random.Random(7)
    out, used = list(base), set()
    for copy in range(1, factor):
        for e in base:
            while (label := " ".join(rng.choice(SYLLABLES) for _ in range(3))) in used:
                pass
            used.add(label)
            out.append(e.model_copy(update={"id": f"{e.id}-g{copy}", "name": f"{e.name} {label}",
                                            "aliases": [label]}))
    return out


def questions() -> list[str]:
    root = HERE.parent.parent
    out = [json.loads(x)["text"] for x in (root / "eval" / "dev.jsonl").read_text().splitlines() if x]
    for line in (root / "bench" / "tuning" / "facts_tune.jsonl").read_text().splitlines():
        q = json.loads(line)["q"]
        out.extend(q if isinstance(q, list) else [q])
    return out


async def _measure(settings, passages: list, qs: list[str], rounds: int, profile: str | None) -> dict:
    from bot.app import build_app
    from handlers.types import Incoming

    app = await build_app(settings)
    try:
        t0 = time.perf_counter()
        app.core.set_passages(passages)
        build_s = time.perf_counter() - t0
        c0, t0 = time.process_time(), time.perf_counter()
        app.core.set_passages(passages)  # as the next start does: loaded from the cache dir where code stores it
        again_s, again_cpu = time.perf_counter() - t0, time.process_time() - c0
        for i, q in enumerate(qs):  # warm-up: caches, first-call costs
            await app.core.handle(Incoming(channel="bench", chat_id=str(i % 50), user_id="1", text=q))
        prof = None
        if profile:
            import cProfile

            prof = cProfile.Profile()
            prof.enable()
        wall, cpu = [], []
        load = os.getloadavg()[0]
        rounds_cpu = time.process_time()
        for _ in range(rounds):
            for i, q in enumerate(qs):
                incoming = Incoming(channel="bench", chat_id=str(i % 50), user_id="1", text=q)
                c1, t1 = time.process_time(), time.perf_counter()
                await app.core.handle(incoming)
                wall.append(time.perf_counter() - t1)
                cpu.append(time.process_time() - c1)
                await asyncio.sleep(0)  # between messages the loop runs its other tasks (writes behind), as a bot's
        for behind in (getattr(app.core, name, None) for name in ("states", "unanswered", "questions")):
            if hasattr(behind, "flush"):  # what the rounds left queued, written now: counted with the rounds
                await behind.flush()
        rounds_cpu = time.process_time() - rounds_cpu
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        return {"wall": wall, "cpu": cpu, "rounds_cpu": rounds_cpu, "build_s": build_s, "again_s": again_s,
                "again_cpu": again_cpu,
                "load": (load + os.getloadavg()[0]) / 2,
                "docs": len({p.document_id for p in passages}), "passages": len(passages),
                "entries": len(app.core.knowledge.entries)}
    finally:
        await app.close()


async def child(case: str, seeds: Path, factor: int, rounds: int, profile: str | None) -> dict:
    from bench.tuning.score import read_passages
    from bot.settings import Settings
    from nlu.evidence import Language

    Language.load()
    qs = questions()
    with tempfile.TemporaryDirectory() as tmp:
        if case == "×100 entries":
            from storage import migrate
            from storage.db import Database
            from storage.knowledge import KnowledgeRepository

            settings = Settings(_env_file=None, data_dir=Path(tmp) / "d", autoload_knowledge=False,
                                demo_data=False)
            db = Database(settings.effective_database_url)
            await migrate.upgrade(db)
            async with db.sessions.begin() as session:
                await KnowledgeRepository(session).replace_from_files(
                    scaled_entries(_knowledge_dir(Settings(_env_file=None)), factor))
            await db.dispose()
            return await _measure(settings, [], qs, rounds, None)
        passages = {"no documents": [], "seed articles": read_passages(seeds)}.get(case)
        if passages is None:
            passages = scaled(read_passages(seeds), factor)
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "d", demo_data=False)
        return await _measure(settings, passages, qs, rounds, profile)


def run_case(code: Path, case: str, args: argparse.Namespace, profile: str | None) -> dict:
    # the seeds as an absolute path: the child runs in the tree measured (a temporary folder for --against)
    cmd = [sys.executable, str(HERE), "--child", case, "--seeds", str(args.seeds.resolve()),
           "--factor", str(args.factor), "--rounds", str(args.rounds)]
    if profile:
        cmd += ["--profile", profile]
    env = {**os.environ, "NLU_BENCH_CODE": str(code), "PYTHONPATH": str(code), "UNIONBOT_LOG_LEVEL": "ERROR"}
    out = subprocess.run(cmd, cwd=code, env=env, capture_output=True, text=True)
    if out.returncode:
        raise SystemExit(f"{case} ({code}) failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def least(values: list[float], rounds: int) -> list[float]:
    """Each question's least time over the rounds (the rounds ask the same questions in the same order): steadier
    than every sample on a shared machine, where a round's sample may include waits for a core."""
    n = len(values) // rounds
    return [min(values[i + k * n] for k in range(rounds)) for i in range(n)]


def between(r: dict) -> float:
    """Process CPU of the rounds spent outside ``handle`` (the writes behind, other tasks of the loop), per question,
    in ms; 0 from a tree whose bench did not record it."""
    return max(0.0, r.get("rounds_cpu", sum(r["cpu"])) - sum(r["cpu"])) / len(r["cpu"]) * 1000


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 1000) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=Path, default=HERE.parent.parent.parent.parent / "shared" / "seeds")
    parser.add_argument("--factor", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--entries", action="store_true", help="also the ×100 knowledge base (no documents)")
    parser.add_argument("--against", metavar="REV", help="also measure commit REV, in the same run")
    parser.add_argument("--profile", metavar="FILE", help="cProfile of the ×100 corpus rounds")
    parser.add_argument("--case", action="append", choices=[*CASES, "×100 entries"],
                        help="measure only this case (repeatable)")
    parser.add_argument("--write", action="store_true", help="append the results to docs/benchmarks.md")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(asyncio.run(child(args.child, args.seeds, args.factor, args.rounds, args.profile))))
        return
    if not (args.seeds / "").is_dir():
        raise SystemExit(f"{args.seeds}: no seed articles (pass --seeds DIR)")
    from bench._common import header, write_section

    root = HERE.parent.parent
    trees = [("now", root)]
    with tempfile.TemporaryDirectory() as tmp:
        if args.against:
            base = Path(tmp) / "base"
            base.mkdir()
            archive = subprocess.run(["git", "archive", args.against], cwd=root, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", str(base)], input=archive.stdout, check=True)
            trees.insert(0, (args.against, base))
        cases = args.case or [*CASES, *(["×100 entries"] if args.entries else [])]
        results = {}
        for case in cases:
            for label, code in trees:
                profile = args.profile if (case == CASES[2] and label == "now") else None
                results[(case, label)] = r = run_case(code, case, args, profile)
                print(f"{case} [{label}]: p50 {pct(r['wall'], .5):.3f} p99 {pct(r['wall'], .99):.3f} ms, "
                      f"CPU p99 {pct(r['cpu'], .99):.3f} ms "
                      f"(min of rounds {pct(least(r['cpu'], args.rounds), .99):.3f}),"
                      f" between {between(r):.3f} ms/q, load {r['load']:.1f}", file=sys.stderr, flush=True)
    n = len(questions())
    lines = [header("nlu"), "",
             f"{n} questions (dev set and bench/tuning) × {args.rounds} rounds through `Core.handle`, in-process, "
             "SQLite, demo knowledge; wall time and process CPU time per question; load = the machine's "
             "1-minute load average during the rounds (2 cores).", "",
             "| documents | code | docs | passages | entries | index build s | next start s (CPU s) | p50 ms | "
             "p99 ms | max ms | CPU p50 ms | CPU p99 ms | min-of-rounds CPU p50 / p99 ms | "
             "CPU between messages ms/question | load |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for (case, label), r in results.items():
        lines.append(f"| {case} | {label} | {r['docs']} | {r['passages']} | {r['entries']} | {r['build_s']:.2f} | "
                     f"{r['again_s']:.2f} ({r['again_cpu']:.2f}) | "
                     f"{pct(r['wall'], .5):.3f} | **{pct(r['wall'], .99):.3f}** | {max(r['wall']) * 1000:.2f} | "
                     f"{pct(r['cpu'], .5):.3f} | {pct(r['cpu'], .99):.3f} | "
                     f"{pct(least(r['cpu'], args.rounds), .5):.3f} / {pct(least(r['cpu'], args.rounds), .99):.3f} | "
                     f"{between(r):.3f} | {r['load']:.1f} |")
    lines += ["", f"Target: p99 ≤ 3 ms with the ×{args.factor} corpus. \"next start\": the same index set again, "
              "as the next process start does (read from the cache dir where the code stores it, else rebuilt)."]
    body = "\n".join(lines)
    print(body)
    if args.write:
        write_section("nlu-latency-13", body)


if __name__ == "__main__":
    main()
