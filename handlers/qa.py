"""Answers from the knowledge base: benefits, programmes, loans, emulation, clusters, union facts.

Every fact shown comes from a knowledge entry, with its source and "as of" date; this module only
arranges it. Labels and sentences come from ``locales``.
"""

from __future__ import annotations

from collections.abc import Container, Sequence
from datetime import date

from handlers.text import clip, fmt_date
from handlers.types import Choice, Reply
from locales import Translator
from nlu import intents, slots
from nlu.matcher import Understanding
from storage.knowledge import Entry, KnowledgeBase

MAX_LIST = 10
MAX_CAMPAIGNS = 3  # campaigns shown in one answer about phases
#: a question that names no entry is answered with the entry sharing the most (rare) words with it,
#: when that entry scores at least MIN_RELATED_SCORE and CLEAR_WINNER times the next; else a ranked list
MIN_RELATED_SCORE = 4.0
CLEAR_WINNER = 1.5

#: the knowledge kind whose list heading an intent uses
_LIST_KIND = {intents.BENEFIT: "benefit", intents.PROGRAMME: "programme", intents.LOAN: "loan",
              intents.EMULATION_PHASE: "campaign", intents.MOVEMENT: "movement", intents.CLUSTER: "cluster",
              intents.UNION_FACT: "fact", intents.COMMENDATION: "commendation"}


def related_shown(u: Understanding, known: Container[str]) -> list[str]:
    """The entries a question naming none is answered with: the clear winner of the related entries (one), or those
    ranked near the best (several); empty when none is related enough (then the intent's whole list is shown)."""
    hits = [h for h in u.related if h.entry_id in known]
    if not hits or hits[0].score < MIN_RELATED_SCORE:
        return []
    if len(hits) == 1 or hits[0].score >= CLEAR_WINNER * hits[1].score:
        return [hits[0].entry_id]
    return [h.entry_id for h in hits if h.score >= hits[0].score * 0.3]


class KnowledgeAnswers:
    def __init__(self, kb: KnowledgeBase, t: Translator) -> None:
        self.kb = kb
        self.t = t
        self._phased = [e for e in kb.of_kind("campaign") if e.campaign and e.campaign.phases]

    # ----- entry points -------------------------------------------------------------------------
    def answer(self, intent: str, u: Understanding, lang: str, today: date) -> list[Reply]:
        if intent == intents.EMULATION_PHASE:
            return self.phases(u, lang, today)
        kinds = intents.INTENT_KINDS[intent]
        named = self._named(u, kinds)
        if named:
            return [self.detail(entry, lang) for entry in named[:3]]
        shown = related_shown(u, self.kb.by_id)
        if len(shown) == 1:
            return [self.detail(self.kb.by_id[shown[0]], lang)]
        if shown:
            return self.listing(intent, lang, [self.kb.by_id[i] for i in shown])
        return self.listing(intent, lang)

    def detail(self, e: Entry, lang: str) -> Reply:
        t = self.t
        lines = [e.name, e.summary]
        if e.benefit:
            b = e.benefit
            lines.append(t("answer.benefit.partner", lang, partner=b.partner))
            if b.products:
                lines.append(t("answer.benefit.products", lang, products=", ".join(b.products)))
            lines.append(t("answer.benefit.discount", lang, discount=b.discount))
            if b.conditions:
                lines.append(t("answer.benefit.conditions", lang, conditions=b.conditions))
            lines.append(t("answer.benefit.how_to_use", lang, how_to_use=b.how_to_use) if b.how_to_use
                         else t("answer.benefit.how_default", lang))
            if b.results:
                lines.append(t("answer.benefit.results", lang, results=b.results))
        if e.programme and e.programme.figures:
            lines.append(t("answer.figures", lang, figures=e.programme.figures))
        if e.loan:
            lines.append(t("answer.loan_fund", lang, fund=e.loan.fund))
            if e.loan.figures:
                lines.append(t("answer.figures", lang, figures=e.loan.figures))
        if e.campaign:
            c = e.campaign
            lines.append(t("answer.campaign.year", lang, year=c.year))
            if c.theme:
                lines.append(t("answer.campaign.theme", lang, theme=c.theme))
            for p in c.phases:
                lines.extend(self._phase_lines(p, lang))
        if e.cluster:
            c = e.cluster
            if c.members:
                lines.append(t("answer.cluster.members", lang, count=len(c.members), members=", ".join(c.members)))
            leader = ", ".join(x for x in (c.leader_unit, c.leader_person) if x)
            if leader:
                lines.append(t("answer.cluster.leader", lang, leader=leader))
        if e.commendation:
            lines.append(t("answer.commendation.period", lang, period=e.commendation.period))
            lines.append(t("answer.commendation.figures", lang, figures=e.commendation.figures))
        if e.details:
            lines.append(e.details)
        if e.unit:
            lines.append(t("answer.unit", lang, unit=e.unit))
        lines.append(self.source_line(e, lang))
        if e.kind == "programme":  # someone reading about support may need it: the way to ask for it
            lines.append(t("answer.programme.request_hint", lang))
            return Reply("\n".join(lines), (Choice(t("answer.programme.request_button", lang), "menu:hotro"),))
        return Reply("\n".join(lines))

    def listing(self, intent: str, lang: str, entries: Sequence[Entry] | None = None) -> list[Reply]:
        """A numbered list with buttons: ``entries`` in the given order, or the most recent of the intent's kinds."""
        if entries is None:
            entries = self.kb.of_kind(*intents.INTENT_KINDS[intent])
        if not entries:
            return [Reply(self.t("answer.none_of_kind", lang, contact=self.t("help.contact", lang)))]
        entries = entries[:MAX_LIST]
        heading = self.t(f"answer.list.{_LIST_KIND[intent]}", lang)
        lines = [heading]
        for i, e in enumerate(entries, start=1):
            lines.append(f"{i}. {e.name}: {clip(self._short(e), 160)}")
        lines.append(self.t("answer.more", lang))
        choices = tuple(Choice(clip(e.name, 60), f"kb:{e.id}") for e in entries)
        return [Reply("\n".join(lines), choices)]

    # ----- emulation phases ---------------------------------------------------------------------
    def phases(self, u: Understanding, lang: str, today: date) -> list[Reply]:
        """Phases by number, the one running today, or all of them; most recent campaigns first."""
        t = self.t
        campaigns = [e for e in self._named(u, ("campaign",)) if e.campaign and e.campaign.phases]
        if not campaigns:
            campaigns = self._phased
        if not campaigns:
            return self.listing(intents.EMULATION_PHASE, lang)
        number = slots.phase_number(u.tokens)
        pairs = [(e, p) for e in campaigns for p in e.campaign.phases]
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
        lines.extend(self.source_line(e, lang) for e in shown.values())
        return [Reply("\n".join(lines))]

    # ----- helpers ------------------------------------------------------------------------------
    def source_line(self, e: Entry, lang: str) -> str:
        if (e.as_of.month, e.as_of.day) in ((12, 31), (1, 1)):
            as_of = self.t("answer.as_of_year", lang, year=e.as_of.year)
        else:
            as_of = self.t("answer.as_of_day", lang, day=fmt_date(e.as_of))
        return self.t("answer.source", lang, title=e.source.title, as_of=as_of)

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
