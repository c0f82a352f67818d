"""The conversation core: ``handle(incoming) -> replies``, with no platform or SQL code.

Routing is a plain dispatch on the intent the matcher decided; each capability lives in its own
module (``qa``, ``smalltalk``). Whatever happens inside, ``handle`` returns replies: an error is
logged with the event's ids and the member gets a short apology.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from zoneinfo import ZoneInfo

from handlers import groups, once
from handlers.broadcast import FLOW as BROADCAST_FLOW
from handlers.broadcast import Broadcasts
from handlers.capability import DONE, state_key
from handlers.facts import FactAnswers, domain_words, entry_records, passage_records
from handlers.hardship import FORM, INFO, REVIEW, Hardship
from handlers.inputs import ascii_number, clean_incoming
from handlers.membership import LINK_FLOW, LinkPolicy, Membership
from handlers.qa import KnowledgeAnswers
from handlers.smalltalk import help_reply, small_talk
from handlers.text import split_text
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import Translator
from nlu import intents
from nlu.evidence import EvidenceIndex, Passage
from nlu.matcher import Matcher
from nlu.normalize import fold
from storage.conversation import State, StateKey, StateStore
from storage.db import Database, DatabaseUnavailable, unreachable
from storage.documents import PassageInfo
from storage.knowledge import KnowledgeBase
from storage.membership import IdentityCache
from storage.outbox import OutboxRepository
from storage.unanswered import UnansweredLog

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4096
_MENU_WORDS = {"menu", "huong dan", "tro giup", "danh muc"}


CHOICES_FLOW = "choices"


def pick_choice(text: str, offered: list) -> str | None:
    """"2", "số 2", or the option's words (accents optional) -> that option's action."""
    words = fold(text or "").strip(" .!?")
    if not words:
        return None
    digits = "".join(ch for ch in words if ch.isdigit())
    if digits and len(words) <= 6 and words.replace("so", "").strip(" .") == digits:
        index = ascii_number(digits, 1, len(offered))
        return offered[index - 1][1] if index is not None else None
    for label, action in offered:
        if fold(label) == words:
            return action
    return None


def parse_command(text: str) -> tuple[str | None, str]:
    """"/lienket@union_bot ABCD-EFGH" -> ("lienket", "ABCD-EFGH"); not a command -> (None, "")."""
    if not text.startswith("/") or len(text) < 2:
        return None, ""
    head, _, rest = text[1:].partition(" ")
    return head.split("@", 1)[0].lower(), rest.strip()


@dataclass
class CoreConfig:
    timezone: tzinfo = ZoneInfo("Asia/Ho_Chi_Minh")
    log_unanswered: bool = True
    link_policy: LinkPolicy = field(default_factory=LinkPolicy)
    #: channels whose sent messages the bot can edit (Telegram's editMessageText; the Zalo Bot API has none):
    #: there a chair's broadcast progress is one message kept up to date instead of a message per step
    editable_channels: frozenset[str] = frozenset({"telegram"})
    #: channels without a delivery worker (the console, an operator's terminal): no announcements go there
    local_channels: frozenset[str] = frozenset({"console"})


class Core:
    def __init__(self, *, matcher: Matcher, knowledge: KnowledgeBase, db: Database, translator: Translator,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 config: CoreConfig | None = None, passages: Sequence[PassageInfo] = ()) -> None:
        self.matcher = matcher
        #: the sentences of the ingested source documents (services/documents.py), for retrieval
        self.passages: list[PassageInfo] = list(passages)
        self.db = db
        self.t = translator
        self.clock = clock
        self.config = config or CoreConfig()
        self.unanswered = UnansweredLog(db.sessions)
        self.states = StateStore(db.sessions, cache=db.is_sqlite, outside_writes=db.outside_writes)
        self.identities = IdentityCache(db.sessions, ttl=30.0 if db.is_sqlite else None,
                                        outside_writes=db.outside_writes)
        self.membership = Membership(db, self.states, self.identities, translator, clock, self.config.timezone,
                                     self.config.link_policy)
        self.hardship = Hardship(db, self.states, self.identities, translator, clock, self.config.timezone)
        self.broadcasts = Broadcasts(db, self.states, self.identities, translator, clock, self.config.timezone,
                                     editable_channels=self.config.editable_channels,
                                     local_channels=self.config.local_channels)
        self._flows = {LINK_FLOW: self.membership.on_state, FORM: self.hardship.on_form,
                       INFO: self.hardship.on_info, REVIEW: self.hardship.on_review_step,
                       BROADCAST_FLOW: self.broadcasts.on_step, DONE: self._on_done}
        #: a channel that retries an update once the database is back (bot/intake.py) sets this: the core then
        #: raises ``DatabaseUnavailable`` instead of apologising when the database cannot be reached
        self.defer_when_unavailable = False
        self.set_knowledge(knowledge)

    def set_knowledge(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        self.answers = KnowledgeAnswers(knowledge, self.t)
        self.set_passages(self.passages)

    def set_passages(self, passages: Sequence[PassageInfo | Passage]) -> None:
        """The ingested documents' sentences: with the knowledge entries, the evidence fact questions use."""
        self.passages = list(passages)
        index = EvidenceIndex([*entry_records(self.knowledge.entries, self.t), *passage_records(self.passages)],
                              self.matcher.normalize, common=domain_words())
        self.facts = FactAnswers(index, self.t, self.states, self.unanswered, self.clock, self.config.log_unanswered)

    async def handle(self, incoming: Incoming) -> list[Reply]:
        return (await self.process(incoming)).replies

    async def process(self, incoming: Incoming) -> Outcome:
        incoming = clean_incoming(incoming)  # no control characters reach storage, from any channel
        lang = self.t.language_for(incoming.language)
        try:
            outcome = await self._route(incoming, lang)
        except Exception as exc:
            if self.defer_when_unavailable and unreachable(exc):
                raise DatabaseUnavailable(type(exc).__name__) from exc
            log.exception("handler failed: channel=%s chat=%s message=%s", incoming.channel,
                          incoming.chat_id, incoming.message_id)
            outcome = Outcome([Reply(self.t("bot.apology", lang))], "error", 0.0, True)
        return Outcome(_bounded(outcome.replies), outcome.intent, outcome.confidence, outcome.fallback)

    # ----- routing ------------------------------------------------------------------------------
    async def _route(self, incoming: Incoming, lang: str) -> Outcome:
        if incoming.buttons and not incoming.is_group:
            return await self._route_message(incoming, lang)
        # numbered choices: a bare number (or the option's words) picks from the last list shown; in a group
        # the choices (and buttons) shown to each user are remembered, and only that user may act on them
        state = await self._state(incoming)
        offered = (state.data.get("choices") if state else None) or []
        if incoming.is_group and incoming.action and incoming.action not in groups.offered_actions(offered):
            return Outcome([groups.not_for_you(self.t, lang)], "group", 1.0, False)
        picked = pick_choice(incoming.text, offered) if offered and not incoming.action else None
        if picked is not None:
            incoming = replace(incoming, action=picked, text="")
        outcome = await self._route_message(incoming, lang)
        shown = next((r.choices for r in reversed(outcome.replies) if r.choices), ())
        if shown or offered:
            await self.offer_choices(incoming.bot_id, incoming.channel, incoming.chat_id, shown, incoming.user_id)
        return outcome

    async def offer_choices(self, bot_id: str, channel: str, chat_id: str, choices, user_id: str | None = None) -> None:
        """Remember the numbered choices a chat without buttons was shown, so "2" picks the second.

        Called for replies here, and by the delivery of proactive messages (notifications with actions), which
        go to a member's private chat: its user is the chat (``user_id`` None)."""
        key = StateKey(bot_id, channel, chat_id, user_id or chat_id)
        state = await self.states.get(key)  # re-read: the handler may have changed it
        data = dict(state.data) if state else {}
        data.pop("choices", None)
        if choices:
            data["choices"] = [[c.label, c.action] if isinstance(c, Choice) else [c[0], c[1]] for c in choices]
        if state is None or state.flow == CHOICES_FLOW:
            if data:
                await self.states.set(key, State(CHOICES_FLOW, "pick", data), self.clock())
            elif state is not None:
                await self.states.clear(key)
        elif data != state.data:
            await self.states.set(key, State(state.flow, state.step, data), self.clock())

    async def _route_message(self, incoming: Incoming, lang: str) -> Outcome:
        today = self.clock().astimezone(self.config.timezone).date()
        text = (incoming.text or "").strip()
        command, arg = parse_command(text)
        if incoming.is_group and groups.is_personal(incoming.action, command):  # nothing personal in the group
            return Outcome([groups.private_reply(self.t, incoming, lang, command or "")], "group", 1.0, False)
        if incoming.action:
            return await self._action(incoming, incoming.action, lang)
        if command is not None:
            outcome = await self._command(incoming, command, arg, lang)
            if outcome is not None:
                return outcome
        state = await self._state(incoming)
        if state is not None and state.flow in self._flows and not incoming.is_group:
            outcome = await self._flows[state.flow](incoming, state, lang)
            if outcome is not None:
                return outcome
        if text.lower() in _MENU_WORDS:
            return Outcome([help_reply(self.t, lang)], intents.HELP, 1.0, False)
        u = self.matcher.understand(text)
        intent = u.intent
        if intent == intents.HARDSHIP_REQUEST:
            if incoming.is_group:
                return Outcome([groups.private_reply(self.t, incoming, lang, "hotro")], intent, u.confidence, False)
            outcome = await self.hardship.start(incoming, lang)
            return Outcome(outcome.replies, intent, u.confidence, False)
        if intent in intents.SMALL_TALK:
            return Outcome(small_talk(intent, self.t, lang), intent, u.confidence, False)
        outcome = await self.facts.respond(incoming, u, lang)  # a fact question: the evidence answers or declines
        if outcome is not None:
            return outcome
        if intent in intents.INTENT_KINDS:
            return Outcome(self.answers.answer(intent, u, lang, today), intent, u.confidence, False)
        return await self._fallback(incoming, u.normalized.folded, intent, u.confidence, lang)

    async def _command(self, incoming: Incoming, command: str, arg: str, lang: str) -> Outcome | None:
        m = self.membership
        if command in ("start", "batdau"):
            # someone who had blocked the bot and comes back starts it again: deliver to them again
            await OutboxRepository(self.db).mark_reachable(incoming.channel, incoming.chat_id, incoming.bot_id)
            if arg in groups.DEEP_LINKED and arg not in ("start", "batdau"):  # from a group's "message me" link
                return await self._command(incoming, arg, "", lang)
            return await m.start(incoming, lang, small_talk(intents.GREETING, self.t, lang)[0])
        if command in ("help", "menu", "huongdan", "trogiup"):
            return Outcome([help_reply(self.t, lang)], intents.HELP, 1.0, False)
        if command in ("lienket", "link"):
            return await (m.link(incoming, arg, lang) if arg else m.ask_code(incoming, lang))
        if command in ("toi", "me"):
            return await m.me(incoming, lang)
        if command in ("huylienket", "unlink"):
            return await m.confirm_unlink(incoming, lang)
        if command in ("capma", "code"):
            return await m.issue_code(incoming, arg, lang)
        if command in ("donvi", "unit"):
            return await m.unit_summary(incoming, arg, lang)
        if command in ("hotro", "support"):
            return await self._hardship_form(incoming, lang)
        if command in ("hoso", "requests"):
            return await self.hardship.my_requests(incoming, lang)
        if command in ("duyet", "review"):
            return await self.hardship.pending(incoming, lang)
        if command in ("thongbao", "announce"):
            return await self.broadcasts.start(incoming, lang)
        if command in ("thongbao_ketqua", "announce_report"):
            return await self.broadcasts.results(incoming, arg, lang)
        if command in ("thongbao_huy", "announce_cancel"):
            return await self.broadcasts.cancel(incoming, arg, lang)
        if command in ("nhacnho", "reminders"):
            return await self.broadcasts.toggle_reminders(incoming, lang)
        if command in ("nhacnho_them", "add_reminder"):
            return await self.broadcasts.add_reminder(incoming, arg, self.knowledge, lang)
        return None  # an unknown command is read as text

    async def _state(self, incoming: Incoming) -> State | None:
        return await self.states.get(state_key(incoming))

    async def _action(self, incoming: Incoming, action: str, lang: str) -> Outcome:
        kind, _, value = action.partition(":")
        if kind == "member":
            return await self.membership.on_action(incoming, value, lang)
        if kind == "req":
            return await self.hardship.on_review_action(incoming, action, lang)
        if kind == "hs" and value.startswith("info:"):  # answer a chair's question now
            return await self.hardship.offer_info(incoming, value.removeprefix("info:"), lang)
        if kind in ("bc", "hs"):
            state = await self._state(incoming)
            if state is not None and state.flow == DONE:
                done = await self._on_done(incoming, state, lang)
                if done is not None:
                    return done
        if kind == "bc":
            state = await self._state(incoming)
            if state is not None and state.flow == BROADCAST_FLOW:
                return await self.broadcasts.on_step(incoming, state, lang)
            return Outcome([Reply(self.t("broadcast.expired_button", lang))], "broadcast", 1.0, False)
        if kind == "hs":
            state = await self._state(incoming)
            if state is not None and state.flow == FORM:
                return await self.hardship.on_form(incoming, state, lang)
            return Outcome([Reply(self.t("hardship.expired_button", lang))], "hardship", 1.0, False)
        if kind == "kb" and value in self.knowledge.by_id:
            entry = self.knowledge.by_id[value]
            return Outcome([self.answers.detail(entry, lang)], intents.KIND_INTENT[entry.kind], 1.0, False)
        if kind == "menu" and value == "hotro":  # "Gửi đề nghị hỗ trợ" under a support programme
            return await self._hardship_form(incoming, lang)
        if kind == "menu" and value in intents.INTENT_KINDS:
            return Outcome(self.answers.listing(value, lang), value, 1.0, False)
        return Outcome([help_reply(self.t, lang)], intents.HELP, 1.0, False)

    async def _on_done(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """After a step that happens once: its repeat is answered "đã gửi rồi"; anything else goes on as usual."""
        if once.repeat_of(state, incoming, self.clock()):
            return Outcome([once.already_done(self.t, state, lang)], state.step, 1.0, False)
        await self.states.clear(state_key(incoming))
        return None

    async def _hardship_form(self, incoming: Incoming, lang: str) -> Outcome:
        """/hotro or its button: the hardship form, resumed where the member left it."""
        state = await self._state(incoming)
        if state is not None and state.flow == FORM:
            return await self.hardship.resume(incoming, state, lang)
        return await self.hardship.start(incoming, lang)

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
