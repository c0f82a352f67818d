"""The knowledge base: schema of ``knowledge/*.yaml``, the loader, the repository and the read model.

A file is validated whole before anything is written; an error names the file, the entry and the
field. Loading replaces the YAML-origin entries in one transaction, so a load is idempotent and
never leaves the base half-loaded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import aware
from storage.models import KnowledgeEntryRow, KnowledgeOwnerRow, KnowledgeRevisionRow, KnowledgeVersionRow, UnitRow

Kind = Literal["benefit", "programme", "loan", "campaign", "movement", "title", "cluster", "fact", "commendation"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Source(_Strict):
    document: str = Field(min_length=1)  # the source document's file name (or origin), e.g. "001_d84c....txt"
    title: str = Field(min_length=1)
    #: the publication that printed it ("Lao động Thủ đô") and the article's date, when the source says them
    publication: str | None = None
    published: date | None = None
    #: optional anchors: short quotes, each found in a passage of ``document`` once it is ingested
    #: (checked by services.documents.check_sources when both are loaded)
    passages: list[str] = Field(default_factory=list)


class BenefitInfo(_Strict):
    partner: str = Field(min_length=1)
    products: list[str] = Field(default_factory=list)
    discount: str = Field(min_length=1)
    discount_min_pct: float | None = Field(default=None, ge=0, le=100)
    discount_max_pct: float | None = Field(default=None, ge=0, le=100)
    conditions: str | None = None
    how_to_use: str | None = None
    results: str | None = None


class ProgrammeInfo(_Strict):
    category: Literal["covid", "rent", "health", "tet", "trip", "other"]
    figures: str | None = None


class LoanInfo(_Strict):
    fund: str = Field(min_length=1)
    figures: str | None = None


class Phase(_Strict):
    number: int = Field(ge=1, le=20)
    starts_on: date
    ends_on: date
    theme: str | None = None

    @model_validator(mode="after")
    def _ordered(self) -> Phase:
        if self.ends_on < self.starts_on:
            raise ValueError("ends_on is before starts_on")
        return self


class CampaignInfo(_Strict):
    year: int = Field(ge=1900, le=2100)
    theme: str | None = None
    phases: list[Phase] = Field(default_factory=list)


class ClusterInfo(_Strict):
    number: int = Field(ge=1, le=100)
    year: int = Field(ge=1900, le=2100)
    members: list[str] = Field(default_factory=list)
    leader_unit: str | None = None
    leader_person: str | None = None


class CommendationInfo(_Strict):
    period: str = Field(min_length=1)
    figures: str = Field(min_length=1)


class Empty(_Strict):
    pass


_SLUG = r"^[a-z0-9][a-z0-9-]*$"


class Entry(_Strict):
    """One fact sheet the bot answers from. Exactly the block named after ``kind`` is present."""

    id: str = Field(pattern=_SLUG, max_length=60)  # "kb:<id>" must fit Telegram's 64-byte callback data
    kind: Kind
    name: str = Field(min_length=1, max_length=300)
    aliases: list[str] = Field(default_factory=list)
    summary: str = Field(min_length=1)
    source: Source
    as_of: date
    unit: str | None = None
    details: str | None = None
    benefit: BenefitInfo | None = None
    programme: ProgrammeInfo | None = None
    loan: LoanInfo | None = None
    campaign: CampaignInfo | None = None
    movement: Empty | None = None
    title: Empty | None = None
    cluster: ClusterInfo | None = None
    fact: Empty | None = None
    commendation: CommendationInfo | None = None

    @model_validator(mode="before")
    @classmethod
    def _empty_blocks(cls, data):
        # ``movement:`` with nothing after it is an empty block, not a missing one
        if isinstance(data, dict):
            kind = data.get("kind")
            if kind in ("movement", "title", "fact") and kind in data and data[kind] is None:
                data = {**data, kind: {}}
        return data

    @model_validator(mode="after")
    def _one_block(self) -> Entry:
        present = [k for k in KINDS if getattr(self, k) is not None]
        if self.kind in ("movement", "title", "fact") and not present:
            return self
        if present != [self.kind]:
            raise ValueError(f"entry of kind '{self.kind}' needs exactly the block '{self.kind}:' (found: "
                             f"{', '.join(present) or 'none'})")
        return self

    def match_names(self) -> list[str]:
        """Names members may use for this entry: its name, aliases, and ones derived from its data."""
        names = [self.name, *self.aliases]
        if self.benefit:
            names.append(self.benefit.partner)
            names.extend(self.benefit.products)
        if self.cluster:
            n = self.cluster.number
            names.extend([f"cụm {n}", f"cụm số {n}", f"cụm thi đua {n}", f"cụm thi đua số {n}"])
            names.extend(_short_unit_name(m) for m in self.cluster.members)
        return [n for n in dict.fromkeys(x.strip() for x in names) if n]

    def search_text(self) -> str:
        """Every word the entry says (summary, details, its block's text), for word-overlap retrieval."""
        parts = [self.summary, self.details or "", self.unit or ""]
        for block in (self.benefit, self.programme, self.loan, self.campaign, self.cluster, self.commendation):
            if block is not None:
                parts.extend(str(v) for v in block.model_dump(exclude_none=True).values()
                             if isinstance(v, (str, list)))
        if self.campaign:
            parts.extend(p.theme or "" for p in self.campaign.phases)
        return " ".join(parts)


_UNIT_PREFIX = re.compile(
    r"^(liên đoàn lao động|lđlđ|ldld|công đoàn)\s+(các\s+)?(quận|huyện|thị xã|phường|xã)?\s*", re.IGNORECASE
)


def _short_unit_name(unit: str) -> str:
    """"LĐLĐ quận Ba Đình" -> "Ba Đình": members name a district, not its union."""
    return _UNIT_PREFIX.sub("", unit).strip()


class KnowledgeError(Exception):
    """Raised when knowledge files are invalid; ``errors`` lists each problem with file, entry and field."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


def _format_loc(loc: Sequence[int | str]) -> str:
    return ".".join(str(p) for p in loc) or "(entry)"


def validate_entry(raw: object) -> Entry:
    """One entry, validated as the loader does; KnowledgeError lists each problem as "field 'x': message"."""
    try:
        return Entry.model_validate(raw)
    except ValidationError as exc:
        raise KnowledgeError([f"field '{_format_loc(err['loc'])}': {err['msg']}" for err in exc.errors()]) from None


def load_directory(directory: Path) -> list[Entry]:
    """Read and validate every ``*.yaml`` file of ``directory``; raise KnowledgeError listing all problems."""
    files = sorted(directory.glob("*.yaml")) + sorted(directory.glob("*.yml"))
    errors: list[str] = []
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    if not files:
        raise KnowledgeError([f"{directory}: no *.yaml knowledge files found"])
    for path in files:
        try:
            document = yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
        except (yaml.YAMLError, UnicodeDecodeError) as exc:
            errors.append(f"{path.name}: not valid YAML: {exc}")
            continue
        if not isinstance(document, dict) or not isinstance(document.get("entries"), list):
            errors.append(f"{path.name}: expected a mapping with a list under 'entries'")
            continue
        for index, raw in enumerate(document["entries"], start=1):
            label = f"entry #{index}"
            if isinstance(raw, dict) and raw.get("id"):
                label = f"entry '{raw['id']}'"
            try:
                entry = validate_entry(raw)
            except KnowledgeError as exc:
                errors.extend(f"{path.name}: {label}: {error}" for error in exc.errors)
                continue
            if entry.id in seen:
                errors.append(f"{path.name}: {label}: field 'id': duplicate, already used in {seen[entry.id]}")
                continue
            seen[entry.id] = path.name
            entries.append(entry)
    if errors:
        raise KnowledgeError(errors)
    return entries


class KnowledgeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def replace_from_files(self, entries: Iterable[Entry], origin: str = "yaml") -> int:
        """Make the ``origin`` entries exactly ``entries`` (insert, update, delete), in the caller's transaction."""
        now = datetime.now(UTC)
        entries = list(entries)
        existing = {row.id: row for row in (await self.session.scalars(
            select(KnowledgeEntryRow).where(KnowledgeEntryRow.origin == origin))).all()}
        for entry in entries:
            data = entry.model_dump(mode="json", exclude_none=True)
            row = existing.pop(entry.id, None) or await self.session.get(KnowledgeEntryRow, entry.id)
            if row is None:
                row = KnowledgeEntryRow(id=entry.id)
                self.session.add(row)
            row.kind, row.name, row.data = entry.kind, entry.name, data
            row.source_document, row.as_of, row.origin, row.updated_at = (
                entry.source.document, entry.as_of, origin, now)
        if existing:
            await self.session.execute(delete(KnowledgeEntryRow).where(KnowledgeEntryRow.id.in_(list(existing))))
        await KnowledgeEditRepository(self.session).bump_version(now)  # running processes reload
        return len(entries)

    async def all(self) -> list[Entry]:
        rows = (await self.session.scalars(select(KnowledgeEntryRow).order_by(KnowledgeEntryRow.id))).all()
        return [Entry.model_validate(row.data) for row in rows]

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(KnowledgeEntryRow)) or 0)


