"""`unionbot eval`: the whole bot on a labelled dev set, or the matcher alone on any labelled data."""

from __future__ import annotations

import json
import tempfile
import uuid
from pathlib import Path

from bot.app import build_app
from bot.settings import Settings
from handlers.types import Incoming
from nlu import intents
from nlu.classifier import train
from nlu.data import load_abbreviations, load_labelled
from nlu.evaluate import Row, report
from nlu.normalize import Normalizer, fold


def _read_dev(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"text": text, "intent": label} for text, label in load_labelled(path)]


async def whole_bot(settings: Settings, dev: Path) -> dict:
    """Every question through ``Core.process`` on a scratch database with the knowledge files loaded."""
    items = _read_dev(dev)
    with tempfile.TemporaryDirectory(prefix="unionbot-eval-") as scratch:
        eval_settings = settings.model_copy(update={
            "database_url": f"sqlite+aiosqlite:///{Path(scratch) / 'eval.db'}",
            "autoload_knowledge": True, "log_unanswered": False})
        application = await build_app(eval_settings)
        try:
            rows = []
            for item in items:
                chat = f"eval-{uuid.uuid4().hex}"
                outcome = await application.core.process(
                    Incoming(channel="eval", chat_id=chat, user_id=chat, text=item["text"]))
                reply = fold(" ".join(r.text for r in outcome.replies))
                expect = item.get("expect")
                expect_ok = all(fold(x) in reply for x in expect) if expect else None
                rows.append(Row(item["text"], item["intent"], outcome.intent, outcome.fallback, expect_ok))
        finally:
            await application.close()
    return report(rows)


def matcher_only(train_path: Path, test_path: Path) -> dict:
    """Train the intent classifier on one labelled set and test it on another (no knowledge, no fallback rules)."""
    normalizer = Normalizer(load_abbreviations())
    model = train((normalizer(text).tokens, label) for text, label in load_labelled(train_path))
    rows = []
    for text, label in load_labelled(test_path):
        predicted = model.predict(normalizer(text).tokens).intent
        rows.append(Row(text, label, predicted, fallback=predicted == intents.OUT_OF_SCOPE))
    return report(rows)
