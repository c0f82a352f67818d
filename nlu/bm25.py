"""BM25 scores over the evidence sentences: the index is built by bm25s, kept as plain numpy arrays.

bm25s (the well-kept library, its default Lucene variant) computes every (term, sentence) score once, as the
columns of a sparse matrix. Those arrays are all a query needs: its score per sentence is the sum of its
terms' columns. Kept as arrays, the built ranking can be stored with the evidence index (``nlu/cache.py``)
and loaded without importing bm25s (which also imports scipy when it is installed). The scores are bm25s's
own: ``tests/unit/test_bm25.py`` compares them with ``bm25s.BM25.get_scores``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class Ranker:
    """The precomputed BM25 matrix of a corpus (compressed by term) and its vocabulary."""

    __slots__ = ("data", "indices", "indptr", "num_docs", "vocab")

    def __init__(self, data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, num_docs: int,
                 vocab: dict[str, int]) -> None:
        self.data = data
        self.indices = indices
        self.indptr = indptr
        self.num_docs = num_docs
        self.vocab = vocab

    @classmethod
    def build(cls, corpus: Sequence[Sequence[str]]) -> Ranker:
        """Index ``corpus`` (one list of terms per sentence) with bm25s; imported here, at build time only."""
        import bm25s

        bm25 = bm25s.BM25()
        bm25.index([list(doc) for doc in corpus], show_progress=False)
        scores = bm25.scores
        # the sentence numbers as the platform's index type: numpy converts int32 indices at every use otherwise
        return cls(np.asarray(scores["data"]), np.asarray(scores["indices"], dtype=np.intp),
                   np.asarray(scores["indptr"]), int(scores["num_docs"]),
                   {str(k): int(v) for k, v in bm25.vocab_dict.items()})

    def get_scores(self, terms: Sequence[str]) -> np.ndarray:
        """BM25 of every sentence for the query ``terms`` (terms outside the vocabulary score nothing)."""
        scores = np.zeros(self.num_docs, dtype=self.data.dtype if len(self.data) else np.float32)
        for term in terms:
            t = self.vocab.get(term)
            if t is None:
                continue
            start, end = self.indptr[t], self.indptr[t + 1]
            np.add.at(scores, self.indices[start:end], self.data[start:end])
        return scores
