"""Answers from the knowledge base: benefits, programmes, loans, emulation, clusters, union facts.

Every fact shown comes from a knowledge entry, with its source and "as of" date; this module only
arranges it. Labels and sentences come from ``locales``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Container, Sequence
from dataclasses import replace
from datetime import date
from functools import lru_cache

from handlers import pages, sources
from handlers.text import clip, fmt_date
from handlers.types import Choice, Reply
from locales import Translator
from nlu import intents, slots
from nlu.data import load_training_examples
from nlu.evidence import EvidenceIndex, Question
from nlu.matcher import Understanding
from nlu.normalize import clean, fold, is_roman, is_syllable, normalize_tones, tokens
from nlu.retrieval import NEAR_BEST
from storage.knowledge import Entry, KnowledgeBase

#: entries a list answer shows (:func:`listed`), and entries' sheets one answer shows
MAX_LIST = 10
MAX_SHEETS = 3
MAX_CAMPAIGNS = 3  # campaigns shown in one answer about phases
#: a question that names no entry is answered with the entry sharing the most (rare) words with it,
#: when that entry scores at least MIN_RELATED_SCORE and CLEAR_WINNER times the next; else a ranked list
MIN_RELATED_SCORE = 4.0
CLEAR_WINNER = 1.5

#: a key term this common among the entries (held by this share of them or more) names no subject of its own
COMMON_TERM = 0.15
_VOWELS = re.compile(r"[aeiouy]")
#: the words a member calls themself by (folded): "công ty em" is the asker's company
_ASKER = frozenset({"em", "toi", "tui", "minh"})

#: the knowledge kind whose list heading an intent uses
_LIST_KIND = {intents.BENEFIT: "benefit", intents.PROGRAMME: "programme", intents.LOAN: "loan",
              intents.EMULATION_PHASE: "campaign", intents.MOVEMENT: "movement", intents.CLUSTER: "cluster",
              intents.UNION_FACT: "fact", intents.COMMENDATION: "commendation"}


def vowels(word: str) -> int:
    """The vowel letters of a folded word: "cdcs" none, "cnvcle" one."""
    return len(_VOWELS.findall(word))


def spelled_out(word: str) -> bool:
    """A folded word written out, not an acronym no one spells out ("cđvn", "bhxh": consonants): a syllable, a word
    longer than five letters ("masan") or one with two vowels or more."""
    return is_syllable(word) or len(word) > 5 or vowels(word) >= 2


def listed(entries: Sequence[Entry]) -> list[Entry]:
    """The entries a list answer shows: the first ``MAX_LIST`` (the list says how many there are in all)."""
    return list(entries[:MAX_LIST])


def related_shown(u: Understanding, known: Container[str]) -> list[str]:
    """The entries a question naming none is answered with: the clear winner of the related entries (one), or those
    ranked near the best (several); empty when none is related enough (then the intent's whole list is shown)."""
    hits = [h for h in u.related if h.entry_id in known]
    if not hits or hits[0].score < MIN_RELATED_SCORE:
        return []
    if len(hits) == 1 or hits[0].score >= CLEAR_WINNER * hits[1].score:
        return [hits[0].entry_id]
    return [h.entry_id for h in hits if h.score >= hits[0].score * NEAR_BEST]


#: words that make an entry about hardship (folded): under it, the way to ask for support (/hotro)
_HARDSHIP_WORDS = ("kho khan", "tro cap", "hoan canh", "om dau", "benh hiem ngheo", "tai nan", "thien tai",
                   "mat viec", "giam gio lam", "bi anh huong", "qua doi", "tu vong")
#: support programmes that are about hardship whatever their words
_HARDSHIP_CATEGORIES = frozenset({"covid", "rent"})


def hardship_topic(e: Entry) -> bool:
    """A support programme for members in hardship (Covid, rent, allowances for hard cases) — not a skills contest,
    a sports festival or meal allowances: only under those is "Bạn đang gặp khó khăn? Gõ /hotro" shown."""
    if e.programme is None:
        return False
    if e.programme.category in _HARDSHIP_CATEGORIES:
        return True
    words = fold(" ".join((e.name, e.summary)))
    return any(w in words for w in _HARDSHIP_WORDS)


def _said(figures: str, text: str) -> bool:
    """Every number of ``figures`` is already in ``text``: the figures line would say them a second time."""
    numbers = re.findall(r"\d[\d.,]*", figures)
    return bool(numbers) and all(n.rstrip(".,") in text for n in numbers)


class KnowledgeAnswers:
    def __init__(self, kb: KnowledgeBase, t: Translator) -> None:
        self.kb = kb
        self.t = t
        self._phased = [e for e in kb.of_kind("campaign") if e.campaign and e.campaign.phases]
        #: each entry's words (folded, and as written), read at the first question
        self._words: dict[str, tuple[frozenset[str], frozenset[str]]] = {}
        self._common: frozenset[str] | None = None
        self._fitting: dict[tuple, bool] = {}

    # ----- entry points -------------------------------------------------------------------------
    def answer(self, intent: str, u: Understanding, lang: str, today: date, q: Question | None = None,
               index: EvidenceIndex | None = None) -> list[Reply]:
        """The entries' answer: the sheets of the entries the question names, else of the related ones, else the
        intent's list; for phases, the phases of the campaigns it is about. ``q`` and ``index``: the evidence
        index's reading of the question, to tell the campaigns of the year, cluster or district asked."""
        if intent == intents.EMULATION_PHASE:
            campaigns = self.shown(intent, u, q, index)
            if campaigns and not any(e.campaign and e.campaign.phases for e in campaigns):
                # a campaign the knowledge has no phases of ("đợt thi đua cao điểm … năm 2020"): its own sheet
                return [self.detail(campaigns[0], lang, today)]
            return self.phases(u, lang, today, campaigns)
        sheets, entries = self._answering(intent, u)
        if sheets:
            return [self.detail(entry, lang, today) for entry in entries]
        return self.listing(intent, lang, entries, today)

    def shown(self, intent: str, u: Understanding, q: Question | None = None,
              index: EvidenceIndex | None = None) -> list[Entry]:
        """The entries :meth:`answer` shows for the question: those it names, else the related ones, else the
        intent's list. For phases: the campaigns named (else related) that fit the year, cluster and district
        asked, those with phases first; else the campaigns with phases named, else all of them."""
        if intent == intents.EMULATION_PHASE:
            named = self._named(u, ("campaign",))
            if q is not None and index is not None and q.constrained:
                ids = dict.fromkeys([*(e.id for e in named), *related_shown(u, self.kb.by_id)])
                fitting = [e for e in map(self.kb.by_id.__getitem__, ids) if e.campaign and self._fits(e, q, index)]
                phased = [e for e in fitting if e.campaign and e.campaign.phases]
                if fitting:
                    return phased or fitting
            elif named and not any(e.campaign and e.campaign.phases for e in named):
                return named[:1]  # the question names a campaign without phases ("… chào mừng 91 năm …")
            return [e for e in named if e.campaign and e.campaign.phases] or self._phased
        sheets, entries = self._answering(intent, u)
        return list(entries) if sheets else listed(entries)

    def _answering(self, intent: str, u: Understanding) -> tuple[bool, Sequence[Entry]]:
        """What :meth:`answer` shows for an intent other than phases, and whether as the entries' sheets: those the
        question names (``MAX_SHEETS`` at most), else the clear winner of the related entries; else as a list, the
        related entries, else the intent's whole list (:func:`listed`: what of it the list shows)."""
        kinds = intents.INTENT_KINDS[intent]
        if named := self._named(u, kinds):
            return True, named[:MAX_SHEETS]
        related = [self.kb.by_id[i] for i in related_shown(u, self.kb.by_id)]
        if len(related) == 1:
            return True, related
        return False, related or self.kb.of_kind(*kinds)

    def covers(self, intent: str, u: Understanding, q: Question, index: EvidenceIndex) -> bool:
        """Whether the entries the answer shows are about what the question asks (``q``: the evidence index's
        typo-corrected reading). Each entry shown must fit the district, cluster and year the question names (a side
        of a comparison is enough: "cụm 1 và cụm 3"). A list of entries must hold, among them, every key term of
        the question: "ưu đãi tiền điện" is not answered with the rice and milk offers, while "có những ưu đãi gì"
        names nothing but the category. One entry answering by itself (named, or the clear winner) must hold the
        model or the edition the question names ("gạo ST25", "đại hội lần thứ XVII")."""
        if intent == intents.EMULATION_PHASE and slots.asks_current(u.tokens):
            return True  # the phase running today: the clock's answer, about no word of the entries
        entries = self.shown(intent, u, q, index)
        if not entries:
            return True  # "no information of this kind yet": the answer says so itself
        typed = _typed_words(q.text)
        for side in index.split(q):
            for one in [replace(side, years=(y,)) for y in side.years] or [side]:
                fitting = [e for e in entries if self._fits(e, one, index)]
                terms = [t for t in self.key_terms(one, index) if not _topic_word(intent, t, typed)]
                if len(entries) == 1:
                    if self._background_only(entries[0], u, intent, one, typed, index):
                        continue
                    terms = [t for t in terms if t in _codes(one)]
                if fitting and all(any(self._holds(e, t, typed, index) for e in fitting) for t in terms):
                    return True
        return False

    def _background_only(self, e: Entry, u: Understanding, intent: str, q: Question, typed: frozenset[str],
                         index: EvidenceIndex) -> bool:
        """The one related entry (not named, no district or cluster asked) shares the question's words only in its
        background: "đoàn phí … đóng bao nhiêu" is not answered by a district chair's sheet whose details say that
        the district collected its dues. (A question naming its district or cluster is about that unit: its entry's
        details may answer.)"""
        if q.places or q.clusters or self._named(u, intents.INTENT_KINDS[intent]):
            return False
        terms = self.key_terms(q, index)
        return not any(self._holds(e, t, typed, index, head=True) for t in terms) \
            and any(self._holds(e, t, typed, index) for t in terms)

    def key_terms(self, q: Question, index: EvidenceIndex) -> list[str]:
        """The question's words that name what it is about: its key terms (``Question.terms``) less the word naming
        what is asked ("ưu đãi gì"), everyday words, numbers, acronyms no one spells out, and words most entries
        say — plus a product code's letters and an edition's numeral ("ST25", "lần thứ XVII")."""
        lang, common, codes = index.lang, self._common_words(index), _codes(q)
        # "công ty em", "đơn vị mình": the asker's own workplace, which no entry names — the question is the topic's
        mine = {a for a, b in zip(q.tokens, q.tokens[1:], strict=False) if b in _ASKER}
        return [t for t in q.terms if t not in q.asked and t not in lang.everyday and t not in common
                and t not in mine and t.isalpha()
                and (t in codes or spelled_out(t))]

    # ----- the gate's helpers ---------------------------------------------------------------------
    def _entry_words(self, e: Entry, index: EvidenceIndex, head: bool = False
                     ) -> tuple[frozenset[str], frozenset[str]]:
        """An entry's words, folded and as written (accents kept, lower case); ``head``: without its details."""
        key = e.id + ("\0" if head else "")
        words = self._words.get(key)
        if words is None:
            text = " ".join((*e.match_names(), e.search_text()))
            if head and e.details:
                text = text.replace(e.details, " ")
            words = self._words[key] = (frozenset(index.normalize(text).tokens), _typed_words(text))
        return words

    def _common_words(self, index: EvidenceIndex) -> frozenset[str]:
        if self._common is None:
            counts: dict[str, int] = {}
            for e in self.kb.entries:
                for w in self._entry_words(e, index)[0]:
                    counts[w] = counts.get(w, 0) + 1
            floor = max(3, COMMON_TERM * len(self.kb.entries))
            self._common = frozenset(w for w, n in counts.items() if n >= floor)
        return self._common

    def _holds(self, e: Entry, term: str, typed: frozenset[str], index: EvidenceIndex, head: bool = False) -> bool:
        """The entry says the term — as the member typed it when typed with accents ("điện" is not "diện");
        ``head``: in what the entry is about (its names, summary and block), not its background (details)."""
        folded, written = self._entry_words(e, index, head)
        accented = [w for w in typed if w != term and fold(w) == term]
        if accented:
            return any(w in written for w in accented) or any(
                s in folded for s in index.lang.synonyms.get(term, ()))
        return term in folded or any(s in folded for s in index.lang.synonyms.get(term, ()))

    def _fits(self, e: Entry, q: Question, index: EvidenceIndex) -> bool:
        """The entry is about the question's district and cluster (``EvidenceIndex.entry_fits``), and a campaign's
        or a cluster's year and phases are those asked (kept per entry and constraints: questions repeat them)."""
        key = (e.id, q.places, q.clusters, q.years, q.phases)
        fits = self._fitting.get(key)
        if fits is None:
            if len(self._fitting) > 50_000:
                self._fitting.clear()
            fits = self._fitting[key] = entry_fits(e, q, index)
        return fits

    def detail(self, e: Entry, lang: str, today: date | None = None) -> Reply:
        """An entry's sheet for a phone: what it is and the answer first, then the source line (and, for an old offer,
        that it may have changed); the details behind "xem thêm" (handlers/pages.py)."""
        t = self.t
        lines: list[str] = []
        if e.benefit:  # the discount is the answer, in the first line; the summary (the office's words) under it
            b = e.benefit
            lines.append(t("answer.benefit.headline", lang, name=e.name, discount=b.discount))
            lines.append(e.summary)
            said = fold(" ".join((e.name, e.summary)))
            if fold(b.partner) not in said:  # what the summary already says is not said again
                lines.append(t("answer.benefit.partner", lang, partner=b.partner))
            if b.products and fold(", ".join(b.products)) not in said:
                lines.append(t("answer.benefit.products", lang, products=", ".join(b.products)))
            lines.append(t("answer.benefit.how_to_use", lang, how_to_use=b.how_to_use) if b.how_to_use
                         else t("answer.benefit.how_default", lang))
            if b.conditions:
                lines.append(t("answer.benefit.conditions", lang, conditions=b.conditions))
            if b.results:
                lines.append(t("answer.benefit.results", lang, results=b.results))
        elif e.programme or e.loan:  # a support programme: what it is and what it gives, in the first line
            lines.append(e.summary if _names_itself(e.summary, e.name)
                         else t("answer.programme.headline", lang, name=e.name, summary=e.summary))
        else:
            lines.extend((e.name, e.summary))
        for block in (e.programme, e.loan):
            if block is not None and block.figures and not _said(block.figures, e.summary):
                lines.append(t("answer.figures", lang, figures=block.figures))
        if e.loan:
            lines.append(t("answer.loan_fund", lang, fund=e.loan.fund))
        if e.campaign:
            c = e.campaign
            lines.append(t("answer.campaign.year", lang, year=c.year))
            if c.theme:
                lines.append(t("answer.campaign.theme", lang, theme=c.theme))
            for p in c.phases:
                lines.extend(self._phase_lines(p, lang))
        if e.cluster:
            k = e.cluster
            if k.members:
                lines.append(t("answer.cluster.members", lang, count=len(k.members), members=", ".join(k.members)))
            leader = ", ".join(x for x in (k.leader_unit, k.leader_person) if x)
            if leader:
                lines.append(t("answer.cluster.leader", lang, leader=leader))
        if e.commendation:
            lines.append(t("answer.commendation.period", lang, period=e.commendation.period))
            if not _said(e.commendation.figures, e.summary):
                lines.append(t("answer.commendation.figures", lang, figures=e.commendation.figures))
        if e.unit and fold(e.unit) not in fold(" ".join(lines[:2])):
            lines.append(t("answer.unit", lang, unit=e.unit))
        if e.details:  # the background last: behind "xem thêm" on a phone
            lines.append(e.details)
        footer = [self.source_line(e, lang)]
        if e.benefit and (stale := sources.stale_line(t, lang, e.as_of, today)):
            footer.append(stale)
        choices: tuple[Choice, ...] = ()
        if hardship_topic(e):  # someone reading about support for hardship may need it: the way to ask for it
            footer.append(t("answer.programme.request_hint", lang))
            choices = (Choice(t("answer.programme.request_button", lang), "menu:hotro"),)
        first, more = pages.layout(lines, footer)  # the rest of the sheet behind "xem thêm"
        return Reply(first, choices, more=more)

    def listing(self, intent: str, lang: str, entries: Sequence[Entry] | None = None,
                today: date | None = None) -> list[Reply]:
        """A numbered list with buttons: ``entries`` in the given order, or the most recent of the intent's kinds
        (a list of offers all over a year old says they may have changed)."""
        if entries is None:
            entries = self.kb.of_kind(*intents.INTENT_KINDS[intent])
        if not entries:
            return [Reply(self.t("answer.none_of_kind", lang, contact=self.t("help.contact", lang)))]
        total, entries = len(entries), listed(entries)
        heading = self.t(f"answer.list.{_LIST_KIND[intent]}", lang)
        items = [f"{i}. {e.name}: {clip(self._short(e), 120)}" for i, e in enumerate(entries, start=1)]
        # the first items with the heading and the hint; the others behind "xem thêm (còn N)"; a list longer than
        # it shows says how many there are (those behind "xem thêm" are not all)
        footer = [self.t("answer.more", lang)]
        if total > len(entries):
            footer.insert(0, self.t("answer.list_others", lang, total=total, shown=len(entries)))
        if all(e.benefit for e in entries):
            newest = max(e.as_of for e in entries)
            if stale := sources.stale_line(self.t, lang, newest, today, many=len(entries) > 1):
                footer.append(stale)
        first, more = pages.layout([heading, *items], footer)
        choices = tuple(Choice(clip(e.name, 60), f"kb:{e.id}") for e in entries)
        return [Reply(first, choices, more=more)]

    # ----- emulation phases ---------------------------------------------------------------------
    def phases(self, u: Understanding, lang: str, today: date, about: Sequence[Entry] | None = None) -> list[Reply]:
        """Phases by number, the one running today, or all of them; most recent campaigns first. ``about``: the
        campaigns the question is about (:meth:`shown`), else those it names, else all."""
        t = self.t
        campaigns = [e for e in (about if about is not None else self._named(u, ("campaign",)))
                     if e.campaign and e.campaign.phases]
        if not campaigns:
            campaigns = self._phased
        if not campaigns:
            return self.listing(intents.EMULATION_PHASE, lang)
        number = slots.phase_number(u.tokens)
        pairs = [(e, p) for e in campaigns if e.campaign for p in e.campaign.phases]
        if number is not None and any(p.number == number for _, p in pairs):
            heading, pairs = None, [(e, p) for e, p in pairs if p.number == number]
        elif number is not None:
            heading = t("answer.phase.not_found", lang, number=number)
        elif running := [(e, p) for e, p in pairs if p.starts_on <= today <= p.ends_on]:
            heading, pairs = t("answer.phase.current", lang, today=fmt_date(today)), running
        elif slots.asks_current(u.tokens):
            latest = max(p.ends_on for _, p in pairs)
            heading = t("answer.phase.no_current", lang, today=fmt_date(today))
            pairs = [(e, p) for e, p in pairs if p.ends_on == latest]
        else:
            heading = t("answer.phase.all", lang)
        lines = [heading] if heading else []
        shown: dict[str, Entry] = {}
        for e, p in pairs:
            if e.id not in shown:
                if len(shown) == MAX_CAMPAIGNS:
                    break
                shown[e.id] = e
                lines.append(t("answer.phase.found", lang, campaign=e.name))
            lines.extend(self._phase_lines(p, lang, today))
        first, more = pages.layout(lines, [self.source_line(e, lang) for e in shown.values()])
        return [Reply(first, more=more)]

    # ----- helpers ------------------------------------------------------------------------------
    def source_line(self, e: Entry, lang: str) -> str:
        return sources.source_line(self.t, lang, title=e.source.title, publication=e.source.publication,
                                   published=e.source.published, as_of=e.as_of)

    def _phase_lines(self, p, lang: str, today: date | None = None) -> list[str]:
        line = self.t("answer.campaign.phase", lang, number=p.number, starts=fmt_date(p.starts_on),
                      ends=fmt_date(p.ends_on))
        if today is not None and p.ends_on < today:
            line += " " + self.t("answer.phase.ended", lang)
        lines = [line]
        if p.theme:
            lines.append(self.t("answer.campaign.phase_theme", lang, theme=p.theme))
        return lines

    def _named(self, u: Understanding, kinds: Sequence[str]) -> list[Entry]:
        matches = u.entities_of(*kinds)
        if not matches:
            return []
        best = matches[0].score
        # keep the strongest names only: "sữa hà lan" beats a stray "sữa" elsewhere
        return [self.kb.by_id[m.entry_id] for m in matches if m.score >= best * 0.75 and m.entry_id in self.kb.by_id]

    @staticmethod
    def _short(e: Entry) -> str:
        if e.benefit:
            return e.benefit.discount
        if e.cluster and e.cluster.members:
            return ", ".join(e.cluster.members)
        if e.commendation:
            return e.commendation.figures
        return e.summary


def entry_fits(e: Entry, q: Question, index: EvidenceIndex) -> bool:
    """Whether a knowledge entry is about the district, cluster and year the question names (what the entry's sentences
    say: ``EvidenceIndex.entry_fits``; one side of a comparison is enough, "Đống Đa và Tây Hồ", "2020 và 2021"), and a
    campaign's or a cluster's year and a campaign's phases are among those asked. An entry the index holds no sentence
    of is judged by its year and phases only."""
    if (q.places or q.clusters or q.years) and e.id in index.entry_ids and not any(
            index.entry_fits(e.id, side) for part in index.split(q)
            for side in [replace(part, years=(y,)) for y in part.years] or [part]):
        return False
    year = e.campaign.year if e.campaign else e.cluster.year if e.cluster else None
    if q.years and year is not None and year not in q.years:
        return False
    return not (q.phases and e.campaign and e.campaign.phases
                and not any(p.number in q.phases for p in e.campaign.phases))


def _names_itself(summary: str, name: str) -> bool:
    """A summary that opens with the entry's name (quoted or not) says it already: no "Name: Name …"."""
    return fold(summary.lstrip("\"“'‘ ")).startswith(fold(name))


def _codes(q: Question) -> frozenset[str]:
    """A model's or an edition's letters in a question: "st" of "ST25", "xvii" of "lần thứ XVII"."""
    pairs = list(zip(q.tokens, q.tokens[1:], strict=False))
    return frozenset({a for a, b in pairs if a.isalpha() and b.isdigit()}
                     | {b for a, b in pairs if a == "thu" and is_roman(b)})


def _typed_words(text: str) -> frozenset[str]:
    """The words of a text as written, accents kept (tone marks where the spelling puts them), in lower case."""
    return frozenset(w.lower() for w in tokens(normalize_tones(clean(text))))


@lru_cache(maxsize=1)
def _topic_vocabulary() -> tuple[dict[str, Counter[str]], dict[str, Counter[str]]]:
    """How many intent examples of each intent hold each word: folded, and as written with accents."""
    folded: dict[str, Counter[str]] = {}
    written: dict[str, Counter[str]] = {}
    for text, label in load_training_examples():
        words = _typed_words(text)
        written.setdefault(label, Counter()).update(words)
        folded.setdefault(label, Counter()).update({fold(w) for w in words})
    return folded, written


def _topic_word(intent: str, term: str, typed: frozenset[str]) -> bool:
    """A word of the intent's own language ("phúc lợi" for the offers, "danh hiệu" for the titles): its examples
    use it at least as often as the out-of-scope ones do. Such a word names the topic, not a thing the entries must
    hold; "tiền điện", "khám răng" are not (members ask them of everything)."""
    folded, written = _topic_vocabulary()
    accented = [w for w in typed if w != term and fold(w) == term]
    if accented:
        mine = sum(written.get(intent, Counter())[w] for w in accented)
        other = sum(written.get(intents.OUT_OF_SCOPE, Counter())[w] for w in accented)
    else:
        mine = folded.get(intent, Counter())[term]
        other = folded.get(intents.OUT_OF_SCOPE, Counter())[term]
    return mine > 0 and mine >= other
