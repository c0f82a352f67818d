"""Authorization: who may do what on which unit. Decided here and nowhere else.

- an unlinked chat account may do nothing privileged;
- a member acts only on their own record and requests;
- a chair or deputy of a unit acts on that unit's subtree (their unit and everything below it);
- a system admin acts everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from storage.membership import Identity, Unit


class Action(StrEnum):
    VIEW_MEMBERS = "view_members"
    BROADCAST = "broadcast"
    REVIEW_REQUESTS = "review_requests"
    ISSUE_CODES = "issue_codes"
    EDIT_KNOWLEDGE = "edit_knowledge"
    IMPORT_MEMBERS = "import_members"


PRIVILEGED_ROLES = frozenset({"chair", "deputy"})


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    reason: str  # an interface-string key explaining a denial ("" when allowed)

    def __bool__(self) -> bool:
        return self.allowed


ALLOW = Decision(True, "")


def authorize(identity: Identity | None, action: Action, unit: Unit) -> Decision:
    if identity is None:
        return Decision(False, "authz.not_linked")
    if identity.is_admin:
        return ALLOW
    chaired = [g.unit for g in identity.grants if g.role in PRIVILEGED_ROLES and g.unit is not None]
    if not chaired:
        return Decision(False, "authz.members_only")
    if any(own.contains(unit) for own in chaired):
        return ALLOW
    return Decision(False, "authz.other_unit")


def units_acted_on(identity: Identity | None) -> list[Unit]:
    """The roots of the subtrees a chair acts on (empty for members; admins get none listed here)."""
    if identity is None:
        return []
    return [g.unit for g in identity.grants if g.role in PRIVILEGED_ROLES and g.unit is not None]


def can_review_request(identity: Identity | None, request_unit: Unit, parent: Unit | None) -> Decision:
    """A hardship request is reviewed by the chairs of the member's grassroots union and of its parent union
    (and admins); nobody else sees it, not even chairs higher up the tree."""
    if identity is None:
        return Decision(False, "authz.not_linked")
    if identity.is_admin:
        return ALLOW
    chaired = {g.unit.id for g in identity.grants if g.role in PRIVILEGED_ROLES and g.unit is not None}
    if not chaired:
        return Decision(False, "authz.members_only")
    if request_unit.id in chaired or (parent is not None and parent.id in chaired):
        return ALLOW
    return Decision(False, "authz.other_unit")


def reviewing_role(identity: Identity, request_unit: Unit, parent: Unit | None) -> tuple[str, Unit | None]:
    """What a reviewer acts as on a request ``can_review_request`` lets them review: (role, the unit they chair)
    — the chair (or deputy) of the request's union first, then of its parent, else ("admin", None)."""
    for unit in (request_unit, parent):
        for g in identity.grants:
            if unit is not None and g.role in PRIVILEGED_ROLES and g.unit is not None and g.unit.id == unit.id:
                return g.role, g.unit
    return "admin", None


def may_act_as_chair(identity: Identity | None) -> Decision:
    """The preamble of every chair's command, before the unit is known: an unlinked account is told to link,
    a member that the command is for chairs (a chair of some unit, or an admin, goes on to ``authorize``)."""
    if identity is None:
        return Decision(False, "authz.not_linked")
    if identity.is_admin or units_acted_on(identity):
        return ALLOW
    return Decision(False, "authz.members_only")


def subtree_paths(identity: Identity | None) -> list[str] | None:
    """The unit paths of the subtrees an identity sees counts and lists of (None: every unit, an admin's; a member's
    or an unlinked account's: none)."""
    if identity is not None and identity.is_admin:
        return None
    return [u.path for u in units_acted_on(identity)]


def may_act_on_asked(identity: Identity | None, unit: Unit | None) -> Decision:
    """A question asked (an unanswered one, a vote) by a member of ``unit`` — None: by an asker linked to no unit,
    which only an admin sees — is a chair's of that unit's subtree, as everything else of the unit is."""
    if not (decision := may_act_as_chair(identity)):
        return decision
    assert identity is not None
    if unit is None:
        return ALLOW if identity.is_admin else Decision(False, "authz.other_unit")
    return authorize(identity, Action.EDIT_KNOWLEDGE, unit)
