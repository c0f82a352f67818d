"""The conversation core: ``handle(incoming) -> replies``, with no platform or SQL code.

Routing: a button press or a command goes to the capability that declared it, a message inside a
multi-step form to the capability owning that flow (all three from the registry, handlers/registry.py);
anything else is a plain dispatch on the intent the matcher decided (``qa``, ``facts``, ``smalltalk``).
Whatever happens inside, ``handle`` returns replies: an error is logged with the event's ids and the member
gets a short apology.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Mapping, Sequence
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar
from zoneinfo import ZoneInfo

from handlers import groups, once, pages, visibility
from handlers.capability import DONE, asker_of, state_key
from handlers.facts import FactAnswers, as_passages, declined, domain_words, entry_records
from handlers.inputs import ascii_number, clean_incoming
from handlers.membership import LinkPolicy, split_link_text
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
from storage.knowledge import KnowledgeBase

if TYPE_CHECKING:  # built and injected by the composition root (bot/app.py)
    from handlers.broadcast import Broadcasts
    from handlers.feedback import Feedback
    from handlers.hardship import Hardship
    from handlers.membership import Membership
    from storage.conversation import StateStore
    from storage.documents import PassageInfo
    from storage.knowledge import Entry
    from storage.membership import IdentityCache
    from storage.outbox import OutboxRepository
    from storage.stats import QuestionCounter
    from storage.unanswered import UnansweredLog

log = logging.getLogger(__name__)

MAX_REPLY_CHARS = 4096
_MENU_WORDS = {"menu", "huong dan", "tro giup", "danh muc"}


CHOICES_FLOW = "choices"
#: the outcomes counted as questions for the statistics: the knowledge intents, and what the bot could not place
COUNTED = frozenset({*intents.INTENT_KINDS, intents.OUT_OF_SCOPE, intents.UNSURE})
#: the unit path a preview answers as (``Core.preview``; "": an unlinked member); None: the sender's own unit
_PREVIEW_UNIT: ContextVar[str | None] = ContextVar("preview_unit", default=None)


def _members_question() -> bool:
    """Whether the message being answered is a member's question, recorded for the chairs (the unanswered log, the
    question counts): not in a preview (``Core.preview``, the console's "Thử câu hỏi": an officer trying the bot)."""
    return _PREVIEW_UNIT.get() is None


#: an alias this long that is the whole question answers it with its entry (``Core._taught``)
TAUGHT_WORDS = 4
#: help or small talk guessed less surely than this: the evidence may answer the message as a question instead
UNSURE_CHAT = 0.5
#: the key of the chat's idle state that holds the pages behind "xem thêm" (``Core._paginate``)
MORE = "more"
#: the callback prefix of the 👍/👎 line (handlers/feedback.py, which imports this module)
_VOTE_PREFIX = "fb:"
#: typed words that ask for the next page ("xem thêm", "tiếp")
_MORE_WORDS = frozenset({"xem them", "them", "tiep", "xem tiep", "more"})


def pick_choice(text: str, offered: list) -> str | None:
    """"2", "số 2", or the option's words (accents optional) -> that option's action."""
    words = fold(text or "").strip(" .!?")
    if not words:
        return None
    if words in _MORE_WORDS:
        return next((action for _, action in offered if MoreButton.matches(action)), None)
    digits = "".join(ch for ch in words if ch.isdigit())
    if digits and len(words) <= 6 and words.replace("so", "").strip(" .") == digits:
        index = ascii_number(digits, 1, len(offered))
        return offered[index - 1][1] if index is not None else None
    for label, action in offered:
        if fold(label) == words:
            return action
    return None


#: words of a union matter (folded): a question with one of them the bot cannot answer is no "out of scope" one
_UNION_WORDS = ("doan phi", "cong doan", "doan vien", "luong", "uu dai", "bao hiem", "bhxh", "bhyt", "lao dong",
                "nld", "cdcs", "bch", "kinh phi", "phuc loi", "che do", "thai san", "nghi phep", "tang ca",
                "tro cap", "ho tro", "thi dua", "hop dong", "thoa uoc", "con ap dung", "ap dung", "khen thuong",
                "giam gia")


def union_topic(folded: str) -> bool:
    """"đoàn phí đóng bao nhiêu", "lương tối thiểu vùng", "ưu đãi này còn áp dụng không" — not gold or weather."""
    padded = f" {folded} "
    return any(f" {w} " in padded for w in _UNION_WORDS)


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


@dataclass(frozen=True)
class MoreButton(Callback):
    """"more:<ref>": the next page of the reply ``ref`` (8 hex digits) names."""

    prefix: ClassVar[str] = "more"
    ref: str


class Core:
    """Routes an event to the capability that owns it. Built by the composition root (bot/app.py), which
    creates every part (state store, identity cache, the capabilities and their registry) and injects it."""

    def __init__(self, *, matcher: Matcher, knowledge: KnowledgeBase, translator: Translator,
                 states: StateStore, identities: IdentityCache, unanswered: UnansweredLog, outbox: OutboxRepository,
                 membership: Membership, hardship: Hardship, broadcasts: Broadcasts, registry: Registry,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 config: CoreConfig | None = None, passages: Sequence[PassageInfo] = (),
                 feedback: Feedback | None = None, questions: QuestionCounter | None = None) -> None:
        self.matcher = matcher
        #: questions counted per day, channel and intent for the statistics (storage/stats.py); None: not counted
        self.questions = questions
        #: the 👍/👎 line under answers (handlers/feedback.py); None: answers go out without it
        self.feedback = feedback
        #: the sentences of the ingested source documents (services/documents.py), for retrieval
        self.passages: list[PassageInfo | Passage] = list(passages)
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
        self.set_passages(self.passages)

    def set_passages(self, passages: Sequence[PassageInfo | Passage]) -> None:
        """The ingested documents' sentences: with the knowledge entries, the evidence fact questions use."""
        self.passages = list(passages)
        # one pair of answerers per audience (handlers/visibility.py): the shared entries only (unlinked users,
        # groups, and every other use of ``self.answers``/``self.facts``), and one per unit owning entries
        views = {audience: self._answerers(audience) for audience in visibility.audiences(self.knowledge.scopes)}
        self.facts, self.answers = views[frozenset()]
        self._views = views

    def _answerers(self, audience: frozenset[str]) -> tuple[FactAnswers, KnowledgeAnswers]:
        kb = self.knowledge
        if kb.scopes:
            kb = KnowledgeBase(visibility.visible(kb.entries, kb.scopes, audience), kb.scopes)
        index = evidence_index(entry_records(kb.entries, self.t), self.matcher.normalize, domain_words,
                               self.config.cache_dir, common_from=training_files(),
                               passages=as_passages(self.passages))
        facts = FactAnswers(index, self.t, self.states, self.unanswered, self.clock, self.config.log_unanswered)
        facts.entries = kb.by_id
        return facts, KnowledgeAnswers(kb, self.t)

    async def _answerers_for(self, incoming: Incoming) -> tuple[FactAnswers, KnowledgeAnswers]:
        """The answerers of the asker's audience: their unit chain from the identity cache (no query when
        cached), and only when some entry belongs to a unit at all; in a preview (``preview``), its unit's."""
        if len(self._views) == 1 or incoming.is_group:
            return self.facts, self.answers
        path = _PREVIEW_UNIT.get()
        if path is None:
            who = await self.identities.get(incoming.bot_id, incoming.channel, incoming.user_id)
            path = who.member.unit.path if who else None
        audience = visibility.audience_of(self.knowledge.scopes, path)
        return self._views.get(audience) or (self.facts, self.answers)

    async def preview(self, incoming: Incoming, unit_path: str | None) -> list[Reply]:
        """The replies to ``incoming`` as a member of the unit ``unit_path`` gets them (its own entries, those of
        the units above and the shared ones: handlers/visibility.py); None: as an unlinked member. The web
        console's "Thử câu hỏi"; the sender is otherwise who they are (their state). Nothing is recorded as a
        member's question: no unanswered question logged, no question counted (``_members_question``)."""
        token = _PREVIEW_UNIT.set(unit_path or "")
        try:
            return await self.handle(incoming)
        finally:
            _PREVIEW_UNIT.reset(token)

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
        if self.questions is not None and incoming.text and not incoming.action and outcome.intent in COUNTED \
                and _members_question():
            self.questions.count(self.clock().astimezone(self.config.timezone).date(), incoming.channel,
                                 outcome.intent, not outcome.fallback, asker_of(incoming))
        return Outcome(_bounded(outcome.replies), outcome.intent, outcome.confidence, outcome.fallback)

    # ----- routing ------------------------------------------------------------------------------
    async def _route(self, incoming: Incoming, lang: str) -> Outcome:
        if incoming.buttons and not incoming.is_group:  # buttons carry the choices: only ``keep`` is stored
            return await self._settle(incoming, await self._route_message(incoming, lang), lang, None)
        # numbered choices: a bare number (or the option's words) picks from the last list shown; in a group
        # the choices (and buttons) shown to each user are remembered, and only that user may act on them
        state = await self._state(incoming)
        offered = (state.data.get("choices") if state else None) or []
        if incoming.is_group and incoming.action and incoming.action not in groups.offered_actions(offered):
            return Outcome([groups.not_for_you(self.t, lang)], "group", 1.0, False)
        picked = pick_choice(incoming.text, offered) if offered and not incoming.action else None
        if picked is not None:
            incoming = replace(incoming, action=picked, text="")
        return await self._settle(incoming, await self._route_message(incoming, lang), lang, offered)

    async def _settle(self, incoming: Incoming, outcome: Outcome, lang: str, offered: list | None) -> Outcome:
        """The replies as a phone shows them (a long one cut into pages behind "xem thêm", handlers/pages.py),
        and one state write for what the chat keeps: the numbered choices shown (``offered`` is None on a
        channel with buttons), the pages still to show and ``Outcome.keep``."""
        paged = any(r.more or pages.too_long(r.text) for r in outcome.replies)
        shown = next((r.choices for r in reversed(outcome.replies) if r.choices), ())
        if not (paged or outcome.keep or (offered is not None and (shown or offered))):
            return outcome
        key = StateKey(incoming.bot_id, incoming.channel, incoming.chat_id, incoming.user_id or incoming.chat_id)
        state = await self.states.get(key)  # re-read: the handler may have changed it
        if paged:
            outcome = self._paginate(outcome, lang, idle=state is None or state.flow == CHOICES_FLOW)
            shown = next((r.choices for r in reversed(outcome.replies) if r.choices), ())
        keep = self.facts.remember(outcome.keep, outcome.replies) if outcome.keep and not outcome.fallback \
            else outcome.keep
        await self._keep(key, state, shown if offered is not None else (), keep)
        return outcome

    def _paginate(self, outcome: Outcome, lang: str, idle: bool) -> Outcome:
        """Each reply's first page; the pages after them are kept for "xem thêm" (a button under the last reply).
        Inside a form (not ``idle``) a step is shown whole: its state keeps the form, not pages."""
        if not idle:
            return replace(outcome, replies=[replace(r, text="\n".join((r.text, *r.more)), more=()) if r.more else r
                                             for r in outcome.replies])
        rest: list[str] = []
        replies: list[Reply] = []
        for r in outcome.replies:
            first, more = (r.text, r.more) if r.more or not pages.too_long(r.text) else pages.split(r.text)
            rest.extend(more)
            replies.append(replace(r, text=first, more=()))
        if not rest:
            return replace(outcome, replies=replies)
        last = replies[-1]
        ref = hashlib.blake2s(f"{rest[0]}|{self.clock().isoformat()}".encode(), digest_size=4).hexdigest()
        button = Choice(self.t("more.button", lang, count=pages.remaining(rest)), MoreButton(ref).encode())
        # under the reply's own choices (a menu, a list's entries), above the 👍/👎 line (handlers/feedback.py)
        votes = tuple(c for c in last.choices if c.action.startswith(_VOTE_PREFIX))
        own = tuple(c for c in last.choices if c not in votes)
        replies[-1] = replace(last, choices=(*own, button, *votes))
        kept = {"ref": ref, "pages": rest, "choices": [[c.label, c.action] for c in last.choices]}
        return replace(outcome, replies=replies, keep={**(outcome.keep or {}), MORE: kept})

    async def _more(self, incoming: Incoming, data: str, lang: str) -> Outcome:
        """"Xem thêm": the next page of the last long reply, with the choices it had (the 👍/👎 line, a list's
        entries); a page from an older reply (its pages were replaced since) is gone."""
        button = MoreButton.decode(data)
        state = await self._state(incoming)
        kept = state.data.get(MORE) if state is not None else None
        if button is None or not kept or kept.get("ref") != button.ref or not kept.get("pages"):
            return Outcome([Reply(self.t("more.gone", lang))], "more", 1.0, False)
        rest = list(kept["pages"])
        choices = tuple(Choice(label, action) for label, action in kept.get("choices") or ())
        return Outcome([Reply(rest[0], choices, more=tuple(rest[1:]))], "more", 1.0, False, keep={MORE: None})

    async def offer_choices(self, bot_id: str, channel: str, chat_id: str, choices, user_id: str | None = None,
                            keep: Mapping[str, object] | None = None) -> None:
        """Remember the numbered choices a chat without buttons was shown, so "2" picks the second, and what the
        reply asked to ``keep`` (``Outcome.keep``) while the chat is in no form — one write for both.

        Called for replies here, and by the delivery of proactive messages (notifications with actions), which
        go to a member's private chat: its user is the chat (``user_id`` None)."""
        key = StateKey(bot_id, channel, chat_id, user_id or chat_id)
        await self._keep(key, await self.states.get(key), choices, keep)

    async def _keep(self, key: StateKey, state: State | None, choices, keep: Mapping[str, object] | None) -> None:
        data = dict(state.data) if state else {}
        data.pop("choices", None)
        data.pop(MORE, None)  # the pages of an earlier reply: its "xem thêm" is no longer the last one shown
        if choices:
            data["choices"] = [[c.label, c.action] if isinstance(c, Choice) else [c[0], c[1]] for c in choices]
        if keep and (state is None or state.flow == CHOICES_FLOW):
            data.update({k: v for k, v in keep.items() if v is not None})
        if state is None or state.flow == CHOICES_FLOW:  # an idle chat's context: written behind (no form's step)
            if data:
                await self.states.set_later(key, State(CHOICES_FLOW, "pick", data), self.clock())
            elif state is not None:
                await self.states.set_later(key, None, self.clock())
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
        kept = state.data.get(MORE) if state is not None and state.flow == CHOICES_FLOW else None
        if kept and fold(text).strip(" .!?") in _MORE_WORDS:  # "xem thêm" typed under a long reply
            return await self._more(incoming, MoreButton(str(kept.get("ref", ""))).encode(), lang)
        if text.lower() in _MENU_WORDS:
            return await self._help(incoming, lang)
        if not incoming.is_group and (asked := self.registry.command_asked(text)) is not None:
            answered = await self._command(incoming, asked, "", lang)  # "đề nghị của tôi đến đâu rồi": /hoso
            if answered is not None:
                return answered
        resolved = self.facts.resolve(text, state if state is not None and state.flow == CHOICES_FLOW else None)
        pointed = resolved != text
        if pointed:  # "ông ấy …" after an answer naming him: the question is about him (a follow-up of that answer)
            text, incoming = resolved, replace(incoming, text=resolved)
        u = self.matcher.understand(text)
        intent = u.intent
        if intent == intents.HARDSHIP_REQUEST:
            if incoming.is_group:
                return Outcome([groups.private_reply(self.t, incoming, lang, "hotro")], intent, u.confidence, False)
            outcome = await self.hardship.start(incoming, lang)
            return Outcome(outcome.replies, intent, u.confidence, False)
        if intent in intents.SMALL_TALK:
            if u.confidence < UNSURE_CHAT:
                # a doubtful guess of help or small talk ("hồi năm 2021 ai đứng đầu …" is no "hỏi"): a sentence of
                # the evidence that answers the question wins over the menu
                facts, _ = await self._answerers_for(incoming)
                outcome = await facts.respond(incoming, u, lang, log=False)
                if outcome is not None and not outcome.fallback:
                    return await self.feedback.attach(incoming, outcome, u, lang, state) if self.feedback else outcome
            if intent == intents.HELP:
                return await self._help(incoming, lang)
            return Outcome(small_talk(intent, self.t, lang), intent, u.confidence, False)
        facts, answers = await self._answerers_for(incoming)  # the asker's unit's entries, and the shared ones
        taught = self._taught(u, answers)
        if taught is not None:  # a question an office attached to an entry (web console), asked as it was
            outcome = Outcome([answers.detail(taught, lang, today)], intents.KIND_INTENT[taught.kind], 1.0, False)
            return await self.feedback.attach(incoming, outcome, u, lang, state) if self.feedback else outcome
        defined = self._defined(u, answers)
        if defined is not None:  # "cụm thi đua số 3 là gì": the entry of that name says what it is
            outcome = Outcome([answers.detail(defined, lang, today)], intents.KIND_INTENT[defined.kind], 1.0, False,
                              keep=facts.context(facts.reading(incoming).question))
            return await self.feedback.attach(incoming, outcome, u, lang, state) if self.feedback else outcome
        # a fact question: the evidence answers or declines
        # (the message read once: by the evidence, then by the topic gate and for the context kept)
        reading = facts.reading(incoming, pointed=pointed)
        outcome = await facts.respond(incoming, u, lang, log=_members_question(), reading=reading)
        question = reading.question if outcome is None and intent in intents.INTENT_KINDS else None
        if question is not None and answers.covers(intent, u, question, facts.index):
            # an entry's sheet or a category's list, when it is about what was asked (else the honest fallback,
            # logged as unanswered); kept: a follow-up is read against this question
            outcome = Outcome(answers.answer(intent, u, lang, today, question, facts.index), intent, u.confidence,
                              False, keep=facts.context(question))
        if outcome is not None:  # an answer: with the 👍/👎 line under it
            return await self.feedback.attach(incoming, outcome, u, lang, state) if self.feedback else outcome
        return await self._fallback(incoming, u.normalized.folded, intent, u.confidence, lang,
                                    uncovered=question is not None)

    def _taught(self, u, answers: KnowledgeAnswers) -> Entry | None:
        """The entry whose alias is the whole question, word for word (accents optional), when that alias is a
        sentence (``TAUGHT_WORDS`` words or more): how the web console's "attach to an entry" teaches the bot an
        unanswered question. Shorter names go the usual way (the evidence and the entries' answers)."""
        folded = u.normalized.folded
        if len(folded.split()) < TAUGHT_WORDS:
            return None
        for match in u.entities:
            entry = answers.kb.by_id.get(match.entry_id)  # only an entry the asker may see
            if match.matched == folded and entry is not None and any(fold(a) == folded for a in entry.aliases):
                return entry
        return None

    def _defined(self, u, answers: KnowledgeAnswers) -> Entry | None:
        """The entry a definition question names whole: "<name> là gì" (a request before it, a particle after it
        allowed) where the name is one of the entry's names of two words or more (an acronym alone is the language
        data's: "CĐCS là gì")."""
        words = u.normalized.folded.split()
        for cue in _DEFINITION_CUES:
            n = len(cue)
            ends = [i for i in range(len(words) - n + 1) if tuple(words[i:i + n]) == cue]
            if not ends:
                continue
            subject, after = words[:ends[-1]], words[ends[-1] + n:]
            if any(w not in _PARTICLES for w in after):
                return None
            while subject and subject[0] in _REQUEST_WORDS:
                subject = subject[1:]
            name = " ".join(subject)
            if len(subject) < 2 or len(fold(u.normalized.text).split()) <= n + 1:
                return None
            for match in u.entities:
                entry = answers.kb.by_id.get(match.entry_id)
                if match.matched == name and entry is not None and entry.kind in intents.KIND_INTENT:
                    return entry
            return None
        return None

    async def answer_question(self, incoming: Incoming, lang: str) -> Outcome | None:
        """A question typed in the middle of a form ("sữa hà lan giảm bao nhiêu"): its answer when it reads as a
        question (a question word or "?") the matcher takes for one about the union's knowledge; else None."""
        text = (incoming.text or "").strip()
        if not _is_question(text):
            return None
        u = self.matcher.understand(text)
        if u.intent not in intents.INTENT_KINDS:
            return None
        facts, answers = await self._answerers_for(incoming)
        reading = facts.reading(incoming)
        outcome = await facts.respond(incoming, u, lang, log=_members_question(), reading=reading)
        if outcome is None:
            question = reading.question
            if not answers.covers(u.intent, u, question, facts.index):
                return None
            outcome = Outcome(answers.answer(u.intent, u, lang, self.clock().astimezone(self.config.timezone)
                                             .date(), question, facts.index), u.intent, u.confidence, False)
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
        if arg and split_link_text(arg)[1] is not None:  # t.me/<bot>?start=<code>: the QR code of a codes sheet
            return await self.membership.link(incoming, arg, lang)
        return await self.membership.start(incoming, lang, small_talk(intents.GREETING, self.t, lang)[0])

    async def _help(self, incoming: Incoming, lang: str) -> Outcome:
        """/help by role: the questions the bot answers, then the commands this member may use, each with an
        example (in a group, only the commands every member has: a chair's are not shown to everyone)."""
        who = None if incoming.is_group else await self.identities.get(incoming.bot_id, incoming.channel,
                                                                         incoming.user_id)
        roles = roles_of(who)
        lines = self.registry.help_lines(self.t, lang, roles, linked=who is not None)
        return Outcome([help_reply(self.t, lang, lines, contact="chair" not in roles)], intents.HELP, 1.0, False)

    async def _knowledge_button(self, incoming: Incoming, data: str, lang: str) -> Outcome | None:
        button = KnowledgeButton.decode(data)
        _, answers = await self._answerers_for(incoming)  # only an entry the asker may see
        if button is None or button.entry_id not in answers.kb.by_id:
            return None
        entry = answers.kb.by_id[button.entry_id]
        today = self.clock().astimezone(self.config.timezone).date()
        outcome = Outcome([answers.detail(entry, lang, today)], intents.KIND_INTENT[entry.kind], 1.0, False)
        if self.feedback is None:
            return outcome
        # picked from a list (a number or a button): the entry's answer carries the 👍/👎 line like a typed one's
        return await self.feedback.attach(incoming, outcome, None, lang, await self._state(incoming), picked=entry.name)

    async def _menu_button(self, incoming: Incoming, data: str, lang: str) -> Outcome | None:
        button = MenuButton.decode(data)
        if button is not None and button.item == "hotro":  # "Gửi đề nghị hỗ trợ" under a support programme
            return await self._command(incoming, "hotro", "", lang)
        if button is not None and button.item in intents.INTENT_KINDS:
            _, answers = await self._answerers_for(incoming)
            today = self.clock().astimezone(self.config.timezone).date()
            return Outcome(answers.listing(button.item, lang, today=today), button.item, 1.0, False)
        return None

    async def _on_done(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """After a step that happens once: its repeat is answered "đã gửi rồi"; anything else goes on as usual."""
        repeat = once.answer_repeat(self.t, state, incoming, self.clock(), lang)
        if repeat is not None:
            return repeat
        await self.states.clear(state_key(incoming))
        return None

    async def _fallback(self, incoming: Incoming, key: str, intent: str, confidence: float,
                        lang: str, uncovered: bool = False) -> Outcome:
        """The fallback, logged as unanswered. ``uncovered``: a question of the union's topics that the entries shown
        would not answer (``KnowledgeAnswers.covers``): said plainly, with the topics the bot knows."""
        if not key:
            return Outcome([Reply(self.t("fallback.empty", lang))], intents.UNSURE, 0.0, True)
        if uncovered:
            text = declined(self.t, lang, self.t("facts.not_found", lang))
        elif union_topic(key):  # a union matter the bot has no answer for: not "out of scope" — ask the committee
            text = self.t("fallback.union_unknown", lang)
        else:
            reason = "fallback.out_of_scope" if intent == intents.OUT_OF_SCOPE else "fallback.unsure"
            text = declined(self.t, lang, self.t(reason, lang))
        if self.config.log_unanswered and _members_question():
            self.unanswered.record(key, incoming.text, incoming.channel, intent, confidence, self.clock(),
                                   asker_of(incoming))
        return Outcome([Reply(text)], intent, confidence, True)

    async def close(self) -> None:
        """Write what is still queued (the unanswered-question log, the question counts, idle chats' state)."""
        await self.states.close()
        await self.unanswered.close()
        if self.questions is not None:
            await self.questions.close()


#: "… là gì" (folded, after the abbreviations: "là j" is "là gì"), longest first
_DEFINITION_CUES = (("co", "nghia", "la", "gi"), ("nghia", "la", "gi"), ("la", "gi"))
#: what may follow the cue ("… là gì vậy ạ"), and what may come before the name ("cho em hỏi …")
_PARTICLES = frozenset({"vay", "a", "ad", "admin", "oi", "nhi", "nhe", "the", "ha", "z", "v"})
_REQUEST_WORDS = frozenset({"cho", "em", "minh", "toi", "hoi", "xin", "ad", "admin", "oi", "ban"})

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
             ActionPrefix("menu", lambda core, i, data, lang: core._menu_button(i, data, lang)),
             ActionPrefix("more", lambda core, i, data, lang: core._more(i, data, lang))),
    #: after a step that happens once, its repeat (typed, or a button) is answered "đã gửi rồi"
    flows=(Flow(DONE, lambda core, i, state, lang: core._on_done(i, state, lang)),),
    callbacks=(KnowledgeButton, MenuButton, MoreButton))
