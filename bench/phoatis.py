"""The intent classifier alone on PhoATIS, beside a TF-IDF + LinearSVC baseline run in the same script.

Usage: .venv/bin/python bench/phoatis.py --data DIR [--tune] [--rounds 3] [--cold-runs 3] [--json] [--write]

DIR is the ``PhoATIS/syllable-level`` folder of VinAIResearch/JointIDSF: ``train/``, ``dev/`` and ``test/``,
each with ``seq.in`` and ``label``. The data is licensed for research only: it is never committed or copied
into this repository; the script reads it where it lies.

Both classifiers train on train/ and are scored on test/; with ``--tune`` each first picks its C on dev/
from a small grid (ties go to the default). A label counts as its exact string, so a multi-intent label
such as ``airfare#flight`` is a class of its own.

- **project**: ``nlu.classifier`` as the bot runs it: the bot's normaliser (accent folding, abbreviations),
  its features, its default C, predicting with numpy from the exported arrays.
- **baseline**: TF-IDF of word 1–2-grams and character 2–5-grams (``char_wb``) of the raw text, then
  ``LinearSVC(class_weight="balanced")``, predicting through the scikit-learn pipeline.

Time per query: one query at a time, text in, intent out (normalisation included), after a warm-up round,
over ``--rounds`` rounds of the test set. Cold start: a new interpreter loads the saved model and answers
one query (median of ``--cold-runs``), beside a bare ``python -c pass``.
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import ROOT, header, write_section  # noqa: E402
from nlu.classifier import DEFAULT_C, IntentModel, train  # noqa: E402
from nlu.data import load_abbreviations, load_labelled  # noqa: E402
from nlu.normalize import Normalizer  # noqa: E402

Pairs = list[tuple[str, str]]

PROJECT_C, PROJECT_GRID = DEFAULT_C, (2.0, 4.0, 8.0, 16.0, 32.0)
BASELINE_C, BASELINE_GRID = 1.0, (0.25, 0.5, 1.0, 2.0)


def read_splits(data: Path) -> dict[str, Pairs]:
    splits = {}
    for name in ("train", "dev", "test"):
        folder = data / name
        if not (folder / "seq.in").is_file() or not (folder / "label").is_file():
            raise SystemExit(f"{folder}: expected seq.in and label (the PhoATIS syllable-level layout)")
        splits[name] = load_labelled(folder)
    return splits


class Project:
    """The bot's own classifier."""

    name = "project (nlu/classifier.py)"

    def __init__(self) -> None:
        self.normalize = Normalizer(load_abbreviations())
        self.model: IntentModel | None = None

    def fit(self, pairs: Pairs, c: float) -> None:
        self.model = train(((self.normalize(text).tokens, label) for text, label in pairs), c=c)

    def predict(self, text: str) -> str:
        return self.model.predict(self.normalize(text).tokens).intent

    def confidences(self, pairs: Pairs) -> list[tuple[float, bool]]:
        out = []
        for text, label in pairs:
            p = self.model.predict(self.normalize(text).tokens)
            out.append((p.confidence, p.intent == label))
        return out

    def save(self, folder: Path) -> tuple[Path, str]:
        path = folder / "project.npz"
        self.model.save(path)
        code = ("import sys; from nlu.classifier import IntentModel; from nlu.data import load_abbreviations; "
                "from nlu.normalize import Normalizer; m = IntentModel.load(__import__('pathlib').Path(sys.argv[1])); "
                "print(m.predict(Normalizer(load_abbreviations())(sys.argv[2]).tokens).intent)")
        return path, code


