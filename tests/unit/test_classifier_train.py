"""The numpy trainer (nlu/classifier.py) fits the model scikit-learn fits: same vocabulary and idf, the same
predictions and nearly the same probabilities (the objective is convex; both stop at a tolerance)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from nlu.classifier import DEFAULT_C, features, train
from nlu.data import load_abbreviations, load_training_examples
from nlu.normalize import Normalizer

sklearn_text = pytest.importorskip("sklearn.feature_extraction.text")  # the test extra
sklearn_linear = pytest.importorskip("sklearn.linear_model")

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def fitted():
    normalize = Normalizer(load_abbreviations())
    pairs = [(normalize(text).tokens, label) for text, label in load_training_examples()[::2]]
    ours = train(pairs)
    vectorizer = sklearn_text.TfidfVectorizer(analyzer=features, sublinear_tf=True)
    x = vectorizer.fit_transform([tuple(t) for t, _ in pairs])
    theirs = sklearn_linear.LogisticRegression(C=DEFAULT_C, max_iter=3000, class_weight="balanced")
    theirs.fit(x, [label for _, label in pairs])
    return normalize, ours, vectorizer, theirs


def test_same_features_and_idf(fitted):
    _, ours, vectorizer, _ = fitted
    assert set(ours.vocab) == set(vectorizer.vocabulary_)
    order = [ours.vocab[f] for f in sorted(vectorizer.vocabulary_, key=vectorizer.vocabulary_.get)]
    np.testing.assert_allclose(ours.idf[order], vectorizer.idf_)


def test_same_predictions_on_the_dev_set(fitted):
    normalize, ours, vectorizer, theirs = fitted
    texts = [json.loads(line)["text"] for line in (ROOT / "eval" / "dev.jsonl").read_text().splitlines() if line]
    same, gaps = 0, []
    for text in texts:
        toks = normalize(text).tokens
        mine = ours.predict(toks)
        probs = theirs.predict_proba(vectorizer.transform([tuple(toks)]))[0]
        same += mine.intent == theirs.classes_[int(np.argmax(probs))]
        gaps.append(abs(mine.confidence - float(probs.max())))
    assert same >= 0.99 * len(texts)
    assert float(np.median(gaps)) < 0.01 and max(gaps) < 0.1


def test_two_classes_and_an_example_without_features():
    model = train([(("gia", "vang"), "a"), (("cong", "doan"), "b"), ((), "b")])
    assert model.labels == ["a", "b"]
    assert model.predict(("gia", "vang")).intent == "a"
    assert model.predict(("cong", "doan")).intent == "b"
