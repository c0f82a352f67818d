"""An idle chat's state written behind (``StateStore.set_later``): the database ends where the cache is, whatever
is written, compared-and-set or rolled back meanwhile; and this process's own commits are no "outside write"."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from storage import migrate
from storage.conversation import State, StateKey, StateStore
from storage.db import Database
from tests.integration.test_write_behind import closed_mid_write

NOW = datetime(2026, 1, 1, tzinfo=UTC)
KEY = StateKey("bot", "test", "42", "42")


@pytest.fixture
async def store(database_url):
    db = Database(database_url)
    await migrate.upgrade(db)
    states = StateStore(db.sessions, cache=db.is_sqlite, outside_writes=db.outside_writes, delay=3600)
    await states.load()
    yield db, states
    await db.dispose()


async def _stored(db: Database, key: StateKey = KEY) -> State | None:
    return await StateStore(db.sessions, cache=False).get(key)


async def test_states_written_behind_then_a_form_then_a_compare_and_set_keep_database_and_cache_equal(store):
    db, states = store
    for n in range(3):  # three answers: one write behind, at the last one's version
        await states.set_later(KEY, State("choices", "pick", {"asked": n}), NOW)
    assert (await states.get(KEY)).data == {"asked": 2}
    await states.set(KEY, State("hardship", "confirm", {"form": 1}), NOW)  # a form starts: written at once
    seen = await states.get(KEY)
    assert await _stored(db) == seen
    async with db.sessions.begin() as session:
        assert await states.advance(session, KEY, seen, State("done", "hardship"), NOW) is not None
    assert (await states.get(KEY)).flow == "done" and await _stored(db) == await states.get(KEY)


async def test_a_compare_and_set_from_a_state_written_behind_wins_and_a_rolled_back_one_leaves_it_queued(store):
    db, states = store
    await states.set_later(KEY, State("choices", "pick", {"asked": 1}), NOW)
    seen = await states.get(KEY)
    with pytest.raises(RuntimeError):
        async with db.sessions.begin() as session:
            await states.advance(session, KEY, seen, State("done", "x"), NOW)
            raise RuntimeError("the step failed")
    await states.flush()
    assert (await _stored(db)).data == {"asked": 1}  # the queued state was written after all
    async with db.sessions.begin() as session:
        assert await states.advance(session, KEY, seen, State("done", "x"), NOW) is not None
    await states.set_later(KEY, None, NOW)  # cleared behind
    await states.close()
    assert await _stored(db) is None and await states.get(KEY) is None


async def test_this_process_commits_are_no_outside_write_and_another_connections_are(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    try:
        await migrate.upgrade(db)
        states = StateStore(db.sessions, cache=True, outside_writes=db.outside_writes, delay=3600)
        await states.load()
        base = await db.outside_writes()
        for n in range(3):
            await states.set_later(KEY, State("choices", "pick", {"n": n}), NOW)
            await states.flush()
            # its own commit: known without asking SQLite, so a message does not queue for the one pooled connection
            # behind a write in progress (here: held by another task)
            async with db.engine.connect():
                assert await asyncio.wait_for(db.outside_writes(), 2) == base
        await StateStore(other.sessions, cache=True).set(KEY, State("hardship", "ask", {}), NOW)
        assert await db.outside_writes() == base + 1
        assert (await states.get(KEY)).flow == "hardship"  # the cache read anew
    finally:
        await other.dispose()
        await db.dispose()


async def test_closing_while_a_write_behind_is_under_way_writes_it_and_leaves_no_task_behind(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    await migrate.upgrade(db)
    states = StateStore(db.sessions, cache=True, delay=0)
    await states.load()
    for n in range(500):  # the delayed write starts, and close() comes while it is in the database
        await states.set_later(StateKey("bot", "test", str(n), str(n)), State("choices", "pick", {"n": n}), NOW)
    await closed_mid_write(db, states)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    try:
        assert (await _stored(db, StateKey("bot", "test", "499", "499"))).data == {"n": 499}
    finally:
        await db.dispose()
