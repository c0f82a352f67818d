"""Source documents and their passages (sentences with their paragraph): SQL only, in the caller's transaction.

Reading and splitting files is ``services/documents.py``; this module only stores what it parsed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import PurePath
from typing import Literal, Protocol

from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected_rows, aware
from storage.models import AuditLogRow, DocumentRow, PassageRow

Outcome = Literal["added", "replaced", "unchanged"]


class Parsed(Protocol):
    """What the repository needs of a parsed document (services.documents.ParsedDocument has it; read only)."""

    @property
    def title(self) -> str: ...
    @property
    def published(self) -> date | None: ...
    @property
    def publication(self) -> str | None: ...
    @property
    def origin(self) -> str: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def paragraphs(self) -> Sequence[Sequence[str]]: ...


@dataclass(frozen=True)
class DocumentInfo:
    id: int
    origin: str
    name: str  # the file name of the origin, e.g. "001_d84ce019b34163c3.txt"
    title: str
    published: date | None
    content_hash: str
    passages: int
    ingested_at: datetime
    publication: str | None = None


@dataclass(frozen=True)
class PassageInfo:
    id: int
    document_id: int
    title: str
    published: date | None
    origin: str
    paragraph: int
    sentence: int
    text: str
    publication: str | None = None


def origin_name(origin: str) -> str:
    """The last part of a path or URL: how knowledge entries name their source document."""
    return PurePath(origin.rstrip("/").split("?", 1)[0]).name or origin


class DocumentRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def upsert(self, parsed: Parsed, now: datetime | None = None) -> tuple[int, Outcome]:
        """Store a parsed document and its passages: added, replaced (same origin, new content: its passages
        are replaced) or unchanged (same content already stored, under this origin or another one)."""
        now = now or datetime.now(UTC)
        row = await self.session.scalar(select(DocumentRow).where(DocumentRow.origin == parsed.origin))
        if row is not None and row.content_hash == parsed.content_hash:
            return row.id, "unchanged"
        if row is None:
            same = await self.session.scalar(
                select(DocumentRow.id).where(DocumentRow.content_hash == parsed.content_hash).limit(1))
            if same is not None:
                return same, "unchanged"
            row = DocumentRow(origin=parsed.origin)
            self.session.add(row)
            outcome: Outcome = "added"
        else:
            await self.session.execute(delete(PassageRow).where(PassageRow.document_id == row.id))
            outcome = "replaced"
        row.name, row.title, row.published = origin_name(parsed.origin), parsed.title, parsed.published
        row.publication = parsed.publication
        row.content_hash, row.ingested_at = parsed.content_hash, now
        await self.session.flush()
        rows = [{"document_id": row.id, "paragraph": p, "sentence": s, "text": text}
                for p, sentences in enumerate(parsed.paragraphs) for s, text in enumerate(sentences)]
        if rows:  # one executemany, not an INSERT ... RETURNING per sentence
            await self.session.execute(insert(PassageRow), rows)
        return row.id, outcome

    async def delete(self, document_id: int) -> bool:
        """Remove a document and its passages; False when there was none."""
        await self.session.execute(delete(PassageRow).where(PassageRow.document_id == document_id))
        result = await self.session.execute(delete(DocumentRow).where(DocumentRow.id == document_id))
        return bool(affected_rows(result))

    async def documents(self) -> list[DocumentInfo]:
        counts = (select(PassageRow.document_id, func.count().label("n"))
                  .group_by(PassageRow.document_id).subquery())
        rows = (await self.session.execute(
            select(DocumentRow, func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.document_id == DocumentRow.id).order_by(DocumentRow.id))).all()
        return [DocumentInfo(id=d.id, origin=d.origin, name=d.name, title=d.title, published=d.published,
                             content_hash=d.content_hash, passages=int(n), ingested_at=d.ingested_at,
                             publication=d.publication)
                for d, n in rows]

    async def passages(self, document_id: int | None = None) -> list[PassageInfo]:
        """Every passage (or one document's) with its document's title, date, origin and publication, in
        document then reading order."""
        query = (select(PassageRow, DocumentRow.title, DocumentRow.published, DocumentRow.origin,
                        DocumentRow.publication)
                 .join(DocumentRow, DocumentRow.id == PassageRow.document_id)
                 .order_by(PassageRow.document_id, PassageRow.paragraph, PassageRow.sentence))
        if document_id is not None:
            query = query.where(PassageRow.document_id == document_id)
        rows = (await self.session.execute(query)).all()
        return [PassageInfo(id=p.id, document_id=p.document_id, title=title, published=published, origin=origin,
                            paragraph=p.paragraph, sentence=p.sentence, text=p.text, publication=publication)
                for p, title, published, origin, publication in rows]

    async def uploads(self) -> dict[int, tuple[str, datetime]]:
        """Who uploaded each document in the web console, and when: {document id: (actor label, time)} from the
        audit log's latest "document.upload" line (documents ingested by the CLI have none)."""
        rows = (await self.session.execute(
            select(AuditLogRow.target, AuditLogRow.actor, AuditLogRow.at)
            .where(AuditLogRow.action == "document.upload").order_by(AuditLogRow.id))).all()
        return {int(target): (actor, aware(at)) for target, actor, at in rows if target and target.isdigit()}

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(DocumentRow)) or 0)
