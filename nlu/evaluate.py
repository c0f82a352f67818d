"""Accuracy reports on labelled questions: overall, with/without diacritics, per intent, confusions, OOS."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.intents import OUT_OF_SCOPE
from nlu.normalize import has_diacritics


@dataclass(frozen=True, slots=True)
class Row:
    text: str
    gold: str
    predicted: str
    fallback: bool  # the bot answered with its fallback
    expect_ok: bool | None = None  # every expected string was in the reply (None: nothing expected)

    @property
    def correct(self) -> bool:
        if self.gold == OUT_OF_SCOPE:
            return self.fallback
        return self.predicted == self.gold and not self.fallback


def _ratio(num: int, den: int) -> float | None:
    return num / den if den else None


def report(rows: Iterable[Row]) -> dict:
    rows = list(rows)
    in_scope = [r for r in rows if r.gold != OUT_OF_SCOPE]
    oos = [r for r in rows if r.gold == OUT_OF_SCOPE]
    plain = [r for r in in_scope if not has_diacritics(r.text)]
    marked = [r for r in in_scope if has_diacritics(r.text)]
    per_intent: dict[str, dict] = {}
    by_gold: dict[str, list[Row]] = defaultdict(list)
    for r in rows:
        by_gold[r.gold].append(r)
    for label, items in sorted(by_gold.items()):
        predicted_as = [r for r in rows if (r.fallback if label == OUT_OF_SCOPE else
                                            r.predicted == label and not r.fallback)]
        per_intent[label] = {
            "support": len(items),
            "recall": _ratio(sum(r.correct for r in items), len(items)),
            "precision": _ratio(sum(r.gold == label for r in predicted_as), len(predicted_as)),
        }
    confusions = Counter((r.gold, "fallback" if r.fallback else r.predicted) for r in rows if not r.correct)
    flagged = [r for r in rows if r.fallback]
    expected = [r for r in rows if r.expect_ok is not None]
    return {
        "total": len(rows),
        "in_scope": {"n": len(in_scope), "accuracy": _ratio(sum(r.correct for r in in_scope), len(in_scope))},
        "in_scope_with_diacritics": {"n": len(marked), "accuracy": _ratio(sum(r.correct for r in marked), len(marked))},
        "in_scope_without_diacritics": {"n": len(plain), "accuracy": _ratio(sum(r.correct for r in plain), len(plain))},
        "out_of_scope": {
            "n": len(oos),
            "recall": _ratio(sum(r.fallback for r in oos), len(oos)),
            "precision": _ratio(sum(r.gold == OUT_OF_SCOPE for r in flagged), len(flagged)),
        },
        "answers_with_expected_facts": {
            "n": len(expected), "accuracy": _ratio(sum(bool(r.expect_ok) for r in expected), len(expected))},
        "per_intent": per_intent,
        "confusions": [{"gold": g, "predicted": p, "count": c} for (g, p), c in confusions.most_common(15)],
        "errors": [{"text": r.text, "gold": r.gold, "predicted": "fallback" if r.fallback else r.predicted}
                   for r in rows if not r.correct],
    }


def _pct(value: float | None) -> str:
    return "n/a" if value is None else f"{value * 100:.1f}%"


def render(rep: dict, show_errors: bool = False) -> str:
    lines = [
        f"Questions: {rep['total']}",
        f"In-scope intent accuracy: {_pct(rep['in_scope']['accuracy'])} (n={rep['in_scope']['n']})",
        f"  with diacritics:    {_pct(rep['in_scope_with_diacritics']['accuracy'])} "
        f"(n={rep['in_scope_with_diacritics']['n']})",
        f"  without diacritics: {_pct(rep['in_scope_without_diacritics']['accuracy'])} "
        f"(n={rep['in_scope_without_diacritics']['n']})",
        f"Out-of-scope answered with the fallback (recall): {_pct(rep['out_of_scope']['recall'])} "
        f"(n={rep['out_of_scope']['n']}); fallback precision: {_pct(rep['out_of_scope']['precision'])}",
    ]
    if rep["answers_with_expected_facts"]["n"]:
        lines.append(f"Answers containing the expected facts: {_pct(rep['answers_with_expected_facts']['accuracy'])} "
                     f"(n={rep['answers_with_expected_facts']['n']})")
    lines.append("Per intent (recall / precision / n):")
    for label, m in rep["per_intent"].items():
        lines.append(f"  {label:<18} {_pct(m['recall']):>7} / {_pct(m['precision']):>7} / {m['support']}")
    if rep["confusions"]:
        lines.append("Most frequent confusions (gold -> predicted: count):")
        lines.extend(f"  {c['gold']} -> {c['predicted']}: {c['count']}" for c in rep["confusions"])
    if show_errors and rep["errors"]:
        lines.append("Errors:")
        lines.extend(f"  [{e['gold']} -> {e['predicted']}] {e['text']}" for e in rep["errors"])
    return "\n".join(lines)
