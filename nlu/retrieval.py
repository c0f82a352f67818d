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

import numpy as np

#: an entry scoring at least this share of the best one's score is related to the question as well (a list answer
#: shows them all, or says how many there are)
NEAR_BEST = 0.3


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
        postings: dict[str, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
        for i, c in enumerate(counts):
            norm = k1 * (1 - b + b * lengths[i] / avg)
            for term, tf in c.items():
                idf = math.log(1 + (n - df[term] + 0.5) / (df[term] + 0.5))
                docs, weights = postings[term]
                docs.append(i)
                weights.append(idf * tf * (k1 + 1) / (tf + norm))
        # numpy arrays per term: a query is a handful of bincounts, whatever the size of the base
        self._postings = {t: (np.asarray(d, dtype=np.int64), np.asarray(w)) for t, (d, w) in postings.items()}
        self._kinds = np.asarray([kind for _, kind in self._ids], dtype=object)
        self._masks: dict[frozenset[str], np.ndarray] = {}

    def __getstate__(self) -> dict:
        """As stored (nlu/cache.py): the postings packed into two arrays and their terms' lengths — thousands of
        small arrays were most of the time of unpickling the matcher at every start (issue #14, cold start)."""
        state = dict(self.__dict__)
        postings: dict[str, tuple[np.ndarray, np.ndarray]] = state.pop("_postings")
        docs = [d for d, _ in postings.values()]
        weights = [w for _, w in postings.values()]
        state["_packed"] = (list(postings), np.asarray([len(d) for d in docs], dtype=np.int64),
                            np.concatenate(docs) if docs else np.zeros(0, dtype=np.int64),
                            np.concatenate(weights) if weights else np.zeros(0))
        return state

    def __setstate__(self, state: dict) -> None:
        names, sizes, docs, weights = state.pop("_packed")
        self.__dict__.update(state)
        ends = np.cumsum(sizes).tolist()
        self._postings = {t: (docs[a:b], weights[a:b]) for t, a, b in zip(names, [0, *ends[:-1]], ends, strict=True)}

    def _mask(self, kinds: frozenset[str]) -> np.ndarray:
        if kinds not in self._masks:
            self._masks[kinds] = np.isin(self._kinds, list(kinds)).astype(np.float64)
        return self._masks[kinds]

    def search(self, tokens: Sequence[str], kinds: Iterable[str], limit: int = 10, near: bool = False) -> list[Hit]:
        """The ``limit`` best-scoring entries of ``kinds``, best first; with ``near``, and every further one scoring
        ``NEAR_BEST`` of the best or more (so the related entries are all there to count)."""
        found = [self._postings[t] for t in set(terms(tokens)) if t in self._postings]
        if not found:
            return []
        docs = np.concatenate([d for d, _ in found])
        weights = np.concatenate([w for _, w in found])
        scores = np.bincount(docs, weights=weights, minlength=len(self._ids))
        scores *= self._mask(frozenset(kinds))
        k = min(limit, int(np.count_nonzero(scores)))
        if k == 0:
            return []
        if near:
            k = max(k, int(np.count_nonzero(scores >= NEAR_BEST * scores.max())))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top], kind="stable")]
        return [Hit(self._ids[i][0], self._ids[i][1], float(scores[i])) for i in top]
