"""Which knowledge entries a question is about when it names none: BM25 over the entries' own words.

"Công đoàn Việt Nam thành lập năm nào?" names no entry, but shares rare words ("thanh lap") with the
founding-day fact. Scores use word unigrams and bigrams of folded text; words found in most entries
weigh almost nothing, so question words ("bao nhieu", "the nao") do not decide anything.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass


def terms(tokens: Sequence[str]) -> list[str]:
    return [*tokens, *(f"{a} {b}" for a, b in zip(tokens, tokens[1:], strict=False))]


@dataclass(frozen=True, slots=True)
class Hit:
    entry_id: str
    kind: str
    score: float


class Retriever:
    def __init__(self, documents: Iterable[tuple[str, str, Sequence[str]]], k1: float = 1.2, b: float = 0.75) -> None:
        """``documents``: (entry id, kind, folded tokens of the entry's text)."""
        self._ids: list[tuple[str, str]] = []
        lengths: list[int] = []
        counts: list[Counter] = []
        for entry_id, kind, tokens in documents:
            self._ids.append((entry_id, kind))
            c = Counter(terms(tokens))
            counts.append(c)
            lengths.append(sum(c.values()))
        n = len(self._ids)
        avg = (sum(lengths) / n) if n else 1.0
        df = Counter(term for c in counts for term in c)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for i, c in enumerate(counts):
            norm = k1 * (1 - b + b * lengths[i] / avg)
            for term, tf in c.items():
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                self._postings[term].append((i, idf * tf * (k1 + 1) / (tf + norm)))

    def search(self, tokens: Sequence[str], kinds: Iterable[str], limit: int = 10) -> list[Hit]:
        wanted = set(kinds)
        scores: dict[int, float] = defaultdict(float)
        for term in set(terms(tokens)):
            for i, weight in self._postings.get(term, ()):
                if self._ids[i][1] in wanted:
                    scores[i] += weight
        best = sorted(scores.items(), key=lambda kv: -kv[1])[:limit]
        return [Hit(self._ids[i][0], self._ids[i][1], s) for i, s in best]
