"""Units, members, roles, linked chat accounts, one-time codes, the audit log.

Repositories work inside the caller's session (one unit of work per update or CLI command).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import affected_rows, aware
from storage.models import (
    AuditLogRow,
    ChatAccountRow,
    LinkCodeRow,
    LinkMemberThrottleRow,
    MemberRow,
    RoleRow,
    UnitRow,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: codes are read aloud and retyped
CODE_LENGTH = 8


@dataclass(frozen=True, slots=True)
class Unit:
    id: int
    code: str
    name: str
    level: str
    path: str
    parent_id: int | None

    def contains(self, other: Unit) -> bool:
        """Whether ``other`` is this unit or lies in its subtree."""
        return other.path.startswith(self.path)


@dataclass(frozen=True, slots=True)
class Member:
    id: int
    member_code: str
    full_name: str
    unit: Unit
    phone: str | None
    birth_date: date | None
    joined_on: date | None
    status: str


@dataclass(frozen=True, slots=True)
class Grant:
    role: str  # chair | deputy | admin
    unit: Unit | None  # None for admin


@dataclass(frozen=True, slots=True)
class LinkedAccount:
    channel: str
    user_id: str
    display_name: str | None
    linked_at: datetime


@dataclass(frozen=True, slots=True)
class Identity:
    """Who a chat account is: the member and what they may do."""

    member: Member
    grants: tuple[Grant, ...]

    @property
    def is_admin(self) -> bool:
        return any(g.role == "admin" for g in self.grants)


def _unit(row: UnitRow) -> Unit:
    return Unit(row.id, row.code, row.name, row.level, row.path, row.parent_id)


def hash_code(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def normalize_code(text: str) -> str:
    """What a member typed -> the canonical code: upper case, no spaces or dashes."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def looks_like_code(text: str) -> bool:
    code = normalize_code(text)
    return len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code) and len(text.split()) <= 2


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    return f"{code[:4]}-{code[4:]}"


class UnitRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def by_code(self, code: str) -> Unit | None:
        row = await self.session.scalar(select(UnitRow).where(func.upper(UnitRow.code) == code.strip().upper()))
        return _unit(row) if row else None

    async def by_id(self, unit_id: int) -> Unit | None:
        row = await self.session.get(UnitRow, unit_id)
        return _unit(row) if row else None

    async def upsert(self, code: str, name: str, level: str, parent_code: str | None, is_demo: bool = False) -> Unit:
        parent = await self.session.scalar(select(UnitRow).where(UnitRow.code == parent_code)) if parent_code else None
        if parent_code and parent is None:
            raise ValueError(f"unknown parent unit {parent_code}")
        row = await self.session.scalar(select(UnitRow).where(UnitRow.code == code))
        if row is None:
            row = UnitRow(code=code, name=name, level=level, parent_id=parent.id if parent else None, path="",
                          is_demo=is_demo)
            self.session.add(row)
            await self.session.flush()
        row.name, row.level, row.is_demo = name, level, is_demo
        row.parent_id = parent.id if parent else None
        row.path = f"{parent.path if parent else '/'}{row.id}/"
        await self.session.flush()
        return _unit(row)

    async def subtree(self, unit: Unit) -> list[Unit]:
        rows = await self.session.scalars(
            select(UnitRow).where(UnitRow.path.startswith(unit.path)).order_by(UnitRow.path))
        return [_unit(r) for r in rows]

    async def ancestors(self, unit: Unit) -> list[Unit]:
        """The unit's ancestors, nearest first (not the unit itself)."""
        ids = [int(x) for x in unit.path.strip("/").split("/") if x][:-1]
        if not ids:
            return []
        rows = {r.id: r for r in await self.session.scalars(select(UnitRow).where(UnitRow.id.in_(ids)))}
        return [_unit(rows[i]) for i in reversed(ids) if i in rows]

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(UnitRow)) or 0)


@dataclass(frozen=True, slots=True)
class MemberData:
    """A member record as imported (from a roster file or demo data)."""

    member_code: str
    full_name: str
    unit_id: int
    phone: str | None = None
    birth_date: date | None = None
    joined_on: date | None = None
    status: str = "active"
    is_demo: bool = False


class MemberRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _member(self, row: MemberRow, unit: UnitRow | None = None) -> Member:
        if unit is None:
            unit = await self.session.get_one(UnitRow, row.unit_id)
        return Member(row.id, row.member_code, row.full_name, _unit(unit), row.phone, row.birth_date, row.joined_on,
                      row.status)

    async def _one_with_unit(self, *where) -> Member | None:
        """The member and their unit in one statement (one round trip, not two)."""
        found = (await self.session.execute(
            select(MemberRow, UnitRow).join(UnitRow, UnitRow.id == MemberRow.unit_id).where(*where))).first()
        return await self._member(*found) if found else None

    async def by_id(self, member_id: int) -> Member | None:
        return await self._one_with_unit(MemberRow.id == member_id)

    async def by_code(self, member_code: str) -> Member | None:
        return await self._one_with_unit(func.upper(MemberRow.member_code) == member_code.strip().upper())

    async def upsert_many(self, records: Iterable[MemberData], now: datetime) -> tuple[int, int]:
        """Insert or update by member code; returns (inserted, updated). Never duplicates."""
        records = list(records)
        codes = [r.member_code for r in records]
        existing: dict[str, MemberRow] = {}
        for chunk_start in range(0, len(codes), 500):
            chunk = codes[chunk_start:chunk_start + 500]
            for found in await self.session.scalars(select(MemberRow).where(MemberRow.member_code.in_(chunk))):
                existing[found.member_code] = found
        inserted = updated = 0
        for r in records:
            row = existing.get(r.member_code)
            if row is None:
                row = MemberRow(member_code=r.member_code, created_at=now)
                self.session.add(row)
                existing[r.member_code] = row
                inserted += 1
            else:
                updated += 1
            row.full_name, row.unit_id, row.phone = r.full_name, r.unit_id, r.phone
            row.birth_date, row.joined_on, row.status = r.birth_date, r.joined_on, r.status
            row.is_demo, row.updated_at = r.is_demo, now
        await self.session.flush()
        return inserted, updated

    async def in_subtree(self, unit: Unit, active_only: bool = False) -> list[Member]:
        units = {u.id: u for u in await UnitRepository(self.session).subtree(unit)}
        stmt = select(MemberRow).where(MemberRow.unit_id.in_(list(units))).order_by(MemberRow.member_code)
        if active_only:
            stmt = stmt.where(MemberRow.status == "active")
        rows = await self.session.scalars(stmt)
        return [Member(r.id, r.member_code, r.full_name, units[r.unit_id], r.phone, r.birth_date, r.joined_on, r.status)
                for r in rows]

    async def grant(self, member_id: int, role: str, unit_id: int | None) -> None:
        exists = await self.session.scalar(select(RoleRow).where(
            RoleRow.member_id == member_id, RoleRow.role == role,
            RoleRow.unit_id.is_(None) if unit_id is None else RoleRow.unit_id == unit_id))
        if exists is None:
            self.session.add(RoleRow(member_id=member_id, role=role, unit_id=unit_id))
            await self.session.flush()

    async def grants(self, member_id: int) -> tuple[Grant, ...]:
        rows = await self.session.execute(
            select(RoleRow, UnitRow).outerjoin(UnitRow, RoleRow.unit_id == UnitRow.id)
            .where(RoleRow.member_id == member_id).order_by(RoleRow.id))
        return tuple(Grant(role.role, _unit(unit) if unit else None) for role, unit in rows)

    async def chairs_of(self, unit: Unit) -> list[Member]:
        """Chairs and deputies of exactly this unit."""
        rows = await self.session.scalars(select(MemberRow).join(RoleRow, RoleRow.member_id == MemberRow.id).where(
            RoleRow.unit_id == unit.id, RoleRow.role.in_(("chair", "deputy"))).order_by(MemberRow.id))
        return [await self._member(r) for r in rows]


