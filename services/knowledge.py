"""Knowledge use cases for the web console (and any other caller): list, view, add, edit, retire, roll back.

Every change is validated as the YAML loader validates (``storage.knowledge.validate_entry`` and the source
passages of ``services.documents.check_sources``), authorized by ``services.authz.authorize`` on the unit the
entry belongs to, recorded as a revision (who, when, before/after) and in the audit log, and bumps the
knowledge version row: every process polls it (``KnowledgeWatcher``) and reloads its knowledge within seconds.

The unit an entry belongs to: the one set when it was added in the console (``knowledge_owners``), else the
unit its ``unit:`` field names, else the top of the tree (only admins act there).

What an officer sees (``entries``, ``entry``, ``retired``): what chat answers a member of their own unit or of a
unit they chair from — the shared entries and those owned by that unit or a unit above it (``handlers.visibility``,
the chat's rule) — plus every entry they may edit (their subtrees' own, ``authorize``). Another unit's entry (a
sibling's) is not found, as a button for it crafted in chat shows nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from handlers import visibility
from nlu.normalize import fold
from services.authz import Action, Decision, authorize, may_act_as_chair, units_acted_on
from storage.db import Database
from storage.documents import DocumentRepository, PassageInfo
from storage.knowledge import (
    Entry,
    KnowledgeBase,
    KnowledgeEditRepository,
    KnowledgeError,
    KnowledgeRepository,
    Revision,
    ScopedEntries,
    all_units,
    knowledge_version,
    unit_named,
    validate_entry,
)
from storage.membership import AuditRepository, Identity, Unit, UnitRepository

log = logging.getLogger(__name__)

#: the top of the unit tree, above every real unit: no chair's subtree contains it, so only admins act there
TOP = Unit(id=0, code="", name="", level="top", path="/", parent_id=None)


class Forbidden(Exception):
    """The actor may not do this; ``reason`` is an interface-string key (from authorize)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class NotFound(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Actor:
    """Who acts: their identity (for authorize) and the audit label, e.g. "web:NTL-0101"."""

    identity: Identity | None
    label: str

    @property
    def member_id(self) -> int | None:
        return self.identity.member.id if self.identity else None


@dataclass(frozen=True, slots=True)
class EntryView:
    entry: Entry
    unit: Unit
    editable: bool


@dataclass(frozen=True, slots=True)
class Change:
    """What one item of ``save_all`` does: "create", "edit", "same" (nothing to change) or "error"."""

    entry_id: str
    action: str
    before: dict | None = None
    after: dict | None = None
    errors: tuple[str, ...] = ()


class _Undo(Exception):
    """Rolls the transaction of a preview (or of a batch with a problem) back."""


class KnowledgeService:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 on_change: Callable[[], Awaitable[object]] | None = None) -> None:
        self.db = db
        self.clock = clock
        self.on_change = on_change

    # ----- reading -----------------------------------------------------------------------------
    async def entries(self, actor: Actor, query: str = "", kind: str = "") -> list[EntryView]:
        words = fold(query).split()
        async with self.db.sessions() as session:
            entries = await KnowledgeRepository(session).all()
            edits = KnowledgeEditRepository(session)
            owners, scopes = await edits.owners(), await edits.scopes()
            units = await all_units(session)
        by_id = {u.id: u for u in units}
        by_name: dict[str, Unit] = {}
        for u in units:
            by_name.setdefault(u.name.casefold(), u)
        shown = {e.id for e in visibility.visible(entries, scopes, audience(actor.identity, scopes))}
        out = []
        for e in entries:
            if kind and e.kind != kind:
                continue
            if words:
                text = fold(" ".join([e.id, *e.match_names(), e.search_text()]))
                if not all(w in text for w in words):
                    continue
            unit = by_id.get(owners.get(e.id, -1)) or by_name.get((e.unit or "").strip().casefold()) or TOP
            editable = bool(authorize(actor.identity, Action.EDIT_KNOWLEDGE, unit))
            if editable or e.id in shown:
                out.append(EntryView(e, unit, editable))
        return out

    async def entry(self, actor: Actor, entry_id: str) -> tuple[EntryView, list[Revision]]:
        async with self.db.sessions() as session:
            edits = KnowledgeEditRepository(session)
            entry = await edits.get(entry_id)
            if entry is None:
                raise NotFound(entry_id)
            unit = await self._unit_of(session, entry)
            editable = bool(authorize(actor.identity, Action.EDIT_KNOWLEDGE, unit))
            if not (editable or seen(actor.identity, await edits.scopes(), entry_id)):
                raise NotFound(entry_id)  # another unit's: as if there were none
            return EntryView(entry, unit, editable), await edits.revisions(entry_id)

    async def retired(self, actor: Actor) -> list[tuple[Revision, bool]]:
        """The latest revision of each entry that is retired now (its "before" can be restored) among those the
        actor sees (as ``entries``), each with whether they may restore it."""
        async with self.db.sessions() as session:
            edits = KnowledgeEditRepository(session)
            present = {e.id for e in await KnowledgeRepository(session).all()}
            latest: dict[str, Revision] = {}
            for r in await edits.revisions(limit=1000):
                latest.setdefault(r.entry_id, r)
            scopes = await edits.scopes()
            out = []
            for r in latest.values():
                if r.action != "retire" or r.entry_id in present or r.before is None:
                    continue
                unit = await self._unit_by(session, r.entry_id, r.before.get("unit"))
                editable = bool(authorize(actor.identity, Action.EDIT_KNOWLEDGE, unit))
                if editable or seen(actor.identity, scopes, r.entry_id):
                    out.append((r, editable))
        return out

    async def owner_choices(self, actor: Actor) -> list[Unit]:
        """The units a new entry may belong to: those the actor chairs (an admin: the top, or any unit)."""
        if actor.identity is None:
            return []
        units = units_acted_on(actor.identity)
        return [TOP, *units] if actor.identity.is_admin else units

    async def preview_units(self, actor: Actor) -> list[Unit]:
        """The units whose members' answers the actor may preview (the console's "Thử câu hỏi"): every unit of the
        subtrees they act on (an admin: every unit), by path; raise Forbidden for a member."""
        if not (decision := may_act_as_chair(actor.identity)):
            raise Forbidden(decision.reason)
        async with self.db.sessions() as session:
            units = await all_units(session)
        return sorted((u for u in units if authorize(actor.identity, Action.EDIT_KNOWLEDGE, u)), key=lambda u: u.path)

    # ----- changing ----------------------------------------------------------------------------
    async def save(self, actor: Actor, raw: dict, *, entry_id: str | None = None, owner: str = "") -> Entry:
        """Add (``entry_id`` None) or edit an entry from its fields; raise KnowledgeError, Forbidden, NotFound."""
        entry = validate_entry(raw)
        async with self.db.sessions.begin() as session:
            await self._save(session, actor, entry, entry_id, owner, self.clock())
        await self._changed()
        return entry

    async def save_all(self, actor: Actor, items: Sequence[tuple[dict, str]], *,
                       dry_run: bool = False) -> list[Change]:
        """Many entries at once (a spreadsheet import): each ``(fields, owner)`` adds the entry when its id is
        new, else edits it; all in one transaction, each change a revision, each validated and authorized as
        ``save`` does. Returns one ``Change`` per item (its problems, or what it changes field by field).
        Nothing is written when any item has a problem, or with ``dry_run`` (the preview)."""
        now = self.clock()
        out: list[Change] = []
        try:
            async with self.db.sessions.begin() as session:
                edits = KnowledgeEditRepository(session)
                for raw, owner in items:
                    entry_id = str(raw.get("id") or "")
                    try:
                        entry = validate_entry(raw)
                        old = await edits.get(entry.id)
                        before = old.model_dump(mode="json", exclude_none=True) if old else None
                        after = entry.model_dump(mode="json", exclude_none=True)
                        if before == after:
                            out.append(Change(entry.id, "same"))
                            continue
                        await self._save(session, actor, entry, entry.id if old else None, owner if not old else "",
                                         now)
                        out.append(Change(entry.id, "edit" if old else "create", before, after))
                    except KnowledgeError as exc:
                        out.append(Change(entry_id, "error", errors=tuple(exc.errors)))
                    except Forbidden as exc:
                        out.append(Change(entry_id, "error", errors=(exc.reason,)))
                if dry_run or any(c.action == "error" for c in out):
                    raise _Undo
        except _Undo:
            return out
        if any(c.action != "same" for c in out):
            await self._changed()
        return out

    async def _save(self, session, actor: Actor, entry: Entry, entry_id: str | None, owner: str,
                    now: datetime) -> None:
        documents = DocumentRepository(session)
        from services.documents import check_sources

        if problems := check_sources([entry], await documents.documents(), await documents.passages()):
            raise KnowledgeError(problems)
        edits = KnowledgeEditRepository(session)
        if entry_id is None:
            if await edits.get(entry.id) is not None:
                raise KnowledgeError([f"field 'id': duplicate, '{entry.id}' exists already"])
            unit = await self._owner_unit(session, actor, owner, entry)
            self._allow(actor, unit)
            before = None
            await edits.set_owner(entry.id, unit.id or None)
        else:
            old = await edits.get(entry_id)
            if old is None:
                raise NotFound(entry_id)
            unit = await self._unit_of(session, old)
            self._allow(actor, unit)
            if entry.id != entry_id:
                raise KnowledgeError(["field 'id': an entry's id cannot change"])
            before = old.model_dump(mode="json", exclude_none=True)
        await edits.put(entry, now)
        await self._record(session, actor, entry.id, "create" if before is None else "edit", before,
                           entry.model_dump(mode="json", exclude_none=True), unit, now)

    async def retire(self, actor: Actor, entry_id: str) -> None:
        now = self.clock()
        async with self.db.sessions.begin() as session:
            edits = KnowledgeEditRepository(session)
            old = await edits.get(entry_id)
            if old is None:
                raise NotFound(entry_id)
            unit = await self._unit_of(session, old)
            self._allow(actor, unit)
            await edits.remove(entry_id)
            await self._record(session, actor, entry_id, "retire", old.model_dump(mode="json", exclude_none=True),
                               None, unit, now)
        await self._changed()

    async def rollback(self, actor: Actor, revision_id: int) -> str:
        """Put the entry back as it was before ``revision_id`` (undoing a retire restores it); the entry's id."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            edits = KnowledgeEditRepository(session)
            revision = await edits.revision(revision_id)
            if revision is None:
                raise NotFound(str(revision_id))
            current = await edits.get(revision.entry_id)
            probe = current or (validate_entry(revision.before) if revision.before else None)
            owner_id = await edits.owner(revision.entry_id)
            unit = (await UnitRepository(session).by_id(owner_id) if owner_id else None) or (
                await self._unit_of(session, probe) if probe else TOP)
            self._allow(actor, unit)
            before = current.model_dump(mode="json", exclude_none=True) if current else None
            if revision.before is None:
                await edits.remove(revision.entry_id)
            else:
                await edits.put(validate_entry(revision.before), now)
            await self._record(session, actor, revision.entry_id, "rollback", before, revision.before, unit, now,
                               revision=revision_id)
        await self._changed()
        return revision.entry_id

    # ----- helpers -----------------------------------------------------------------------------
    @staticmethod
    def _allow(actor: Actor, unit: Unit) -> None:
        decision: Decision = authorize(actor.identity, Action.EDIT_KNOWLEDGE, unit)
        if not decision:
            raise Forbidden(decision.reason)

    async def _unit_of(self, session, entry: Entry) -> Unit:
        return await self._unit_by(session, entry.id, entry.unit)

    @staticmethod
    async def _unit_by(session, entry_id: str, unit_field: str | None) -> Unit:
        owner_id = await KnowledgeEditRepository(session).owner(entry_id)
        if owner_id is not None and (unit := await UnitRepository(session).by_id(owner_id)) is not None:
            return unit
        if unit_field and (unit := await unit_named(session, unit_field)) is not None:
            return unit
        return TOP

    async def _owner_unit(self, session, actor: Actor, owner: str, entry: Entry) -> Unit:
        if owner:
            unit = await UnitRepository(session).by_code(owner)
            if unit is None:
                raise KnowledgeError([f"field 'owner': unknown unit '{owner}'"])
            return unit
        return await self._unit_of(session, entry)

    async def _record(self, session, actor: Actor, entry_id: str, action: str, before, after, unit: Unit,
                      now: datetime, **details) -> None:
        edits = KnowledgeEditRepository(session)
        await edits.record(entry_id, now, actor.label, actor.member_id, action, before, after, unit.id or None)
        await AuditRepository(session).record(actor=actor.label, actor_member_id=actor.member_id,
                                              action=f"knowledge.{action}", unit_id=unit.id or None,
                                              target=entry_id, now=now, **details)
        await edits.bump_version(now)

    async def _changed(self) -> None:
        if self.on_change is not None:
            try:
                await self.on_change()
            except Exception:  # the watcher picks the change up on its next round anyway
                log.exception("knowledge reload after a change failed")


def audience(identity: Identity | None, scopes: dict[str, str]) -> frozenset[str]:
    """The owning units' paths whose entries chat answers a member of the officer's own unit, or of a unit they
    chair, from (``handlers.visibility.audience_of``; an admin: every one)."""
    if identity is None:
        return frozenset()
    if identity.is_admin:
        return frozenset(scopes.values())
    paths = [identity.member.unit.path, *(u.path for u in units_acted_on(identity))]
    return frozenset().union(*(visibility.audience_of(scopes, p) for p in paths))


def seen(identity: Identity | None, scopes: dict[str, str], entry_id: str) -> bool:
    """Whether chat shows the entry to a member of the officer's unit or of a unit they chair (see ``audience``)."""
    return bool(visibility.visible([entry_id], scopes, audience(identity, scopes), key=lambda e: e))


