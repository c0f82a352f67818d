"""The conversation core: ``handle(incoming) -> replies``, with no platform or SQL code.

Routing is a plain dispatch on the intent the matcher decided; each capability lives in its own
module (``qa``, ``smalltalk``). Whatever happens inside, ``handle`` returns replies: an error is
logged with the event's ids and the member gets a short apology.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from handlers.qa import KnowledgeAnswers
from handlers.smalltalk import help_reply, small_talk
from handlers.text import split_text
from handlers.types import Incoming, Outcome, Reply
from locales import Translator
from nlu import intents
from nlu.matcher import Matcher
from storage.db import Database
from storage.knowledge import KnowledgeBase
from storage.unanswered import UnansweredLog

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4096
_MENU_WORDS = {"menu", "/menu", "/start", "/help", "/huongdan", "huong dan", "tro giup", "danh muc"}


@dataclass
class CoreConfig:
    timezone: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
    log_unanswered: bool = True


class Core:
    def __init__(self, *, matcher: Matcher, knowledge: KnowledgeBase, db: Database, translator: Translator,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 config: CoreConfig | None = None) -> None:
        self.matcher = matcher
        self.db = db
        self.t = translator
        self.clock = clock
        self.config = config or CoreConfig()
        self.unanswered = UnansweredLog(db.sessions)
        self.set_knowledge(knowledge)

    def set_knowledge(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self.answers = KnowledgeAnswers(knowledge, self.t)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return (await self.process(incoming)).replies

    async def process(self, incoming: Incoming) -> Outcome:
        lang = self.t.language_for(incoming.language)
        try:
            outcome = await self._route(incoming, lang)
        except Exception:
            log.exception("handler failed: channel=%s chat=%s message=%s", incoming.channel,
                          incoming.chat_id, incoming.message_id)
            outcome = Outcome([Reply(self.t("bot.apology", lang))], "error", 0.0, True)
        return Outcome(_bounded(outcome.replies), outcome.intent, outcome.confidence, outcome.fallback)

    # ----- routing ------------------------------------------------------------------------------
    async def _route(self, incoming: Incoming, lang: str) -> Outcome:
        today = self.clock().astimezone(self.config.timezone).date()
        if incoming.action:
            return self._action(incoming.action, lang)
        text = (incoming.text or "").strip()
        command = text.split("@", 1)[0].lower() if text.startswith("/") else text.lower()
        if command in _MENU_WORDS:
            return Outcome([help_reply(self.t, lang)], intents.HELP, 1.0, False)
        u = self.matcher.understand(text)
        intent = u.intent
        if intent in intents.SMALL_TALK or intent == intents.HARDSHIP_REQUEST:
            return Outcome(small_talk(intent, self.t, lang), intent, u.confidence, False)
        if intent in intents.INTENT_KINDS:
            return Outcome(self.answers.answer(intent, u, lang, today), intent, u.confidence, False)
        return await self._fallback(incoming, u.normalized.folded, intent, u.confidence, lang)

    def _action(self, action: str, lang: str) -> Outcome:
        kind, _, value = action.partition(":")
        if kind == "kb" and value in self.knowledge.by_id:
            entry = self.knowledge.by_id[value]
            return Outcome([self.answers.detail(entry, lang)], intents.KIND_INTENT[entry.kind], 1.0, False)
        if kind == "menu" and value in intents.INTENT_KINDS:
            return Outcome(self.answers.listing(value, lang), value, 1.0, False)
        return Outcome([help_reply(self.t, lang)], intents.HELP, 1.0, False)

    async def _fallback(self, incoming: Incoming, key: str, intent: str, confidence: float,
                        lang: str) -> Outcome:
        if not key:
            return Outcome([Reply(self.t("fallback.empty", lang))], intents.UNSURE, 0.0, True)
        reason = "fallback.out_of_scope" if intent == intents.OUT_OF_SCOPE else "fallback.unsure"
        text = "\n".join((self.t(reason, lang), self.t("fallback.offer", lang), self.t("help.contact", lang)))
        if self.config.log_unanswered:
            self.unanswered.record(key, incoming.text, incoming.channel, intent, confidence, self.clock())
        return Outcome([Reply(text)], intent, confidence, True)

    async def close(self) -> None:
        """Write what is still queued (the unanswered-question log)."""
        await self.unanswered.close()


def _bounded(replies: list[Reply]) -> list[Reply]:
    out: list[Reply] = []
    for reply in replies:
        if len(reply.text) <= MAX_REPLY_CHARS:
            out.append(reply)
            continue
        parts = split_text(reply.text, MAX_REPLY_CHARS)
        out.extend(Reply(p) for p in parts[:-1])
        out.append(Reply(parts[-1], reply.choices))
    return out
