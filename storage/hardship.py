"""Hardship support requests: filing, review decisions, history (queries; the export file is ``services.hardship``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, tzinfo

from sqlalchemy import Select, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected_rows, aware
from storage.membership import Member, MemberRepository, Unit, UnitRepository
from storage.models import HardshipEventRow, HardshipPhotoRow, HardshipRequestRow, MemberRow, UnitRow

CATEGORIES = ("illness", "accident", "disaster", "job_loss", "family", "death", "other")
URGENT = frozenset({"accident", "disaster", "death"})  # serious accident, fire or natural disaster, a death
OPEN = ("submitted", "info_requested", "forwarded")


@dataclass(frozen=True, slots=True)
class Event:
    at: datetime
    action: str
    actor_member_id: int | None
    note: str | None
    #: who took the step: the role they acted in ("member": the request's own member; "chair", "deputy", "admin";
    #: None for a step stored before roles were kept), their name and the unit they chair (never a phone number)
    actor_role: str | None = None
    actor_name: str | None = None
    actor_code: str | None = None
    actor_unit: str | None = None


@dataclass(frozen=True, slots=True)
class HardshipRequest:
    id: int
    reference: str
    member: Member
    unit: Unit
    category: str
    happened_on: date
    description: str
    amount_requested: int | None
    contact_phone: str
    urgent: bool
    status: str
    approved_amount: int | None
    decision_note: str | None
    forwarded_to: Unit | None
    created_at: datetime
    photos: tuple[str, ...]
    history: tuple[Event, ...]


@dataclass(frozen=True, slots=True)
class NewRequest:
    member_id: int
    unit_id: int
    category: str
    happened_on: date
    description: str
    amount_requested: int | None
    contact_phone: str
    consent: bool
    photos: Sequence[tuple[str, str]]  # (channel, file id)
    form_id: str | None = None  # the member's form: one request per form (a unique key)




class HardshipRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def grassroots_of(self, unit: Unit) -> Unit:
        """The grassroots union (CĐCS) that reviews requests of a member of ``unit``."""
        if unit.level in ("grassroots", "district", "city"):
            return unit
        for ancestor in await UnitRepository(self.session).ancestors(unit):
            if ancestor.level == "grassroots":
                return ancestor
        return unit

    async def create(self, new: NewRequest, now: datetime, year: int | None = None) -> HardshipRequest:
        """Store a submitted request; its reference is ``HT-<year>-<id>`` (``year``: the union's local year,
        default ``now``'s)."""
        row = HardshipRequestRow(reference=f"tmp-{now.timestamp()}-{new.member_id}", member_id=new.member_id,
                                 unit_id=new.unit_id, category=new.category, happened_on=new.happened_on,
                                 description=new.description, amount_requested=new.amount_requested,
                                 contact_phone=new.contact_phone, consent=new.consent,
                                 urgent=new.category in URGENT, status="submitted", created_at=now, updated_at=now,
                                 form_id=new.form_id)
        self.session.add(row)
        await self.session.flush()
        row.reference = f"HT-{year or now.year}-{row.id:06d}"
        for channel, file_id in new.photos:
            self.session.add(HardshipPhotoRow(request_id=row.id, channel=channel, file_id=file_id, added_at=now))
        self.session.add(HardshipEventRow(request_id=row.id, at=now, actor_member_id=new.member_id,
                                          action="submitted", note=None, actor_role="member"))
        await self.session.flush()
        return await self._one(row.id)

    async def get(self, request_id: int) -> HardshipRequest | None:
        row = await self.session.get(HardshipRequestRow, request_id)
        return await self._request(row) if row is not None else None

    async def _one(self, request_id: int) -> HardshipRequest:
        """A request whose id was just read or written (raises ``NoResultFound`` if it is gone)."""
        return await self._request(await self.session.get_one(HardshipRequestRow, request_id))

    async def _request(self, row: HardshipRequestRow) -> HardshipRequest:
        members, units = MemberRepository(self.session), UnitRepository(self.session)
        member, unit = await members.by_id(row.member_id), await units.by_id(row.unit_id)
        assert member is not None and unit is not None, "kept by the foreign keys"
        photos = await self.session.scalars(
            select(HardshipPhotoRow.file_id).where(HardshipPhotoRow.request_id == row.id).order_by(HardshipPhotoRow.id))
        events = (await self.session.execute(
            select(HardshipEventRow, MemberRow.full_name, MemberRow.member_code, UnitRow.name)
            .outerjoin(MemberRow, MemberRow.id == HardshipEventRow.actor_member_id)
            .outerjoin(UnitRow, UnitRow.id == HardshipEventRow.actor_unit_id)
            .where(HardshipEventRow.request_id == row.id).order_by(HardshipEventRow.id))).all()
        return HardshipRequest(
            row.id, row.reference, member, unit, row.category,
            row.happened_on, row.description, row.amount_requested, row.contact_phone, row.urgent, row.status,
            row.approved_amount, row.decision_note,
            await units.by_id(row.forwarded_to_unit_id) if row.forwarded_to_unit_id else None,
            aware(row.created_at), tuple(photos),
            tuple(Event(aware(e.at), e.action, e.actor_member_id, e.note,
                        e.actor_role or ("member" if e.actor_member_id == row.member_id else None), name, code,
                        unit_name)
                  for e, name, code, unit_name in events))

    async def by_reference(self, reference: str) -> HardshipRequest | None:
        row_id = await self.session.scalar(select(HardshipRequestRow.id).where(
            func.upper(HardshipRequestRow.reference) == reference.strip().upper()))
        return await self.get(row_id) if row_id else None

    async def of_member(self, member_id: int) -> list[HardshipRequest]:
        ids = await self.session.scalars(select(HardshipRequestRow.id).where(
            HardshipRequestRow.member_id == member_id).order_by(HardshipRequestRow.id.desc()))
        return [await self._one(i) for i in ids]

    async def open_for(self, units: Sequence[Unit]) -> list[HardshipRequest]:
        """Open requests reviewed by these units: filed there, or forwarded to them."""
        if not units:
            return []
        ids = [u.id for u in units]
        rows = await self.session.scalars(select(HardshipRequestRow.id).where(
            HardshipRequestRow.status.in_(OPEN),
            or_(HardshipRequestRow.unit_id.in_(ids), HardshipRequestRow.forwarded_to_unit_id.in_(ids)))
            .order_by(HardshipRequestRow.urgent.desc(), HardshipRequestRow.id))
        return [await self._one(i) for i in rows]

    async def open_all(self) -> list[HardshipRequest]:
        rows = await self.session.scalars(select(HardshipRequestRow.id).where(
            HardshipRequestRow.status.in_(OPEN)).order_by(HardshipRequestRow.urgent.desc(), HardshipRequestRow.id))
        return [await self._one(i) for i in rows]

    async def claim(self, request_id: int, now: datetime, *, statuses: Sequence[str] = OPEN,
                    not_forwarded: bool = False) -> bool:
        """Take the request for a decision if it is still in one of ``statuses`` (and, with ``not_forwarded``,
        not forwarded yet): a conditional UPDATE, so of two concurrent decisions exactly one goes on (on
        PostgreSQL the other waits for the row lock, then finds the status changed)."""
        conditions = [HardshipRequestRow.id == request_id, HardshipRequestRow.status.in_(list(statuses))]
        if not_forwarded:
            conditions.append(HardshipRequestRow.forwarded_to_unit_id.is_(None))
        result = await self.session.execute(update(HardshipRequestRow).where(*conditions).values(updated_at=now)
                                            .execution_options(synchronize_session=False))
        return affected_rows(result) == 1

    async def by_form(self, form_id: str) -> HardshipRequest | None:
        row_id = await self.session.scalar(select(HardshipRequestRow.id).where(HardshipRequestRow.form_id == form_id))
        return await self.get(row_id) if row_id is not None else None

    async def awaiting_info(self, member_id: int) -> list[HardshipRequest]:
        """The member's requests on which a chair asked for more information (latest first)."""
        ids = await self.session.scalars(select(HardshipRequestRow.id).where(
            HardshipRequestRow.member_id == member_id, HardshipRequestRow.status == "info_requested")
            .order_by(HardshipRequestRow.id.desc()))
        return [await self._one(i) for i in ids]

    async def record(self, request_id: int, action: str, actor_member_id: int | None, note: str | None,
                     now: datetime, *, status: str | None = None, approved_amount: int | None = None,
                     forwarded_to_unit_id: int | None = None, photos: Sequence[tuple[str, str]] = (),
                     actor_role: str | None = None, actor_unit_id: int | None = None) -> None:
        """Add a history event (``actor_role``: what the actor acted as, ``actor_unit_id``: the unit they chair)
        and apply its status change."""
        row = await self.session.get_one(HardshipRequestRow, request_id)
        self.session.add(HardshipEventRow(request_id=request_id, at=now, actor_member_id=actor_member_id,
                                          action=action, note=note, actor_role=actor_role,
                                          actor_unit_id=actor_unit_id))
        for channel, file_id in photos:
            self.session.add(HardshipPhotoRow(request_id=request_id, channel=channel, file_id=file_id, added_at=now))
        if status is not None:
            row.status = status
        if approved_amount is not None:
            row.approved_amount = approved_amount
        if action in ("approved", "rejected"):
            row.decision_note = note
        if forwarded_to_unit_id is not None:
            row.forwarded_to_unit_id = forwarded_to_unit_id
        row.updated_at = now
        await self.session.flush()

    @staticmethod
    def _matching(unit_ids: Sequence[int] | None, *, status: str = "", category: str = "", urgent: bool | None = None,
                  since: datetime | None = None, until: datetime | None = None) -> Select:
        query = select(HardshipRequestRow.id)
        if unit_ids is not None:
            ids = list(unit_ids)
            query = query.where(or_(HardshipRequestRow.unit_id.in_(ids),
                                    HardshipRequestRow.forwarded_to_unit_id.in_(ids)))
        if status:
            query = query.where(HardshipRequestRow.status == status)
        if category:
            query = query.where(HardshipRequestRow.category == category)
        if urgent is not None:
            query = query.where(HardshipRequestRow.urgent.is_(urgent))
        if since is not None:
            query = query.where(HardshipRequestRow.created_at >= since)
        if until is not None:
            query = query.where(HardshipRequestRow.created_at < until)
        return query

    async def search(self, unit_ids: Sequence[int] | None, *, status: str = "", category: str = "",
                     urgent: bool | None = None, since: datetime | None = None, until: datetime | None = None,
                     limit: int | None = None, offset: int = 0) -> list[HardshipRequest]:
        """Requests filed with ``unit_ids`` or forwarded to them (None: every unit), newest first, narrowed by
        status, category, urgency and the moment they were submitted (``since`` included, ``until`` not); a page
        of them with ``limit`` and ``offset`` (the newest first, so a page stays put while older ones are read)."""
        query = self._matching(unit_ids, status=status, category=category, urgent=urgent, since=since, until=until)
        query = query.order_by(HardshipRequestRow.id.desc()).offset(offset)
        rows = await self.session.scalars(query.limit(limit) if limit is not None else query)
        return [await self._one(i) for i in rows]

    async def count(self, unit_ids: Sequence[int] | None, *, status: str = "", category: str = "",
                    urgent: bool | None = None, since: datetime | None = None,
                    until: datetime | None = None) -> int:
        """How many requests ``search`` finds with the same filters, in all its pages."""
        query = self._matching(unit_ids, status=status, category=category, urgent=urgent, since=since, until=until)
        return int(await self.session.scalar(select(func.count()).select_from(query.subquery())) or 0)

    async def photo(self, request_id: int, index: int) -> tuple[str, str] | None:
        """The request's ``index``-th photo (0 first, in the order of ``HardshipRequest.photos``): (channel,
        file id)."""
        row = (await self.session.execute(
            select(HardshipPhotoRow.channel, HardshipPhotoRow.file_id).where(HardshipPhotoRow.request_id == request_id)
            .order_by(HardshipPhotoRow.id).offset(index).limit(1))).first()
        return (row[0], row[1]) if row is not None else None

    async def in_period(self, unit: Unit, start: date, end: date, tz: tzinfo = UTC) -> list[HardshipRequest]:
        """Requests of the unit's subtree (or forwarded to it) submitted from ``start`` to ``end``, days in ``tz``."""
        subtree = [u.id for u in await UnitRepository(self.session).subtree(unit)]
        rows = await self.session.scalars(select(HardshipRequestRow).where(
            or_(HardshipRequestRow.unit_id.in_(subtree), HardshipRequestRow.forwarded_to_unit_id.in_(subtree)))
            .order_by(HardshipRequestRow.id))
        return [await self._one(r.id) for r in rows if start <= aware(r.created_at).astimezone(tz).date() <= end]

