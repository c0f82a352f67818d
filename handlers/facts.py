"""Questions about facts, answered from the evidence index: the sentence that answers, then its source.

The core hands every question that is not a command, small talk or the hardship form here first
(``FactAnswers.respond``). This module decides, from the evidence and not from the intent classifier
alone, whether the bot answers (the sentence or two that say it, and where it comes from), declines
honestly (a term, place, cluster, phase or year the sources never mention: logged as unanswered), or
leaves the question to the knowledge-entry answers (``handlers/qa.py``: lists of a category, an
entry's fact sheet). Follow-up questions ("còn sữa thì sao?") are read against the previous question,
kept for a few minutes per chat.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from handlers import pages, sources
from handlers.capability import asker_of, state_key
from handlers.qa import entry_fits, related_shown, spelled_out, vowels
from handlers.text import clip, fmt_date
from handlers.types import Incoming, Outcome, Reply
from locales import Translator
from nlu import intents, slots
from nlu.data import load_abbreviations, load_training_examples
from nlu.entities import EntityMatch
from nlu.evidence import EvidenceIndex, Finding, Passage, Question, Record
from nlu.matcher import Understanding
from nlu.normalize import clean, fold, normalize_tones, tokens
from nlu.privacy import scrub
from storage.conversation import State, StateStore
from storage.knowledge import Entry
from storage.unanswered import UnansweredLog

#: how long a question stays the context of a follow-up
FOLLOW_UP_FOR = timedelta(minutes=10)
#: the people an answer names that a follow-up may point at ("ông ấy"), read from its first page (clipped)
MAX_PEOPLE = 6
MAX_SAID = 1200
#: kinds of answer that name one fact: when the evidence has none, the bot says so instead of listing a topic
SPECIFIC = frozenset({"author", "photo", "date", "person", "quantity", "place", "definition", "which"})
MAX_SENTENCE = 420
#: kinds of answer only an article's credits give (its byline, a photo's caption)
CREDITS = frozenset({"author", "photo"})
#: kinds of answer one sentence states: when none does for a question's place, cluster or year, the bot declines
ONE_FACT = frozenset({"person"})
#: the conversation state keeps each chat's last answered question under this key of its idle state (so every
#: worker, and a restarted one, reads a follow-up against it); the core writes it with the reply (``Outcome.keep``)
ASKED = "asked"
#: an in-scope intent this sure, without evidence for the exact fact, is still answered by the entries' sheets
CONFIDENT = 0.5
#: a short question the classifier puts off the union's topics this surely is a question of its own, not a follow-up
SURE_OFF_TOPIC = 0.9
#: ("thế ở Đống Đa?": a place alone after "thế"/"vậy" is a follow-up even when the place names an entry)
_FOLLOW_START = ("con ", "the con ", "vay con ", "trong do ", "trong so do ", "the o ", "vay o ", "the tai ",
                 "vay tai ")
#: starts of a follow-up that are words of other questions too ("vay" is "vậy" and "vay vốn"; "thế", "và", "thì"):
#: a follow-up only when the message names no entry of its own
_LOOSE_START = ("the ", "vay ", "va ", "thi ")
#: a question this short that names no place, cluster, phase or year of its own may lean on the previous one
#: ("ngày nào vậy ad", "số tiền bao nhiêu ạ?"): it is read against it when alone it is no answer
SHORT_QUESTION = 7
_FOLLOW_END = ("thi sao", "thi the nao", "thi nao", "thi")
#: endings of a follow-up and of any question ("vay vốn thế nào"): a follow-up only when it names no entry of its own
_LOOSE_END = ("the nao", "ra sao", "sao")
_SPLIT_PARTS = re.compile(r"[?;\n]+")
_AND = re.compile(r",?\s+(?:và|va|với|voi)\s+", re.IGNORECASE)


def entry_records(entries: Iterable[Entry], t: Translator, lang: str = "vi") -> list[Record]:
    """Each knowledge entry's fields as sentences the evidence index may answer with."""
    out: list[Record] = []
    for e in entries:
        label = " ".join(x for x in (e.name, e.unit or "") if x)

        def add(texts: Sequence[str], e: Entry = e, label: str = label) -> None:
            texts = tuple(x.strip() for x in texts if x and x.strip())
            for i, text in enumerate(texts):
                out.append(Record(text=text, title=e.source.title, date=e.as_of, doc=e.source.document,
                                  paragraph=texts, position=i, label=label, entry_id=e.id, exact_date=False))

        add(_sentences(e.summary))
        if e.details:
            add(_sentences(e.details))
        if e.benefit:
            b = e.benefit
            add([t("facts.kb.benefit", lang, partner=b.partner, products=", ".join(b.products) or e.name,
                   discount=b.discount)])
        for block in (e.programme, e.loan):
            if block is not None and block.figures:
                add([t("facts.kb.figures", lang, name=e.name, figures=block.figures)])
        if e.campaign:
            add([t("facts.kb.phase", lang, campaign=e.name, number=p.number, starts=fmt_date(p.starts_on),
                   ends=fmt_date(p.ends_on), theme=p.theme or "") for p in e.campaign.phases])
        if e.cluster:
            c = e.cluster
            if c.members:
                add([t("facts.kb.members", lang, name=e.name, count=len(c.members), members=", ".join(c.members))])
            if c.leader_person:
                add([t("facts.kb.leader", lang, name=e.name, person=c.leader_person, unit=c.leader_unit or "")])
        if e.commendation:
            add([t("facts.kb.figures", lang, name=e.name, figures=e.commendation.figures)])
    return out


