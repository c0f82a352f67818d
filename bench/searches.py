"""How many ``EvidenceIndex.search`` calls each question costs through ``Core.handle`` (issue 13, latency).

Usage: PYTHONPATH=$PWD .venv/bin/python bench/searches.py [--seeds DIR] [--factor N] [--top 15]

The questions and chats of ``bench/nlu_latency.py`` (the dev set and the tuning set, 50 chats in turn, so a short
question may be read against the chat's previous one), one round, in-process, SQLite, demo knowledge, the seed
articles (``--factor N``: the ×N generated corpus). Prints the total, how many messages made how many searches, how
many searches repeated a reading already searched in the same message, how many questions were read
(``EvidenceIndex.read``, all messages), how many BM25 rankings the searches cost (``Ranker.get_scores``: a search
whose words were ranked for one of the last queries reuses the scores), how many candidate sentences were weighed by
the kind of answer they hold (``EvidenceIndex._kind_factor``: none when no candidate holds enough of the question),
and the questions that searched most (with their rankings and weighings).
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

    from nlu.bm25 import Ranker

    ranks: list = []
    rank = Ranker.get_scores

    def counted_rank(self, terms):
        ranks.append(tuple(terms))
        return rank(self, terms)

    weighed: list = []
    kind_factor = EvidenceIndex._kind_factor

    def counted_factor(self, m, q):
        weighed.append(1)
        return kind_factor(self, m, q)

    Ranker.get_scores = counted_rank  # type: ignore[method-assign]
    EvidenceIndex._kind_factor = counted_factor  # type: ignore[method-assign]
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
                ranks.clear()
                weighed.clear()
                await app.core.handle(Incoming(channel="bench", chat_id=str(i % 50), user_id="1", text=q))
                rows.append((len(calls), len(calls) - len(set(calls)), q, len(ranks), len(weighed)))
        finally:
            await app.close()
    print(f"{len(qs)} messages, {sum(r[0] for r in rows)} searches, "
          f"{sum(r[1] for r in rows)} of a reading already searched in the message; {len(reads)} reads "
          f"(``EvidenceIndex.read``); {sum(r[3] for r in rows)} rankings (``Ranker.get_scores``), "
          f"{sum(r[4] for r in rows)} sentences weighed")
    print("searches: messages", sorted(collections.Counter(r[0] for r in rows).items()))
    print("searches, repeated readings, rankings, sentences weighed, question:")
    for n, d, q, r, w in sorted(rows, key=lambda r: -r[0])[:top]:
        print(f"{n:3d} {d:2d} {r:3d} {w:4d}  {q}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seeds", type=Path, default=HERE.parent.parent.parent.parent / "shared" / "seeds")
    parser.add_argument("--factor", type=int, default=1)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    asyncio.run(count(args.seeds, args.factor, args.top))


if __name__ == "__main__":
    main()
