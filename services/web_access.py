"""Who may use the web console, and its sign-in: a single-use link from chat, then a browser session.

The rule is the chat's: the console is for those ``authorize`` lets act on some unit (chairs, deputies, admins);
each page then authorizes its own action on its own unit through the service it calls.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TypeGuard

from services.authz import units_acted_on
from storage.db import Database
from storage.membership import Identity, MemberRepository
from storage.web import SessionLine, WebRepository, WebSession

LINK_TTL = timedelta(minutes=10)


def may_use_console(identity: Identity | None) -> TypeGuard[Identity]:
    return identity is not None and (identity.is_admin or bool(units_acted_on(identity)))


@dataclass(frozen=True, slots=True)
class SignedIn:
    session: WebSession
    identity: Identity


class WebAccess:
    def __init__(self, db: Database, *, idle: timedelta = timedelta(minutes=30),
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC)) -> None:
        self.db = db
        self.idle = idle
        self.clock = clock

    async def issue_link(self, identity: Identity | None) -> str | None:
        """A sign-in token for a chair or admin (None for anyone else); valid once, for ten minutes."""
        if not may_use_console(identity):
            return None
        async with self.db.sessions.begin() as session:
            return await WebRepository(session).issue_link(identity.member.id, self.clock(), LINK_TTL)

    async def sign_in(self, token: str) -> tuple[str, SignedIn] | None:
        """Redeem a link: a new session's cookie value, or None (used, expired, unknown, or no longer a chair)."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            repo = WebRepository(session)
            member_id = await repo.redeem_link(token, now)
            if member_id is None:
                return None
            identity = await _identity(session, member_id)
            if not may_use_console(identity):
                return None
            cookie, web_session = await repo.open_session(member_id, now)
        return cookie, SignedIn(web_session, identity)

    async def current(self, cookie: str | None) -> SignedIn | None:
        """The signed-in member of a cookie (their roles as of now), or None."""
        if not cookie:
            return None
        async with self.db.sessions.begin() as session:
            web_session = await WebRepository(session).session_of(cookie, self.clock(), self.idle,
                                                                  touch_every=min(self.idle / 10, timedelta(minutes=1)))
            if web_session is None:
                return None
            identity = await _identity(session, web_session.member_id)
        if not may_use_console(identity):
            return None
        return SignedIn(web_session, identity)

    async def sign_out(self, signed_in: SignedIn) -> None:
        async with self.db.sessions.begin() as session:
            await WebRepository(session).revoke(signed_in.session.id, self.clock())

    async def sessions(self, signed_in: SignedIn) -> list[SessionLine] | None:
        """Recent sessions, for an admin (None for anyone else)."""
        if not signed_in.identity.is_admin:
            return None
        async with self.db.sessions() as session:
            return await WebRepository(session).sessions(self.clock() - self.idle)

    async def revoke(self, signed_in: SignedIn, session_id: int) -> bool | None:
        """An admin ends a session (None: not an admin)."""
        if not signed_in.identity.is_admin:
            return None
        async with self.db.sessions.begin() as session:
            return await WebRepository(session).revoke(session_id, self.clock())


async def _identity(session, member_id: int) -> Identity | None:
    members = MemberRepository(session)
    member = await members.by_id(member_id)
    if member is None or member.status != "active":
        return None
    return Identity(member, await members.grants(member.id))