def apply_to_core(core, entries: Sequence[Entry]) -> None:
    """The running bot answers from ``entries`` from now on: the matcher's names and retrieval index are rebuilt
    on the intent model already trained (no retraining: a new entry's names are matched by the entity index).
    ``entries`` from the watcher also say which belong to a unit (``ScopedEntries.scopes``)."""
    from nlu.matcher import Matcher, NamedEntry

    old = core.matcher
    core.matcher = Matcher(old.normalize, old.model,
                           [NamedEntry(e.id, e.kind, e.match_names(), e.search_text()) for e in entries],
                           thresholds=old.thresholds)
    core.set_knowledge(KnowledgeBase(list(entries), scopes=dict(getattr(entries, "scopes", {}))))


def passages_to_core(core, passages: Sequence[PassageInfo]) -> None:
    """The documents' passages the bot answers from once ``apply_to_core`` rebuilds its evidence index (which it
    does right after, in ``KnowledgeWatcher.check``): one rebuild for both."""
    core.passages = list(passages)


def watch_core(db: Database, core, every: float = 2.0) -> KnowledgeWatcher:
    """The watcher that keeps a running bot's knowledge and document passages current."""
    return KnowledgeWatcher(db, lambda entries: apply_to_core(core, entries), every,
                            passages=lambda passages: passages_to_core(core, passages))


