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


async def test_downgrading_the_askers_units_sums_each_questions_rows(database_url):
    """0034 → 0033 (one row per question and per count again): a question asked in two units becomes one row
    with both counts, the sample of the unit that asked it most, the first and the last time it was asked."""
    from sqlalchemy import text

    db = Database(database_url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        await migrate.upgrade(db, "0034")
        async with db.sessions.begin() as session:
            repo = UnansweredRepository(session)
            for unit, times, sample, start in ((1, 2, "giá vàng hôm nay", t0), (2, 3, "Giá vàng hôm nay?", t0),
                                               (0, 1, "giá vàng", t0 + timedelta(days=2))):
                for i in range(times):
                    await repo.record("gia vang hom nay", sample, "test", "out_of_scope", 0.9,
                                      start + timedelta(hours=i), unit)
            await repo.record("thoi tiet", "thời tiết", "test", "out_of_scope", 0.8, t0, 2)
            await session.execute(text(
                "INSERT INTO question_counts (day, channel, intent, answered, unit_id, count) VALUES "
                "('2026-01-01', 'test', 'benefit', true, 1, 2), ('2026-01-01', 'test', 'benefit', true, 2, 5)"))
        await migrate.downgrade(db, "0033")
        async with db.sessions() as session:
            rows = (await session.execute(text(
                "SELECT key, count, sample_text, first_seen, last_seen FROM unanswered_questions ORDER BY key"))).all()
            counts = (await session.execute(text("SELECT count FROM question_counts"))).scalars().all()
        assert [(r[0], r[1], r[2]) for r in rows] == [("gia vang hom nay", 6, "Giá vàng hôm nay?"),
                                                      ("thoi tiet", 1, "thời tiết")]
        first, last = (r if isinstance(r, datetime) else datetime.fromisoformat(str(r)) for r in rows[0][3:5])
        assert first.replace(tzinfo=UTC) == t0 and last.replace(tzinfo=UTC) == t0 + timedelta(days=2)
        assert counts == [7]
        await migrate.upgrade(db)
    finally:
        await db.dispose()


async def test_the_whole_bots_list_adds_a_questions_units(database_url):
    db = Database(database_url)
    t0 = datetime(2026, 1, 1, tzinfo=UTC)
    try:
        await migrate.upgrade(db)
        async with db.sessions.begin() as session:
            repo = UnansweredRepository(session)
            later = t0 + timedelta(hours=2)
            for unit, key, text, at in ((1, "gia vang", "giá vàng", t0), (2, "gia vang", "Giá vàng?", later),
                                        (1, "gia vang", "giá vàng", t0), (0, "thoi tiet", "thời tiết", t0),
                                        (0, "thoi tiet", "thời tiết", t0), (3, "thoi tiet", "thời tiết", t0)):
                await repo.record(key, text, "test", "unsure", 0.5, at, unit)
        async with db.sessions() as session:
            rows = await UnansweredRepository(session).totals()
            assert len(await UnansweredRepository(session).most_frequent()) == 4  # a row per question and unit
        assert [(r.key, r.count, r.sample_text, r.last_seen) for r in rows] == [
            ("gia vang", 3, "Giá vàng?", t0 + timedelta(hours=2)), ("thoi tiet", 3, "thời tiết", t0)]
    finally:
        await db.dispose()
