"""Another process's commit to the SQLite file is always seen, whatever this process's own commits do.

The in-process caches (conversation states, identities) trust themselves while this process is the file's only
writer, and read anew once ``Database.outside_writes`` grows. A commit of this process stamped the file as
"seen": a commit made by another process while this one's commit was under way — during a read-only commit,
which holds no write lock, or just after a write committed and before the stamp was taken — was then part of the
stamp and never counted, so ``unionbot chat`` beside ``unionbot run`` could answer from a state the other had
replaced (review finding of the lat round)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import event, select
from sqlalchemy.util import await_

from storage import migrate
from storage.conversation import State, StateKey, StateStore
from storage.db import Database
from storage.models import ConversationStateRow

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def two(tmp_path):
    """Two processes' databases on one SQLite file: this one and another."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    db, other = Database(url), Database(url)
    await migrate.upgrade(db)
    yield db, other
    await other.dispose()
    await db.dispose()


async def test_a_commit_of_another_process_during_a_read_only_commit_is_counted(two):
    db, other = two
    base = await db.outside_writes()

    def meanwhile(_connection) -> None:  # inside this process's commit, after it counted what came before
        await_(StateStore(other.sessions, cache=False).set(StateKey("bot", "t", "1", "1"), State("x", "y"), NOW))

    event.listen(db.engine.sync_engine, "commit", meanwhile, once=True)
    async with db.sessions() as session:
        await session.execute(select(ConversationStateRow).limit(1))  # reads only
        await session.commit()
    assert await db.outside_writes() == base + 1


async def test_a_commit_of_another_process_just_after_this_process_committed_is_counted(two):
    db, other = two
    states = StateStore(db.sessions, cache=True, outside_writes=db.outside_writes, delay=3600)
    await states.load()
    base = await db.outside_writes()

    def meanwhile(_session) -> None:  # SQLite committed this process's write and let go of the lock
        await_(StateStore(other.sessions, cache=False).set(StateKey("bot", "t", "2", "2"), State("x", "y"), NOW))

    event.listen(db.sessions.kw["sync_session_class"], "after_commit", meanwhile, insert=True, once=True)
    await states.set(StateKey("bot", "t", "3", "3"), State("hardship", "ask", {}), NOW)  # written at once
    assert await db.outside_writes() == base + 1
    # and the cache reads what the other process wrote
    seen = await states.get(StateKey("bot", "t", "2", "2"))
    assert seen is not None and (seen.flow, seen.step) == ("x", "y")


async def test_this_process_s_own_commits_are_not_counted_as_outside_writes(two):
    db, other = two
    states = StateStore(db.sessions, cache=True, outside_writes=db.outside_writes, delay=3600)
    await states.load()
    base = await db.outside_writes()
    for n in range(3):
        await states.set(StateKey("bot", "t", str(n), str(n)), State("hardship", "ask", {}), NOW)
        async with db.sessions() as session:
            await session.execute(select(ConversationStateRow).limit(1))
            await session.commit()
    assert await db.outside_writes() == base
