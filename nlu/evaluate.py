"""Accuracy reports on labelled questions: overall, with/without diacritics, per intent, confusions, OOS;
and on fact questions: per class, in every variant a member types (as written, folded, abbreviated, one typo)."""

from __future__ import annotations

import hashlib
import random
import re
import statistics
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from nlu.intents import OUT_OF_SCOPE
from nlu.normalize import fold, has_diacritics


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


# ----- fact questions (eval/facts_dev.jsonl): classes x automatic variants ---------------------------------

#: The variants every fact question is sent in, in report order.
VARIANTS = ("as_written", "folded", "abbreviated", "typo")

#: Words members shorten when typing on a phone -> the short form (a subset of the reverse of
#: nlu/data/abbreviations.yaml, written out here so the examiner does not follow the bot's own table).
#: Longer phrases first, so "công đoàn cơ sở" becomes "cđcs" and not "cđ cơ sở".
ABBREVIATIONS = (
    ("liên đoàn lao động", "lđlđ"),
    ("người lao động", "nlđ"),
    ("công đoàn cơ sở", "cđcs"),
    ("như thế nào", "ntn"),
    ("công đoàn", "cđ"),
    ("đoàn viên", "đv"),
    ("bao nhiêu", "bn"),
    ("không", "ko"),
    ("được", "dc"),
    ("gì", "j"),
)
_ABBREVIATION_RES = tuple((re.compile(rf"(?<!\w){re.escape(long)}(?!\w)", re.IGNORECASE), short)
                          for long, short in ABBREVIATIONS)

#: Function words a typo is never put in (the typo goes on a word that carries meaning).
_FUNCTION_WORDS = frozenset(fold(w) for w in (
    "những", "được", "không", "trong", "nhiêu", "thì", "nào", "này", "của", "cho", "với", "vậy", "hỏi",
    "thế", "sao", "bao", "mình", "admin", "biết", "giúp", "bạn"))
_TYPO_LETTERS = "abcdeghiklmnopqrstuvxy"
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


def abbreviate(text: str) -> str:
    """The question as a member in a hurry types it: "bao nhiêu" -> "bn", "không" -> "ko"..."""
    text = unicodedata.normalize("NFC", text)
    for pattern, short in _ABBREVIATION_RES:
        text = pattern.sub(short, text)
    return text


def typo(text: str, seed: str = "") -> str:
    """One single-character edit (delete, insert or replace a letter) in one content word of more than
    three letters (of three when there is none), chosen by a generator seeded with the text: the same
    question always gets the same typo."""
    text = unicodedata.normalize("NFC", text)
    rng = random.Random(hashlib.sha256(f"{seed}|{text}".encode()).hexdigest())
    content = [m for m in _WORD.finditer(text) if fold(m.group(0)) not in _FUNCTION_WORDS]
    # Vietnamese syllables are short: without a content word of more than three letters, one of three
    words = [m for m in content if len(m.group(0)) > 3] or [m for m in content if len(m.group(0)) == 3]
    if not words:
        return text
    word = rng.choice(words)
    letters = word.group(0)
    i = rng.randrange(len(letters))
    edit = rng.choice(("delete", "insert", "replace"))
    if edit == "delete":
        changed = letters[:i] + letters[i + 1:]
    elif edit == "insert":
        changed = letters[:i] + rng.choice(_TYPO_LETTERS) + letters[i:]
    else:
        replacement = rng.choice([c for c in _TYPO_LETTERS if c != fold(letters[i])])
        changed = letters[:i] + (replacement.upper() if letters[i].isupper() else replacement) + letters[i + 1:]
    return text[:word.start()] + changed + text[word.end():]


def variant(text: str, name: str) -> str:
    """The question in one of ``VARIANTS``."""
    if name == "as_written":
        return text
    if name == "folded":
        return fold(text)
    if name == "abbreviated":
        return abbreviate(text)
    if name == "typo":
        return typo(text)
    raise ValueError(f"unknown variant {name!r}")


@dataclass(frozen=True, slots=True)
class FactRow:
    """One fact question in one variant, and what the bot did with it."""

    klass: str  # fact | list | definition | comparison | followup | multi | out_of_scope
    variant: str
    text: str  # the question as written in the set
    sent: str  # the question as sent (the variant)
    reply: str
    fallback: bool
    missing: tuple[str, ...] = ()  # expectations not found in the reply

    @property
    def correct(self) -> bool:
        if self.klass == OUT_OF_SCOPE:
            return self.fallback
        return not self.fallback and not self.missing