@dataclass
class KnowledgeBase:
    """In-memory read model of the knowledge entries, rebuilt when the base changes."""

    entries: list[Entry]
    #: the entries that belong to a unit (set in the web console): entry id -> the unit's path (handlers/visibility.py)
    scopes: dict[str, str] = field(default_factory=dict)
    by_id: dict[str, Entry] = field(init=False)
    by_kind: dict[str, list[Entry]] = field(init=False)
    _combined: dict[tuple[str, ...], list[Entry]] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self.by_id = {e.id: e for e in self.entries}
        self._combined = {}
        self.by_kind = {}
        for e in sorted(self.entries, key=lambda e: (e.as_of, e.id), reverse=True):
            self.by_kind.setdefault(e.kind, []).append(e)

    def of_kind(self, *kinds: str) -> list[Entry]:
        """Entries of these kinds, the most recent first (computed once per combination of kinds)."""
        if len(kinds) == 1:
            return self.by_kind.get(kinds[0], [])
        if kinds not in self._combined:
            self._combined[kinds] = sorted((e for k in kinds for e in self.by_kind.get(k, [])),
                                           key=lambda e: (e.as_of, e.id), reverse=True)
        return self._combined[kinds]


class ScopedEntries(list):
    """The entries as loaded for the running bot, with ``scopes`` (see ``KnowledgeBase.scopes``)."""

    def __init__(self, entries: Iterable[Entry] = (), scopes: dict[str, str] | None = None) -> None:
        super().__init__(entries)
        self.scopes = scopes or {}


