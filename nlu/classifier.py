"""Intent classifier: a linear model over word and character n-grams of folded text.

TF-IDF + multinomial logistic regression, trained and applied with numpy alone (the weights are cached on
disk by ``nlu.matcher.build_model``); scikit-learn, which fits the same model, is a test tool only
(docs/decisions.md, "Intent classifier" and "Intent classifier: numpy").
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

FEATURE_VERSION = "5"  # 5: trained with numpy (nlu.classifier.train), no scikit-learn
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
        """Written to a temporary file of this process, then renamed: a reader sees a whole file or none."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.npz")
        try:
            np.savez_compressed(tmp, idf=self.idf, coef=self.coef, intercept=self.intercept,
                                meta=np.array(json.dumps({"labels": self.labels, "vocab": self.vocab})))
            tmp.replace(path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: Path) -> IntentModel:
        with np.load(path) as data:
            meta = json.loads(str(data["meta"]))
            return cls(meta["labels"], meta["vocab"], data["idf"], data["coef"], data["intercept"])


def train(examples: Iterable[tuple[Sequence[str], str]], c: float = DEFAULT_C) -> IntentModel:
    """Fit the model on (tokens, intent) pairs, with numpy alone.

    The same model scikit-learn's ``TfidfVectorizer(analyzer=features, sublinear_tf=True)`` and
    ``LogisticRegression(C=c, class_weight="balanced")`` (multinomial, L-BFGS) fit — the objective is convex, so
    a converged optimiser finds the same weights up to its tolerance; ``tests/unit/test_classifier_train.py``
    compares the two. scikit-learn is a test tool only (docs/decisions.md, "Intent classifier: numpy").
    """
    docs: list[Counter[str]] = []
    labels: list[str] = []
    for toks, label in examples:
        docs.append(Counter(features(tuple(toks))))
        labels.append(label)
    classes = sorted(set(labels))
    vocab = {f: i for i, f in enumerate(sorted({f for d in docs for f in d}))}
    x = _tfidf(docs, vocab)
    y = np.array([classes.index(label) for label in labels], dtype=np.int64) if labels else np.zeros(0, np.int64)
    coef, intercept = _fit_logistic(x, y, len(classes), c)
    return IntentModel(classes, vocab, x.idf, coef, intercept)


@dataclass(frozen=True, slots=True)
class _Sparse:
    """A row-compressed matrix (``indptr``, ``indices``, ``data``) and the row of each value, for the products."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    n_cols: int
    idf: np.ndarray
    rows: np.ndarray  # the row of each stored value

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w (w: n_cols × k): one weighted bincount per column of w (faster in numpy than a 2-D reduceat)."""
        wt = np.ascontiguousarray(w.T)
        n = len(self.indptr) - 1
        return np.stack([np.bincount(self.rows, weights=self.data * wt[j, self.indices], minlength=n)
                         for j in range(w.shape[1])], axis=1)

    def tdot(self, g: np.ndarray) -> np.ndarray:
        """X.T @ g (g: n_rows × k)."""
        gt = np.ascontiguousarray(g.T)
        return np.stack([np.bincount(self.indices, weights=self.data * gt[j, self.rows], minlength=self.n_cols)
                         for j in range(g.shape[1])], axis=1)


def _tfidf(docs: Sequence[Counter[str]], vocab: dict[str, int]) -> _Sparse:
    """Sublinear tf × smoothed idf, rows scaled to unit length (scikit-learn's ``TfidfVectorizer`` defaults)."""
    indptr = np.zeros(len(docs) + 1, dtype=np.int64)
    indices_list: list[int] = []
    counts_list: list[int] = []
    for i, d in enumerate(docs):
        for f, n in d.items():
            indices_list.append(vocab[f])
            counts_list.append(n)
        indptr[i + 1] = len(indices_list)
    indices = np.array(indices_list, dtype=np.int64)
    df = np.bincount(indices, minlength=len(vocab)).astype(np.float64)
    idf = np.log((1.0 + len(docs)) / (1.0 + df)) + 1.0
    data = (1.0 + np.log(np.array(counts_list, dtype=np.float64))) * idf[indices]
    rows = np.repeat(np.arange(len(docs)), np.diff(indptr))
    norms = np.sqrt(np.bincount(rows, weights=data * data, minlength=len(docs)))
    data /= np.where(norms > 0, norms, 1.0)[rows]
    return _Sparse(indptr, indices, data, len(vocab), idf, rows)


