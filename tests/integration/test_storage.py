"""Storage on SQLite and (when configured) PostgreSQL: migrations and repositories."""

from datetime import UTC, datetime, timedelta

from sqlalchemy import inspect

from storage import migrate
from storage.db import Database
from storage.unanswered import UnansweredRepository


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def test_migration_stairway_up_down_up(database_url):
    db = Database(database_url)
    try:
        revisions = migrate.revisions()
        assert revisions
        for i, revision in enumerate(revisions):
            await migrate.upgrade(db, revision)
            await migrate.downgrade(db, revisions[i - 1] if i else "base")
            await migrate.upgrade(db, revision)
        assert {"knowledge_entries", "unanswered_questions"} <= await _tables(db)
        await migrate.downgrade(db, "base")
        assert not ({"knowledge_entries", "unanswered_questions"} & await _tables(db))
    finally:
        await db.dispose()


async def test_unanswered_questions_are_counted_and_listed_most_frequent_first(database_url):
    db = Database(database_url)
    try:
        await migrate.upgrade(db)
        t0 = datetime(2026, 1, 1, tzinfo=UTC)
        async with db.sessions.begin() as session:
            repo = UnansweredRepository(session)
            await repo.record("gia vang hom nay", "giá vàng hôm nay?", "test", "out_of_scope", 0.9, t0)
            await repo.record("thoi tiet", "thời tiết", "test", "out_of_scope", 0.8, t0)
        async with db.sessions.begin() as session:
            repo = UnansweredRepository(session)
            await repo.record("gia vang hom nay", "Giá vàng hôm nay", "test", "out_of_scope", 0.95,
                              t0 + timedelta(hours=1))
        async with db.sessions() as session:
            rows = await UnansweredRepository(session).most_frequent()
        assert [(r.key, r.count) for r in rows] == [("gia vang hom nay", 2), ("thoi tiet", 1)]
        assert rows[0].sample_text == "Giá vàng hôm nay"
    finally:
        await db.dispose()
