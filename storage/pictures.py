"""Pictures the bot drew, kept for a short while at an unguessable address (only the token's sha256 is stored):
for platforms whose sendPhoto takes a URL the platform fetches (Zalo). In the database, so any worker behind the
reverse proxy serves a picture another one stored."""

from __future__ import annotations

import secrets
from datetime import datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import SharedPictureRow
from storage.web import digest


class PictureRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def put(self, data: bytes, content_type: str, now: datetime, ttl: timedelta) -> str:
        """Store the picture until ``now + ttl``; returns its token (forgotten here: only its digest is kept).
        Pictures past their time are deleted on the way."""
        await self.session.execute(delete(SharedPictureRow).where(SharedPictureRow.expires_at <= now))
        token = secrets.token_urlsafe(24)
        self.session.add(SharedPictureRow(token_hash=digest(token), content_type=content_type, data=data,
                                          created_at=now, expires_at=now + ttl))
        await self.session.flush()
        return token

    async def get(self, token: str, now: datetime) -> tuple[bytes, str] | None:
        """(bytes, content type) of a picture not expired yet; None for an unknown or expired token."""
        row = (await self.session.execute(
            select(SharedPictureRow.data, SharedPictureRow.content_type)
            .where(SharedPictureRow.token_hash == digest(token), SharedPictureRow.expires_at > now))).first()
        return (bytes(row[0]), row[1]) if row is not None else None
