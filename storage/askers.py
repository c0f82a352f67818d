"""Whose unit a question or a vote counts for: the asker's chat account, resolved to their member's unit when the
rows are written (off the reply path, in the write-behind batch or the vote's own insert), never stored itself.

``NO_UNIT`` (0) is the unit of an asker linked to no member (or to one who left): such rows are an admin's only.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import ColumnElement, and_, false, func, or_, select, true, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from storage.models import ChatAccountRow, MemberRow, UnitRow

NO_UNIT = 0


class Asker(NamedTuple):
    """A chat account, as the core knows the sender of a message (``Incoming``)."""

    bot_id: str
    channel: str
    user_id: str


def _account(asker: Asker) -> ColumnElement[bool]:
    return and_(ChatAccountRow.bot_id == asker.bot_id, ChatAccountRow.channel == asker.channel,
                ChatAccountRow.user_id == asker.user_id)


def _linked():
    return (select(ChatAccountRow.bot_id, ChatAccountRow.channel, ChatAccountRow.user_id, MemberRow.unit_id)
            .join(MemberRow, MemberRow.id == ChatAccountRow.member_id).where(MemberRow.status == "active"))


async def units_of(session: AsyncSession, askers: Iterable[Asker | None]) -> dict[Asker, int]:
    """The unit of each asker (``NO_UNIT`` when unlinked): one query for the whole batch."""
    wanted = {a for a in askers if a is not None}
    if not wanted:
        return {}
    found: dict[Asker, int] = {}
    rows = list(wanted)
    for i in range(0, len(rows), 300):  # a few hundred accounts a statement (SQLite's bound parameters)
        chunk = rows[i:i + 300]
        query = _linked().where(
            tuple_(ChatAccountRow.bot_id, ChatAccountRow.channel, ChatAccountRow.user_id).in_(chunk)
            if len(chunk) > 1 else _account(chunk[0]))
        for bot_id, channel, user_id, unit_id in (await session.execute(query)).all():
            found[Asker(bot_id, channel, user_id)] = unit_id
    return {a: found.get(a, NO_UNIT) for a in wanted}


def unit_of(asker: Asker | None) -> ColumnElement[int] | int:
    """The asker's unit inside another statement (a scalar subquery: no round trip of its own)."""
    if asker is None:
        return NO_UNIT
    return func.coalesce(select(MemberRow.unit_id).join(ChatAccountRow, ChatAccountRow.member_id == MemberRow.id)
                         .where(_account(asker), MemberRow.status == "active").scalar_subquery(), NO_UNIT)


def path_in(path_column, paths: Sequence[str] | None):
    """Rows whose unit path lies in one of the subtrees (``paths``: the roots' unit paths; None: every row)."""
    if paths is None:
        return true()
    return or_(*[path_column.startswith(p) for p in paths]) if paths else false()


def in_subtrees(unit_id_column, paths: Sequence[str] | None):
    """Rows whose ``unit_id_column`` is a unit in one of the subtrees (None: every row, ``NO_UNIT`` included)."""
    if paths is None:
        return true()
    return unit_id_column.in_(select(UnitRow.id).where(path_in(UnitRow.path, paths)))
