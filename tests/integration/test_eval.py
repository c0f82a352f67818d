"""`unionbot eval` on fact-question sets (real subprocesses), and the fact dev set itself."""

import json
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest

from nlu.data import load_abbreviations, load_training_examples
from nlu.evaluate import VARIANTS, contains
from nlu.evaluate import comparable as compare_form
from nlu.normalize import Normalizer

ROOT = Path(__file__).resolve().parents[2]
# the fact dev sets: the first three have been run (tuning and diagnostic sets now), the fourth is the held-out one
FACT_SETS = [ROOT / "eval" / name
             for name in ("facts_dev.jsonl", "facts_dev_2.jsonl", "facts_dev_3.jsonl", "facts_dev_4.jsonl",
                           "facts_dev_5.jsonl")]
# ../shared/seeds beside the checkout (or beside the folder of worktrees), when it exists
SEEDS = next((p for p in (ROOT.parent / "shared" / "seeds", ROOT.parent.parent / "shared" / "seeds") if p.is_dir()),
             ROOT.parent / "shared" / "seeds")
CLASSES = {"fact", "list", "definition", "comparison", "followup", "multi", "out_of_scope"}
NOWHERE = "không-có-trong-câu-trả-lời-nào"


@pytest.fixture
def run(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache))

    def _run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=300)
        assert result.returncode == 0, result.stderr
        return result

    return _run


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def _one_edit_apart(a: str, b: str) -> bool:
    """b is a with exactly one letter deleted, inserted or replaced."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        return sum(x != y for x, y in zip(a, b, strict=True)) == 1
    short, long = sorted((a, b), key=len)
    return any(long[:i] + long[i + 1:] == short for i in range(len(long)))


def test_each_question_is_sent_as_written_folded_abbreviated_and_with_one_typo(run, tmp_path):
    question = "Đoàn viên công đoàn được giảm bao nhiêu không vậy?"
    rows = [{"text": question, "class": "fact", "expect": [NOWHERE]},
            {"text": question, "class": "fact", "expect": [NOWHERE]},
            {"text": "Gạo Kim Sáng giảm bao nhiêu?", "class": "fact", "expect": ["20", "40"]},
            {"text": "qwzx vbnm", "class": "out_of_scope"}]
    rep = json.loads(run("eval", "--dev", str(_write(tmp_path / "facts.jsonl", rows)), "--json").stdout)

    assert rep["format"] == "facts" and rep["total"] == 4 and rep["variants"] == list(VARIANTS)
    sent = {}
    for error in rep["errors"]:
        if error["text"] == question:
            assert error["fallback"] or error["missing"] == [NOWHERE]
            sent.setdefault(error["variant"], []).append(error["sent"])
    assert set(sent) == set(VARIANTS) and all(len(v) == 2 for v in sent.values())
    assert sent["as_written"] == [question] * 2
    assert sent["folded"] == ["doan vien cong doan duoc giam bao nhieu khong vay?"] * 2
    assert sent["abbreviated"] == ["đv cđ dc giảm bn ko vậy?"] * 2
    first, second = sent["typo"]
    assert first == second, "the typo is deterministic"
    changed = [(a, b) for a, b in zip(question.split(), unicodedata.normalize("NFC", first).split(), strict=True)
               if a != b]
    assert len(changed) == 1 and _one_edit_apart(*changed[0]) and len(changed[0][0].strip("?")) > 3

    # the per-class report: the two impossible expectations fail in every variant, the rest is scored
    fact = rep["per_class"]["fact"]
    assert set(fact) == set(VARIANTS) and all(fact[v]["n"] == 3 for v in VARIANTS)
    assert fact["as_written"]["correct"] == 1 and fact["as_written"]["accuracy"] == pytest.approx(1 / 3)
    assert all(fact[v]["correct"] <= 1 for v in VARIANTS)
    assert {k: v for k, v in rep["per_class"]["out_of_scope"]["as_written"].items() if k != "median_reply_chars"} == {
        "n": 1, "correct": 1, "accuracy": 1.0}
    assert rep["answerable"]["as_written"]["n"] == 3 and rep["out_of_scope"]["folded"]["n"] == 1


def test_follow_ups_go_to_the_chat_of_their_predecessor_and_sets_can_be_evaluated_together(run, tmp_path):
    facts = _write(tmp_path / "facts.jsonl", [
        {"text": "/menu", "class": "fact", "expect": [], "conversation": "a"},
        {"text": "1", "class": "followup", "expect": ["Kim Sáng"], "conversation": "a"},  # picks from the menu
        {"text": "1", "class": "followup", "expect": ["Kim Sáng"]},  # a new chat: nothing to pick from
        {"text": "/menu", "class": "fact", "expect": [], "conversation": "b"},
        {"text": "1", "class": "followup", "expect": ["Kim Sáng"], "conversation": "c"},  # another chat again
    ])
    intents = _write(tmp_path / "dev.jsonl", [{"text": "gạo kim sáng giảm bao nhiêu", "intent": "benefit"},
                                             {"text": "giá vàng hôm nay", "intent": "out_of_scope"}])
    both = json.loads(run("eval", "--dev", str(intents), "--dev", str(facts), "--json").stdout)

    assert set(both) == {str(intents), str(facts)}
    assert both[str(intents)]["total"] == 2 and "in_scope" in both[str(intents)]
    rep = both[str(facts)]
    followup = rep["per_class"]["followup"]["as_written"]
    assert (followup["n"], followup["correct"]) == (3, 1)
    wrong = [e["text"] for e in rep["errors"] if e["variant"] == "as_written"]
    assert wrong == ["1", "1"]


def test_the_text_report_shows_classes_variants_and_errors(run, tmp_path):
    facts = _write(tmp_path / "facts.jsonl", [{"text": "Gạo Kim Sáng giảm bao nhiêu?", "class": "list",
                                               "expect": [NOWHERE]},
                                              {"text": "qwzx vbnm", "class": "out_of_scope"}])
    out = run("eval", "--dev", str(facts), "--errors").stdout
    assert "Per class:" in out and all(v in out for v in VARIANTS)
    assert any(line.split()[:2] == ["list", "0.0%"] for line in out.splitlines())
    assert f"[list/folded] gao kim sang giam bao nhieu? -> missing {NOWHERE}" in out


def test_expectations_are_whole_words_and_dates_are_dates():
    """An expectation is found as whole words, and a date with a leading zero is the date without one."""
    def found(reply: str, expected: str) -> bool:
        return contains(compare_form(reply), expected)

    assert found("Đợt 2 từ 01/07/2021 đến 31/12/2021", "1/7/2021")
    assert found("đến 30/06/2021", "30/6/2021") and found("đến 30/6/2021", "30/06/2021")
    assert found("từ tháng 01/2021", "tháng 1/2021")
    assert not found("tháng 10/2021", "1/2021") and not found("năm 2020", "20") and not found("lần thứ XIII", "XII")
    assert not found("ngày 10/10/2020", "1/10/2020") and found("giai đoạn 2015 – 2020", "2015-2020")


# ----- the fact dev set itself ------------------------------------------------------------------------------

def _facts(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("facts", FACT_SETS, ids=lambda p: p.name)
def test_the_fact_dev_set_has_every_class_and_is_kept_apart_from_the_training_examples(facts):
    rows = _facts(facts)
    assert len(rows) >= 300 and {r["class"] for r in rows} == CLASSES
    assert sum(r["class"] == "out_of_scope" for r in rows) >= 60
    for r in rows:
        if r["class"] == "out_of_scope":
            assert "expect" not in r and "expect_any" not in r, r
        else:
            assert r.get("expect") or r.get("expect_any"), r
            assert r["source"].split("#")[1].isdigit(), r
    # a conversation is consecutive lines, and every follow-up is the second line of one
    seen, previous = set(), None
    for r in rows:
        conversation = r.get("conversation")
        if conversation != previous and conversation is not None:
            assert conversation not in seen, conversation
            seen.add(conversation)
        if r["class"] == "followup":
            assert conversation is not None and conversation == previous, r
        previous = conversation
    normalizer = Normalizer(load_abbreviations())
    tuned_on = {normalizer(text).folded for text, _ in load_training_examples()}
    tuned_on |= {normalizer(json.loads(line)["text"]).folded
                 for line in (ROOT / "eval" / "dev.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()}
    # a new set asks none of the questions of the sets before it (they have been run, and tuned against)
    tuned_on |= {normalizer(r["text"]).folded
                 for earlier in FACT_SETS[:FACT_SETS.index(facts)] for r in _facts(earlier)}
    assert not [r["text"] for r in rows if normalizer(r["text"]).folded in tuned_on]


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seed articles are not next to the checkout")
@pytest.mark.parametrize("facts", FACT_SETS, ids=lambda p: p.name)
def test_every_expectation_is_in_the_seed_articles(facts):
    lines = {f.name: [x for x in f.read_text(encoding="utf-8").splitlines() if x.strip()] for f in SEEDS.glob("*.txt")}
    everything = compare_form(" ".join(" ".join(v) for v in lines.values()))
    for r in _facts(facts):
        if r["class"] == "out_of_scope":
            continue
        name, number = r["source"].split("#")
        paragraph = compare_form(lines[name][int(number) - 1])
        groups = [[x] for x in r.get("expect", [])] + r.get("expect_any", [])
        # each expectation is in the paragraph named, or (comparisons, follow-ups) somewhere in the articles
        assert any(contains(paragraph, x) for g in groups for x in g), r
        assert all(any(contains(everything, x) for x in g) for g in groups), r
