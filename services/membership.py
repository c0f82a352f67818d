"""Membership, the use cases: linking a chat account with a one-time code, unlinking, a member's profile,
chairs issuing codes (one member in chat, a whole unit from the CLI or the web console), a unit's summary.

Each method is one transaction with its authorization (``services.authz``) and its audit entry; the results
are data (statuses, members, codes), and the caller — the chat dialogue (``handlers.membership``), the CLI,
the web console — says them in words. Roster files are ``services.roster``.

A phone number typed by hand never proves identity: only a code issued by a chair (or a roster import)
links a chat account to a member record. Every attempt counts for the chat account, and for the member code
when one is named: ``max_failures`` wrong tries lock the account, and as many against one member code lock
that member code on every channel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from services.actor import Actor
from services.authz import Action, authorize, may_act_as_chair, units_acted_on
from storage.db import Database
from storage.membership import (
    AccountRepository,
    AuditRepository,
    Identity,
    IdentityCache,
    LinkedAccount,
    Member,
    MemberRepository,
    Unit,
    UnitRepository,
    format_code,
)
from storage.membership import looks_like_code as looks_like_code  # for the console: a one-time code or not
from storage.throttle import LinkThrottle

CLI = "cli"  # the audit trail's name for the operator at the terminal (no chat account)


@dataclass(frozen=True)
class LinkPolicy:
    code_ttl: timedelta = timedelta(days=14)
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class Linked:
    """``status``: "linked"; "again" (the same code from the account it linked: a double tap); "unknown",
    "used", "expired" (the code); "locked" (this account), "member_locked" (the member code) until ``until``."""

    status: str
    member: Member | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    identity: Identity
    accounts: tuple[LinkedAccount, ...]


@dataclass(frozen=True, slots=True)
class Issued:
    """``status``: "issued", "unknown" (no such member), "inactive", or a denial key ("authz.*")."""

    status: str
    member: Member | None = None
    code: str = ""  # formatted, "ABCD-EFGH"
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class UnitCodes:
    unit: Unit
    until: datetime
    codes: tuple[tuple[Member, str], ...]  # (member, formatted code)


@dataclass(frozen=True, slots=True)
class UnitSummary:
    """``status``: "ok", "unknown" (no unit with that code), or a denial key ("authz.*")."""

    status: str
    unit: Unit | None = None
    subunits: tuple[Unit, ...] = ()
    members: int = 0
    linked: int = 0


@dataclass(frozen=True, slots=True)
class TreeLine:
    """One unit of the tree a chair sees: its depth under the root shown, its own members and linked ones."""

    unit: Unit
    depth: int
    members: int
    linked: int


@dataclass(frozen=True, slots=True)
class UnitMembers:
    unit: Unit
    members: tuple[tuple[Member, bool], ...]  # (member, has a chat account linked), the unit's subtree


class MembershipService:
    def __init__(self, db: Database, clock: Callable[[], datetime], policy: LinkPolicy | None = None,
                 identities: IdentityCache | None = None) -> None:
        self.db = db
        self.clock = clock
        self.policy = policy or LinkPolicy()
        self.identities = identities  # told when an account's link changes (the cache of who is who)

    def _forget(self, actor: Actor) -> None:
        if self.identities is not None:
            self.identities.forget(actor.bot_id, actor.channel, actor.user_id)

    # ----- the member -----------------------------------------------------------------------------------------
    async def link(self, actor: Actor, code: str | None, member_code: str | None = None,
                   display_name: str | None = None) -> Linked:
        """Redeem a one-time code for the actor's chat account (``member_code``: the member it was issued for,
        when the member typed it too)."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            throttle = LinkThrottle(session, self.policy.max_failures, self.policy.lock_for)
            account = throttle.account_key(actor.bot_id, actor.channel, actor.user_id)
            attempts, locked = await throttle.attempt(account, now)
            if locked is not None:
                return Linked("locked", until=locked)
            named = await MemberRepository(session).by_code(member_code) if member_code else None
            per_member = throttle.member_key(named.id) if named else None
            member_attempts = 0
            if per_member is not None:
                member_attempts, locked = await throttle.attempt(per_member, now)
            # the code's owner and their member code's lock in one statement (round trips are the burst's cost)
            owner, owner_lock = await accounts.code_owner_and_lock(code) if code else (None, None)
            if locked is None and per_member is None and owner_lock is not None and owner_lock > now:
                locked = owner_lock
            if locked is not None:
                return Linked("member_locked", until=locked)
            if code is None or (member_code and (named is None or owner != named.id)):
                result, member_id = "unknown", None
            else:
                result, member_id = await accounts.redeem(code, now)
            if result == "used" and member_id is not None and member_id == await accounts.member_of(
                    actor.bot_id, actor.channel, actor.user_id):  # the same code again: a double tap
                await throttle.clear(account)
                return Linked("again", await MemberRepository(session).by_id(member_id))
            if result != "ok":
                account_until = await throttle.failed(account, attempts, now)
                member_until = await throttle.failed(per_member, member_attempts, now) if per_member else None
                if account_until is not None:
                    return Linked("locked", until=account_until)
                if member_until is not None:
                    return Linked("member_locked", until=member_until)
                return Linked(result)
            member = await MemberRepository(session).by_id(member_id) if member_id is not None else None
            if member is None:  # "ok" always names a member, and the foreign key keeps it
                raise LookupError("a link code was redeemed for a member that does not exist")
            await accounts.link(actor.bot_id, actor.channel, actor.user_id, actor.chat_id, member.id, display_name,
                                now)
            await throttle.clear(account)
            if per_member is not None:
                await throttle.clear(per_member)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=member.id,
                                                  action="link_account", unit_id=member.unit.id,
                                                  target=member.member_code, now=now, channel=actor.channel)
        self._forget(actor)
        return Linked("linked", member)

    async def link_by_member_code(self, actor: Actor, member_code: str) -> Member | None:
        """Link the actor's chat account to the member with that code, without a one-time code: only for the
        operator's own terminal (``unionbot chat --as MEMBER_CODE``), audited as a console sign-in. None: no such
        member (nothing written)."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            member = await MemberRepository(session).by_code(member_code)
            if member is None:
                return None
            await AccountRepository(session).link(actor.bot_id, actor.channel, actor.user_id, actor.chat_id,
                                                  member.id, None, now)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=member.id,
                                                  action="console_sign_in", unit_id=member.unit.id,
                                                  target=member.member_code, now=now)
        self._forget(actor)
        return member

    async def profile(self, actor: Actor) -> Profile | None:
        """The member the account is linked to (read fresh, not from the cache), with all their accounts."""
        async with self.db.sessions() as session:
            accounts = AccountRepository(session)
            who = await accounts.identity(actor.bot_id, actor.channel, actor.user_id)
            if who is None:
                return None
            return Profile(who, tuple(await accounts.accounts_of(who.member.id)))

    async def unlink(self, actor: Actor) -> bool:
        """Unlink the actor's chat account; False when it was not linked."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            who = await accounts.identity(actor.bot_id, actor.channel, actor.user_id)
            if who is None or not await accounts.unlink(actor.bot_id, actor.channel, actor.user_id):
                return False
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=who.member.id,
                                                  action="unlink_account", unit_id=who.member.unit.id,
                                                  target=who.member.member_code, now=now, channel=actor.channel)
        self._forget(actor)
        return True

    # ----- the chairs ---------------------------------------------------------------------------------------
    async def issue_code(self, actor: Actor, member_code: str) -> Issued:
        """A new one-time code for one member of the chair's subtree (an earlier code stops working)."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            target = await MemberRepository(session).by_code(member_code)
            if target is None:  # who may not issue codes is not told whether the member exists
                decision = may_act_as_chair(actor.identity)
                return Issued("unknown" if decision else decision.reason)
            decision = authorize(actor.identity, Action.ISSUE_CODES, target.unit)
            if not decision:
                return Issued(decision.reason, target)
            if target.status != "active":
                return Issued("inactive", target)
            code = await AccountRepository(session).issue_code(target.id, actor.member_id, now, self.policy.code_ttl)
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="issue_link_code", unit_id=target.unit.id,
                                                  target=target.member_code, now=now)
        return Issued("issued", target, format_code(code), now + self.policy.code_ttl)

    async def issue_unit_codes(self, unit_code: str, *, only_unlinked: bool = False,
                               actor: Actor | None = None) -> UnitCodes | None:
        """New codes for every active member of the unit's subtree (``only_unlinked``: those with no chat account
        yet); None when there is no such unit. ``actor`` None: the operator at the terminal. Raises
        ``PermissionError`` (its message: the denial key) for an actor who may not issue codes there."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            root = await UnitRepository(session).by_code(unit_code)
            if root is None:
                return None
            if actor is not None:
                decision = authorize(actor.identity, Action.ISSUE_CODES, root)
                if not decision:
                    raise PermissionError(decision.reason)
            accounts = AccountRepository(session)
            codes = []
            for member in await MemberRepository(session).in_subtree(root, active_only=True):
                if only_unlinked and await accounts.accounts_of(member.id):
                    continue
                code = await accounts.issue_code(member.id, None if actor is None else actor.member_id, now,
                                                 self.policy.code_ttl)
                codes.append((member, format_code(code)))
            await AuditRepository(session).record(actor=CLI if actor is None else actor.audit,
                                                  actor_member_id=None if actor is None else actor.member_id,
                                                  action="issue_link_codes", unit_id=root.id, target=root.code,
                                                  now=now, count=len(codes))
        return UnitCodes(root, now + self.policy.code_ttl, tuple(codes))

    async def unit_summary(self, actor: Actor, unit_code: str = "") -> UnitSummary:
        """How many members a unit's subtree has and how many linked a chat account (no names: counts only);
        without ``unit_code``, the chair's own unit. The view is audited."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            units = UnitRepository(session)
            who = actor.identity
            if unit_code:
                unit = await units.by_code(unit_code)
                if unit is None:
                    return UnitSummary("unknown")
            else:
                own = units_acted_on(who)
                unit = own[0] if own else (who.member.unit if who else None)
                if unit is None:
                    return UnitSummary("authz.not_linked")
            decision = authorize(who, Action.VIEW_MEMBERS, unit)
            if not decision:
                return UnitSummary(decision.reason, unit)
            subtree = await units.subtree(unit)
            members = await MemberRepository(session).in_subtree(unit, active_only=True)
            linked = await AccountRepository(session).linked_count([m.id for m in members])
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="view_members", unit_id=unit.id, target=unit.code, now=now)
        return UnitSummary("ok", unit, tuple(subtree[1:]), len(members), linked)

    async def unit_tree(self, actor: Actor) -> list[TreeLine]:
        """The units the actor acts on (a chair: their subtree; an admin: every unit), in tree order, with how
        many active members each has and how many of those linked a chat account (counts only)."""
        decision = may_act_as_chair(actor.identity)
        if not decision:
            raise PermissionError(decision.reason)
        async with self.db.sessions() as session:
            units = UnitRepository(session)
            if actor.identity is not None and actor.identity.is_admin:
                from storage.knowledge import all_units

                every = await all_units(session)
                roots = [u for u in every if u.parent_id is None]
            else:
                roots = units_acted_on(actor.identity)
            lines: list[TreeLine] = []
            seen: set[int] = set()
            for root in sorted(roots, key=lambda u: u.path):
                if any(r.id != root.id and r.contains(root) for r in roots):
                    continue  # inside another root shown
                members = await MemberRepository(session).in_subtree(root, active_only=True)
                linked = await AccountRepository(session).linked_members([m.id for m in members])
                depth0 = root.path.count("/")
                for unit in await units.subtree(root):
                    if unit.id in seen:
                        continue
                    seen.add(unit.id)
                    own = [m for m in members if m.unit.id == unit.id]
                    lines.append(TreeLine(unit, unit.path.count("/") - depth0, len(own),
                                          sum(m.id in linked for m in own)))
        return lines

    async def unit_members(self, actor: Actor, unit_code: str) -> UnitMembers | None:
        """The members of a unit's subtree with whether each linked a chat account; None: no such unit.
        Raises ``PermissionError`` (the denial key) outside the actor's subtree. The view is audited."""
        now = self.clock()
        async with self.db.sessions.begin() as session:
            unit = await UnitRepository(session).by_code(unit_code)
            if unit is None:
                return None
            decision = authorize(actor.identity, Action.VIEW_MEMBERS, unit)
            if not decision:
                raise PermissionError(decision.reason)
            members = await MemberRepository(session).in_subtree(unit)
            linked = await AccountRepository(session).linked_members([m.id for m in members])
            await AuditRepository(session).record(actor=actor.audit, actor_member_id=actor.member_id,
                                                  action="view_members", unit_id=unit.id, target=unit.code, now=now)
        return UnitMembers(unit, tuple((m, m.id in linked) for m in members))
