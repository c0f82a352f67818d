"""nlu/bm25.py ranks exactly as bm25s's default BM25 did (same scores), without importing bm25s and scipy."""

import random

import numpy as np
import pytest

from nlu.bm25 import BM25

bm25s = pytest.importorskip("bm25s", reason="bm25s (the test extra) is the reference implementation")


def corpus(seed: int) -> tuple[list[list[str]], list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(200)] + ["gạo", "kim sáng", "đoàn phí"]
    docs = [[rng.choice(words[: rng.randint(3, len(words))]) for _ in range(rng.randint(1, 25))]
            for _ in range(rng.randint(1, 600))]
    return docs, words


@pytest.mark.parametrize("seed", range(8))
def test_the_scores_are_bm25s_scores(seed):
    docs, words = corpus(seed)
    reference = bm25s.BM25()
    reference.index(docs, show_progress=False)
    ours = BM25()
    ours.index(docs)
    assert set(ours.vocab_dict) == set(reference.vocab_dict) - {""}
    rng = random.Random(seed)
    for _ in range(50):
        query = [w for w in dict.fromkeys(rng.sample(words, rng.randint(1, 6))) if w in ours.vocab_dict]
        if query:
            expected, got = reference.get_scores(query), ours.get_scores(query)
            assert got.dtype == expected.dtype and np.allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_unknown_terms_score_nothing_and_an_empty_corpus_is_allowed():
    ranker = BM25()
    ranker.index([["a", "b"], ["b"]])
    assert ranker.get_scores(["zzz"]).tolist() == [0.0, 0.0]
    assert ranker.get_scores(["a"])[0] > 0 == ranker.get_scores(["a"])[1]
    empty = BM25()
    empty.index([])
    assert empty.get_scores(["a"]).shape == (0,)