def _fit_logistic(x: _Sparse, y: np.ndarray, k: int, c: float, tol: float = 1e-4,
                  max_iter: int = 3000) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with balanced class weights and an L2 penalty 1/(2C)·|W|² (the intercept
    is not penalised), minimised by L-BFGS; the loss is averaged over the sample weights as scikit-learn does,
    so ``tol`` bounds the same gradient. Returns (coef: n_features × k, intercept: k)."""
    n, f = len(y), x.n_cols
    if n == 0 or k < 2:
        return np.zeros((f, max(k, 1))), np.zeros(max(k, 1))
    counts = np.bincount(y, minlength=k).astype(np.float64)
    sw = (n / (k * counts))[y]
    total = sw.sum()
    onehot = np.zeros((n, k))
    onehot[np.arange(n), y] = 1.0

    def objective(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[:f * k].reshape(f, k), theta[f * k:]
        z = x.dot(w) + b
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        s = p.sum(axis=1, keepdims=True)
        loss = float((sw * (np.log(s[:, 0]) - z[np.arange(n), y])).sum() / total + (w * w).sum() / (2 * c * total))
        g = (p / s - onehot) * (sw / total)[:, None]
        grad_w = x.tdot(g) + w / (c * total)
        return loss, np.concatenate([grad_w.ravel(), g.sum(axis=0)])

    theta = _lbfgs(objective, np.zeros(f * k + k), tol, max_iter)
    return np.ascontiguousarray(theta[:f * k].reshape(f, k)), theta[f * k:].copy()


def _lbfgs(objective, theta: np.ndarray, tol: float, max_iter: int, memory: int = 10) -> np.ndarray:
    """Limited-memory BFGS with a backtracking (Armijo) line search; stops when the largest gradient component is
    at most ``tol`` (scikit-learn's criterion), or the loss stops decreasing."""
    loss, grad = objective(theta)
    s_list: list[np.ndarray] = []
    y_list: list[np.ndarray] = []
    for _ in range(max_iter):
        if np.abs(grad).max() <= tol:
            break
        q = grad.copy()
        alphas = []
        for s_i, y_i in zip(reversed(s_list), reversed(y_list), strict=True):
            a = s_i @ q / (y_i @ s_i)
            alphas.append(a)
            q -= a * y_i
        if s_list:
            q *= (s_list[-1] @ y_list[-1]) / (y_list[-1] @ y_list[-1])
        else:
            q /= max(1.0, float(np.linalg.norm(grad)))
        for (s_i, y_i), a in zip(zip(s_list, y_list, strict=True), reversed(alphas), strict=True):
            q += (a - y_i @ q / (y_i @ s_i)) * s_i
        direction = -q
        slope = float(grad @ direction)
        if slope >= 0:  # not a descent direction: restart from the gradient
            s_list.clear()
            y_list.clear()
            direction, slope = -grad, -float(grad @ grad)
        step = 1.0
        while True:
            candidate = theta + step * direction
            new_loss, new_grad = objective(candidate)
            if new_loss <= loss + 1e-4 * step * slope or step < 1e-10:
                break
            step *= 0.5
        if step < 1e-10:
            break
        s_vec, y_vec = candidate - theta, new_grad - grad
        if s_vec @ y_vec > 1e-10:
            s_list.append(s_vec)
            y_list.append(y_vec)
            if len(s_list) > memory:
                s_list.pop(0)
                y_list.pop(0)
        improved = loss - new_loss
        theta, loss, grad = candidate, new_loss, new_grad
        if improved <= 1e-12 * max(abs(loss), 1.0) and np.abs(grad).max() <= 10 * tol:
            break
    return theta