@lru_cache(maxsize=1)
def domain_words() -> frozenset[str]:
    """The words of the in-scope intent examples, accents kept: the domain's everyday language."""
    return frozenset(w.lower() for text, label in load_training_examples() if label != intents.OUT_OF_SCOPE
                     for w in tokens(normalize_tones(clean(text))))


@lru_cache(maxsize=1)
def acronyms() -> dict[str, tuple[str, str]]:
    """The acronyms of the language data (one word for several: "cđcs" → "công đoàn cơ sở"), by their folded form:
    (the acronym as written there, what it stands for). The accented spelling wins over the unaccented one."""
    out: dict[str, tuple[str, str]] = {}
    for short, long in load_abbreviations().items():
        if " " in short.strip() or len(long.split()) < 2 or not short.isalpha():
            continue
        key = fold(short)
        if key not in out or fold(out[key][0]) == out[key][0]:
            out[key] = (short, long)
    return out


#: words a question about an acronym is made of besides the acronym or its words ("… là viết tắt của gì")
_ACRONYM_WORDS = frozenset({"viet", "tat", "nghia", "chu", "cua", "tu", "la", "gi", "j", "sao", "the", "nao", "vay",
                            "a", "ad", "oi", "cho", "em", "minh", "hoi", "ai", "biet", "khong", "ko", "duoc", "ban"})
_ACRONYM_CUE = re.compile(r"\bviet tat\b|\bla (gi|j)\b|\bnghia la\b")


def as_passages(passages: Iterable) -> list[Passage]:
    """Stored passages (``storage.documents.PassageInfo``, or nlu ``Passage``) as the evidence index takes them
    (``nlu.cache.evidence_index`` makes them records when it builds the index)."""
    return [p if isinstance(p, Passage) else Passage(p.id, p.document_id, p.title, p.published, p.origin,
                                                     p.paragraph, p.sentence, p.text, p.publication)
            for p in passages]


def _sentences(text: str) -> list[str]:
    return [s for s in re.split(r"(?<=[.!?;])\s+(?=[A-ZĐÀ-Ỹ“\"(])", text.strip()) if s]


def declined(t: Translator, lang: str, reason: str) -> str:
    """A question the bot does not answer: why (what it has no information on, or that it found nothing), then the
    topics it knows and whom to ask."""
    return "\n".join((reason, t("fallback.offer", lang), t("help.contact", lang)))


def named_entities(u: Understanding) -> list[EntityMatch]:
    """The knowledge entries the question names by a name of their own (several words, or one long one)."""
    return [e for e in u.entities if " " in e.matched or len(e.matched) >= 6]


def is_follow_up(text: str, names_own: bool = False) -> bool:
    """"còn sữa thì sao?", "đợt 2 thì sao?", "thế ở Đống Đa?", "thế cụm trưởng là ai", "đợt 2 ra sao" — but not
    "vay vốn quỹ trợ vốn thế nào" (``names_own``: the message names a knowledge entry): a question of its own."""
    words = " ".join(tokens(fold(clean(text))))
    if not words or len(words.split()) > 9 or words.startswith("the nao"):
        return False
    return words.startswith(_FOLLOW_START) or words.endswith(_FOLLOW_END) \
        or not names_own and (words.startswith(_LOOSE_START) or words.endswith(_LOOSE_END))


#: a term longer than this is no name of anything: it is not repeated back in a refusal
MAX_NAMED = 60


class _Searches:
    """``EvidenceIndex.search`` for one message: each distinct reading searched once (a follow-up's readings and
    its parts may repeat one). Kept per message, never longer: the index may be replaced between messages."""

    def __init__(self, index: EvidenceIndex) -> None:
        self.index = index
        self.found: dict[Question, Finding] = {}

    def __call__(self, q: Question) -> Finding:
        found = self.found.get(q)
        if found is None:
            found = self.found[q] = self.index.search(q)
        return found


class Reading:
    """One message's reading by the evidence index (``EvidenceIndex.read``), read when first needed and then shared:
    the fact answers, the topic gate (``KnowledgeAnswers.covers``) and the context kept for a follow-up read a message
    once. Kept per message, never longer (like ``_Searches``)."""

    def __init__(self, index: EvidenceIndex, text: str, pointed: bool = False) -> None:
        self.index, self.text = index, text
        #: the text names, in a pointer's place, a person the previous answer named (``FactAnswers.resolve``)
        self.pointed = pointed
        self._question: Question | None = None

    @property
    def question(self) -> Question:
        if self._question is None:
            self._question = self.index.read(self.text)
        return self._question


