"""Web console sign-in: single-use links and browser sessions. Only sha256 digests of the secrets are stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from storage.db import affected_rows, aware
from storage.models import MemberRow, WebLoginTokenRow, WebSessionRow


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class WebSession:
    id: int
    member_id: int
    csrf: str
    created_at: datetime
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class SessionLine:
    """A session as the admin's list shows it (ids and times only)."""

    id: int
    member_code: str
    created_at: datetime
    last_seen: datetime
    revoked: bool


class WebRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def issue_link(self, member_id: int, now: datetime, ttl: timedelta) -> str:
        token = secrets.token_urlsafe(32)
        self.session.add(WebLoginTokenRow(token_hash=digest(token), member_id=member_id, created_at=now,
                                          expires_at=now + ttl))
        await self.session.flush()
        return token

    async def redeem_link(self, token: str, now: datetime) -> int | None:
        """The member the link was issued to, once: a used, expired or unknown link gives None."""
        result = await self.session.execute(
            update(WebLoginTokenRow)
            .where(WebLoginTokenRow.token_hash == digest(token), WebLoginTokenRow.used_at.is_(None),
                   WebLoginTokenRow.expires_at > now)
            .values(used_at=now).returning(WebLoginTokenRow.member_id))
        return result.scalar_one_or_none()

    async def open_session(self, member_id: int, now: datetime) -> tuple[str, WebSession]:
        token = secrets.token_urlsafe(32)
        row = WebSessionRow(token_hash=digest(token), member_id=member_id, csrf=secrets.token_urlsafe(32),
                            created_at=now, last_seen=now)
        self.session.add(row)
        await self.session.flush()
        return token, WebSession(row.id, member_id, row.csrf, now, now)

    async def session_of(self, token: str, now: datetime, idle: timedelta, touch_every: timedelta
                         ) -> WebSession | None:
        """The live session of a cookie (not revoked, used within ``idle``), its last use moved to now."""
        row = await self.session.scalar(select(WebSessionRow).where(WebSessionRow.token_hash == digest(token)))
        if row is None or row.revoked_at is not None or aware(row.last_seen) + idle <= now:
            return None
        if aware(row.last_seen) + touch_every <= now:
            row.last_seen = now
        return WebSession(row.id, row.member_id, row.csrf, aware(row.created_at), aware(row.last_seen))

    async def revoke(self, session_id: int, now: datetime) -> bool:
        result = await self.session.execute(update(WebSessionRow).where(
            WebSessionRow.id == session_id, WebSessionRow.revoked_at.is_(None)).values(revoked_at=now))
        return bool(affected_rows(result))

    async def sessions(self, since: datetime, limit: int = 200) -> list[SessionLine]:
        rows = await self.session.execute(
            select(WebSessionRow, MemberRow.member_code).join(MemberRow, MemberRow.id == WebSessionRow.member_id)
            .where(WebSessionRow.last_seen >= since).order_by(WebSessionRow.last_seen.desc()).limit(limit))
        return [SessionLine(r.id, code, aware(r.created_at), aware(r.last_seen), r.revoked_at is not None)
                for r, code in rows]