# ----- revisions, owners and the version every process polls (the web console, services/knowledge.py) -----

@dataclass(frozen=True, slots=True)
class Revision:
    id: int
    entry_id: str
    at: datetime
    actor: str
    actor_member_id: int | None
    action: str  # create | edit | retire | rollback
    before: dict | None
    after: dict | None


class KnowledgeEditRepository:
    """One entry at a time, each change with its revision, in the caller's transaction."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, entry_id: str) -> Entry | None:
        row = await self.session.get(KnowledgeEntryRow, entry_id)
        return Entry.model_validate(row.data) if row else None

    async def put(self, entry: Entry, now: datetime, origin: str = "web") -> None:
        row = await self.session.get(KnowledgeEntryRow, entry.id)
        if row is None:
            row = KnowledgeEntryRow(id=entry.id)
            self.session.add(row)
        row.kind, row.name, row.data = entry.kind, entry.name, entry.model_dump(mode="json", exclude_none=True)
        row.source_document, row.as_of, row.origin, row.updated_at = entry.source.document, entry.as_of, origin, now
        await self.session.flush()

    async def remove(self, entry_id: str) -> None:
        await self.session.execute(delete(KnowledgeEntryRow).where(KnowledgeEntryRow.id == entry_id))

    async def record(self, entry_id: str, now: datetime, actor: str, actor_member_id: int | None, action: str,
                     before: dict | None, after: dict | None, owner_unit_id: int | None) -> int:
        row = KnowledgeRevisionRow(entry_id=entry_id, at=now, actor=actor, actor_member_id=actor_member_id,
                                   action=action, before=before, after=after, owner_unit_id=owner_unit_id)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def revisions(self, entry_id: str | None = None, limit: int = 100) -> list[Revision]:
        stmt = select(KnowledgeRevisionRow).order_by(KnowledgeRevisionRow.id.desc()).limit(limit)
        if entry_id is not None:
            stmt = stmt.where(KnowledgeRevisionRow.entry_id == entry_id)
        return [_revision(r) for r in (await self.session.scalars(stmt)).all()]

    async def revision(self, revision_id: int) -> Revision | None:
        row = await self.session.get(KnowledgeRevisionRow, revision_id)
        return _revision(row) if row else None

    async def owner(self, entry_id: str) -> int | None:
        row = await self.session.get(KnowledgeOwnerRow, entry_id)
        return row.unit_id if row else None

    async def owners(self) -> dict[str, int]:
        """Every entry's owning unit set in the console: entry id -> unit id."""
        return {r.entry_id: r.unit_id for r in (await self.session.scalars(select(KnowledgeOwnerRow))).all()}

    async def scopes(self) -> dict[str, str]:
        """Every entry owned by a unit: entry id -> the unit's path (who may be answered from it)."""
        rows = await self.session.execute(select(KnowledgeOwnerRow.entry_id, UnitRow.path).join(
            UnitRow, UnitRow.id == KnowledgeOwnerRow.unit_id))
        return {entry_id: path for entry_id, path in rows}

    async def set_owner(self, entry_id: str, unit_id: int | None) -> None:
        row = await self.session.get(KnowledgeOwnerRow, entry_id)
        if unit_id is None:
            if row is not None:
                await self.session.delete(row)
        elif row is None:
            self.session.add(KnowledgeOwnerRow(entry_id=entry_id, unit_id=unit_id))
        else:
            row.unit_id = unit_id
        await self.session.flush()

    async def bump_version(self, now: datetime) -> int:
        row = await self.session.get(KnowledgeVersionRow, 1, with_for_update=True)
        if row is None:
            row = KnowledgeVersionRow(id=1, version=0, changed_at=now)
            self.session.add(row)
        row.version += 1
        row.changed_at = now
        await self.session.flush()
        return row.version