class FactAnswers:
    def __init__(self, index: EvidenceIndex, t: Translator, states: StateStore, unanswered: UnansweredLog,
                 clock: Callable[[], datetime], log_unanswered: bool = True) -> None:
        self.index = index
        self.t = t
        self.states = states
        self.unanswered = unanswered
        self.clock = clock
        self.log_unanswered = log_unanswered
        #: the knowledge entries by id (the core sets them): a source line names their publication and date
        self.entries: Mapping[str, Entry] = {}

    def reading(self, incoming: Incoming, pointed: bool = False) -> Reading:
        """The message's reading, for :meth:`respond` and whatever else of the message needs it."""
        return Reading(self.index, incoming.text or "", pointed)

    async def respond(self, incoming: Incoming, u: Understanding, lang: str, log: bool = True,
                      reading: Reading | None = None) -> Outcome | None:
        """The evidence's answer, an honest refusal, or None: the knowledge-entry answers (or the fallback) decide.
        A refusal is logged as unanswered for the chairs, unless ``log`` is false (the core only tries the evidence).
        ``reading``: the message's (:meth:`reading`), when the caller reads it too."""
        outcome = await self._respond(incoming, u, lang, reading or self.reading(incoming))
        if outcome is not None and outcome.fallback and log and self.log_unanswered and u.normalized.folded:
            self.unanswered.record(u.normalized.folded, incoming.text or "", incoming.channel, u.intent, u.confidence,
                                   self.clock(), asker_of(incoming))
        return outcome

    async def _respond(self, incoming: Incoming, u: Understanding, lang: str, reading: Reading) -> Outcome | None:
        text = incoming.text or ""
        if u.intent == intents.EMULATION_PHASE and slots.asks_current(u.tokens):
            return None  # "the phase running now" is the clock's question: the phase answers know today
        if (short := self._acronym(text, lang)) is not None:
            return Outcome([Reply(short)], u.intent if u.intent in intents.INTENT_KINDS else intents.UNION_FACT, 1.0,
                           False)
        question = reading.question
        explicit = is_follow_up(text, names_own=bool(named_entities(u)))
        # a short question without a place, cluster, phase or year may lean on the previous one — unless it names
        # its own subject ("sữa hà lan giảm bao nhiêu" after a rice question asks about the milk only)
        # — and unless the classifier puts it off the union's topics ("giá vàng hôm nay" after a rice question is
        # the gold price, not the rice's)
        implicit = not explicit and not (u.intent == intents.OUT_OF_SCOPE and u.confidence >= SURE_OFF_TOPIC) \
            and not question.constrained \
            and len(question.tokens) <= SHORT_QUESTION and not named_entities(u)
        previous = await self._previous(incoming) if explicit or implicit else None
        search = _Searches(self.index)  # this message's searches: a reading searched twice is searched once
        against_read: tuple[Question, list[Finding]] | None = None
        # "hôm đó", "bài đó", "đợt ấy": the word pointed at names the previous question's subject, no key term of
        # its own the evidence must hold (the previous question's terms stand for it)
        fragment = _unpointed(text, question) if previous is not None else question
        if previous is not None and implicit:
            # read against the previous question when that reading answers (it is the more specific: "số tiền bao
            # nhiêu ạ?" after a loan question asks the loan's amount); else alone, a question of its own — alone it
            # names what no record mentions (what ``search`` first asks: ``unknown``), a question of its own, not
            # read against the previous one. Searched alone only when it is read alone.
            if any(self.index.unknown(p) for p in self.index.split(fragment)):
                against_read = None
            else:
                against_read = self._read_against(previous, fragment, search)
            if against_read is None or not any(
                    f.status == "answered" and not self._salient(f.gaps) for f in against_read[1]):
                previous, against_read = None, None
        # "ông ấy …" read with the name of the person the previous answer named (``resolve``): about that answer
        pointed = previous is None and reading.pointed
        if u.intent == intents.OUT_OF_SCOPE and previous is None and not pointed:
            return None  # off the union's topics (gold, weather, traffic): the core's out-of-scope fallback says so
        parts = self._parts(text) if previous is None else []
        if len(parts) > 1:  # two questions in one message ("… bao nhiêu? còn … thì sao?"): each gets its answer
            findings, prior = [], None
            for part in parts:
                read = self.index.read(part)
                if prior is not None and (is_follow_up(part) or _lacks_constraints_of(read, prior)):
                    # a part that leans on the first ("… và ai là cụm trưởng", "… và ai là cụm trưởng năm 2021":
                    # the first's cluster, its own year): read against it, unless alone it is answered and against
                    # the first it is not (searched alone only then)
                    # (a reading answered by the very sentence that answered an earlier part asks that again: "… và
                    # tiền ăn ca nâng lên bao nhiêu" is not the first part's figure; the next reading is tried)
                    shown = frozenset(r.text for f in findings if f.status == "answered" for r in f.records[:1])
                    merged, against = self._read_against(prior, read, search, shown)
                    if any(f.status == "answered" and not _repeats(f, shown) for f in against):
                        read, found = merged, against
                    else:
                        found = [search(p) for p in self.index.split(read)]
                        if not any(f.status == "answered" for f in found):
                            read, found = merged, against
                else:
                    found = [search(p) for p in self.index.split(read)]
                findings.extend(found)
                prior = read
        elif previous is not None:
            question, findings = against_read or self._read_against(previous, fragment, search)
        else:
            findings = [search(p) for p in self.index.split(question)]
        # confidence comes from the evidence: an answer whose sentence and paragraph lack a key term of the question
        # ("xe máy" asked, a milk discount found) answers nothing
        findings = [f if f.status != "answered" or not self._salient(f.gaps) else replace(f, status="weak")
                    for f in findings]
        answered = [f for f in findings if f.status == "answered"]
        unknown = [f for f in findings if f.status == "unknown"]
        offer = u.intent == intents.BENEFIT  # an answer about an offer says when it may have changed
        in_scope = u.intent in intents.INTENT_KINDS or previous is not None or pointed  # a follow-up
        plain = question.kind in (None, "list") and not question.constrained and len(findings) == 1
        if in_scope and plain and previous is None and not unknown:
            # a question about a topic: the knowledge entries' sheets and lists answer it, when the evidence covers it
            if uncovered := self._uncovered([question]):
                return await self._decline(incoming, text, self._unknown_text(uncovered, text, lang), u, lang)
            if not named_entities(u) and answered and self.index.names_it(answered[0]):
                # the member names something no entry is called ("mục tiêu kép là gì"): the sentence naming it
                # answers, not the category's entries the classifier leans to
                return Outcome([self._answer(findings, text, lang, offer)], u.intent, answered[0].coverage, False,
                               keep={ASKED: {"at": self.clock().isoformat(), "question": question.as_dict()}})
            return None
        intent = u.intent if in_scope else intents.UNION_FACT
        missing = [m for f in unknown for m in f.missing]
        constraint_missing = any(kind != "term" for kind, _ in missing)
        if answered:  # (out of scope, only a follow-up gets this far)
            return Outcome([self._answer(findings, text, lang, offer)], intent, max(f.coverage for f in answered),
                           False,
                           keep={ASKED: {"at": self.clock().isoformat(), "question": question.as_dict()}})
        if constraint_missing:
            return await self._decline(incoming, text, self._unknown_text(missing, text, lang), u, lang)
        named = named_entities(u)
        # the entries the knowledge answers would show: those it names, else the related ones ``qa`` would list
        entries = [e.entry_id for e in named] or related_shown(u, self.index.entry_ids)
        # (a comparison, "Đống Đa và Tây Hồ", "2020 và 2021", names several: each side may fit its own entry)
        if question.constrained and entries and not any(
                e in self.entries and entry_fits(self.entries[e], question, self.index) for e in entries):
            # the entry it names is another district's, cluster's or year's: its sheet would not answer this (what
            # the evidence lacks is named when it is known: the place of a subject described elsewhere)
            uncovered = self._uncovered([f.question for f in findings]) if in_scope else []
            reason = self._unknown_text(uncovered, text, lang) if uncovered else self.t("facts.not_found", lang)
            return await self._decline(incoming, text, reason, u, lang)
        confident = in_scope and (bool(named) or u.confidence >= CONFIDENT)
        if unknown and (self._salient(v for kind, v in missing if kind == "term") and not named or not confident):
            return await self._decline(incoming, text, self._unknown_text(missing, text, lang), u, lang)
        # the knowledge entries' sheets and lists answer only what the evidence covers: every key term of the
        # question held by one paragraph (of a document or an entry) about its place and cluster
        if in_scope and (uncovered := self._uncovered([f.question for f in findings])):
            return await self._decline(incoming, text, self._unknown_text(uncovered, text, lang), u, lang)
        roles = self.index.lang.roles
        who = "ai" in question.tokens or any(a in roles or b in roles for a, b in question.compounds)
        if in_scope and question.kind in ONE_FACT and who and question.constrained and len(findings) == 1:
            # who holds a title in one district, cluster or year: the index holds the entries' fields too, so a name
            # none of them states is not in the entry's sheet either ("tên gì" of a phase asks no person)
            return await self._decline(incoming, text, self.t("facts.not_found", lang), u, lang)
        if question.kind in CREDITS and len(findings) == 1:
            # who wrote an article or took a photo: only its byline or caption says, never an entry's sheet
            return await self._decline(incoming, text, self.t("facts.not_found", lang), u, lang)
        if in_scope and question.kind == "definition" and not named and len(findings) == 1 and previous is None:
            # "X là gì" with no sentence defining X and no entry named X: another entry's sheet defines nothing
            return await self._decline(incoming, text, self.t("facts.not_found", lang), u, lang)
        if u.intent == intents.EMULATION_PHASE and question.years and not self._campaigns_of(question):
            # the phases answer lists the campaigns the knowledge has: none of the year (and district) asked
            return await self._decline(incoming, text, self.t("facts.not_found", lang), u, lang)
        if in_scope and previous is None and (named or u.confidence >= CONFIDENT):
            # a question about a topic the evidence covers: the knowledge entries answer as before — but one fact
            # (how much, when, who) that no sentence states is not answered by a merely related entry's sheet
            return None
        if in_scope and (question.kind in SPECIFIC or question.constrained or previous is not None):
            return await self._decline(incoming, text, self.t("facts.not_found", lang), u, lang)
        return None

    def _campaigns_of(self, q: Question) -> list[Entry]:
        """The knowledge's campaigns of the question's year, with the phases it names, about its district or
        cluster."""
        return [e for e in self.entries.values() if e.campaign and e.campaign.year in q.years
                and entry_fits(e, q, self.index)]

    def _acronym(self, text: str, lang: str) -> str | None:
        """"CĐCS là gì?", "CNVCLĐ là viết tắt của gì", "công đoàn cơ sở viết tắt là gì": what an acronym of the
        language data stands for, when the question asks nothing else."""
        words = [fold(w) for w in tokens(clean(text))]
        if not words or len(words) > 12 or not _ACRONYM_CUE.search(" ".join(words)):
            return None
        table = acronyms()
        named = [w for w in words if w in table]
        rest = [w for w in words if w not in table and w not in _ACRONYM_WORDS]
        if not named and len(rest) == 1 and len(rest[0]) >= 3 and vowels(rest[0]) <= 1:
            # an acronym typed one letter off ("vCĐCS", "CNVCLE": consonants, but for the slipped letter): the one
            # acronym of the language data that close, when only one is ("LĐĐ" is "LĐ" or "LĐLĐ": not answered)
            near = [k for k in table if Levenshtein.distance(k, rest[0], score_cutoff=1) <= 1]
            if len(near) == 1:
                named, rest = near, []
        if len(named) == 1 and not rest:  # the acronym is asked about
            short, long = table[named[0]]
        elif not named and "tat" in words:  # the words are, and "viết tắt" asks their acronym
            wanted = " ".join(rest)
            found = [v for v in table.values() if fold(v[1]) == wanted]
            if not found:
                return None
            short, long = found[0]
        else:
            return None
        return self.t("facts.acronym", lang, short=short.upper(), long=long)

    def remember(self, keep: Mapping[str, object], replies: Sequence[Reply]) -> dict:
        """An answer's ``keep`` with what its first page said (clipped): "ông ấy …" next is read with a name it
        gives. The names are read only then (``resolve``), not for every answer."""
        asked = keep.get(ASKED)
        said = "\n".join(r.text for r in replies)[:MAX_SAID]
        if not isinstance(asked, dict) or not said:
            return dict(keep)
        return {**keep, ASKED: {**asked, "said": said}}

    def resolve(self, text: str, state: State | None) -> str:
        """A question pointing at a person the previous answer named ("ông ấy làm chủ tịch quận nào", "chị đó …"),
        with that person's name in place of the pointer, while the answer is recent; else the text as it is. The
        pointer's sex picks among several names ("bà", "chị": a name with "Thị"; "ông", "anh": one without)."""
        asked = self._recent(state)
        said = asked.get("said") if asked is not None else None
        if not said or not isinstance(said, str) or not text:
            return text
        words = list(re.finditer(r"\w+", text))
        folded = [fold(w.group()).lower() for w in words]
        pointers = self.index.lang.pointers
        for i in range(len(words)):
            for size in (3, 2):
                sex = pointers.get(tuple(folded[i:i + size]))
                if sex is None or i + size > len(words):
                    continue
                people = self.index.people(said)[:MAX_PEOPLE]
                if not people:
                    return text
                female = [p for p in people if " thị " in f" {p.lower()} "]
                male = [p for p in people if p not in female]
                name = ((female if sex == "f" else male if sex == "m" else []) or people)[0]
                return f"{text[:words[i].start()]}{name}{text[words[i + size - 1].end():]}"
        return text

    def context(self, question: Question) -> dict:
        """What the chat keeps after an answer the knowledge entries gave: the question (the message's reading), for
        a follow-up."""
        return {ASKED: {"at": self.clock().isoformat(), "question": question.as_dict()}}

    def _parts(self, text: str) -> list[str]:
        """The questions of a message split at "?", ";" and line ends: those that ask something of their own. Empty,
        read nothing, when the message has room for one question at most (one piece of two words or more, not two
        sides of "và" of two words each): the caller splits only two or more."""
        pieces = [p for p in _SPLIT_PARTS.split(text) if len(p.split()) >= 2]
        if len(pieces) < 2 and not any(len(sides := _AND.split(p, maxsplit=1)) == 2
                                       and all(len(x.split()) >= 2 for x in sides) for p in pieces):
            return []
        out: list[str] = []
        for part in _SPLIT_PARTS.split(text):
            read = self.index.read(part) if len(part.split()) >= 2 else None
            if read is None or not (read.terms or read.constrained):
                continue
            # "cụm 3 có mấy đơn vị và ai là cụm trưởng", "ai phát biểu … và cụm trưởng là ai", "bao nhiêu công nhân
            # giỏi và bao nhiêu cá nhân tiêu biểu": each side of "và" asks with a cue of its own, two questions
            pieces = _AND.split(part, maxsplit=1)
            if len(pieces) == 2 and all(len(p.split()) >= 2 for p in pieces):
                left, right = (self.index.read(p) for p in pieces)
                if left.kind and right.kind and (left.kind != right.kind or left.terms and right.terms):
                    out.extend(p.strip() for p in pieces)
                    continue
            out.append(part.strip())
        return out

    def _read_against(self, previous: Question, fragment: Question, search: _Searches,
                      shown: frozenset[str] = frozenset()) -> tuple[Question, list[Finding]]:
        """A follow-up read against the previous question: the first reading the evidence answers (by a sentence not
        among ``shown``: the answers of the message's earlier parts), else the first."""
        first: tuple[Question, list[Finding]] | None = None
        readings = self.index.merge(previous, fragment)
        if _names_only_constraints(fragment):
            # "còn cụm 1 thì sao" after "cụm 3 gồm những đơn vị nào": the previous question asked of cluster 1, its
            # words ranking the evidence as they did (the members, not the first sentence about cluster 1)
            asked = _asked_again(previous, fragment)
            readings = [replace(r, tokens=asked) for r in readings]
        # a word of the fragment's own that no record holds ("chứng khoán") is in each reading, typed the same: none
        # can answer, and the first says what the evidence lacks as the others would
        lacking = {v for kind, v in self.index.unknown(fragment) if kind == "term"} & set(fragment.terms)
        if lacking - set(previous.asked):
            readings = readings[:1]
        for n, reading in enumerate(readings):
            found = [search(p) for p in self.index.split(reading)]
            if first is None:
                first = (reading, found)
            # a fragment naming a subject of its own ("còn gạo kim sáng thì sao?") replaces the previous subject: a
            # reading answered by a sentence that still holds what it replaced answers the previous question again
            replaced = [t for t in previous.terms if t not in reading.terms] if fragment.terms else []
            if n + 1 < len(readings) and any(self.index.restates(f, replaced) for f in found):
                continue
            if any(f.status == "answered" and not self._salient(f.gaps) and not _repeats(f, shown) for f in found):
                return reading, found
        return first if first is not None else (fragment, [search(fragment)])

    def _uncovered(self, questions: Sequence[Question]) -> list[tuple[str, str]]:
        """What the evidence lacks of the questions (``EvidenceIndex.uncovered``): a place or cluster, or the salient
        key terms; empty when it covers them."""
        missing = [m for q in questions if self._salient(gaps := self.index.gaps(q))
                   for m in self.index.uncovered(q, gaps)]
        salient = set(self._salient(v for kind, v in missing if kind == "term"))
        return list(dict.fromkeys(m for m in missing if m[0] != "term" or m[1] in salient))

    @staticmethod
    def _salient(terms: Iterable[str]) -> list[str]:
        """Terms a refusal may rest on: syllables, names ("masan") and product codes ("st25"), not unknown acronyms
        ("cđvn", "bhxh": consonants)."""
        return list(dict.fromkeys(t for t in terms if spelled_out(t)
                                  or any(c.isdigit() for c in t) and any(c.isalpha() for c in t)))

    # ----- replies ------------------------------------------------------------------------------
    def _answer(self, findings: Sequence[Finding], text: str, lang: str, offer: bool = False) -> Reply:
        """The answers of each part of the question, each source under its sentences. A reply too long for one page
        shows on its first page the first answer whole, or its first sentences with their source (the first source is
        never pushed behind "xem thêm"), then the lines of the next answers that fit; the rest are the pages after."""
        groups: list[tuple[list[str], list[str]]] = []  # (sentences, source lines); a part's first has a blank line
        titles: list[str | None] = []
        for f in findings:
            if f.status == "answered":  # a long sentence: the clauses that answer (``_block`` clips what is left)
                found = self._block([self.index.excerpt(r, f.question, MAX_SENTENCE) for r in f.records], lang, offer)
            elif f.status == "unknown":
                found = [(None, [self._unknown_text(f.missing, text, lang, short=True)], [])]
            else:
                found = [(None, [self.t("facts.part_not_found", lang, topic=self._topic(f.question, text))], [])]
            if groups and found[0][0] is not None and found[0][0] == titles[-1]:
                # the next part answered from the same document: under the same source line
                title, body, _foot = found.pop(0)
                shown = set(groups[-1][0])  # a sentence answering both parts is shown once
                groups[-1] = ([*groups[-1][0], *(line for line in body if line not in shown)], groups[-1][1])
            elif groups:
                found[0] = (found[0][0], ["", *found[0][1]], found[0][2])
            groups.extend((body, foot) for _title, body, foot in found)
            titles.extend(title for title, _body, _foot in found)
        if groups and groups[0][0] and findings and self._yes(findings[0]):
            # "… có … không" answered by a sentence: the answer says "Có" first, then the evidence
            evidence = groups[0][0][0]
            evidence = evidence[:1].upper() + evidence[1:]  # "Có. Đồng chí …", a sentence of its own
            groups[0] = ([self.t("facts.affirm", lang, answer=evidence), *groups[0][0][1:]], groups[0][1])
        whole = "\n".join(line for body, foot in groups for line in (*body, *foot))
        if not pages.too_long(whole):
            return Reply(whole)
        first: list[str] = []
        later: list[str] = []
        for n, (body, foot) in enumerate(groups):
            # the whole answer when it fits; else its first sentences with its source; else it goes after
            k = len(body)
            while k and (pages.too_long("\n".join((*first, *body[:k], *foot))) or not "".join(body[:k]).strip()):
                k -= 1
            if n and k < len(body):  # a later answer: the lines that fit, its source on the next page if need be
                later = [line for b, f in groups[n:] for line in (*b, *f)]
                while later and not pages.too_long("\n".join((*first, later[0]))):
                    first.append(later.pop(0))
                while first and not first[-1]:  # no blank line ends a page
                    first.pop()
                break
            if k == 0:  # one sentence longer than a page: the layout cuts it, its source still on the first page
                page, after = pages.layout(body, foot)
                return Reply(page, more=(*after, *self._pages([line for b, f in groups[n + 1:] for line in (*b, *f)])))
            first.extend((*body[:k], *foot))
            if k < len(body):
                later = [*body[k:], *(line for b, f in groups[n + 1:] for line in (*b, *f))]
                break
        return Reply("\n".join(first), more=self._pages(later))

    @staticmethod
    def _yes(f: Finding) -> bool:
        """A yes/no question ("ở Đống Đa có khám … không") answered by its sentence: not a figure, date or name asked
        ("có bao nhiêu … không"), not "có phải … không" (the sentence may say no), every key term held."""
        toks = [t for t in f.question.tokens if t not in _YES_TAIL]
        return (f.status == "answered" and f.question.kind is None and not f.gaps and len(toks) > 2
                and toks[-1] == "khong" and "co" in toks[:-1] and "phai" not in toks)

    @staticmethod
    def _pages(lines: Sequence[str]) -> tuple[str, ...]:
        lines = [line for line in lines if line]
        if not lines:
            return ()
        page, after = pages.layout(lines)
        return (page, *after)

    def _block(self, records: Sequence[Record], lang: str, offer: bool = False
               ) -> list[tuple[str | None, list[str], list[str]]]:
        """The sentences, each document's source under its own; under an offer's (an entry's offer, or any sentence
        when ``offer``: the question asks about one) that it may have changed, when the information is over a year
        old. One (title, sentences, source lines) per document (a knowledge entry's sentences and those of the
        article it names, under one source line)."""
        out: list[tuple[str | None, list[str], list[str]]] = []
        by_doc: dict[str, list[Record]] = {}
        for r in records:
            by_doc.setdefault(r.title or f"\0{r.doc}", []).append(r)  # an untitled source: by its document
        today = self.clock().date()
        for key, group in by_doc.items():
            out.append((key, [clip(r.text, MAX_SENTENCE) for r in group], []))
            lines = out[-1][2]
            r = group[0]
            entry = self.entries.get(r.entry_id or "")
            if entry is not None:  # a knowledge entry's sentence: its source as the entry records it
                src = entry.source
                lines.append(sources.source_line(self.t, lang, title=src.title, publication=src.publication,
                                                 published=src.published, as_of=entry.as_of))
            elif r.date is None:  # an undated page: its title (and publication) in the one source style
                lines.append(sources.source_line(self.t, lang, title=r.title, publication=r.publication))
            else:  # a document's sentence: its publication, and its date is the article's when it names one
                lines.append(sources.source_line(self.t, lang, title=r.title, publication=r.publication,
                                                 published=r.date if r.exact_date else None,
                                                 as_of=None if r.exact_date else r.date, exact=False))
            offers = [e.as_of for x in group if x.entry_id is not None
                      and (e := self.entries.get(x.entry_id)) is not None and (e.benefit is not None or offer)]
            offers += [x.date for x in group if offer and x.entry_id is None and x.date is not None]
            if offers and (stale := sources.stale_line(self.t, lang, max(offers), today)):
                lines.append(stale)
        return out

    def _unknown_text(self, missing: Sequence[tuple[str, str]], text: str, lang: str, short: bool = False) -> str:
        # a phone number, an address or an ID the member typed is never repeated back (a group may read it)
        terms = frozenset(value for kind, value in missing if kind == "term")
        named = list(dict.fromkeys(self._name(kind, value, text, lang, terms) for kind, value in
                                   dict.fromkeys(missing)))
        # each thing once: the pieces of one phrase ("ưu đãi gạo", "gạo kim sáng") are named by the whole phrase
        named = [w for w in named if not any(o != w and f" {w.strip('“”')} " in f" {o.strip('“”')} " for o in named)]
        # a term of the previous question a follow-up leans on is not in its text: not named as a bare folded word
        if not all(named):  # unless nothing else is named
            named = [w for w in named if w] or [f"“{value}”" for kind, value in dict.fromkeys(missing)]
        what = [w for w in named if len(w) <= MAX_NAMED and scrub(w) == w]
        line = self.t("facts.unknown", lang, what=", ".join(what)) if what else self.t("facts.not_found", lang)
        if short:
            return line
        # the clusters the evidence describes, when it asks one it does not (not when the cluster is known and only
        # the subject is not described there: "cụm 3 … / có thông tin về các cụm 1, 3, 6" says two things)
        strange = {value for kind, value in missing if kind == "cluster"} - {str(n) for n in self.index.known_clusters}
        if strange and self.index.known_clusters:
            line += "\n" + self.t("facts.known_clusters", lang,
                                  numbers=", ".join(str(n) for n in sorted(self.index.known_clusters)))
        return line

    def _name(self, kind: str, value: str, text: str, lang: str, terms: frozenset[str] = frozenset()) -> str:
        """How a refusal names what it has no information on: a cluster, phase or year in words; a place or key term
        as typed, a term with the words around it that make the thing asked ("vé xem phim"), the other unknown
        terms beside it (``terms``) always whole."""
        if kind == "cluster":
            return self.t("facts.name.cluster", lang, number=value)
        if kind == "phase":
            return self.t("facts.name.phase", lang, number=value)
        if kind == "year":
            return self.t("facts.name.year", lang, year=value)
        words = tokens(clean(text))
        folded = [fold(w) for w in words]
        target = value.split()
        for i in range(len(folded) - len(target) + 1):
            if folded[i:i + len(target)] == target:
                start, end = i, i + len(target)
                if kind == "term":  # the words around it that make the thing asked about ("vé xem phim")
                    def inside(k: int) -> bool:
                        if fold(words[k]) == "may" and words[k].lower() not in ("may", "mấy"):
                            return True  # "máy" is a thing ("xe máy"), not the question word "mấy"
                        return folded[k] not in _BOUNDARY and folded[k] not in self.index.lang.everyday
                    while start > 0 and folded[start - 1] in terms:
                        start -= 1
                    while end < len(folded) and folded[end] in terms:
                        end += 1
                    limit = max(4, end - start)
                    stop = self.index.lang.stopwords
                    # a phrase of several words (the index's: what the evidence lacks and the words typed that
                    # belong to it, "vé tàu", "dầu ăn") is named without the verb or offer before it ("mua", "ưu
                    # đãi"), but for the first syllable of its first word when that is no word the evidence writes
                    # ("nghiệm" of "xét nghiệm")
                    bound = len(target) == 1 or target[0] not in self.index.vocabulary
                    if bound and start > 0 and folded[start - 1] not in _BOUNDARY and folded[start - 1] not in stop:
                        start -= 1  # the first syllable of its word, even an everyday one ("xét nghiệm")
                    while len(target) == 1 and start > 0 and inside(start - 1) and end - start < limit:
                        start -= 1
                    while end < len(folded) and inside(end) and end - start < limit:
                        end += 1
                    pairs = self.index.bigrams  # never a word cut in two ("miễn" without "phí")
                    if end < len(folded) and inside(end) and (folded[end - 1], folded[end]) in pairs:
                        end += 1
                    if len(target) == 1 and start > 0 and inside(start - 1) \
                            and (folded[start - 1], folded[start]) in pairs:
                        start -= 1
                    if start > 0 and folded[start - 1:start + 1] == ["cong", "ty"]:
                        start -= 1  # "công ty Masan", not "ty Masan"
                if kind == "place":  # a district's name as names are written: "Hoàng Mai", not "hoàng mai"
                    return "“" + " ".join(w[:1].upper() + w[1:] for w in words[start:end]) + "”"
                return "“" + " ".join(words[start:end]) + "”"
        return "" if kind == "term" else "“" + value + "”"

    def _topic(self, q: Question, text: str) -> str:
        return " ".join(q.terms) or text

    async def _decline(self, incoming: Incoming, text: str, reason: str, u: Understanding, lang: str) -> Outcome:
        body = declined(self.t, lang, reason)
        return Outcome([Reply(body)], u.intent if u.intent != intents.OUT_OF_SCOPE else intents.OUT_OF_SCOPE,
                       u.confidence, True)

    # ----- follow-ups ---------------------------------------------------------------------------
    def _recent(self, state: State | None) -> dict | None:
        """What the chat keeps of the last answer (``ASKED``), while a follow-up may lean on it."""
        asked = state.data.get(ASKED) if state is not None else None
        try:
            if isinstance(asked, dict) and self.clock() - datetime.fromisoformat(asked["at"]) <= FOLLOW_UP_FOR:
                return asked
        except (KeyError, TypeError, ValueError):
            pass
        return None

    async def _previous(self, incoming: Incoming) -> Question | None:
        asked = self._recent(await self.states.get(state_key(incoming)))
        try:
            return Question.from_dict(asked["question"]) if asked is not None else None
        except (KeyError, TypeError, ValueError):
            return None


