"""Shared fixtures: settings on a scratch SQLite file, the whole app, a fixed clock, PostgreSQL when configured."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App, build_app
from bot.settings import Settings
from handlers.types import Incoming, Reply
from services.extras import EXTRAS, MissingExtra, available

PG_ENV = "UNIONBOT_TEST_DATABASE_URL"


def extra_reason(extra: str) -> str:
    return f"the '{extra}' extra is not installed (bash scripts/setup.sh {extra}; scripts/test.sh installs every extra)"


def needs_extra(*extras: str) -> pytest.MarkDecorator:
    """Skip a test of an optional part when its extra is not installed (CI installs them all:
    tests/integration/test_extras.py checks it)."""
    missing = [e for e in extras if not available(e)]
    return pytest.mark.skipif(bool(missing), reason="; ".join(extra_reason(e) for e in missing))


def _missing_extra(error: BaseException | None, seen: int = 0) -> str | None:
    """The extra a test failed for, when it failed because one is not installed (the cause chain and
    exception groups searched)."""
    if error is None or seen > 20:
        return None
    if isinstance(error, MissingExtra) and not available(error.extra):
        return error.extra
    if isinstance(error, ModuleNotFoundError):  # a test that builds its input with the library (a .docx...)
        top = (error.name or "").split(".")[0]
        for extra, modules in EXTRAS.items():
            if top in modules and not available(extra):
                return extra
    for inner in getattr(error, "exceptions", ()):
        if found := _missing_extra(inner, seen + 1):
            return found
    return _missing_extra(error.__cause__ or error.__context__, seen + 1)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A test that ran into a missing extra (a Telegram bot without aiogram, ...) is skipped with the reason,
    not failed: only when that extra is really not installed."""
    outcome = yield
    report = outcome.get_result()
    if report.failed and call.excinfo is not None and (extra := _missing_extra(call.excinfo.value)):
        report.outcome = "skipped"
        report.longrepr = (str(item.path), item.location[1] or 0, f"Skipped: {extra_reason(extra)}")


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One NLU model cache for the whole run: the model is trained once, not per test."""
    return tmp_path_factory.mktemp("nlu-cache")


@pytest.fixture
def settings(tmp_path, model_cache, monkeypatch) -> Settings:
    for key in list(os.environ):
        if key.startswith("UNIONBOT_") and key != PG_ENV:
            monkeypatch.delenv(key)
    # no seed articles ingested by every app the tests build (0.3 s each, plus the index): the tests that read
    # documents say so (tests/integration/test_documents.py, test_facts.py, the eval through the CLI)
    return Settings(_env_file=None, data_dir=tmp_path / "data", cache_dir=model_cache, documents_dir=None)


class FixedClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2021, 3, 15, 9, 0, tzinfo=UTC))


@pytest_asyncio.fixture
async def app(settings, clock) -> AsyncIterator[App]:
    application = await build_app(settings, clock=clock)
    yield application
    await application.close()


class Member:
    """Talks to the core the way a channel adapter does; keeps the last replies."""

    def __init__(self, app: App, user: str = "101", channel: str = "test") -> None:
        self.app, self.user, self.channel = app, user, channel
        self.replies: list[Reply] = []

    async def says(self, text: str, **extra) -> str:
        self.replies = await self.app.core.handle(
            Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, text=text, **extra))
        return self.last_reply

    async def presses(self, action: str) -> str:
        self.replies = await self.app.core.handle(
            Incoming(channel=self.channel, chat_id=self.user, user_id=self.user, action=action))
        return self.last_reply

    @property
    def last_reply(self) -> str:
        return "\n".join(r.text for r in self.replies)


@pytest.fixture
def member(app) -> Member:
    return Member(app)


def _pg_url() -> str | None:
    return os.environ.get(PG_ENV) or None


def _admin(sql: str) -> None:
    import asyncio

    import asyncpg
    from sqlalchemy.engine import make_url

    url = make_url(_pg_url())

    async def run() -> None:
        conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                     password=url.password, database=url.database)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    asyncio.run(run())


@pytest.fixture
def pg_database_url() -> Iterator[str]:
    """A fresh PostgreSQL database for one test (skipped unless UNIONBOT_TEST_DATABASE_URL is set)."""
    base = _pg_url()
    if not base:
        pytest.skip(f"{PG_ENV} not set")
    from sqlalchemy.engine import make_url

    from storage.db import normalize_url

    name = f"unionbot_test_{uuid.uuid4().hex[:12]}"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(normalize_url(base)).set(database=name).render_as_string(hide_password=False)
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path) -> str:
    """Storage tests run on SQLite always, and on PostgreSQL when it is configured."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'storage.db'}"
    return request.getfixturevalue("pg_database_url")


def now() -> datetime:
    return datetime.now(UTC)