class AccountRepository:
    """Chat accounts and one-time codes (the wrong-code throttle is storage.throttle)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def identity(self, bot_id: str, channel: str, user_id: str) -> Identity | None:
        row = await self.session.scalar(select(ChatAccountRow).where(
            ChatAccountRow.bot_id == bot_id, ChatAccountRow.channel == channel, ChatAccountRow.user_id == user_id))
        if row is None:
            return None
        members = MemberRepository(self.session)
        member = await members.by_id(row.member_id)
        if member is None or member.status != "active":
            return None
        return Identity(member, await members.grants(member.id))

    async def accounts_of(self, member_id: int) -> list[LinkedAccount]:
        rows = await self.session.scalars(
            select(ChatAccountRow).where(ChatAccountRow.member_id == member_id).order_by(ChatAccountRow.channel))
        return [LinkedAccount(r.channel, r.user_id, r.display_name, r.linked_at) for r in rows]

    async def chats_of(self, member_id: int) -> list[tuple[str, str, str]]:
        """(bot id, channel, chat id) of every account linked to the member."""
        rows = await self.session.scalars(select(ChatAccountRow).where(ChatAccountRow.member_id == member_id))
        return [(r.bot_id, r.channel, r.chat_id) for r in rows]

    async def link(self, bot_id: str, channel: str, user_id: str, chat_id: str, member_id: int,
                   display_name: str | None, now: datetime) -> None:
        """Link the account to the member; replaces an earlier link of either on this channel."""
        await self.session.execute(delete(ChatAccountRow).where(
            ChatAccountRow.bot_id == bot_id, ChatAccountRow.channel == channel,
            or_(ChatAccountRow.user_id == user_id, ChatAccountRow.member_id == member_id)))
        self.session.add(ChatAccountRow(bot_id=bot_id, channel=channel, user_id=user_id, chat_id=chat_id,
                                        member_id=member_id, display_name=display_name, linked_at=now))
        await self.session.flush()

    async def unlink(self, bot_id: str, channel: str, user_id: str) -> bool:
        result = await self.session.execute(delete(ChatAccountRow).where(
            ChatAccountRow.bot_id == bot_id, ChatAccountRow.channel == channel, ChatAccountRow.user_id == user_id))
        return bool(affected_rows(result))

    async def linked_count(self, member_ids: Sequence[int]) -> int:
        if not member_ids:
            return 0
        return int(await self.session.scalar(select(func.count(func.distinct(ChatAccountRow.member_id))).where(
            ChatAccountRow.member_id.in_(list(member_ids)))) or 0)

    async def linked_members(self, member_ids: Sequence[int]) -> set[int]:
        """Which of these members have a chat account linked."""
        found: set[int] = set()
        ids = list(member_ids)
        for start in range(0, len(ids), 500):
            found.update(await self.session.scalars(select(ChatAccountRow.member_id).where(
                ChatAccountRow.member_id.in_(ids[start:start + 500])).distinct()))
        return found

    # ----- one-time codes ------------------------------------------------------------------------
    async def issue_code(self, member_id: int, issued_by: int | None, now: datetime, ttl: timedelta) -> str:
        """A new code for the member; earlier unused codes of the member stop working."""
        await self.session.execute(delete(LinkCodeRow).where(LinkCodeRow.member_id == member_id,
                                                             LinkCodeRow.used_at.is_(None)))
        code = new_code()
        self.session.add(LinkCodeRow(code_hash=hash_code(code), member_id=member_id, issued_by=issued_by,
                                     created_at=now, expires_at=now + ttl))
        await self.session.flush()
        return code

    async def redeem(self, code: str, now: datetime) -> tuple[str, int | None]:
        """Use a code: ("ok", member id), ("used", the member it linked), or ("unknown" | "expired", None).

        Taken with one conditional UPDATE: of two concurrent uses of a code (a double tap, two workers) exactly
        one is "ok"; on PostgreSQL the other waits for its row lock and then finds the code used."""
        digest = hash_code(normalize_code(code))
        taken = await self.session.execute(
            update(LinkCodeRow).where(LinkCodeRow.code_hash == digest, LinkCodeRow.used_at.is_(None),
                                      LinkCodeRow.expires_at > now)
            .values(used_at=now).returning(LinkCodeRow.member_id))
        member_id = taken.scalar_one_or_none()
        if member_id is not None:
            return "ok", member_id
        row = await self.session.scalar(select(LinkCodeRow).where(LinkCodeRow.code_hash == digest)
                                        .execution_options(populate_existing=True))
        if row is None:
            return "unknown", None
        if row.used_at is not None:
            return "used", row.member_id
        return "expired", None

    async def member_of(self, bot_id: str, channel: str, user_id: str) -> int | None:
        """The member this chat account is linked to (None when not linked)."""
        return await self.session.scalar(select(ChatAccountRow.member_id).where(
            ChatAccountRow.bot_id == bot_id, ChatAccountRow.channel == channel, ChatAccountRow.user_id == user_id))

    async def code_owner(self, code: str) -> int | None:
        """The member a code was issued to (used or not), without using it."""
        return await self.session.scalar(
            select(LinkCodeRow.member_id).where(LinkCodeRow.code_hash == hash_code(normalize_code(code))))

    async def code_owner_and_lock(self, code: str) -> tuple[int | None, datetime | None]:
        """``code_owner`` and the end of that member code's wrong-code lock (None when not locked: never, or run
        out) as of the stored value, in one statement; compare the lock with the time yourself."""
        found = (await self.session.execute(
            select(LinkCodeRow.member_id, LinkMemberThrottleRow.locked_until)
            .outerjoin(LinkMemberThrottleRow, LinkMemberThrottleRow.member_id == LinkCodeRow.member_id)
            .where(LinkCodeRow.code_hash == hash_code(normalize_code(code))))).first()
        return (found[0], aware(found[1])) if found else (None, None)


@dataclass(frozen=True, slots=True)
class AuditEntry:
    at: datetime
    actor: str
    actor_member_id: int | None
    action: str
    unit_id: int | None
    target: str | None
    details: dict


class AuditRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def record(self, *, actor: str, actor_member_id: int | None, action: str, unit_id: int | None,
                     target: str | None, now: datetime, **details) -> None:
        self.session.add(AuditLogRow(at=now, actor=actor, actor_member_id=actor_member_id, action=action,
                                     unit_id=unit_id, target=target, details=details))
        await self.session.flush()

    async def recent(self, limit: int = 100) -> list[AuditEntry]:
        rows = await self.session.scalars(select(AuditLogRow).order_by(AuditLogRow.id.desc()).limit(limit))
        return [AuditEntry(aware(r.at), r.actor, r.actor_member_id, r.action, r.unit_id, r.target, r.details)
                for r in rows]


class IdentityCache:
    """Who a chat account is, cached for ``ttl`` seconds (None: no cache, every lookup reads the database).

    Looking the account up costs a database round trip (~1 ms through aiosqlite) on messages that need it;
    on the embedded SQLite default the core caches it briefly. Linking and unlinking in this process
    forget the entry at once; changes made by another process (a roster import) show within ``ttl``.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, ttl: float | None,
                 outside_writes: Callable[[], Awaitable[int]] | None = None) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._cache: dict[tuple[str, str, str], tuple[float, Identity | None]] = {}
        self._outside_writes = outside_writes  # another process wrote to the database: forget everything
        self._seen_outside = 0

    async def get(self, bot_id: str, channel: str, user_id: str) -> Identity | None:
        key = (bot_id, channel, user_id)
        now = time.monotonic()
        if self._ttl is not None and self._outside_writes is not None:
            seen = await self._outside_writes()
            if seen != self._seen_outside:
                self._seen_outside = seen
                self._cache.clear()
        if self._ttl is not None and key in self._cache and now - self._cache[key][0] < self._ttl:
            return self._cache[key][1]
        async with self._sessions() as session:
            identity = await AccountRepository(session).identity(*key)
        if self._ttl is not None:
            if len(self._cache) > 50_000:
                self._cache.clear()
            self._cache[key] = (now, identity)
        return identity

    def forget(self, bot_id: str, channel: str, user_id: str) -> None:
        self._cache.pop((bot_id, channel, user_id), None)
