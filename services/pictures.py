"""Pictures the bot drew (``Reply.pictures``: PNG bytes, e.g. /thongke's chart) published at a short-lived,
unguessable address of the bot's own web server, for platforms whose sendPhoto takes a URL (Zalo Bot Platform:
``{chat_id, photo: URL}``; the platform fetches it). A chart holds aggregates only, no personal data; still
its address is a random token (``/charts/<token>.png``), valid for ``ttl``, never listed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from storage.db import Database
from storage.pictures import PictureRepository

PNG = "image/png"
PATH = "/charts/{token}.png"  # served by web/app.py (``serve_pictures``)


class PictureShelf:
    def __init__(self, db: Database, base_url: str, *, clock: Callable[[], datetime],
                 ttl: timedelta = timedelta(hours=1)) -> None:
        self.db, self.base_url, self.clock, self.ttl = db, base_url.rstrip("/"), clock, ttl

    async def publish(self, data: bytes) -> str:
        """Keep a PNG for ``ttl``; returns its public URL."""
        async with self.db.sessions.begin() as session:
            token = await PictureRepository(session).put(data, PNG, self.clock(), self.ttl)
        return self.base_url + PATH.format(token=token)

    async def fetch(self, token: str) -> tuple[bytes, str] | None:
        """(bytes, content type), or None for an unknown or expired token."""
        if not token or len(token) > 64:
            return None
        async with self.db.sessions() as session:
            return await PictureRepository(session).get(token, self.clock())
