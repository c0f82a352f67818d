"""Are the replies byte-identical to another commit's? A check for changes that must not change any answer.

Usage: PYTHONPATH=$PWD .venv/bin/python bench/replies.py --against REV [--seeds DIR] [--factor N] [--no-cli]

Two checks, each run on this tree and on commit REV (exported with ``git archive``), outputs compared line by line:

- ``ask``: ``python -m bot ask --json`` on a fresh data dir (the seed articles ingested at the first start, demo
  knowledge) over the questions of eval/dev.jsonl, eval/facts_dev.jsonl and eval/facts_dev_2.jsonl: every
  output field (reply, intent, confidence, fallback) must be the same. (Never eval/facts_dev_3.jsonl: held out.)
- ``corpus`` (``--factor N``, 0 to skip): the same questions through ``Core.process`` in-process with the ×N
  generated corpus of ``bench/nlu_latency.py`` (more candidates per question, more ties), the questions of a
  ``conversation`` in one chat in order (follow-ups read against the previous question), the others each alone.

REV's outputs are kept in the temporary folder keyed by its full commit hash, so a second check against the
same REV runs only this tree. Exit status 1 when a reply differs (the first differences are printed).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
ROOT = HERE.parent.parent
SETS = ("eval/dev.jsonl", "eval/facts_dev.jsonl", "eval/facts_dev_2.jsonl")


def items(root: Path) -> list[dict]:
    out = []
    for name in SETS:
        for line in (root / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append(json.loads(line))
    return out


def run_ask(code: Path, seeds: Path, texts: list[str]) -> list[str]:
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PYTHONPATH": str(code), "UNIONBOT_DATA_DIR": tmp, "UNIONBOT_DOCUMENTS_DIR": str(seeds),
               "UNIONBOT_LOG_LEVEL": "ERROR"}
        env.pop("UNIONBOT_DATABASE_URL", None)
        out = subprocess.run([sys.executable, "-m", "bot", "ask", "--json"], cwd=code, env=env, text=True,
                             input="\n".join(texts) + "\n", capture_output=True)
        if out.returncode:
            raise SystemExit(f"ask ({code}) failed:\n{out.stderr[-3000:]}")
        return out.stdout.splitlines()


async def corpus_child(seeds: Path, factor: int) -> list[str]:
    sys.path.insert(0, str(Path(os.environ["REPLIES_CODE"])))
    from bench.nlu_latency import scaled
    from bench.tuning.score import read_passages
    from bot.app import build_app
    from bot.settings import Settings
    from handlers.types import Incoming

    out = []
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(_env_file=None, data_dir=Path(tmp) / "d", demo_data=False)
        app = await build_app(settings)
        try:
            app.core.set_passages(scaled(read_passages(seeds), factor))
            for n, item in enumerate(items(ROOT)):
                chat = item.get("conversation") or f"q{n}"
                outcome = await app.core.process(Incoming(channel="bench", chat_id=chat, user_id=chat,
                                                         text=item["text"]))
                out.append(json.dumps({"question": item["text"], "reply": "\n\n".join(r.text for r in outcome.replies),
                                       "intent": outcome.intent, "confidence": round(outcome.confidence, 4),
                                       "fallback": outcome.fallback}, ensure_ascii=False))
        finally:
            await app.close()
    return out


def run_corpus(code: Path, seeds: Path, factor: int) -> list[str]:
    env = {**os.environ, "PYTHONPATH": str(code), "REPLIES_CODE": str(code), "UNIONBOT_LOG_LEVEL": "ERROR"}
    env.pop("UNIONBOT_DATABASE_URL", None)
    out = subprocess.run([sys.executable, str(HERE), "--child", "--seeds", str(seeds), "--factor", str(factor)],
                         cwd=code, env=env, text=True, capture_output=True)
    if out.returncode:
        raise SystemExit(f"corpus ({code}) failed:\n{out.stderr[-3000:]}")
    return out.stdout.splitlines()


def outputs(code: Path, seeds: Path, factor: int, cli: bool) -> dict[str, list[str]]:
    texts = [x["text"] for x in items(ROOT)]
    found = {}
    if cli:
        found["ask"] = run_ask(code, seeds, texts)
    if factor:
        found[f"corpus x{factor}"] = run_corpus(code, seeds, factor)
    return found


def compare(name: str, before: list[str], after: list[str]) -> int:
    diffs = [(a, b) for a, b in zip(before, after, strict=False) if a != b]
    if len(before) != len(after):
        print(f"{name}: {len(before)} lines before, {len(after)} after")
    print(f"{name}: {len(after)} replies, {len(diffs)} differ")
    for a, b in diffs[:5]:
        print(f"  before: {a}\n  after:  {b}")
    return len(diffs) + abs(len(before) - len(after))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", metavar="REV")
    parser.add_argument("--seeds", type=Path, default=ROOT.parent / "shared" / "seeds")
    parser.add_argument("--factor", type=int, default=8, help="the generated corpus (0: skip that check)")
    parser.add_argument("--no-cli", action="store_true", help="skip the `ask --json` check")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print("\n".join(asyncio.run(corpus_child(args.seeds, args.factor))))
        return
    if not args.seeds.is_dir():
        raise SystemExit(f"{args.seeds}: no seed articles (pass --seeds DIR)")
    if not args.against:
        raise SystemExit("--against REV: the commit to compare with")
    sha = subprocess.run(["git", "rev-parse", args.against], cwd=ROOT, capture_output=True, text=True,
                         check=True).stdout.strip()
    kept = Path(tempfile.gettempdir()) / f"unionbot-replies-{sha}-{args.factor}-{int(not args.no_cli)}.json"
    if kept.is_file():
        before = json.loads(kept.read_text(encoding="utf-8"))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "archive", sha], cwd=ROOT, capture_output=True, check=True)
            subprocess.run(["tar", "-x", "-C", tmp], input=archive.stdout, check=True)
            before = outputs(Path(tmp), args.seeds.resolve(), args.factor, not args.no_cli)
        kept.write_text(json.dumps(before, ensure_ascii=False), encoding="utf-8")
    after = outputs(ROOT, args.seeds.resolve(), args.factor, not args.no_cli)
    bad = sum(compare(name, before[name], after[name]) for name in after)
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
