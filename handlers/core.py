"""The conversation core: ``handle(incoming) -> replies``, with no platform or SQL code.

Routing: a button press or a command goes to the capability that declared it, a message inside a
multi-step form to the capability owning that flow (all three from the registry, handlers/registry.py);
anything else is a plain dispatch on the intent the matcher decided (``qa``, ``facts``, ``smalltalk``).
Whatever happens inside, ``handle`` returns replies: an error is logged with the event's ids and the member
gets a short apology.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from handlers import groups, once
from handlers.capability import DONE, state_key
from handlers.facts import FactAnswers, domain_words, entry_records, passage_records
from handlers.inputs import ascii_number, clean_incoming
from handlers.membership import LinkPolicy
from handlers.qa import KnowledgeAnswers
from handlers.registry import ActionPrefix, Callback, Command, Declaration, Flow, Registry, roles_of
from handlers.smalltalk import MenuButton, help_reply, small_talk
from handlers.text import split_text
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import Translator
from nlu import intents
from nlu.cache import evidence_index
from nlu.data import training_files
from nlu.evidence import Passage
from nlu.matcher import Matcher
from nlu.normalize import fold
from storage.conversation import State, StateKey
from storage.db import DatabaseUnavailable, unreachable

if TYPE_CHECKING:  # built and injected by the composition root (bot/app.py)
    from handlers.broadcast import Broadcasts
    from handlers.feedback import Feedback
    from handlers.hardship import Hardship
    from handlers.membership import Membership
    from storage.conversation import StateStore
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
    #: the web console's public address ("" when it is off): ``/web`` sends a sign-in link under it
    web_base_url: str = ""
    #: where the evidence index built from the knowledge and the documents is stored between starts
    #: (``nlu/cache.py``); None: built in memory at every start
    cache_dir: Path | None = None


@dataclass(frozen=True)
class KnowledgeButton(Callback):
    """"kb:<entry id>": the details of one knowledge entry (ids hold letters, digits and dashes)."""

    prefix: ClassVar[str] = "kb"
    entry_id: str


class Core:
    """Routes an event to the capability that owns it. Built by the composition root (bot/app.py), which
    creates every part (state store, identity cache, the capabilities and their registry) and injects it."""

    def __init__(self, *, matcher: Matcher, knowledge: KnowledgeBase, translator: Translator,
                 states: StateStore, identities: IdentityCache, unanswered: UnansweredLog, outbox: OutboxRepository,
                 membership: Membership, hardship: Hardship, broadcasts: Broadcasts, registry: Registry,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 config: CoreConfig | None = None, passages: Sequence[PassageInfo] = (),
                 feedback: Feedback | None = None) -> None:
        self.matcher = matcher
        #: the 👍/👎 line under answers (handlers/feedback.py); None: answers go out without it
        self.feedback = feedback
        #: the sentences of the ingested source documents (services/documents.py), for retrieval
        self.passages: list[PassageInfo] = list(passages)
        self.t = translator
        self.clock = clock
        self.config = config or CoreConfig()
        self.unanswered = unanswered
        self.states = states
        self.identities = identities
        self.outbox = outbox
        self.membership = membership
        self.hardship = hardship
        self.broadcasts = broadcasts
        #: commands, buttons and flows of every capability (handlers/registry.py); the core's own come first
        self.registry = registry
        self.registry.add(DECLARATION, self)
        #: a channel that retries an update once the database is back (bot/intake.py) sets this: the core then
        #: raises ``DatabaseUnavailable`` instead of apologising when the database cannot be reached
        self.defer_when_unavailable = False
        self.set_knowledge(knowledge)
        self.hardship.answer_question = self.answer_question  # issue #15: a question typed mid-form

    def set_knowledge(self, knowledge: KnowledgeBase) -> None:
        self.knowledge = knowledge
        for capability in (self.membership, self.hardship, self.broadcasts):
            capability.knowledge = knowledge
        self.answers = KnowledgeAnswers(knowledge, self.t)
        self.set_passages(self.passages)

    def set_passages(self, passages: Sequence[PassageInfo | Passage]) -> None:
        """The ingested documents' sentences: with the knowledge entries, the evidence fact questions use."""
        self.passages = list(passages)
        index = evidence_index([*entry_records(self.knowledge.entries, self.t), *passage_records(self.passages)],
                               self.matcher.normalize, domain_words, self.config.cache_dir,
                               common_from=training_files())
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
        if incoming.buttons and not incoming.is_group:  # buttons carry the choices: only ``keep`` is stored
            outcome = await self._route_message(incoming, lang)
            if outcome.keep:
                await self.offer_choices(incoming.bot_id, incoming.channel, incoming.chat_id, (), incoming.user_id,
                                         keep=outcome.keep)
            return outcome
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
        if shown or offered or outcome.keep:
            await self.offer_choices(incoming.bot_id, incoming.channel, incoming.chat_id, shown, incoming.user_id,
                                     keep=outcome.keep)
        return outcome

    async def offer_choices(self, bot_id: str, channel: str, chat_id: str, choices, user_id: str | None = None,
                            keep: Mapping[str, object] | None = None) -> None:
        """Remember the numbered choices a chat without buttons was shown, so "2" picks the second, and what the
        reply asked to ``keep`` (``Outcome.keep``) while the chat is in no form — one write for both.

        Called for replies here, and by the delivery of proactive messages (notifications with actions), which
        go to a member's private chat: its user is the chat (``user_id`` None)."""
        key = StateKey(bot_id, channel, chat_id, user_id or chat_id)
        state = await self.states.get(key)  # re-read: the handler may have changed it
        data = dict(state.data) if state else {}
        data.pop("choices", None)
        if choices:
            data["choices"] = [[c.label, c.action] if isinstance(c, Choice) else [c[0], c[1]] for c in choices]
        if keep and (state is None or state.flow == CHOICES_FLOW):
            data.update(keep)
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
        if state is not None and self.registry.has_flow(state.flow) and not incoming.is_group:
            outcome = await self.registry.run_flow(state, incoming, lang)
            if outcome is not None:
                return outcome
        if text.lower() in _MENU_WORDS:
            return await self._help(incoming, lang)
        u = self.matcher.understand(text)
        intent = u.intent
        if intent == intents.HARDSHIP_REQUEST:
            if incoming.is_group:
                return Outcome([groups.private_reply(self.t, incoming, lang, "hotro")], intent, u.confidence, False)
            outcome = await self.hardship.start(incoming, lang)
            return Outcome(outcome.replies, intent, u.confidence, False)
        if intent == intents.HELP:
            return await self._help(incoming, lang)
        if intent in intents.SMALL_TALK:
            return Outcome(small_talk(intent, self.t, lang), intent, u.confidence, False)
        outcome = await self.facts.respond(incoming, u, lang)  # a fact question: the evidence answers or declines
        if outcome is None and intent in intents.INTENT_KINDS:
            outcome = Outcome(self.answers.answer(intent, u, lang, today), intent, u.confidence, False)
        if outcome is not None:  # an answer: with the 👍/👎 line under it
            return await self.feedback.attach(incoming, outcome, u, lang, state) if self.feedback else outcome
        return await self._fallback(incoming, u.normalized.folded, intent, u.confidence, lang)

    async def answer_question(self, incoming: Incoming, lang: str) -> Outcome | None:
        """A question typed in the middle of a form ("sữa hà lan giảm bao nhiêu"): its answer when it reads as a
        question (a question word or "?") the matcher takes for one about the union's knowledge; else None."""
        text = (incoming.text or "").strip()
        if not _is_question(text):
            return None
        u = self.matcher.understand(text)
        if u.intent not in intents.INTENT_KINDS:
            return None
        outcome = await self.facts.respond(incoming, u, lang)
        if outcome is None:
            outcome = Outcome(self.answers.answer(u.intent, u, lang, self.clock().astimezone(self.config.timezone)
                                                  .date()), u.intent, u.confidence, False)
        return None if outcome.fallback or not outcome.replies else outcome

    async def _command(self, incoming: Incoming, command: str, arg: str, lang: str) -> Outcome | None:
        """A command, from the registry; None for an unknown command, which is read as text."""
        return await self.registry.run_command(command, incoming, arg, lang)

    async def _state(self, incoming: Incoming) -> State | None:
        return await self.states.get(state_key(incoming))

    async def _action(self, incoming: Incoming, action: str, lang: str) -> Outcome:
        """A button press, from the registry by its prefix; an unknown one gets the help menu."""
        declared = self.registry.action(action)
        if declared is not None and declared.repeats_done(action):
            state = await self._state(incoming)
            if state is not None and state.flow == DONE:
                done = await self._on_done(incoming, state, lang)
                if done is not None:
                    return done
        outcome = await self.registry.run_action(action, incoming, lang) if declared is not None else None
        return outcome if outcome is not None else await self._help(incoming, lang)

    # ----- the core's own commands and buttons ----------------------------------------------------------
    async def _start(self, incoming: Incoming, arg: str, lang: str) -> Outcome | None:
        # someone who had blocked the bot and comes back starts it again: deliver to them again
        await self.outbox.mark_reachable(incoming.channel, incoming.chat_id, incoming.bot_id)
        if arg in groups.DEEP_LINKED and arg not in ("start", "batdau"):  # from a group's "message me" link
            return await self._command(incoming, arg, "", lang)
        return await self.membership.start(incoming, lang, small_talk(intents.GREETING, self.t, lang)[0])

    async def _help(self, incoming: Incoming, lang: str) -> Outcome:
        """/help by role: the questions the bot answers, then the commands this member may use, each with an
        example (in a group, only the commands every member has: a chair's are not shown to everyone)."""
        who = None if incoming.is_group else await self.identities.get(incoming.bot_id, incoming.channel,
                                                                         incoming.user_id)
        lines = self.registry.help_lines(self.t, lang, roles_of(who))
        return Outcome([help_reply(self.t, lang, lines)], intents.HELP, 1.0, False)

    async def _knowledge_button(self, incoming: Incoming, data: str, lang: str) -> Outcome | None:
        button = KnowledgeButton.decode(data)
        if button is None or button.entry_id not in self.knowledge.by_id:
            return None
        entry = self.knowledge.by_id[button.entry_id]
        return Outcome([self.answers.detail(entry, lang)], intents.KIND_INTENT[entry.kind], 1.0, False)

    async def _menu_button(self, incoming: Incoming, data: str, lang: str) -> Outcome | None:
        button = MenuButton.decode(data)
        if button is not None and button.item == "hotro":  # "Gửi đề nghị hỗ trợ" under a support programme
            return await self._command(incoming, "hotro", "", lang)
        if button is not None and button.item in intents.INTENT_KINDS:
            return Outcome(self.answers.listing(button.item, lang), button.item, 1.0, False)
        return None

    async def _on_done(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """After a step that happens once: its repeat is answered "đã gửi rồi"; anything else goes on as usual."""
        if once.repeat_of(state, incoming, self.clock()):
            return Outcome([once.already_done(self.t, state, lang)], state.step, 1.0, False)
        await self.states.clear(state_key(incoming))
        return None

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


#: what makes a message a question (folded): a question phrase anywhere, or a tail word at its end ("... không")
_QUESTION_PHRASES = ("bao nhieu", "the nao", "o dau", "khi nao", "bao gio", "la gi", "nhu nao", "ra sao")
_TAIL_WORDS = frozenset({"khong", "chua", "nao", "gi", "sao"})


def _is_question(text: str) -> bool:
    words = fold(text).strip(" .!")
    padded = f" {words} "
    return (text.rstrip().endswith("?") or any(f" {p} " in padded for p in _QUESTION_PHRASES)
            or words.rsplit(" ", 1)[-1] in _TAIL_WORDS)


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


DECLARATION = Declaration(
    "core",
    commands=(Command("start", "batdau", lambda core, i, arg, lang: core._start(i, arg, lang), listed=False),
              Command("menu", "menu", lambda core, i, arg, lang: core._help(i, lang), listed=False),
              Command("help", "huongdan", lambda core, i, arg, lang: core._help(i, lang), aliases=("trogiup",),
                      listed=False)),
    actions=(ActionPrefix("kb", lambda core, i, data, lang: core._knowledge_button(i, data, lang)),
             ActionPrefix("menu", lambda core, i, data, lang: core._menu_button(i, data, lang))),
    #: after a step that happens once, its repeat (typed, or a button) is answered "đã gửi rồi"
    flows=(Flow(DONE, lambda core, i, state, lang: core._on_done(i, state, lang)),),
    callbacks=(KnowledgeButton, MenuButton))
