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
from nlu.evaluate import VARIANTS, FactRow, Row, facts_report, missing_expectations, report, variant
from nlu.normalize import Normalizer, fold


def _read_dev(path: Path) -> list[dict]:
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [{"text": text, "intent": label} for text, label in load_labelled(path)]


def is_facts_set(items: list[dict]) -> bool:
    """A fact-question set labels each line with a ``class``; the intent dev set with an ``intent``."""
    return bool(items) and all("class" in item for item in items)


async def whole_bot(settings: Settings, dev: Path) -> dict:
    """Every question through ``Core.process`` on a scratch database with the knowledge files loaded:
    the intent report for an intent-labelled set, the per-class per-variant report for a fact set."""
    items = _read_dev(dev)
    with tempfile.TemporaryDirectory(prefix="unionbot-eval-") as scratch:
        eval_settings = settings.replace(**{
            "database_url": f"sqlite+aiosqlite:///{Path(scratch) / 'eval.db'}",
            "autoload_knowledge": True, "log_unanswered": False})
        application = await build_app(eval_settings)
        try:
            if is_facts_set(items):
                return facts_report(await _fact_rows(application.core, items))
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


def _reply_text(replies) -> str:
    """The replies as a member without buttons reads them: each text, then its choices numbered."""
    lines = []
    for reply in replies:
        lines.append(reply.text)
        lines.extend(f"{number}. {choice.label}" for number, choice in enumerate(reply.choices, 1))
    return "\n".join(lines)


async def _fact_rows(core, items: list[dict]) -> list[FactRow]:
    """Each question in each variant, in a chat of its own, except that consecutive lines sharing a
    ``conversation`` id are sent one after the other in the same chat (a follow-up and its predecessor)."""
    rows: list[FactRow] = []
    for name in VARIANTS:
        chat, previous = "", None  # the first item always starts a chat
        for number, item in enumerate(items):
            conversation = item.get("conversation")
            if conversation is None or conversation != previous:
                chat = f"eval-{name}-{number}-{uuid.uuid4().hex[:8]}"
            previous = conversation
            sent = variant(item["text"], name)
            # as on Zalo, where most members are: no buttons, the choices are numbered lines of the reply
            # (a member answers "2"), so what the member reads is the text and the choices
            outcome = await core.process(Incoming(channel="eval", chat_id=chat, user_id=chat, text=sent,
                                                  buttons=False))
            reply = _reply_text(outcome.replies)
            rows.append(FactRow(item["class"], name, item["text"], sent, reply, outcome.fallback,
                                missing_expectations(item, reply)))
    return rows


def matcher_only(train_path: Path, test_path: Path) -> dict:
    """Train the intent classifier on one labelled set and test it on another (no knowledge, no fallback rules)."""
    normalizer = Normalizer(load_abbreviations())
    model = train((normalizer(text).tokens, label) for text, label in load_labelled(train_path))
    rows = []
    for text, label in load_labelled(test_path):
        predicted = model.predict(normalizer(text).tokens).intent
        rows.append(Row(text, label, predicted, fallback=predicted == intents.OUT_OF_SCOPE))
    return report(rows)
