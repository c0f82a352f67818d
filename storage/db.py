"""Engine and session factory for SQLite (embedded default) and PostgreSQL (production)."""

from __future__ import annotations

import asyncio
import importlib
import logging
import os
import re
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any, cast, overload

from sqlalchemy import event
from sqlalchemy.engine import CursorResult, Result, make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import Session
from sqlalchemy.util import await_


def normalize_url(url: str) -> str:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the async drivers."""
    parsed = make_url(url)
    if parsed.drivername in ("sqlite", "sqlite+pysqlite"):
        parsed = parsed.set(drivername="sqlite+aiosqlite")
    elif parsed.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        parsed = parsed.set(drivername="postgresql+asyncpg")
    return parsed.render_as_string(hide_password=False)


@overload
def aware(value: datetime) -> datetime: ...
@overload
def aware(value: None) -> None: ...
@overload
def aware(value: datetime | None) -> datetime | None: ...
def aware(value: datetime | None) -> datetime | None:
    """SQLite gives naive datetimes back for timezone-aware columns; everything stored is UTC."""
    if value is None:
        return None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def affected_rows(result: Result[Any]) -> int:
    """Rows an UPDATE/DELETE touched. ``AsyncSession.execute`` is typed as returning a plain ``Result``,
    but for a DML statement it is a ``CursorResult`` at run time, which carries ``rowcount``."""
    return cast(CursorResult[Any], result).rowcount


def dialect_name(session: AsyncSession) -> str:
    """"postgresql" or "sqlite": the dialect of the engine the session is bound to."""
    bind = session.bind
    if bind is None:  # every session here comes from Database.sessions, bound to its engine
        raise RuntimeError("the session is bound to no engine")
    return bind.dialect.name


def dialect_module(session: AsyncSession | str) -> ModuleType:
    """``sqlalchemy.dialects.postgresql`` or ``.sqlite`` for the session's engine (or the dialect so named: their
    ``insert ... on conflict``), imported when first used: a process on SQLite never loads the PostgreSQL dialect
    (cold start)."""
    name = session if isinstance(session, str) else dialect_name(session)
    return importlib.import_module(f"sqlalchemy.dialects.{name}")


class _NoStatementLog(logging.Filter):
    """The drivers' statement log off at any level: aiosqlite logs every call with its values at DEBUG."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno > logging.DEBUG


_DRIVER_LOGGERS = ("aiosqlite", "asyncpg")


def quiet_driver_logs() -> None:
    """Idempotent: one filter per driver logger, whatever level the operator sets on it."""
    for name in _DRIVER_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoStatementLog) for f in logger.filters):
            logger.addFilter(_NoStatementLog())


class DatabaseUnavailable(Exception):
    """The database could not be reached while handling an update (down, restarting, a network blip): the update
    is worth handling again once it is back (bot/intake.py ``retry_while_unavailable``), not worth an apology."""