class Baseline:
    """TF-IDF (word 1–2-grams + character 2–5-grams) and a linear SVM, all scikit-learn.

    The two vectorizers and the SVM are called directly rather than through ``Pipeline``/``FeatureUnion``,
    whose per-call overhead (joblib dispatch, parameter validation) would dominate one-query timings."""

    name = "baseline (TF-IDF + LinearSVC)"

    def __init__(self) -> None:
        self.vectorizers: list = []
        self.svc = None

    def fit(self, pairs: Pairs, c: float) -> None:
        from scipy.sparse import hstack
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        texts = [text for text, _ in pairs]
        self.vectorizers = [TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True),
                            TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True)]
        x = hstack([v.fit_transform(texts) for v in self.vectorizers]).tocsr()
        self.svc = LinearSVC(C=c, class_weight="balanced").fit(x, [label for _, label in pairs])

    def predict(self, text: str) -> str:
        return _svc_predict(self.vectorizers, self.svc, text)

    def save(self, folder: Path) -> tuple[Path, str]:
        path = folder / "baseline.pkl"
        path.write_bytes(pickle.dumps((self.vectorizers, self.svc)))
        code = ("import pickle, sys; from bench.phoatis import _svc_predict; "
                "v, svc = pickle.loads(open(sys.argv[1], 'rb').read()); print(_svc_predict(v, svc, sys.argv[2]))")
        return path, code


def _svc_predict(vectorizers: Sequence, svc: object, text: str) -> str:
    from scipy.sparse import hstack

    return str(svc.predict(hstack([v.transform([text]) for v in vectorizers]).tocsr())[0])


def accuracy(predict: Callable[[str], str], pairs: Pairs) -> float:
    return sum(predict(text) == label for text, label in pairs) / len(pairs)


def fit_and_pick(clf: Project | Baseline, splits: dict[str, Pairs], default: float, grid: Sequence[float],
                 tune: bool) -> dict:
    """Fit on train; with ``tune``, first score each C of ``grid`` on dev and keep the best."""
    dev_scores = {}
    if tune:
        for c in grid:
            clf.fit(splits["train"], c)
            dev_scores[c] = accuracy(clf.predict, splits["dev"])
        chosen = max(grid, key=lambda c: (dev_scores[c], c == default))
    else:
        chosen = default
    t0 = time.perf_counter()
    clf.fit(splits["train"], chosen)
    seconds = time.perf_counter() - t0
    return {"c": chosen, "dev_grid": {str(c): s for c, s in dev_scores.items()}, "train_s": seconds}


