"""Membership in chat: linking an account with a one-time code, /toi, unlinking, chairs issuing codes.

A phone number typed by hand never proves identity: only a code issued by a chair (or a roster import)
links a chat account to a member record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from handlers.authz import Action, authorize, units_acted_on
from handlers.capability import Capability
from handlers.text import fmt_date, fmt_time
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import Translator
from storage.conversation import State, StateStore
from storage.db import Database
from storage.membership import (
    AccountRepository,
    AuditRepository,
    IdentityCache,
    MemberRepository,
    UnitRepository,
    format_code,
    looks_like_code,
)
from storage.throttle import LinkThrottle

LINK_FLOW = "link"


@dataclass(frozen=True)
class LinkPolicy:
    code_ttl: timedelta = timedelta(days=14)
    max_failures: int = 5
    lock_for: timedelta = timedelta(minutes=15)


def split_link_text(text: str) -> tuple[str | None, str | None]:
    """"ABCD-EFGH" -> (None, code); "NTL-0103 ABCD-EFGH" -> (member code, code); anything else -> (None, None)."""
    text = text.strip()
    if looks_like_code(text):
        return None, text
    head, _, rest = text.partition(" ")
    if rest and looks_like_code(rest) and len(head) <= 64:
        return head, rest.strip()
    return None, None


def actor(incoming: Incoming) -> str:
    return f"{incoming.channel}:{incoming.user_id}"


class Membership(Capability):
    def __init__(self, db: Database, states: StateStore, identities: IdentityCache, t: Translator,
                 clock: Callable[[], datetime], timezone: tzinfo, policy: LinkPolicy | None = None) -> None:
        super().__init__(db, states, identities, t, clock, timezone)
        self.policy = policy or LinkPolicy()

    def _ok(self, text: str, intent: str, choices: tuple[Choice, ...] = ()) -> Outcome:
        return Outcome([Reply(text, choices)], intent, 1.0, False)

    def _when(self, moment: datetime) -> str:
        return fmt_time(moment, self.tz)

    # ----- /start and linking --------------------------------------------------------------------
    async def start(self, incoming: Incoming, lang: str, greeting: Reply) -> Outcome:
        who = await self.identity(incoming)
        if who is not None:
            text = self.t("member.welcome_back", lang, name=who.member.full_name, unit=who.member.unit.name)
            return Outcome([Reply(text + "\n\n" + greeting.text, greeting.choices)], "start", 1.0, False)
        await self.save_state(incoming, State(LINK_FLOW, "await_code"))
        return Outcome([greeting, Reply(self.t("member.ask_code", lang))], "start", 1.0, False)

    async def ask_code(self, incoming: Incoming, lang: str) -> Outcome:
        await self.save_state(incoming, State(LINK_FLOW, "await_code"))
        return self._ok(self.t("member.ask_code", lang), "link")

    async def link(self, incoming: Incoming, text: str, lang: str) -> Outcome:
        """A one-time code ("ABCD-EFGH"), optionally after the member code it was issued for ("NTL-0103 ABCD-EFGH").

        Every attempt counts for the chat account, and for the member code when one is named: five wrong
        tries lock the account, and five against one member code lock that member code on every channel."""
        if incoming.is_group:  # a group is never a member's chat (the core answers "message me privately" first)
            return self._ok(self.t("group.private", lang), "link")
        now = self.clock()
        member_code, code = split_link_text(text)
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            throttle = LinkThrottle(session, self.policy.max_failures, self.policy.lock_for)
            account = throttle.account_key(incoming.bot_id, incoming.channel, incoming.user_id)
            attempts, locked = await throttle.attempt(account, now)
            if locked is not None:
                return self._ok(self.t("member.locked", lang, until=self._when(locked)), "link")
            named = await MemberRepository(session).by_code(member_code) if member_code else None
            per_member = throttle.member_key(named.id) if named else None
            member_attempts = 0
            if per_member is not None:
                member_attempts, locked = await throttle.attempt(per_member, now)
            owner = await accounts.code_owner(code) if code else None
            if locked is None and per_member is None and owner is not None:
                locked = await throttle.locked_until(throttle.member_key(owner), now)
            if locked is not None:
                return self._ok(self.t("link_throttle.member_locked", lang, until=self._when(locked)), "link")
            if code is None or (member_code and (named is None or owner != named.id)):
                result, member_id = "unknown", None
            else:
                result, member_id = await accounts.redeem(code, now)
            if result == "used" and member_id is not None and member_id == await accounts.member_of(
                    incoming.bot_id, incoming.channel, incoming.user_id):  # the same code again: a double tap
                await throttle.clear(account)
                member = await MemberRepository(session).by_id(member_id)
                return self._ok(self.t("once.linked", lang, name=member.full_name), "link")
            if result != "ok":
                account_until = await throttle.failed(account, attempts, now)
                member_until = await throttle.failed(per_member, member_attempts, now) if per_member else None
                if account_until is not None:
                    return self._ok(self.t("member.locked", lang, until=self._when(account_until)), "link")
                if member_until is not None:
                    return self._ok(self.t("link_throttle.member_locked", lang, until=self._when(member_until)),
                                    "link")
                return self._ok(self.t(f"member.code_{result}", lang), "link")
            member = await MemberRepository(session).by_id(member_id)
            await accounts.link(incoming.bot_id, incoming.channel, incoming.user_id, incoming.chat_id, member.id,
                                incoming.display_name, now)
            await throttle.clear(account)
            if per_member is not None:
                await throttle.clear(per_member)
            await AuditRepository(session).record(actor=actor(incoming), actor_member_id=member.id,
                                                  action="link_account", unit_id=member.unit.id,
                                                  target=member.member_code, now=now, channel=incoming.channel)
        self.identities.forget(incoming.bot_id, incoming.channel, incoming.user_id)
        await self.clear_state(incoming)
        return self._ok(self.t("member.linked", lang, name=member.full_name, unit=member.unit.name), "link")

    async def on_state(self, incoming: Incoming, state: State, lang: str) -> Outcome | None:
        """A message while the bot waits for a code: a code is tried, anything else is a normal question."""
        text = (incoming.text or "").strip()
        if state.step == "await_code" and split_link_text(text)[1] is not None:
            return await self.link(incoming, text, lang)
        if text.lower() in ("huy", "hủy", "/huy"):
            await self.clear_state(incoming)
            return self._ok(self.t("member.link_cancelled", lang), "link")
        return None

    # ----- /toi and unlinking ---------------------------------------------------------------------
    async def me(self, incoming: Incoming, lang: str) -> Outcome:
        async with self.db.sessions() as session:
            accounts = AccountRepository(session)
            who = await accounts.identity(incoming.bot_id, incoming.channel, incoming.user_id)
            if who is None:
                return self._ok(self.t("member.not_linked", lang), "me")
            links = await accounts.accounts_of(who.member.id)
        m = who.member
        lines = [self.t("member.me.title", lang),
                 self.t("member.me.name", lang, name=m.full_name),
                 self.t("member.me.code", lang, code=m.member_code),
                 self.t("member.me.unit", lang, unit=m.unit.name)]
        if m.phone:
            lines.append(self.t("member.me.phone", lang, phone=m.phone))
        if m.joined_on:
            lines.append(self.t("member.me.joined", lang, date=fmt_date(m.joined_on)))
        for g in who.grants:
            unit = g.unit.name if g.unit else self.t("member.role.everywhere", lang)
            lines.append(self.t("member.me.role", lang, role=self.t(f"member.role.{g.role}", lang), unit=unit))
        lines.append(self.t("member.me.links", lang, channels=", ".join(
            self.t(f"channel.{a.channel}", lang) for a in links)))
        choices = (Choice(self.t("member.unlink_button", lang), "member:unlink"),)
        return self._ok("\n".join(lines), "me", choices)

    async def confirm_unlink(self, incoming: Incoming, lang: str) -> Outcome:
        if await self.identity(incoming) is None:
            return self._ok(self.t("member.not_linked", lang), "unlink")
        choices = (Choice(self.t("member.unlink_yes", lang), "member:unlink_yes"),
                   Choice(self.t("member.unlink_no", lang), "member:unlink_no"))
        return self._ok(self.t("member.unlink_confirm", lang), "unlink", choices)

    async def unlink(self, incoming: Incoming, lang: str) -> Outcome:
        now = self.clock()
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            who = await accounts.identity(incoming.bot_id, incoming.channel, incoming.user_id)
            if who is None or not await accounts.unlink(incoming.bot_id, incoming.channel, incoming.user_id):
                return self._ok(self.t("member.not_linked", lang), "unlink")
            await AuditRepository(session).record(actor=actor(incoming), actor_member_id=who.member.id,
                                                  action="unlink_account", unit_id=who.member.unit.id,
                                                  target=who.member.member_code, now=now, channel=incoming.channel)
        self.identities.forget(incoming.bot_id, incoming.channel, incoming.user_id)
        return self._ok(self.t("member.unlinked", lang), "unlink")

    async def on_action(self, incoming: Incoming, value: str, lang: str) -> Outcome:
        if value == "unlink":
            return await self.confirm_unlink(incoming, lang)
        if value == "unlink_yes":
            return await self.unlink(incoming, lang)
        return self._ok(self.t("member.unlink_kept", lang), "unlink")

    # ----- chairs ---------------------------------------------------------------------------------
    async def issue_code(self, incoming: Incoming, member_code: str, lang: str) -> Outcome:
        if not member_code:
            return self._ok(self.t("member.issue.usage", lang), "issue_code")
        now = self.clock()
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            who = await accounts.identity(incoming.bot_id, incoming.channel, incoming.user_id)
            target = await MemberRepository(session).by_code(member_code)
            if target is None:
                if who is None or not (who.is_admin or units_acted_on(who)):
                    return self._ok(self.t("authz.not_linked" if who is None else "authz.members_only", lang),
                                    "issue_code")
                return self._ok(self.t("member.issue.unknown", lang, code=member_code), "issue_code")
            decision = authorize(who, Action.ISSUE_CODES, target.unit)
            if not decision:
                return self._ok(self.t(decision.reason, lang), "issue_code")
            if target.status != "active":
                return self._ok(self.t("member.issue.inactive", lang, name=target.full_name), "issue_code")
            code = await accounts.issue_code(target.id, who.member.id, now, self.policy.code_ttl)
            await AuditRepository(session).record(actor=actor(incoming), actor_member_id=who.member.id,
                                                  action="issue_link_code", unit_id=target.unit.id,
                                                  target=target.member_code, now=now)
        text = self.t("member.issue.done", lang, name=target.full_name, member_code=target.member_code,
                      code=format_code(code), until=self._when(now + self.policy.code_ttl))
        return self._ok(text, "issue_code")

    async def unit_summary(self, incoming: Incoming, unit_code: str, lang: str) -> Outcome:
        now = self.clock()
        async with self.db.sessions.begin() as session:
            accounts = AccountRepository(session)
            units = UnitRepository(session)
            who = await accounts.identity(incoming.bot_id, incoming.channel, incoming.user_id)
            if unit_code:
                unit = await units.by_code(unit_code)
                if unit is None:
                    return self._ok(self.t("member.unit.unknown", lang, code=unit_code), "view_members")
            else:
                own = units_acted_on(who)
                unit = own[0] if own else (who.member.unit if who else None)
                if unit is None:
                    return self._ok(self.t("authz.not_linked", lang), "view_members")
            decision = authorize(who, Action.VIEW_MEMBERS, unit)
            if not decision:
                return self._ok(self.t(decision.reason, lang), "view_members")
            subtree = await units.subtree(unit)
            members = await MemberRepository(session).in_subtree(unit, active_only=True)
            linked = await accounts.linked_count([m.id for m in members])
            await AuditRepository(session).record(actor=actor(incoming), actor_member_id=who.member.id,
                                                  action="view_members", unit_id=unit.id, target=unit.code, now=now)
        lines = [self.t("member.unit.title", lang, name=unit.name, code=unit.code),
                 self.t("member.unit.counts", lang, members=len(members), linked=linked,
                        subunits=len(subtree) - 1)]
        lines.extend(f"• {u.code}: {u.name}" for u in subtree[1:11])
        return self._ok("\n".join(lines), "view_members")
