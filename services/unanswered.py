"""The questions the bot could not answer (and the answers members rejected with 👎), for the web console:
grouped by their words, attached to a knowledge entry (each becomes one of its aliases: the matcher answers it
with the entry from then on), or dismissed.

The log holds no person (nlu/privacy.py scrubbed it when it was written), only the asker's unit: a chair lists,
attaches and dismisses the questions of their subtree (services/authz.py ``may_act_on_asked``), an admin every
question, those of askers linked to no unit included. Attaching is also an edit of the entry
(``KnowledgeService.save``: validated, authorized on the entry's unit, a revision with rollback); dismissing is
audited.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from handlers.feedback import REJECTED_KEY
from services.authz import may_act_as_chair, may_act_on_asked, subtree_paths
from services.knowledge import Actor, Forbidden, KnowledgeService, NotFound
from storage.askers import NO_UNIT
from storage.db import Database
from storage.membership import AuditRepository, UnitRepository
from storage.unanswered import UnansweredLog, UnansweredQuestion, UnansweredRepository

#: two questions are in one group when their words overlap this much (Jaccard: shared / all words)
SIMILAR = 0.5
#: the questions read for grouping, most frequent first
LIMIT = 500


@dataclass(frozen=True)
class Group:
    """Similar questions: the most frequent one first, with the others' counts added."""

    questions: tuple[UnansweredQuestion, ...]

    @property
    def lead(self) -> UnansweredQuestion:
        return self.questions[0]

    @property
    def ids(self) -> list[int]:
        return [q.id for q in self.questions]

    @property
    def count(self) -> int:
        return sum(q.count for q in self.questions)

    @property
    def last_seen(self) -> datetime:
        return max(q.last_seen for q in self.questions)

    @property
    def rejected(self) -> bool:
        return any(q.key.startswith(REJECTED_KEY) for q in self.questions)


def words_of(question: UnansweredQuestion) -> frozenset[str]:
    """The folded words of a question's key (the log stores it folded: lower case, no accents)."""
    return frozenset(question.key.removeprefix(REJECTED_KEY).split())


def group(questions: Sequence[UnansweredQuestion], similar: float = SIMILAR) -> list[Group]:
    """Most frequent first (then most recent); each question joins the first group whose first question shares
    at least ``similar`` of their words (Jaccard), else starts a group of its own."""
    ordered = sorted(questions, key=lambda q: (-q.count, -q.last_seen.timestamp(), q.id))
    groups: list[tuple[frozenset[str], list[UnansweredQuestion]]] = []
    for q in ordered:
        words = words_of(q)
        for lead_words, members in groups:
            union = lead_words | words
            if union and len(lead_words & words) / len(union) >= similar:
                members.append(q)
                break
        else:
            groups.append((words, [q]))
    return sorted((Group(tuple(m)) for _, m in groups), key=lambda g: (-g.count, -g.last_seen.timestamp()))


async def most_frequent(db: Database, limit: int) -> list[UnansweredQuestion]:
    """The logged questions of the whole bot, most frequent first, ungrouped, each once with every asker's unit's
    count added (``unionbot unanswered``: the operator's shell)."""
    async with db.sessions() as session:
        return await UnansweredRepository(session).totals(limit)


class UnansweredService:
    def __init__(self, db: Database, knowledge: KnowledgeService, *,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 log: UnansweredLog | None = None) -> None:
        self.db, self.knowledge, self.clock = db, knowledge, clock
        #: this process's log: what it holds back (it writes after a short delay) is written before the list is read
        self.log = log

    @staticmethod
    def _allow(actor: Actor) -> None:
        if not (decision := may_act_as_chair(actor.identity)):
            raise Forbidden(decision.reason)

    async def groups(self, actor: Actor) -> list[Group]:
        self._allow(actor)
        if self.log is not None:
            await self.log.flush()
        async with self.db.sessions() as session:
            return group(await UnansweredRepository(session).most_frequent(LIMIT, subtree_paths(actor.identity)))

    async def questions(self, actor: Actor, ids: Sequence[int]) -> list[UnansweredQuestion]:
        """The questions ``ids``; raise NotFound when none is, Forbidden when one was asked outside the actor's
        subtree."""
        self._allow(actor)
        async with self.db.sessions() as session:
            found = await UnansweredRepository(session).by_ids(list(ids))
            if not found:
                raise NotFound(",".join(map(str, ids)))
            units = UnitRepository(session)
            for unit_id in sorted({q.unit_id for q in found}):
                unit = None if unit_id == NO_UNIT else await units.by_id(unit_id)
                if not (decision := may_act_on_asked(actor.identity, unit)):
                    raise Forbidden(decision.reason)
        return found

    async def attach(self, actor: Actor, ids: Sequence[int], entry_id: str) -> int:
        """Add the questions' texts to the entry's aliases (an edit of the entry, authorized on its unit) and take
        them off the list; how many were attached. Raise Forbidden, NotFound, or KnowledgeError (an alias the
        loader refuses)."""
        questions = await self.questions(actor, ids)
        view, _ = await self.knowledge.entry(actor, entry_id)
        data = view.entry.model_dump(mode="json", exclude_none=True)
        aliases = list(data.get("aliases") or [])
        known = {a.casefold() for a in [*aliases, data.get("name", "")]}
        for q in questions:
            text = " ".join(q.sample_text.split())[:200]
            if text and text.casefold() not in known:
                aliases.append(text)
                known.add(text.casefold())
        await self.knowledge.save(actor, {**data, "aliases": aliases}, entry_id=entry_id)
        async with self.db.sessions.begin() as session:
            return await UnansweredRepository(session).delete([q.id for q in questions])

    async def dismiss(self, actor: Actor, ids: Sequence[int]) -> int:
        """Take the questions off the list; audited in the log of the unit whose members asked them (one entry per
        unit; those of askers linked to no unit in no unit's log)."""
        questions = await self.questions(actor, ids)
        by_unit: dict[int, list[int]] = {}
        for q in questions:
            by_unit.setdefault(q.unit_id, []).append(q.id)
        async with self.db.sessions.begin() as session:
            removed = await UnansweredRepository(session).delete([q.id for q in questions])
            for unit_id, asked in sorted(by_unit.items()):
                await AuditRepository(session).record(actor=actor.label, actor_member_id=actor.member_id,
                                                      action="unanswered.dismiss",
                                                      unit_id=None if unit_id == NO_UNIT else unit_id,
                                                      target=",".join(map(str, asked)), now=self.clock())
        return removed
