"""Migrations are a step: `unionbot db upgrade` migrates (one at a time on PostgreSQL, under an advisory lock),
every other command checks the schema and says what to run when it is behind; a new SQLite file is created."""

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import migrate
from storage.db import Database

ROOT = Path(__file__).resolve().parents[2]


def cli(tmp_path: Path, model_cache: Path, *args: str, database_url: str | None = None
        ) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache),
               UNIONBOT_DOCUMENTS_DIR="", PYTHONPATH=str(ROOT))
    if database_url:
        env["UNIONBOT_DATABASE_URL"] = database_url
    return subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=180)


def test_the_head_read_from_the_revision_files_is_alembics():
    assert migrate.head() == migrate.revisions()[-1]


async def _at(url: str, revision: str) -> None:
    db = Database(url)
    try:
        await migrate.upgrade(db, revision)
    finally:
        await db.dispose()


async def _revision(url: str) -> str | None:
    db = Database(url)
    try:
        return await migrate.current(db)
    finally:
        await db.dispose()


def test_a_schema_behind_is_one_line_saying_what_to_run_then_db_upgrade_fixes_it(tmp_path, model_cache):
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'unionbot.db'}"
    previous = migrate.revisions()[-2]
    asyncio.run(_at(url, previous))
    for args in (["ask", "gạo kim sáng giảm bao nhiêu"], ["unanswered"], ["kb", "documents"], ["chat"]):
        result = cli(tmp_path, model_cache, *args)
        assert result.returncode == 1, (args, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr, (args, lines)
        assert previous in lines[0] and migrate.head() in lines[0] and "unionbot db upgrade" in lines[0]
        assert result.stdout == ""
    assert asyncio.run(_revision(url)) == previous  # a check only: nothing migrated behind the user's back
    assert cli(tmp_path, model_cache, "db", "upgrade").returncode == 0
    assert asyncio.run(_revision(url)) == migrate.head()
    result = cli(tmp_path, model_cache, "ask", "gạo kim sáng giảm bao nhiêu")
    assert result.returncode == 0 and "20%" in result.stdout, result.stderr


def test_the_first_start_on_sqlite_creates_and_migrates_the_file(tmp_path, model_cache):
    result = cli(tmp_path, model_cache, "ask", "gạo kim sáng giảm bao nhiêu")
    assert result.returncode == 0 and "20%" in result.stdout, result.stderr
    assert asyncio.run(_revision(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'unionbot.db'}")) == migrate.head()


def test_an_existing_sqlite_file_without_tables_is_not_migrated_silently(tmp_path, model_cache):
    path = tmp_path / "data" / "unionbot.db"
    path.parent.mkdir()
    path.write_bytes(b"")  # someone's file: not ours to fill
    result = cli(tmp_path, model_cache, "ask", "xin chào")
    assert result.returncode == 1 and "unionbot db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_an_empty_postgresql_database_says_what_to_run(tmp_path, model_cache, pg_database_url):
    result = cli(tmp_path, model_cache, "ask", "xin chào", database_url=pg_database_url)
    assert result.returncode == 1 and "unionbot db upgrade" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert cli(tmp_path, model_cache, "db", "upgrade", database_url=pg_database_url).returncode == 0
    result = cli(tmp_path, model_cache, "ask", "gạo kim sáng giảm bao nhiêu", database_url=pg_database_url)
    assert result.returncode == 0 and "20%" in result.stdout, result.stderr


async def test_parallel_upgrades_on_postgresql_migrate_once_each_after_the_other(pg_database_url):
    """Several workers starting together: without the advisory lock two of them create the same tables at once
    and one fails (duplicate relation or type) or they wait on each other."""
    databases = [Database(pg_database_url) for _ in range(4)]
    try:
        results = await asyncio.wait_for(asyncio.gather(*(migrate.upgrade(db) for db in databases),
                                                        return_exceptions=True), timeout=120)
        assert [r for r in results if isinstance(r, BaseException)] == []
        async with databases[0].engine.connect() as conn:
            versions = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
        assert versions == [migrate.head()]
    finally:
        for db in databases:
            await db.dispose()


def test_parallel_db_upgrade_commands_on_postgresql(tmp_path, model_cache, pg_database_url):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATABASE_URL=pg_database_url, UNIONBOT_DATA_DIR=str(tmp_path / "data"),
               PYTHONPATH=str(ROOT))
    procs = [subprocess.Popen([sys.executable, "-m", "bot", "db", "upgrade"], env=env, cwd=tmp_path,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(3)]
    outcomes = [(p.wait(timeout=180), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    assert [code for code, _ in outcomes] == [0, 0, 0], outcomes
    assert asyncio.run(_revision(pg_database_url)) == migrate.head()


@pytest.mark.parametrize("revision", ["0001", "0006"])
async def test_current_reads_the_revision(tmp_path, revision):
    url = f"sqlite+aiosqlite:///{tmp_path / 'x.db'}"
    assert migrate.new_sqlite_file(url)
    await _at(url, revision)
    assert not migrate.new_sqlite_file(url)
    assert await _revision(url) == revision