def unreachable(exc: BaseException) -> bool:
    """The database cannot be reached (down, starting, a dropped connection, the pool waited in vain), as opposed
    to a mistake in a statement; ``DatabaseUnavailable`` too."""
    from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    if isinstance(exc, OperationalError) and _MISTAKES.search(str(exc.orig)):  # SQLite says these as "operational"
        return False
    if isinstance(exc, DatabaseUnavailable | OperationalError | InterfaceError | PoolTimeout | OSError | TimeoutError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


_MISTAKES = re.compile(r"no such (table|column|function)|syntax error|has no column|already exists", re.I)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


class DatabaseMissing(Exception):
    """A SQLite database this installation created is gone (deleted, or its folder not mounted): not a first start."""


class KnownFiles:
    """The SQLite files an installation created, one absolute path a line in a small text file (``var/databases``):
    a listed file that is missing at start was lost, while an unlisted one is created (the first start)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __contains__(self, file: Path) -> bool:
        try:
            return str(file.resolve()) in self.path.read_text(encoding="utf-8").splitlines()
        except OSError:
            return False

    def add(self, file: Path) -> None:
        if file in self:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a", encoding="utf-8") as out:
            out.write(f"{file.resolve()}\n")


class Database:
    """Owns the engine; hands out one session per unit of work.

    With ``known`` (the list of SQLite files this installation created), a SQLite file that was created before and is
    missing now raises ``DatabaseMissing`` instead of becoming a fresh empty database."""

    def __init__(self, url: str, echo: bool = False, *, known: KnownFiles | None = None) -> None:
        self.url = normalize_url(url)
        parsed = make_url(self.url)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        file = Path(parsed.database) if self.is_sqlite and parsed.database and parsed.database != ":memory:" \
            else None
        if file is not None:
            if known is not None and not file.exists() and file in known:
                raise DatabaseMissing(
                    f"the database file {file} is missing, but this installation created it before (listed in "
                    f"{known.path}): it was deleted, moved, or its folder is not mounted. Restore it from a backup; "
                    f"to start with a new empty database instead, remove its line from {known.path}")
            file.parent.mkdir(parents=True, exist_ok=True)
        # SQLite allows one writer at a time and makes waiting writers sleep in its busy handler;
        # one shared connection serialises the statements in order instead (no lock waits).
        # PostgreSQL: a connection the server dropped (restart, pg_terminate_backend) is replaced, not handed out
        # SQLite: no rollback when a connection goes back to the pool — every session and connection here ends its
        # transaction itself (SQLAlchemy 2 rolls back an open one on close), and on the one shared connection each
        # extra call into aiosqlite's thread is a wait every other update queues behind
        options = {"pool_size": 1, "max_overflow": 0, "pool_reset_on_return": None} if self.is_sqlite \
            else {"pool_pre_ping": True}
        # bound values (names, phones, request texts) never go into SQLAlchemy's log or its error messages
        quiet_driver_logs()
        self.engine: AsyncEngine = create_async_engine(self.url, echo=echo, hide_parameters=True, **options)
        if self.is_sqlite:
            event.listen(self.engine.sync_engine, "connect", _sqlite_pragmas)
            if known is not None and file is not None:
                # listed once SQLite opened (and so created) it: a start that failed before keeps it unlisted
                event.listen(self.engine.sync_engine, "connect", lambda *_: known.add(file), once=True)
        # a session class of this database's own: its commits are told apart from another process's (below)
        session_class = type("DatabaseSession", (Session,), {})
        self.sessions: async_sessionmaker[AsyncSession] = async_sessionmaker(
            self.engine, expire_on_commit=False, sync_session_class=session_class
        )
        self._file = file
        self._stamp: tuple[tuple[int, int] | None, ...] | None = None
        self._data_version: int | None = None
        self._outside_writes = 0
        self._committing = False  # this process's commit is under way (in the driver's thread), counted after it
        self._driver: Any = None  # the driver connection of that commit
        self._looked = False  # the file was looked at in this turn of the event loop, and had not changed
        self._paths = (str(file), str(file.with_name(file.name + "-wal"))) if file is not None else ()
        if file is not None:
            event.listen(self.engine.sync_engine, "commit", self._before_own_commit)
            event.listen(session_class, "after_commit", self._after_own_commit)
            event.listen(self.engine.sync_engine, "checkin", self._connection_back)

    def _file_stamp(self) -> tuple[tuple[int, int] | None, ...]:
        stamp: list[tuple[int, int] | None] = []
        for path in self._paths:
            try:
                info = os.stat(path)
                stamp.append((info.st_mtime_ns, info.st_size))
            except OSError:
                stamp.append(None)
        return tuple(stamp)

    def _before_own_commit(self, connection) -> None:
        """A commit of this process is under way (in aiosqlite's thread): the file changes under a message that
        looks now, and it is this process's own change, so the message does not queue for the connection."""
        self._driver = connection.connection.driver_connection
        self._committing = True

    def _after_own_commit(self, _session) -> None:
        """Once this process's commit is over (the session still holds its connection): the file is stamped *then*
        ``PRAGMA data_version`` asked, on that connection. Another process's commit made before the stamp — during
        a read-only commit, which holds no write lock, or just after a write let go of it — changes the version
        and is counted; one made after it changes the file, and the next look asks again."""
        driver, self._driver = self._driver, None
        if self._file is None or driver is None:
            self._committing = False
            return
        stamp = self._file_stamp()
        # one call into aiosqlite's thread (a cursor through the adapter makes four: open, execute, fetch, close);
        # a message looking meanwhile still takes the change for this commit's and does not queue behind it
        version = await_(driver.execute_fetchall("PRAGMA data_version"))[0][0]
        if self._data_version is not None and version != self._data_version:
            self._outside_writes += 1
        self._data_version = version
        self._stamp = stamp
        self._committing = False

    def _look_again(self) -> None:
        self._looked = False

    def _connection_back(self, _dbapi_connection, _record) -> None:
        """A commit outside a session (``engine.begin()``), or one that failed, is over once its connection is back
        in the pool: the file's next change is asked about again."""
        self._committing = False
        self._driver = None

    async def outside_writes(self) -> int:
        """How many times another process was seen committing to the SQLite file (always 0 elsewhere).

        The in-process caches (conversation state, identities) are authoritative only while this process is
        the file's only writer; ``unionbot chat`` beside ``unionbot run`` makes two. Each cache remembers the
        count it was filled at and reads anew when it grew. A stat of the file and its WAL costs microseconds
        and changes on any commit; only then ``PRAGMA data_version`` is asked, which on our one pooled
        connection changes exactly when *another* connection committed."""
        if self._file is None:
            return 0
        if self._looked:
            # asked again in the same turn of the event loop (a message reads its state two or three times without
            # waiting on anything): a commit another process makes now is as concurrent with this message as one
            # made just after the first look, so the answer stands until the loop's next turn (this process's own
            # commits are counted once they are over, ``_after_own_commit``)
            return self._outside_writes
        stamp = self._file_stamp()
        if stamp == self._stamp or self._committing:
            self._looked = True
            asyncio.get_running_loop().call_soon(self._look_again)
            # while this process commits (its write-behind flush, in aiosqlite's thread) the file changes under it:
            # its own change, and another process's commits meanwhile are counted once it is over,
            # so a message is not made to queue for the one pooled connection behind that commit; the stamp is
            # taken once it is over (``_after_own_commit``), or the next change asked about
            return self._outside_writes
        self._stamp = stamp
        async with self.engine.connect() as connection:
            # one call into aiosqlite's thread (a statement through SQLAlchemy makes four), on the pooled connection
            driver = (await connection.get_raw_connection()).driver_connection
            if driver is None:  # a connection the pool invalidated: ask through SQLAlchemy
                version = (await connection.exec_driver_sql("PRAGMA data_version")).scalar()
            else:
                version = (await driver.execute_fetchall("PRAGMA data_version"))[0][0]
        if self._data_version is not None and version != self._data_version:
            self._outside_writes += 1
        self._data_version = version
        return self._outside_writes

    async def dispose(self) -> None:
        await self.engine.dispose()