def per_query_ms(predict: Callable[[str], str], texts: Sequence[str], rounds: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds of each call. CPU time (of this thread) leaves out the time the process
    waited for a core, which on a shared machine is most of a slow wall-clock percentile."""
    for text in texts:  # warm-up: caches filled as in a running bot
        predict(text)
    wall, cpu = [], []
    for _ in range(rounds):
        for text in texts:
            w0, c0 = time.perf_counter_ns(), time.thread_time_ns()
            predict(text)
            cpu.append((time.thread_time_ns() - c0) / 1e6)
            wall.append((time.perf_counter_ns() - w0) / 1e6)
    return wall, cpu


def expected_calibration_error(pairs: Sequence[tuple[float, bool]], bins: int = 10) -> float:
    """Mean gap between confidence and accuracy over equal-width confidence bins, weighted by bin size."""
    conf = np.array([c for c, _ in pairs])
    hit = np.array([h for _, h in pairs], dtype=float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    gap = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            gap += mask.sum() * abs(conf[mask].mean() - hit[mask].mean())
    return gap / len(pairs)


def cold_start_s(code: str, args: Sequence[str], runs: int) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-c", code, *args], env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(clf: Project | Baseline, splits: dict[str, Pairs], default: float, grid: Sequence[float],
            args: argparse.Namespace, scratch: Path) -> dict:
    fit = fit_and_pick(clf, splits, default, grid, args.tune)
    test = splits["test"]
    wall, cpu = per_query_ms(clf.predict, [text for text, _ in test], args.rounds)
    path, code = clf.save(scratch)
    result = {
        "name": clf.name, **fit,
        "dev_accuracy": accuracy(clf.predict, splits["dev"]),
        "test_accuracy": accuracy(clf.predict, test),
        "p50_ms": float(np.percentile(wall, 50)), "p99_ms": float(np.percentile(wall, 99)), "max_ms": max(wall),
        "cpu_p50_ms": float(np.percentile(cpu, 50)), "cpu_p99_ms": float(np.percentile(cpu, 99)),
        "model_mb": path.stat().st_size / 1e6,
        "cold_start_s": cold_start_s(code, [str(path), test[0][0]], args.cold_runs),
    }
    if isinstance(clf, Project):
        result["ece"] = expected_calibration_error(clf.confidences(test))
    return result


def render(splits: dict[str, Pairs], results: list[dict], bare_s: float, load: float,
           args: argparse.Namespace) -> str:
    sizes = ", ".join(f"{name} {len(pairs)}" for name, pairs in splits.items())
    labels = len({label for _, label in splits["train"]})
    how = "C picked on dev from a grid (`--tune`)" if args.tune else "default C, no tuning"
    lines = [
        header("phoatis"), "",
        f"`bench/phoatis.py --data .../{args.data.name}{' --tune' if args.tune else ''}`: {sizes} utterances, "
        f"{labels} labels in train (multi-intent labels such as `airfare#flight` count as their exact string); "
        f"trained on train, scored on test, {how}.", "",
        "| classifier | C | test accuracy | dev accuracy | p50 / p99 ms per query | CPU p50 / p99 ms per query "
        "| train s | model MB | cold start s |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in results:
        lines.append(f"| {r['name']} | {r['c']:g} | **{r['test_accuracy'] * 100:.2f}%** | "
                     f"{r['dev_accuracy'] * 100:.2f}% | {r['p50_ms']:.3f} / {r['p99_ms']:.3f} | "
                     f"{r['cpu_p50_ms']:.3f} / **{r['cpu_p99_ms']:.3f}** | {r['train_s']:.1f} | "
                     f"{r['model_mb']:.1f} | {r['cold_start_s']:.2f} |")
    project = results[0]
    lines += [
        "",
        f"Time per query: one test utterance at a time, text to intent (normalisation included), "
        f"{args.rounds} rounds of the test set after a warm-up; CPU time is this thread's, without the waits for a "
        f"core that the other processes of a shared machine cause. Cold start: a new interpreter loads the saved "
        f"model and answers one question (reference `python -c pass`: {bare_s:.2f} s). Calibration of the "
        f"project classifier's confidence on test: expected calibration error {project['ece'] * 100:.1f} points "
        f"(10 bins). Load average of the machine at the start: {load:.1f}.",
    ]
    if args.tune:
        for r in results:
            grid = ", ".join(f"C={c}: {s * 100:.1f}%" for c, s in r["dev_grid"].items())
            lines.append(f"Dev accuracy, {r['name']}: {grid}.")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--data", type=Path, required=True, help="the PhoATIS/syllable-level folder")
    parser.add_argument("--tune", action="store_true", help="pick each classifier's C on dev")
    parser.add_argument("--rounds", type=int, default=3, help="rounds of the test set for the timings")
    parser.add_argument("--cold-runs", type=int, default=3, help="new interpreters per cold-start measurement")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--write", action="store_true", help="write the section into docs/benchmarks.md")
    args = parser.parse_args()
    splits = read_splits(args.data)
    import sklearn.linear_model  # noqa: F401  (imported once here, so no training time includes the import)
    import sklearn.svm  # noqa: F401

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="phoatis-") as scratch:
        results = [measure(Project(), splits, PROJECT_C, PROJECT_GRID, args, Path(scratch)),
                   measure(Baseline(), splits, BASELINE_C, BASELINE_GRID, args, Path(scratch))]
    bare_s = cold_start_s("pass", [], args.cold_runs)
    if args.json:
        print(json.dumps({"sizes": {name: len(pairs) for name, pairs in splits.items()},
                          "classes": sorted({label for _, label in splits["train"]}),
                          "bare_python_s": bare_s, "load_average": load,
                          "results": results}, ensure_ascii=False))
        return
    body = render(splits, results, bare_s, load, args)
    print(body)
    if args.write:
        write_section("phoatis", body)


if __name__ == "__main__":
    main()
