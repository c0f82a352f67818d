"""Which knowledge entries a member is answered from: the shared ones (no owning unit), plus those of their own
unit and of the units above it — never a sibling unit's (or a unit's below theirs); an unlinked user, and every
group chat, gets the shared ones only.

An entry belongs to a unit when the web console says so (``knowledge_owners``: an entry a chair added there
for their unit); ``scopes`` maps those entries' ids to their unit's path ("/1/14/"), and a member's unit path
comes with their identity (the identity cache), so choosing costs no query. Pure functions: the core builds one
answer index per audience when the knowledge changes and picks one per question.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TypeVar

T = TypeVar("T")


def audience_of(scopes: Mapping[str, str], unit_path: str | None) -> frozenset[str]:
    """The unit paths owning entries that a member of ``unit_path`` sees (None: unlinked, or a group: none)."""
    if not unit_path:
        return frozenset()
    return frozenset(path for path in set(scopes.values()) if unit_path.startswith(path))


def audiences(scopes: Mapping[str, str]) -> set[frozenset[str]]:
    """Every audience there is (the deepest owning unit on a member's chain decides theirs), shared-only first."""
    return {frozenset(), *(audience_of(scopes, path) for path in set(scopes.values()))}


def visible(entries: Iterable[T], scopes: Mapping[str, str], audience: frozenset[str],
            key=lambda e: e.id) -> list[T]:
    """The entries an audience sees: the shared ones and those its units own."""
    return [e for e in entries if (path := scopes.get(key(e))) is None or path in audience]
