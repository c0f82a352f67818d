"""BM25 ranking of tokenised sentences with numpy alone: the scores of ``bm25s.BM25()`` (its default "lucene"
variant, k1 1.5, b 0.75, float32), without importing bm25s and scipy (half a second at every start).

Each (term, sentence) weight is computed once at :meth:`BM25.index`; a query adds up its terms' columns.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence

import numpy as np


class BM25:
    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1, self.b = k1, b
        self.vocab_dict: dict[str, int] = {}
        self._docs: list[np.ndarray] = []
        self._weights: list[np.ndarray] = []
        self.num_docs = 0

    def index(self, corpus: Sequence[Sequence[str]]) -> None:
        counts = [Counter(doc) for doc in corpus]
        lengths = np.array([len(doc) for doc in corpus], dtype=np.float32)
        self.num_docs = len(corpus)
        average = float(lengths.mean()) if len(corpus) and lengths.sum() else 1.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for i, c in enumerate(counts):
            for term, tf in c.items():
                docs, tfs = postings.setdefault(term, ([], []))
                docs.append(i)
                tfs.append(tf)
        norm = (self.k1 * ((1 - self.b) + self.b * lengths / average)).astype(np.float32)
        self.vocab_dict = {}
        self._docs, self._weights = [], []
        for term_id, (term, (docs, tfs)) in enumerate(postings.items()):
            idf = math.log(1 + (self.num_docs - len(docs) + 0.5) / (len(docs) + 0.5))
            where = np.array(docs, dtype=np.int32)
            freq = np.array(tfs, dtype=np.float32)
            self.vocab_dict[term] = term_id
            self._docs.append(where)
            self._weights.append((np.float32(idf) * (freq / (norm[where] + freq))).astype(np.float32))

    def get_scores(self, query: Sequence[str]) -> np.ndarray:
        """One score per indexed sentence; terms outside the vocabulary count nothing, repeated terms twice."""
        scores = np.zeros(self.num_docs, dtype=np.float32)
        for term in query:
            term_id = self.vocab_dict.get(term)
            if term_id is not None:
                scores[self._docs[term_id]] += self._weights[term_id]
        return scores
