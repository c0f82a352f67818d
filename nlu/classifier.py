"""Intent classifier: a linear model over word and character n-grams of folded text.

Training uses scikit-learn (TF-IDF + multinomial logistic regression) and is imported only when a
model has to be trained. The trained weights are exported to plain numpy arrays, so answering a
question needs numpy alone: no scikit-learn import on the hot path or at start-up once the model is
cached (see docs/decisions.md, "Intent classifier").
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURE_VERSION = "4"
#: inverse regularisation strength of the logistic regression (docs/decisions.md, "Intent classifier features")
DEFAULT_C = 8.0


def features(tokens: Sequence[str]) -> list[str]:
    """Words, word bigrams and trigrams, and character 3–5-grams of the folded text across word boundaries.

    Character n-grams spanning the space between two syllables carry the multi-syllable words of
    Vietnamese ("cong doan", "thi dua") without a word segmenter, and still tolerate a missing
    diacritic or a typo in one syllable (docs/decisions.md, "Intent classifier features").
    """
    feats = [f"w:{t}" for t in tokens]
    feats.extend(f"b:{a}_{b}" for a, b in zip(tokens, tokens[1:], strict=False))
    feats.extend(f"t:{a}_{b}_{c}" for a, b, c in zip(tokens, tokens[1:], tokens[2:], strict=False))
    text = f" {' '.join(tokens)} "
    for n in range(3, 6):
        feats.extend(f"c:{text[i:i + n]}" for i in range(len(text) - n + 1))
    return feats


@dataclass(frozen=True, slots=True)
class Prediction:
    intent: str
    confidence: float
    ranking: tuple[tuple[str, float], ...]


class IntentModel:
    """Runtime half of the classifier: numpy arrays and a vocabulary dict."""

    def __init__(self, labels: list[str], vocab: dict[str, int], idf: np.ndarray,
                 coef: np.ndarray, intercept: np.ndarray) -> None:
        self.labels = labels
        self.vocab = vocab
        self.idf = idf
        self.coef = coef  # shape (n_features, n_classes)
        self.intercept = intercept

    def predict(self, tokens: Sequence[str]) -> Prediction:
        counts = Counter(map(self.vocab.get, features(tokens)))  # feature index -> count; None: unknown
        counts.pop(None, None)
        if counts:
            idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
            tf = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
            weights = tf * self.idf[idx]
            weights /= np.linalg.norm(weights)
            scores = weights @ self.coef[idx] + self.intercept
        else:
            scores = self.intercept.copy()
        scores = np.exp(scores - scores.max())
        probs = scores / scores.sum()
        order = np.argsort(-probs)
        ranking = tuple((self.labels[i], float(probs[i])) for i in order[:3])
        return Prediction(intent=ranking[0][0], confidence=ranking[0][1], ranking=ranking)

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp.npz")
        np.savez_compressed(tmp, idf=self.idf, coef=self.coef, intercept=self.intercept,
                            meta=np.array(json.dumps({"labels": self.labels, "vocab": self.vocab})))
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["labels"], meta["vocab"], data["idf"], data["coef"], data["intercept"])


def train(examples: Iterable[tuple[Sequence[str], str]], c: float = DEFAULT_C) -> IntentModel:
    """Fit the model on (tokens, intent) pairs. Imports scikit-learn, so call it off the hot path."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    docs, labels = [], []
    for toks, label in examples:
        docs.append(tuple(toks))
        labels.append(label)
    vectorizer = TfidfVectorizer(analyzer=features, sublinear_tf=True, min_df=1)
    x = vectorizer.fit_transform(docs)
    clf = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    clf.fit(x, labels)
    vocab = {f: int(i) for f, i in vectorizer.vocabulary_.items()}
    coef = np.ascontiguousarray(clf.coef_.T, dtype=np.float64)
    intercept = np.asarray(clf.intercept_, dtype=np.float64)
    if len(clf.classes_) == 2:  # binary LR has one column: expand to two classes
        coef = np.hstack([-coef, coef]) / 2
        intercept = np.array([-intercept[0], intercept[0]]) / 2
    return IntentModel([str(c) for c in clf.classes_], vocab, np.asarray(vectorizer.idf_), coef, intercept)
