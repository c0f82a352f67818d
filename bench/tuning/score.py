"""Score the fact-answering on OUR tuning set (bench/tuning/facts_tune.jsonl), in four variants.

The tuning set is what the evidence thresholds and word lists were tuned on; it is kept apart from the
project's held-out fact dev set (never read here). The seed articles come from ../shared/seeds.

    PYTHONPATH=$PWD .venv/bin/python bench/tuning/score.py [--errors] [--seeds DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import sys
import tempfile
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.app import build_app  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers.types import Incoming  # noqa: E402
from nlu.evidence import Passage  # noqa: E402
from nlu.normalize import fold  # noqa: E402

ABBREVIATIONS = [("không", "ko"), ("được", "dc"), ("công đoàn", "cđ"), ("đoàn viên", "đv"),
                 ("người lao động", "nlđ"), ("bao nhiêu", "bn"), ("Liên đoàn Lao động", "LĐLĐ"), ("gì", "j")]


def read_passages(seeds: Path) -> list[Passage]:
    """The seed articles as passages: through the ingestion's reader when present, else split by lines."""
    try:
        from services.documents import read_document
    except ImportError:
        read_document = None
    out: list[Passage] = []
    for doc_id, path in enumerate(sorted(seeds.glob("*.txt")), start=1):
        if read_document is not None:
            parsed = read_document(path)
            title, published, paragraphs = parsed.title, parsed.published, parsed.paragraphs
        else:
            lines = [x.strip() for x in path.read_text(encoding="utf-8").splitlines() if x.strip() and x != "-->"]
            title, published = lines[0], None
            paragraphs = [tuple(re.split(r"(?<=[.!?…])\s+(?=[A-ZĐÀ-Ỹ“\"(])", x)) for x in lines]
        for p, sentences in enumerate(paragraphs):
            for s, text in enumerate(sentences):
                out.append(Passage(len(out) + 1, doc_id, title, published, str(path), p, s, text))
    return out


def variant(text: str, name: str, rng: random.Random) -> str:
    if name == "folded":
        return fold(text)
    if name == "abbreviations":
        for long, short in ABBREVIATIONS:
            text = re.sub(long, short, text, flags=re.IGNORECASE)
        return text
    if name == "typo":
        words = [w for w in re.findall(r"\w+", text) if len(w) >= 4 and not w[0].isdigit()]
        if not words:
            return text
        w = rng.choice(words)
        i = rng.randrange(1, len(w))
        typo = w[:i] + w[i - 1] + w[i:] if rng.random() < 0.5 else w[:i] + w[i + 1:]
        return text.replace(w, typo, 1)
    return text


async def run(args: argparse.Namespace) -> int:
    items = [json.loads(x) for x in args.tuning.read_text(encoding="utf-8").splitlines() if x.strip()]
    passages = read_passages(args.seeds)
    with tempfile.TemporaryDirectory() as scratch:
        settings = Settings(database_url=f"sqlite+aiosqlite:///{Path(scratch) / 't.db'}", data_dir=Path(scratch),
                            log_unanswered=False, demo_data=False)
        app = await build_app(settings)
        app.core.set_passages(passages)
        try:
            for name in ("plain", "folded", "abbreviations", "typo"):
                rng = random.Random(13)
                ok = {"answer": [0, 0], "oos": [0, 0]}
                errors = []
                for item in items:
                    chat = uuid.uuid4().hex
                    turns = item["q"] if isinstance(item["q"], list) else [item["q"]]
                    for turn in turns:
                        text = variant(turn, name, rng)
                        outcome = await app.core.process(Incoming(channel="console", chat_id=chat, user_id=chat,
                                                                  text=text))
                    reply = fold(" ".join(r.text for r in outcome.replies))
                    cls = "oos" if item.get("oos") else "answer"
                    good = outcome.fallback if cls == "oos" else (
                        not outcome.fallback and all(fold(x) in reply for x in item["expect"]))
                    ok[cls][0] += good
                    ok[cls][1] += 1
                    if not good:
                        errors.append((cls, text, " | ".join(r.text for r in outcome.replies)[:300]))
                print(f"{name:<14} answered with the fact {ok['answer'][0]}/{ok['answer'][1]} "
                      f"({100 * ok['answer'][0] / ok['answer'][1]:.1f}%)   out of scope refused {ok['oos'][0]}/"
                      f"{ok['oos'][1]} ({100 * ok['oos'][0] / ok['oos'][1]:.1f}%)")
                if args.errors:
                    for cls, text, reply in errors:
                        print(f"   [{cls}] {text}\n        -> {reply}")
        finally:
            await app.close()
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tuning", type=Path, default=Path(__file__).with_name("facts_tune.jsonl"))
    parser.add_argument("--seeds", type=Path, default=ROOT.parent.parent / "shared" / "seeds")
    parser.add_argument("--errors", action="store_true")
    return asyncio.run(run(parser.parse_args()))


if __name__ == "__main__":
    raise SystemExit(main())