def _names_only_constraints(fragment: Question) -> bool:
    """A follow-up that changes only the district, cluster, phase or year ("còn cụm 1 thì sao", "thế ở Đống Đa?"):
    no question word, key term or compound of its own."""
    return fragment.constrained and fragment.kind is None and not fragment.terms and not fragment.compounds \
        and not fragment.title


def _unpointed(text: str, fragment: Question) -> Question:
    """A follow-up without the words a demonstrative points with ("hôm đó", "bài ấy", "đợt này": the one the
    previous question asked about), and the compounds holding them: no key terms of its own. The demonstrative as
    typed with its marks ("đó", not "do": because), or "ay" (ấy) bare."""
    words = tokens(clean(text))
    pointed = {fold(words[i - 1]) for i in range(1, len(words))
               if words[i].lower() in _POINTING or fold(words[i]).lower() == "ay"}
    if not pointed & set(fragment.terms):
        return fragment
    gone = pointed | {w for c in fragment.compounds if set(c) & pointed for w in c}
    return replace(fragment, terms=tuple(t for t in fragment.terms if t not in gone),
                   compounds=tuple(c for c in fragment.compounds if not set(c) & pointed))


def _repeats(finding: Finding, shown: frozenset[str]) -> bool:
    """Whether a finding is answered by a sentence already shown for an earlier part of the message."""
    return bool(shown) and finding.status == "answered" and bool(finding.records) and finding.records[0].text in shown


