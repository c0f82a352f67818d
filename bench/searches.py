"""How many ``EvidenceIndex.search`` calls each question costs through ``Core.handle`` (issue 13, latency).

Usage: PYTHONPATH=$PWD .venv/bin/python bench/searches.py [--seeds DIR] [--factor N] [--top 15]

The questions and chats of ``bench/nlu_latency.py`` (the dev set and the tuning set, 50 chats in turn, so a short
question may be read against the chat's previous one), one round, in-process, SQLite, demo knowledge, the seed
articles (``--factor N``: the ×N generated corpus). Prints the total, how many messages made how many searches, how
many searches repeated a reading already searched in the same message, how many questions were read
(``EvidenceIndex.read``, all messages), and the questions that searched most.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve()
sys.path.insert(0, str(HERE.parent.parent))


async def count(seeds: Path, factor: int, top: int) -> None:
    from bench.nlu_latency import questions, scaled
    from bench.tuning.score import read_passages
    from bot.app import build_app
    from bot.settings import Settings
    from handlers.types import Incoming
    from nlu.evidence import EvidenceIndex, Language

    Language.load()
    calls: list = []
    search = EvidenceIndex.search

    def counted(self, q):
        calls.append(q)
        return search(self, q)

    reads: list[str] = []
    read = EvidenceIndex.read

    def counted_read(self, text):
        reads.append(text)
        return read(self, text)

    EvidenceIndex.search = counted  # type: ignore[method-assign]
    EvidenceIndex.read = counted_read  # type: ignore[method-assign]
    qs = questions()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        app = await build_app(Settings(_env_file=None, data_dir=Path(tmp) / "d", demo_data=False))
        try:
            passages = read_passages(seeds)
            app.core.set_passages(scaled(passages, factor) if factor > 1 else passages)
            for i, q in enumerate(qs):
                calls.clear()
                await app.core.handle(Incoming(channel="bench", chat_id=str(i % 50), user_id="1", text=q))
                rows.append((len(calls), len(calls) - len(set(calls)), q))
        finally:
            await app.close()
    print(f"{len(qs)} messages, {sum(n for n, _, _ in rows)} searches, "
          f"{sum(d for _, d, _ in rows)} of a reading already searched in the message; {len(reads)} reads "
          "(``EvidenceIndex.read``)")
    print("searches: messages", sorted(collections.Counter(n for n, _, _ in rows).items()))
    for n, d, q in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"{n:3d} {d:2d}  {q}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=Path, default=HERE.parent.parent.parent.parent / "shared" / "seeds")
    parser.add_argument("--factor", type=int, default=1)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(count(args.seeds, args.factor, args.top))


if __name__ == "__main__":
    main()