class KnowledgeWatcher:
    """Polls the knowledge version row; when it moved (a change by this process, another worker or the CLI),
    reloads the entries and hands them to ``apply``."""

    def __init__(self, db: Database, apply: Callable[[list[Entry]], None], every: float = 2.0,
                 passages: Callable[[list[PassageInfo]], None] | None = None) -> None:
        self.db = db
        self.apply = apply
        #: given, the documents' passages are reloaded too (an upload or removal in the console bumps the
        #: version as well), handed over before the entries (``passages_to_core``, then ``apply_to_core``)
        self.passages = passages
        self.every = every
        self.version: int | None = None
        self._lock = asyncio.Lock()
        self._stop = asyncio.Event()

    async def check(self) -> bool:
        """Reload if the version moved; whether it did."""
        async with self._lock:
            async with self.db.sessions() as session:
                version = await knowledge_version(session)
                if self.version is None:  # the knowledge loaded at start is this version
                    self.version = version
                    return False
                if version == self.version:
                    return False
                entries = ScopedEntries(await KnowledgeRepository(session).all(),
                                        await KnowledgeEditRepository(session).scopes())
                passages = await DocumentRepository(session).passages() if self.passages is not None else None
            if self.passages is not None and passages is not None:
                self.passages(passages)
            # in a thread: rebuilding the indexes takes a second or two of CPU, the event loop goes on serving
            # (each part is swapped in by one attribute assignment; a message meanwhile is answered from either)
            await asyncio.to_thread(self.apply, entries)
            self.version = version
            log.info("knowledge reloaded: version %d, %d entries", version, len(entries))
            return True

    async def run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.check()
            except Exception as exc:  # a database blip: try again next round
                log.warning("knowledge version check failed: %s", type(exc).__name__)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.every)

    def stop(self) -> None:
        self._stop.set()
