"""Fixtures of the integration tests (the root ``tests/conftest.py`` has ``settings``, ``clock``, ``app`` on SQLite).

``app_on_both``: the whole app on SQLite, and again on a fresh PostgreSQL database when
``UNIONBOT_TEST_DATABASE_URL`` is set (skipped otherwise). A file whose tests must hold on both takes it as its
``app``: ``def app(app_on_both): return app_on_both``.
"""

import os
import re
from collections.abc import AsyncIterator, Mapping
from datetime import date
from pathlib import Path

import pytest
import pytest_asyncio

from bot.app import App, build_app
from handlers.types import Incoming
from nlu.evidence import Passage

#: the seed articles (``../shared/seeds``), when they lie beside the checkout; tests of them skip otherwise
SEEDS = Path(os.environ.get("UNIONBOT_SEEDS_DIR_FOR_TESTS") or Path(__file__).resolve().parents[2].parent / "shared"
             / "seeds")
needs_seeds = pytest.mark.skipif(not SEEDS.is_dir(), reason=f"the seed articles are not at {SEEDS}")


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


# ----- invented documents for the fact answers (test_facts.py, test_fact_quality.py) -------------------------------
Documents = Mapping[str, tuple[date | None, list[list[str]]]]


def passages_of(documents: Documents, folder: str = "/docs/") -> list[Passage]:
    """``{title: (published, [paragraph: [sentence, ...]])}`` as the passages of stored documents."""
    out = []
    for doc_id, (title, (published, paragraphs)) in enumerate(documents.items(), start=1):
        for p, sentences in enumerate(paragraphs):
            for s, text in enumerate(sentences):
                out.append(Passage(len(out) + 1, doc_id, title, published, f"{folder}{doc_id}.txt", p, s, text))
    return out


class Asker:
    """One member's chat, asking through ``Core.process`` (the outcome: replies, fallback, intent)."""

    def __init__(self, app, chat: str = "501") -> None:
        self.app, self.chat = app, chat

    async def ask(self, text: str):
        return await self.app.core.process(Incoming(channel="test", chat_id=self.chat, user_id=self.chat, text=text))


def text_of(outcome) -> str:
    return "\n".join(r.text for r in outcome.replies)


def asker_over(app, documents: Documents, folder: str, chat: str = "501") -> Asker:
    """A member's chat with the app answering from ``documents`` (``passages_of``, stored under ``folder``) only."""
    app.core.set_passages(passages_of(documents, folder))
    return Asker(app, chat)


def count_calls(monkeypatch, owner: type, name: str) -> list:
    """The arguments (after ``self``) of every call of the method ``owner.name`` from now on, as tuples (the method
    still runs): how many searches, readings or rankings a message costs."""
    calls: list = []
    method = getattr(owner, name)

    def counted(self, *args, **kwargs):
        calls.append(args)
        return method(self, *args, **kwargs)

    monkeypatch.setattr(owner, name, counted)
    return calls


@pytest_asyncio.fixture
async def seeded(settings, clock) -> AsyncIterator[App]:
    """The whole app with the seed articles ingested (``SEEDS``), as ``unionbot ask`` runs beside them."""
    application = await build_app(settings.replace(documents_dir=SEEDS), clock=clock)
    yield application
    await application.close()


_NAMED = re.compile(r"“([^”]+)”")


def named_in(reply: str) -> list[str]:
    """What a refusal's first line says it has no information about (the quoted phrases)."""
    return _NAMED.findall(reply.splitlines()[0]) if reply else []
