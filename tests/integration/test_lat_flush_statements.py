"""One write-behind flush of many rows makes a bounded number of statements (issue 13, answer latency).

The unanswered-question log, the question counts and the idle chats' states are written behind, several rows a
transaction. One statement a row made a flush of a busy minute cost 40–270 ms of the event loop's CPU, paid by
whichever message was waiting on the database meanwhile; now each table is one ``executemany`` of a statement built
once. Counted with SQLAlchemy's ``before_cursor_execute`` (an ``executemany`` is one call), on SQLite and, when
configured, PostgreSQL; the rows end as the old one-row-at-a-time writes left them."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event, select

from storage import migrate
from storage.askers import Asker
from storage.conversation import State, StateKey, StateStore
from storage.db import Database
from storage.stats import QuestionCounter, QuestionCountRow
from storage.unanswered import UnansweredLog, UnansweredRepository

NOW = datetime(2026, 1, 1, tzinfo=UTC)


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


class Statements:
    """The statements SQLAlchemy sends while counting (an ``executemany`` counts once)."""

    def __init__(self, database: Database) -> None:
        self.engine = database.engine.sync_engine
        self.sent: list[str] = []

    def _seen(self, _conn, _cursor, statement, _params, _context, _many) -> None:
        self.sent.append(statement.split(None, 1)[0].upper())

    def __enter__(self) -> Statements:
        event.listen(self.engine, "before_cursor_execute", self._seen)
        return self

    def __exit__(self, *_exc) -> None:
        event.remove(self.engine, "before_cursor_execute", self._seen)


async def test_one_flush_of_many_unanswered_questions_is_a_few_statements_and_counts_each_asking(db):
    log = UnansweredLog(db.sessions, delay=3600)
    asker = Asker("bot", "test", "7")
    for n in range(200):  # 150 different questions, the first 50 asked twice (the second time reworded)
        k = n % 150
        log.record(f"cau hoi {k}", f"câu hỏi {k}{'?' if n >= 150 else ''}", "test", "unknown", 0.1,
                   NOW + timedelta(seconds=n), asker if k % 2 else None)
    with Statements(db) as statements:
        await log.flush()
    assert len(statements.sent) <= 3, statements.sent  # the askers' units, the rows (was: one INSERT a row)
    async with db.sessions() as session:
        stored = {q.key: q for q in await UnansweredRepository(session).most_frequent(limit=1000)}
    assert len(stored) == 150
    twice = stored["cau hoi 3"]
    assert (twice.count, twice.sample_text, twice.last_seen) == (2, "câu hỏi 3?", NOW + timedelta(seconds=153))
    assert stored["cau hoi 120"].count == 1
    log.record("cau hoi 3", "câu hỏi 3 nữa", "test", "unsure", 0.2, NOW + timedelta(days=1), asker)
    await log.close()  # a row already stored counts one more
    async with db.sessions() as session:
        again = {q.key: q for q in await UnansweredRepository(session).most_frequent(limit=1000)}["cau hoi 3"]
    assert (again.count, again.sample_text, again.last_intent) == (3, "câu hỏi 3 nữa", "unsure")


async def test_one_flush_of_many_question_counts_is_a_few_statements_and_adds_to_the_stored_sums(db):
    counter = QuestionCounter(db.sessions, delay=3600)
    day = date(2026, 1, 1)
    for n in range(300):
        counter.count(day + timedelta(days=n % 30), "test", f"intent{n % 5}", n % 3 > 0, Asker("bot", "test", "7"))
    with Statements(db) as statements:
        await counter.flush()
    assert len(statements.sent) <= 3, statements.sent
    counter.count(day, "test", "intent0", True)
    await counter.close()
    async with db.sessions() as session:
        rows = (await session.scalars(select(QuestionCountRow))).all()
    assert sum(r.count for r in rows) == 301
    first = [r.count for r in rows if (r.day, r.intent, r.answered) == (day, "intent0", True)]
    assert first == [sum(1 for n in range(300) if n % 30 == 0 and n % 5 == 0 and n % 3 > 0) + 1]


async def test_one_flush_of_many_idle_chats_states_is_one_statement_and_never_moves_a_row_back(db):
    states = StateStore(db.sessions, cache=True, delay=3600)
    await states.load()
    keys = [StateKey("bot", "test", str(n), str(n)) for n in range(120)]
    for key in keys:
        await states.set_later(key, State("choices", "pick", {"n": key.chat_id}), NOW)
    await states.set_later(keys[0], State("choices", "pick", {"n": "again"}), NOW)  # version 2
    with Statements(db) as statements:
        await states.flush()
    assert len(statements.sent) <= 1, statements.sent
    fresh = StateStore(db.sessions, cache=False)
    assert (await fresh.get(keys[0])) == State("choices", "pick", {"n": "again"}, 2)
    assert (await fresh.get(keys[119])).data == {"n": "119"}
    other = StateStore(db.sessions, cache=True, delay=3600)  # a second cache, filled now: keys[5] at version 1
    await other.load()
    await states.set(keys[5], State("hardship", "ask", {}), NOW)  # a form: written at once, version 2
    await other.set_later(keys[5], State("choices", "pick", {"n": "stale"}), NOW)  # behind, at version 2 too
    await other.flush()
    assert (await fresh.get(keys[5])).flow == "hardship"  # a row already at that version is left as it is


async def test_a_message_asking_for_outside_writes_while_this_process_commits_does_not_wait_for_the_commit(tmp_path):
    """A flush commits in aiosqlite's thread; a message meanwhile sees the file changed. It is this process's own
    commit (another process's commits before it were counted inside it, and it holds the write lock), so the
    message is not made to queue for the one pooled connection behind it; another process's write is still seen."""
    from sqlalchemy.util import await_

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    other = Database(f"sqlite+aiosqlite:///{tmp_path / 'own.db'}")
    try:
        await migrate.upgrade(db)
        states = StateStore(db.sessions, cache=True, outside_writes=db.outside_writes, delay=3600)
        await states.load()
        base = await db.outside_writes()
        committed, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            committed.set()
            await release.wait()

        def paused(_session) -> None:  # after SQLite committed, before the rest of the commit (connection held)
            await_(hold())

        session_class = db.sessions.kw["sync_session_class"]
        event.listen(session_class, "after_commit", paused, insert=True, once=True)
        await states.set_later(StateKey("bot", "test", "1", "1"), State("choices", "pick", {}), NOW)
        flush = asyncio.create_task(states.flush())
        await asyncio.wait_for(committed.wait(), 5)
        assert await asyncio.wait_for(db.outside_writes(), 1) == base  # was: waited for the connection
        release.set()
        await flush
        assert await db.outside_writes() == base
        await StateStore(other.sessions, cache=True).set(StateKey("bot", "test", "2", "2"), State("x", "y"), NOW)
        assert await db.outside_writes() == base + 1
    finally:
        await other.dispose()
        await db.dispose()


async def test_a_message_looks_at_the_database_file_once_and_still_sees_another_process_write(app, monkeypatch):
    """Every state read of a message asks "did another process write?" (a stat of the SQLite file and its WAL);
    within one message that does not wait on anything the answer cannot change meaning, so it is asked once."""
    from handlers.types import Incoming
    from storage import db as db_module

    file = app.db._file  # noqa: SLF001 - the file whose looks are counted
    looks: list[str] = []
    real_stat = db_module.os.stat

    def counted(path, *args, **kwargs):
        if str(path).startswith(str(file)):
            looks.append(str(path))
        return real_stat(path, *args, **kwargs)

    async def ask(text: str) -> None:
        await app.core.handle(Incoming(channel="test", chat_id="77", user_id="77", text=text))

    await ask("xin chào")
    await app.core.states.flush()
    monkeypatch.setattr(db_module.os, "stat", counted)
    for text in ("xin chào", "giá vàng hôm nay", "1"):
        looks.clear()
        await ask(text)
        assert len(looks) <= 2, (text, looks)  # the file and its WAL, once (was: two to four times)
    base = await app.db.outside_writes()
    other = Database(app.db.url)
    try:
        await StateStore(other.sessions, cache=True).set(StateKey("bot", "test", "78", "78"), State("x", "y"), NOW)
    finally:
        await other.dispose()
    await ask("xin chào")
    assert await app.db.outside_writes() == base + 1  # the next message's look saw it (nothing kept across messages)
