"""Fixtures of the integration tests (the root ``tests/conftest.py`` has ``settings``, ``clock``, ``app`` on SQLite).

``app_on_both``: the whole app on SQLite, and again on a fresh PostgreSQL database when
``UNIONBOT_TEST_DATABASE_URL`` is set (skipped otherwise). A file whose tests must hold on both takes it as its
``app``: ``def app(app_on_both): return app_on_both``.
"""

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from bot.app import App, build_app


@pytest.fixture(params=["sqlite", "postgresql"])
def app_database(request) -> str:
    """The database URL: empty for the default SQLite file, or a fresh PostgreSQL database when configured."""
    return request.getfixturevalue("pg_database_url") if request.param == "postgresql" else ""


@pytest_asyncio.fixture
async def app_on_both(app_database, settings, clock) -> AsyncIterator[App]:
    """The whole app on SQLite, and on PostgreSQL when it is configured (row locks, upserts, NUL bytes)."""
    application = await build_app(settings.replace(database_url=app_database), clock=clock)
    yield application
    await application.close()
