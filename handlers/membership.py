"""Membership in chat: linking an account with a one-time code, /toi, unlinking, chairs issuing codes.

A phone number typed by hand never proves identity: only a code issued by a chair (or a roster import)
links a chat account to a member record. Dialogue only: the use cases are ``services.membership``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import ClassVar, TypeVar

from handlers.capability import Capability
from handlers.registry import CHAIRS, ActionPrefix, Callback, Command, Declaration, Flow
from handlers.text import fmt_date, fmt_time
from handlers.types import Choice, Incoming, Outcome, Reply
from locales import Translator
from services.actor import Actor, account_of, actor_of
from services.membership import LinkPolicy, MembershipService
from storage.conversation import State, StateStore
from storage.db import Database
from storage.membership import IdentityCache, looks_like_code

__all__ = ["LINK_FLOW", "LinkPolicy", "Membership", "split_link_text"]

LINK_FLOW = "link"
T = TypeVar("T")


def _given(value: T | None, what: str, status: str) -> T:
    """A field ``services.membership`` fills for this status (a member for "linked", a time for "locked", ...)."""
    if value is None:
        raise LookupError(f"services.membership answered {status!r} without its {what}")
    return value


def split_link_text(text: str) -> tuple[str | None, str | None]:
    """"ABCD-EFGH" -> (None, code); "NTL-0103 ABCD-EFGH" -> (member code, code); anything else -> (None, None)."""
    text = text.strip()
    if looks_like_code(text):
        return None, text
    head, _, rest = text.partition(" ")
    if rest and looks_like_code(rest) and len(head) <= 64:
        return head, rest.strip()
    return None, None


class Membership(Capability):
    """The dialogue of linking, /toi, unlinking and the chairs' membership commands (``services.membership``)."""

    def __init__(self, db: Database, states: StateStore, identities: IdentityCache, t: Translator,
                 clock: Callable[[], datetime], timezone: tzinfo, policy: LinkPolicy | None = None,
                 service: MembershipService | None = None) -> None:
        super().__init__(db, states, identities, t, clock, timezone)
        self.policy = policy or LinkPolicy()
        self.service = service or MembershipService(db, clock, self.policy, identities)

    async def actor(self, incoming: Incoming) -> Actor:
        return await actor_of(incoming, self.identities)

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
        member_code, code = split_link_text(text)
        linked = await self.service.link(account_of(incoming), code, member_code, incoming.display_name)
        if linked.status in ("locked", "member_locked"):
            until = self._when(_given(linked.until, "time", linked.status))
            key = "member.locked" if linked.status == "locked" else "link_throttle.member_locked"
            return self._ok(self.t(key, lang, until=until), "link")
        if linked.status == "again":
            return self._ok(self.t("once.linked", lang, name=_given(linked.member, "member", "again").full_name),
                            "link")
        if linked.status != "linked":
            return self._ok(self.t(f"member.code_{linked.status}", lang), "link")
        await self.clear_state(incoming)
        member = _given(linked.member, "member", "linked")
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
        profile = await self.service.profile(await self.actor(incoming))
        if profile is None:
            return self._ok(self.t("member.not_linked", lang), "me")
        who, links = profile.identity, profile.accounts
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
        if not await self.service.unlink(await self.actor(incoming)):
            return self._ok(self.t("member.not_linked", lang), "unlink")
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
        issued = await self.service.issue_code(await self.actor(incoming), member_code)
        if issued.status == "unknown":
            return self._ok(self.t("member.issue.unknown", lang, code=member_code), "issue_code")
        if issued.status == "inactive":
            return self._ok(self.t("member.issue.inactive", lang,
                                   name=_given(issued.member, "member", "inactive").full_name), "issue_code")
        if issued.status != "issued":
            return self._ok(self.t(issued.status, lang), "issue_code")
        target = _given(issued.member, "member", "issued")
        text = self.t("member.issue.done", lang, name=target.full_name, member_code=target.member_code,
                      code=issued.code, until=self._when(_given(issued.until, "time", "issued")))
        return self._ok(text, "issue_code")

    async def unit_summary(self, incoming: Incoming, unit_code: str, lang: str) -> Outcome:
        summary = await self.service.unit_summary(await self.actor(incoming), unit_code)
        if summary.status == "unknown":
            return self._ok(self.t("member.unit.unknown", lang, code=unit_code), "view_members")
        if summary.status != "ok":
            return self._ok(self.t(summary.status, lang), "view_members")
        unit = _given(summary.unit, "unit", "ok")
        lines = [self.t("member.unit.title", lang, name=unit.name, code=unit.code),
                 self.t("member.unit.counts", lang, members=summary.members, linked=summary.linked,
                        subunits=len(summary.subunits))]
        lines.extend(f"• {u.code}: {u.name}" for u in summary.subunits[:10])
        return self._ok("\n".join(lines), "view_members")


# ----- commands and buttons (handlers/registry.py) --------------------------------------------------------
@dataclass(frozen=True)
class MemberButton(Callback):
    """"member:unlink", "member:unlink_yes", "member:unlink_no"."""

    prefix: ClassVar[str] = "member"
    choice: str


async def _link_command(m: Membership, incoming: Incoming, arg: str, lang: str) -> Outcome:
    return await (m.link(incoming, arg, lang) if arg else m.ask_code(incoming, lang))


async def _member_button(m: Membership, incoming: Incoming, data: str, lang: str) -> Outcome:
    button = MemberButton.decode(data)
    return await m.on_action(incoming, button.choice if button else "", lang)


DECLARATION = Declaration(
    "membership",
    commands=(Command("lienket", "link", _link_command, linked=False),
              Command("toi", "me", lambda m, i, arg, lang: m.me(i, lang)),
              Command("huylienket", "unlink", lambda m, i, arg, lang: m.confirm_unlink(i, lang), linked=True),
              Command("capma", "code", lambda m, i, arg, lang: m.issue_code(i, arg, lang), CHAIRS, menu=False),
              Command("donvi", "unit", lambda m, i, arg, lang: m.unit_summary(i, arg, lang), CHAIRS, menu=False)),
    actions=(ActionPrefix("member", _member_button),),
    flows=(Flow(LINK_FLOW, lambda m, i, state, lang: m.on_state(i, state, lang)),),
    callbacks=(MemberButton,))
