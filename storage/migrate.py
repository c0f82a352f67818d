"""The schema: migrated by ``unionbot db upgrade`` (Alembic), checked cheaply by every other command.

``upgrade`` runs the Alembic migrations; on PostgreSQL it holds an advisory lock for the whole run, so several
workers or ``db upgrade`` calls started together migrate once, one after the other (the later ones find the
schema current). ``prepare`` is what the bot and the CLI call at start: one query on ``alembic_version``
compared with the newest revision file, no Alembic import; a schema behind is :class:`SchemaOutdated` (the CLI
says what to run), except a SQLite database whose file does not exist yet, which is created and migrated (the
first ``unionbot chat`` just works; a new file has nothing to lose and no other process to race).
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError

from storage.db import Database

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
#: pg_advisory_lock key of the migration ("unionbot" in ASCII, as a bigint): one lock per database
ADVISORY_LOCK = 0x756E696F6E626F74
_REVISION = re.compile(r"""^revision(?:: str)? = ["']([^"']+)["']""", re.MULTILINE)
_DOWN = re.compile(r"""^down_revision(?:: [^=]+)? = ["']([^"']+)["']""", re.MULTILINE)


class SchemaOutdated(Exception):
    """The database schema is not the one this code needs: ``current`` is None for an empty database."""

    def __init__(self, current: str | None, head: str) -> None:
        super().__init__(f"schema at {current or 'nothing'}, the code needs {head}")
        self.current, self.head = current, head


@cache
def head() -> str:
    """The newest revision, read from the revision files (the one no other revision names as its parent)."""
    revisions, parents = set(), set()
    for path in (MIGRATIONS / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        if match := _REVISION.search(source):
            revisions.add(match.group(1))
        if match := _DOWN.search(source):
            parents.add(match.group(1))
    heads = sorted(revisions - parents)
    if len(heads) != 1:
        raise RuntimeError(f"the migrations have {len(heads)} heads: {heads}")
    return heads[0]


def alembic_config(connection: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    return config


async def _run(db: Database, action: str, revision: str) -> None:
    from alembic import command

    def work(connection: Connection) -> None:
        getattr(command, action)(alembic_config(connection), revision)

    async with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":  # released at commit: parallel starts migrate one after the other
            await conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK})
        await conn.run_sync(work)


async def upgrade(db: Database, revision: str = "head") -> None:
    await _run(db, "upgrade", revision)


async def downgrade(db: Database, revision: str) -> None:
    await _run(db, "downgrade", revision)


def revisions() -> list[str]:
    """All revision ids, oldest first."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


async def current(db: Database) -> str | None:
    """The revision the database is at; None when it has no schema yet."""
    async with db.engine.connect() as conn:
        try:
            return (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
        except DBAPIError as exc:  # no alembic_version table: nothing was ever migrated
            if "alembic_version" in str(exc.orig) or "no such table" in str(exc.orig):
                return None
            raise


def new_sqlite_file(url: str) -> bool:
    """A SQLite database that does not exist yet (its file absent, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        return False
    name = parsed.database
    return not name or name == ":memory:" or not Path(name).exists()


async def prepare(db: Database, *, new: bool | None = None) -> None:
    """At start: a new SQLite database is migrated; any other database must be at :func:`head` already, else
    :class:`SchemaOutdated`. ``new`` is whether the file was absent before ``db`` was made (default: now)."""
    if new if new is not None else new_sqlite_file(db.url):
        await upgrade(db)
        return
    revision = await current(db)
    if revision != head():
        raise SchemaOutdated(revision, head())
