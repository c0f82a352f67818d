"""Rows written behind (``storage.write_behind``: the unanswered-question log, the question counts) when the
process closes while a write is under way — as a one-shot ``unionbot ask --json`` fed many questions does: the
write is waited for, not cancelled (a write cancelled inside a database call lost its batch and could leave the
connection to a pool disposed of after it, the process then waiting at exit for the driver's thread)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from storage import migrate
from storage.db import Database
from storage.unanswered import UnansweredLog, UnansweredRepository
from storage.write_behind import DelayedFlush

NOW = datetime(2026, 1, 1, tzinfo=UTC)


async def closed_mid_write(db: Database, writer: DelayedFlush) -> None:
    """``writer`` closed while its delayed write is in the database, then the database disposed of: no delayed
    task is left behind (one cancelled inside a database call would wait on a connection disposed of)."""
    await asyncio.sleep(0.02)
    await writer.close()
    await db.dispose()
    await asyncio.sleep(0.2)
    left = [t for t in asyncio.all_tasks() if t is not asyncio.current_task() and not t.done()
            and "_flush_later" in repr(t.get_coro())]
    assert not left, left


async def test_closing_the_unanswered_log_while_it_writes_writes_every_row_and_leaves_no_task(tmp_path):
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    await migrate.upgrade(db)
    log = UnansweredLog(db.sessions, delay=0)
    for n in range(300):  # the delayed write starts, and close() comes while it is in the database
        log.record(f"question {n}", f"question {n}?", "test", "unknown", 0.1, NOW)
    await closed_mid_write(db, log)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'close.db'}")
    try:
        async with db.sessions() as session:
            assert len(await UnansweredRepository(session).most_frequent(limit=1000)) == 300
    finally:
        await db.dispose()
