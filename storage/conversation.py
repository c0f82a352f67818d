"""Conversation state of multi-step flows, keyed by (bot, channel, chat, user): survives restarts and processes.

Each row carries a ``version``, raised by every write. A step that must happen once (a submit, a decision,
a queued broadcast) takes the state with a compare-and-set (``StateStore.advance``): ``UPDATE ... WHERE key
AND version = :seen``, inside the transaction that does the step. Of two identical taps, on one process or on
two webhook workers, exactly one updates the row; the other finds it already taken. A cleared state keeps its
row (flow ``""``) so that its version never starts again from 1 (no ABA: a stale tap cannot take a new form).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from functools import cache
from typing import NamedTuple

from sqlalchemy import Insert, event, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from storage.db import affected_rows, dialect_module, dialect_name
from storage.models import ConversationStateRow
from storage.write_behind import DelayedFlush

log = logging.getLogger(__name__)
IDLE = ""  # the flow of a cleared state


class StateKey(NamedTuple):
    bot_id: str
    channel: str
    chat_id: str
    user_id: str


@dataclass
class State:
    flow: str
    step: str
    data: dict = field(default_factory=dict)
    #: the row's version when this state was read (0: not stored yet); ``advance`` compares it
    version: int = 0

    def copy(self) -> State:
        return State(self.flow, self.step, dict(self.data), self.version)


def _where(key: StateKey):
    return (ConversationStateRow.bot_id == key.bot_id, ConversationStateRow.channel == key.channel,
            ConversationStateRow.chat_id == key.chat_id, ConversationStateRow.user_id == key.user_id)


def _state(row: ConversationStateRow | None) -> State | None:
    if row is None or row.flow == IDLE:
        return None
    return State(row.flow, row.step, dict(row.data or {}), row.version)


class ConversationRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _row(self, key: StateKey) -> ConversationStateRow | None:
        return await self.session.scalar(select(ConversationStateRow).where(*_where(key))
                                         .execution_options(populate_existing=True))

    async def get(self, key: StateKey) -> State | None:
        return _state(await self._row(key))

    async def read(self, key: StateKey) -> tuple[int, State | None]:
        """(the row's version, 0 without a row; the state, None when idle)."""
        row = await self._row(key)
        return (row.version if row else 0), _state(row)

    async def all(self) -> list[tuple[StateKey, State | None, int]]:
        rows = await self.session.scalars(select(ConversationStateRow))
        return [(StateKey(r.bot_id, r.channel, r.chat_id, r.user_id), _state(r), r.version) for r in rows]

    async def set(self, key: StateKey, state: State | None, now: datetime) -> int:
        """Write unconditionally (``None`` clears); returns the new version. One statement (an upsert returning
        the version): a reply's state is written on most answers, and on SQLite every round trip queues on the
        one connection."""
        row = ConversationStateRow
        if state is None:  # clearing: only a stored row changes
            cleared = await self.session.execute(
                update(row).where(*_where(key)).values(flow=IDLE, step=IDLE, data={}, version=row.version + 1,
                                                       updated_at=now)
                .returning(row.version).execution_options(synchronize_session=False))
            return cleared.scalar() or 0
        insert = dialect_module(self.session).insert
        values = {"flow": state.flow, "step": state.step, "data": dict(state.data), "updated_at": now}
        statement = insert(row).values(bot_id=key.bot_id, channel=key.channel, chat_id=key.chat_id,
                                       user_id=key.user_id, version=1, **values)
        upsert = statement.on_conflict_do_update(
            index_elements=[row.bot_id, row.channel, row.chat_id, row.user_id],
            set_={**values, "version": row.version + 1}).returning(row.version)
        return (await self.session.execute(upsert)).scalar_one()

    async def put(self, key: StateKey, state: State, version: int, now: datetime) -> None:
        """Write ``state`` at ``version`` (the one the authoritative cache gave it): a write-behind row
        (``StateStore.set_later``); a row already at that version or newer is left as it is."""
        await self.put_many([(key, state, version, now)])

    async def put_many(self, rows: Sequence[tuple[StateKey, State, int, datetime]]) -> None:
        """Several ``put``s (distinct keys) in one statement (``executemany``), not one a chat."""
        if rows:
            await self.session.execute(_put(dialect_name(self.session)), [
                {"bot_id": key.bot_id, "channel": key.channel, "chat_id": key.chat_id, "user_id": key.user_id,
                 "flow": state.flow, "step": state.step, "data": dict(state.data), "updated_at": now,
                 "version": version} for key, state, version, now in rows])

    async def advance(self, key: StateKey, seen: int, state: State | None, now: datetime) -> int | None:
        """Compare-and-set: write ``state`` only if the row is still at version ``seen``; the new version, or None.

        On PostgreSQL a concurrent transaction doing the same waits for this one's row lock, then finds the
        version changed; on SQLite one connection serialises the transactions."""
        flow, step, data = (state.flow, state.step, dict(state.data)) if state else (IDLE, IDLE, {})
        result = await self.session.execute(
            update(ConversationStateRow).where(*_where(key), ConversationStateRow.version == seen)
            .values(flow=flow, step=step, data=data, version=seen + 1, updated_at=now)
            .execution_options(synchronize_session=False))
        return seen + 1 if affected_rows(result) == 1 else None


@cache
def _put(dialect: str) -> Insert:
    """``ConversationRepository.put_many``'s upsert, built once per dialect (its compiled form is cached with it):
    a row already at the version written, or newer, is left as it is."""
    table = ConversationStateRow.__table__
    insert = dialect_module(dialect).insert(table)
    new = insert.excluded
    return insert.on_conflict_do_update(
        index_elements=[table.c.bot_id, table.c.channel, table.c.chat_id, table.c.user_id],
        set_={"flow": new.flow, "step": new.step, "data": new.data, "updated_at": new.updated_at,
              "version": new.version},
        where=table.c.version < new.version)


class StateStore(DelayedFlush):
    """Conversation state with a write-through cache in front of the database.

    Every message needs "is this chat in the middle of a form?", and a database round trip through
    aiosqlite costs ~0.6–1.7 ms, more than answering the question. On the embedded SQLite default one
    process owns the database file, so the cache is authoritative there (``cache=True``). On PostgreSQL,
    where several webhook workers may serve one chat, every read goes to the database (``cache=False``).

    The cache only moves forward: an entry is replaced only by a newer version, so a coroutine that read
    an old state can never put it back. A compare-and-set is decided by the database, never by the cache:
    of two coroutines that both read version v from the cache, one advances the row and the other fails.

    What an idle chat keeps between messages (the numbered choices shown, the pages behind "xem thêm", the
    question a follow-up is read against: ``set_later``) is written behind where the cache is authoritative:
    the cache has it at once, the database ``delay`` seconds later, several chats in one transaction (one
    write per answer cost ~1.5 ms of aiosqlite round trips, more than answering). The cache gives it its
    version, so the row ends at the version the cache holds; any synchronous write, compare-and-set or read
    of that chat in a transaction first writes it (in the same transaction), and ``close`` writes what is
    left. A crash loses at most ``delay`` seconds of idle-chat context, never a form's step.
    """

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, cache: bool,
                 outside_writes: Callable[[], Awaitable[int]] | None = None, delay: float = 0.05) -> None:
        super().__init__(delay)
        self._sessions = sessions
        #: states written behind: key -> (version, state, when), written by ``flush``
        self._later: dict[StateKey, tuple[int, State, datetime]] = {}
        self._cache: dict[StateKey, tuple[int, State | None]] | None = {} if cache else None
        self._complete = False  # the cache holds every stored state: a miss means "no state"
        #: another process wrote to the database (a console chat beside the bot): the cache is read anew
        self._outside_writes = outside_writes
        self._seen_outside = 0

    async def load(self) -> None:
        """Read every stored state into the cache (a handful of rows: forms in progress)."""
        if self._cache is None:
            return
        async with self._sessions() as session:
            rows = await ConversationRepository(session).all()
        for key, state, version in rows:
            self._put(key, version, state)
        self._complete = True

    def _put(self, key: StateKey, version: int, state: State | None) -> None:
        if self._cache is None:
            return
        cached = self._cache.get(key)
        if cached is None or cached[0] <= version:
            self._cache[key] = (version, state.copy() if state else None)

    async def _fresh(self) -> None:
        """The cache read anew when another process wrote to the database since it was filled."""
        if self._cache is not None and self._outside_writes is not None:
            seen = await self._outside_writes()
            if seen != self._seen_outside:
                self._seen_outside = seen
                await self.flush()  # what this process still owes the database goes first
                self._cache.clear()
                self._complete = False
                await self.load()

    async def get(self, key: StateKey) -> State | None:
        await self._fresh()
        if self._cache is not None and (key in self._cache or self._complete):
            cached = self._cache.get(key)
            return cached[1].copy() if cached and cached[1] else None
        async with self._sessions() as session:
            version, state = await ConversationRepository(session).read(key)
        self._put(key, version, state)
        return state

    async def set(self, key: StateKey, state: State, now: datetime) -> None:
        async with self._sessions.begin() as session:
            await self._owed(session, key)
            version = await ConversationRepository(session).set(key, state, now)
        self._put(key, version, replace(state.copy(), version=version))

    async def set_later(self, key: StateKey, state: State | None, now: datetime) -> None:
        """Like ``set`` (``None``: like ``clear``), for what an idle chat keeps: written behind where the cache is
        authoritative (SQLite), at once elsewhere (PostgreSQL: another worker may read it next)."""
        await self._fresh()
        if self._cache is None or not (key in self._cache or self._complete):
            await (self.set(key, state, now) if state is not None else self.clear(key))
            return
        cached_version, cached = self._cache.get(key) or (0, None)
        if state is None and cached is None:
            return  # nothing stored for this chat: nothing to clear
        version = cached_version + 1
        stored = replace(state.copy(), version=version) if state is not None else None
        self._cache[key] = (version, stored)
        self._later[key] = (version, stored.copy() if stored is not None else State(IDLE, IDLE, {}, version), now)
        self._queued()

    async def flush(self) -> None:
        """Write the states written behind, in one transaction. They leave the queue once committed (a chat
        written meanwhile stays queued); a failure is logged and they are tried again at the next flush."""
        while self._later:
            batch = dict(self._later)
            try:
                async with self._sessions.begin() as session:
                    await ConversationRepository(session).put_many(
                        [(key, state, version, now) for key, (version, state, now) in batch.items()])
            except Exception:  # noqa: BLE001 - idle-chat context: never a reason for an answer to fail
                log.exception("could not write %d conversation states", len(batch))
                return
            for key, owed in batch.items():
                if self._later.get(key) is owed:
                    del self._later[key]

    async def _owed(self, session: AsyncSession, key: StateKey) -> None:
        """The chat's state written behind, written now in ``session`` (before its other statements on that chat),
        put back in the queue if that transaction rolls back."""
        owed = self._later.pop(key, None)
        if owed is None:
            return
        await ConversationRepository(session).put(key, owed[1], owed[0], owed[2])

        def rolled_back(_session) -> None:
            self._later.setdefault(key, owed)

        event.listen(session.sync_session, "after_rollback", rolled_back, once=True)

    async def clear(self, key: StateKey) -> None:
        await self._fresh()
        if self._cache is not None and (key in self._cache or self._complete) and \
                (self._cache.get(key) or (0, None))[1] is None:
            return  # the authoritative cache knows nothing is stored for this chat: no transaction to clear it
        async with self._sessions.begin() as session:
            await self._owed(session, key)
            version = await ConversationRepository(session).set(key, None, datetime.now(UTC))
        self._put(key, version, None)

    # ----- inside a caller's transaction ------------------------------------------------------------
    async def current(self, session: AsyncSession, key: StateKey) -> State | None:
        """The state as the database has it now (not the cache), read in the caller's transaction."""
        await self._owed(session, key)
        version, state = await ConversationRepository(session).read(key)
        self._put(key, version, state)
        return state

    async def advance(self, session: AsyncSession, key: StateKey, seen: State, new: State | None,
                      now: datetime) -> State | None:
        """Take the state: replace ``seen`` by ``new`` in the caller's transaction if nobody changed it since
        it was read. Returns the stored state (None, and nothing written, when it was already taken).

        The cache learns the new state when the transaction commits (nothing if it rolls back)."""
        await self._owed(session, key)
        version = await ConversationRepository(session).advance(key, seen.version, new, now)
        if version is None:
            return None
        stored = replace(new.copy(), version=version) if new else State(IDLE, IDLE, {}, version)
        event.listen(session.sync_session, "after_commit",
                     lambda _s: self._put(key, version, new and stored), once=True)
        return stored