async def knowledge_version(session: AsyncSession) -> int:
    return int(await session.scalar(select(KnowledgeVersionRow.version).where(KnowledgeVersionRow.id == 1)) or 0)


def _revision(row: KnowledgeRevisionRow) -> Revision:
    return Revision(row.id, row.entry_id, aware(row.at), row.actor, row.actor_member_id, row.action, row.before,
                    row.after)


async def all_units(session: AsyncSession) -> list:
    """Every unit (a few hundred at most), for resolving the owners of a whole listing at once."""
    from storage.membership import _unit
    from storage.models import UnitRow

    return [_unit(r) for r in (await session.scalars(select(UnitRow).order_by(UnitRow.id))).all()]


async def unit_named(session: AsyncSession, name: str):
    """The unit whose name is ``name`` (an entry's ``unit:`` names the union it belongs to), or None."""
    from storage.membership import _unit
    from storage.models import UnitRow

    name = name.strip()
    row = await session.scalar(select(UnitRow).where(UnitRow.name == name).order_by(UnitRow.id).limit(1))
    if row is None:  # SQLite's lower() folds ASCII only: compare the other spellings here
        wanted = name.casefold()
        row = next((r for r in await session.scalars(select(UnitRow).order_by(UnitRow.id))
                    if r.name.casefold() == wanted), None)
    return _unit(row) if row else None