def _lacks_constraints_of(part: Question, prior: Question) -> bool:
    """Whether a later part of a message leaves out a kind of constraint (district, cluster, phase, year) the earlier
    part names: it keeps that one (``EvidenceIndex.merge`` keeps each kind the part names of its own)."""
    return any(getattr(prior, attr) and not getattr(part, attr) for attr in ("places", "clusters", "phases", "years"))


def _asked_again(previous: Question, fragment: Question) -> tuple[str, ...]:
    """The previous question's words with the constraints the follow-up replaces left out (the number of the
    cluster, phase or year, the district's name), then the follow-up's."""
    gone: set[str] = set()
    if fragment.places:
        gone.update(w for p in previous.places for w in p.split())
    numbered = fragment.clusters or fragment.phases or fragment.years
    return (*(t for t in previous.tokens if t not in gone and not (numbered and t.isdigit())), *fragment.tokens)


#: demonstratives as typed: the word before one points at what the previous question asked about
_POINTING = frozenset({"đó", "đấy", "ấy", "này", "kia", "nọ"})

#: particles after the "không" that ends a yes/no question ("… không ạ", "… không vậy")
_YES_TAIL = frozenset({"a", "ah", "vay", "nhi", "nhe", "ha", "ad", "oi", "z", "v"})

#: words that end the phrase named in "mình chưa có thông tin về …"
_BOUNDARY = frozenset({
    "co", "khong", "duoc", "cho", "la", "gi", "nao", "bao", "nhieu", "may", "ai", "the", "thi", "sao", "a",
    "ad", "oi", "nhe", "voi", "va", "hoi", "minh", "em", "ban", "anh", "chi", "cong", "doan", "vien", "nguoi",
    "lao", "dong", "o", "dau", "khi", "cua", "ko", "k", "vay", "nhu", "ntn", "j", "bn",
})