def missing_expectations(item: dict, reply: str) -> tuple[str, ...]:
    """The expectations of a question that the reply lacks (compared with ``comparable``):
    every string of ``expect``, and one alternative of each group of ``expect_any``."""
    folded = comparable(reply)
    missing = [x for x in item.get("expect") or [] if not contains(folded, x)]
    for group in item.get("expect_any") or []:
        if not any(contains(folded, x) for x in group):
            missing.append(" | ".join(group))
    return tuple(missing)


def contains(folded_reply: str, expected: str) -> bool:
    """Whether the expectation is in the reply as whole words: "20" is not found in "2020", nor "XII" in "XIII"."""
    return re.search(rf"(?<![0-9a-z]){re.escape(comparable(expected))}(?![0-9a-z])", folded_reply) is not None


_DASH = re.compile(r"\s*[-\u2013\u2014]\s*")


#: a leading zero of a day or a month ("01/07/2021", "30/06"): the same date as "1/7/2021", "30/6"
_DATE_ZERO = re.compile(r"(?<![0-9])0([1-9])(?=/[0-9])|(?<=[0-9]/)0([1-9])(?![0-9])")


def comparable(text: str) -> str:
    """Text as expectations are compared: folded, whitespace squeezed, dashes without spaces
    ("2015 – 2020" and "2015-2020" are the same period), days and months without a leading zero
    ("01/07/2021" and "1/7/2021" are the same date)."""
    text = _DASH.sub("-", " ".join(fold(unicodedata.normalize("NFC", text)).split()))
    return _DATE_ZERO.sub(lambda m: m.group(1) or m.group(2), text)


def _score(rows: list[FactRow]) -> dict:
    # the reply length shows a bot that passes by printing everything it knows
    return {"n": len(rows), "correct": sum(r.correct for r in rows),
            "accuracy": _ratio(sum(r.correct for r in rows), len(rows)),
            "median_reply_chars": int(statistics.median(len(r.reply) for r in rows)) if rows else None}


def facts_report(rows: Iterable[FactRow]) -> dict:
    """Accuracy per class and per variant; answerable = every expectation in the reply and no fallback,
    out of scope = the fallback."""
    rows = list(rows)
    variants = [v for v in VARIANTS if any(r.variant == v for r in rows)]
    classes = sorted({r.klass for r in rows}, key=lambda c: (c == OUT_OF_SCOPE, c))
    return {
        "format": "facts",
        "total": sum(1 for r in rows if r.variant == variants[0]) if variants else 0,
        "variants": variants,
        "answerable": {v: _score([r for r in rows if r.variant == v and r.klass != OUT_OF_SCOPE]) for v in variants},
        "out_of_scope": {v: _score([r for r in rows if r.variant == v and r.klass == OUT_OF_SCOPE]) for v in variants},
        "per_class": {c: {v: _score([r for r in rows if r.klass == c and r.variant == v]) for v in variants}
                      for c in classes},
        "errors": [{"class": r.klass, "variant": r.variant, "text": r.text, "sent": r.sent,
                    "fallback": r.fallback, "missing": list(r.missing), "reply": r.reply[:300]}
                   for r in rows if not r.correct],
    }


def render_facts(rep: dict, show_errors: bool = False) -> str:
    variants = rep["variants"]
    head = f"  {'':<14}" + "".join(f"{v:>13}" for v in variants) + "       n"

    def line(label: str, scores: dict) -> str:
        n = next(iter(scores.values()))["n"] if scores else 0
        return f"  {label:<14}" + "".join(f"{_pct(scores[v]['accuracy']):>13}" for v in variants) + f"{n:>8}"

    lines = [f"Fact questions: {rep['total']} (each sent in {len(variants)} variants: {', '.join(variants)})",
             "Answerable = the reply has every expected fact and is not the fallback; out of scope = the fallback.",
             head, line("answerable", rep["answerable"]), line("out_of_scope", rep["out_of_scope"]),
             "Per class:", head]
    lines.extend(line(c, scores) for c, scores in rep["per_class"].items())
    lines.append("Median reply length of answerable questions (characters): " + ", ".join(
        f"{v} {rep['answerable'][v]['median_reply_chars']}" for v in variants))
    if show_errors and rep["errors"]:
        lines.append("Errors:")
        for e in rep["errors"]:
            why = "answered" if e["class"] == OUT_OF_SCOPE else (
                "fallback" if e["fallback"] else "missing " + ", ".join(e["missing"]))
            lines.append(f"  [{e['class']}/{e['variant']}] {e['sent']} -> {why}")
    return "\n".join(lines)
