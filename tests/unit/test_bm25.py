"""nlu/bm25.py: the ranking built by bm25s, scored from its arrays without bm25s, gives bm25s's own scores."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pytest

from nlu.bm25 import Ranker

bm25s = pytest.importorskip("bm25s")  # the test extra


def corpus(seed: int, docs: int = 300) -> list[list[str]]:
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(400)]
    return [[rng.choice(words[: rng.randint(5, 400)]) for _ in range(rng.randint(1, 30))] for _ in range(docs)]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_scores_are_bm25s_scores(seed):
    docs = corpus(seed)
    reference = bm25s.BM25()
    reference.index(docs, show_progress=False)
    ranker = Ranker.build(docs)
    rng = random.Random(seed + 10)
    for _ in range(50):
        query = list(dict.fromkeys(rng.choice(docs[rng.randrange(len(docs))]) for _ in range(rng.randint(1, 6))))
        np.testing.assert_allclose(ranker.get_scores(query), reference.get_scores(query), rtol=1e-6, atol=1e-6)


def test_unknown_terms_score_nothing_and_a_stored_ranker_scores_alike():
    docs = corpus(4)
    ranker = Ranker.build(docs)
    assert not ranker.get_scores(["not-a-word"]).any()
    again = pickle.loads(pickle.dumps(ranker))
    query = docs[0][:3]
    assert ranker.get_scores(query).any()
    np.testing.assert_array_equal(again.get_scores(query), ranker.get_scores(query))
