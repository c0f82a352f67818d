"""What start-up derives (the intent model, the evidence index) is stored under the cache dir, keyed by its inputs:
reused by the next `unionbot ask`, rebuilt when the knowledge changes, and never a reason to fail (a cache dir
missing, not writable or holding corrupt files still answers). Real subprocesses, as a user runs them."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUESTION = "gạo kim sáng giảm bao nhiêu"


@pytest.fixture
def cli(tmp_path, model_cache):
    """``unionbot ask`` with its own knowledge folder (a copy) and its own cache dir (seeded with the session's
    trained model, so no test trains again unless it means to)."""
    knowledge = tmp_path / "knowledge"
    shutil.copytree(ROOT / "knowledge", knowledge)
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_KNOWLEDGE_DIR=str(knowledge),
               UNIONBOT_DOCUMENTS_DIR="")

    def run(*args: str, cache: Path) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, timeout=300,
                                env={**env, "UNIONBOT_CACHE_DIR": str(cache)}, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        if cache.is_dir() and not any(model_cache.glob("nlu-model-*")):  # trained once for the later tests
            for model in cache.glob("nlu-model-*"):
                shutil.copy2(model, model_cache / model.name)
        return result

    run.knowledge = knowledge  # type: ignore[attr-defined]
    run.seed = lambda cache: _seed(model_cache, cache)  # type: ignore[attr-defined]
    return run


def _seed(model_cache: Path, cache: Path) -> None:
    cache.mkdir(parents=True, exist_ok=True)
    for model in model_cache.glob("nlu-model-*"):
        shutil.copy2(model, cache / model.name)


def stored(cache: Path, kind: str) -> dict[str, int]:
    return {p.name: p.stat().st_mtime_ns for p in cache.glob(f"{kind}-*")}


def test_the_index_is_stored_reused_and_rebuilt_when_the_knowledge_changes(cli, tmp_path):
    cache = tmp_path / "cache"
    cli.seed(cache)
    first = cli("ask", QUESTION, cache=cache).stdout
    assert "20%-40%" in first
    index, model = stored(cache, "evidence"), stored(cache, "nlu-model")
    assert len(index) == 1 and len(model) == 1 and stored(cache, "matcher")
    assert cli("ask", QUESTION, cache=cache).stdout == first
    assert stored(cache, "evidence") == index and stored(cache, "nlu-model") == model  # read, not rewritten

    benefits = cli.knowledge / "benefits.yaml"
    benefits.write_text(benefits.read_text(encoding="utf-8").replace("20%-40%", "25%-45%"), encoding="utf-8")
    cli("kb", "load", str(cli.knowledge), cache=cache)
    changed = cli("ask", QUESTION, cache=cache).stdout
    assert "25%-45%" in changed and "20%-40%" not in changed
    assert set(stored(cache, "evidence")) - set(index)  # a new key: built again from the new knowledge


def test_a_renamed_entry_retrains_the_model(cli, tmp_path):
    cache = tmp_path / "cache"
    cli.seed(cache)
    cli("ask", QUESTION, cache=cache)
    model = stored(cache, "nlu-model")
    benefits = cli.knowledge / "benefits.yaml"
    text = benefits.read_text(encoding="utf-8")
    assert "Kim Sáng" in text
    benefits.write_text(text.replace("Kim Sáng", "Kim Sáng Xanh"), encoding="utf-8")
    cli("kb", "load", str(cli.knowledge), cache=cache)
    assert "20%-40%" in cli("ask", "gạo kim sáng xanh giảm bao nhiêu", cache=cache).stdout
    assert set(stored(cache, "nlu-model")) != set(model)  # the names are training examples: a new model


def _missing(cache: Path) -> Path:
    return cache / "not" / "made" / "yet"


def _not_writable(cache: Path) -> Path:
    cache.parent.mkdir(parents=True, exist_ok=True)
    blocker = cache.parent / "a-file"
    blocker.write_text("not a folder")
    return blocker / "cache"  # no folder can be made under a file (whoever runs the test, root included)


@pytest.mark.parametrize("make", [_missing, _not_writable], ids=["missing", "not-writable"])
def test_ask_answers_whatever_the_cache_dir(cli, tmp_path, make):
    cache = make(tmp_path / "c" / "cache")
    result = cli("ask", QUESTION, cache=cache)
    assert "20%-40%" in result.stdout
    if make is _missing:
        assert stored(cache, "evidence") and stored(cache, "nlu-model")
    else:
        assert "not writable" in result.stderr


def test_ask_answers_with_corrupt_cache_files_and_replaces_them(cli, tmp_path):
    cache = tmp_path / "cache"
    cli.seed(cache)
    good = cli("ask", QUESTION, cache=cache).stdout
    for path in [*cache.glob("evidence-*"), *cache.glob("nlu-model-*")]:
        path.write_bytes(b"\x80\x05garbage" + os.urandom(64))
    result = cli("ask", QUESTION, cache=cache)
    assert result.stdout == good
    assert "unreadable" in result.stderr
    again = cli("ask", QUESTION, cache=cache)  # the rebuilt files are whole and read back silently
    assert again.stdout == good and "unreadable" not in again.stderr
