"""The composition root: builds settings -> database -> knowledge -> matcher -> state, identities -> the
capabilities and their registry -> core, explicitly, and injects each part into the next.

Nothing is created at import time, and nothing below builds its own parts: the core gets its state store,
identity cache, unanswered log and capabilities from here, and the cache policy (per dialect) is decided here.
Tests build the same graph with a test database (and may register one more capability: ``extra``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.channels.base import CHANNELS, Channel, editable, local
from bot.settings import Settings, open_database
from handlers.broadcast import DECLARATION as BROADCASTS
from handlers.broadcast import Broadcasts
from handlers.core import Core, CoreConfig
from handlers.feedback import DECLARATION as FEEDBACK
from handlers.feedback import Feedback
from handlers.hardship import DECLARATION as HARDSHIP
from handlers.hardship import Hardship
from handlers.membership import DECLARATION as MEMBERSHIP
from handlers.membership import LinkPolicy, Membership
from handlers.registry import Declaration, Registry
from handlers.stats import DECLARATION as STATS
from handlers.stats import WeeklyStats
from handlers.web import DECLARATION as WEB
from handlers.web import WebSignIn
from locales import Translator
from nlu.data import load_abbreviations, load_training_examples
from nlu.intents import KIND_INTENT
from nlu.matcher import Matcher, NamedEntry, build_model
from nlu.normalize import Normalizer
from nlu.privacy import scrub as scrub_personal
from services.broadcasts import BroadcastService
from services.hardship import HardshipService
from services.membership import MembershipService
from services.stats import StatsService
from services.web_access import WebAccess
from storage import migrate
from storage.conversation import StateStore
from storage.db import Database
from storage.demo import load_demo, read_demo
from storage.documents import DocumentRepository, PassageInfo
from storage.feedback import FeedbackLog
from storage.knowledge import (
    Entry,
    KnowledgeBase,
    KnowledgeEditRepository,
    KnowledgeError,
    KnowledgeRepository,
    load_directory,
)
from storage.membership import IdentityCache, UnitRepository
from storage.outbox import OutboxRepository
from storage.stats import QuestionCounter
from storage.unanswered import UnansweredLog

log = logging.getLogger(__name__)


@dataclass
class App:
    settings: Settings
    db: Database
    core: Core
    translator: Translator
    #: the sentences of the ingested source documents (also ``core.passages``)
    passages: list[PassageInfo] = field(default_factory=list)

    async def close(self) -> None:
        try:
            await self.core.close()
        finally:
            await self.db.dispose()


def training_examples(entries: Sequence[Entry]) -> list[tuple[str, str]]:
    """The intent examples plus every knowledge name as an example of its kind's intent,
    so that an entry added to the knowledge base is recognised without new examples."""
    examples = load_training_examples()
    examples.extend((name, KIND_INTENT[e.kind]) for e in entries for name in e.match_names())
    return examples


def build_matcher(entries: Sequence[Entry], settings: Settings) -> Matcher:
    normalizer = Normalizer(load_abbreviations())
    model = build_model(normalizer, training_examples(entries), settings.model_cache_dir)
    named = [NamedEntry(e.id, e.kind, e.match_names(), e.search_text()) for e in entries]
    return Matcher(normalizer, model, named, cache_dir=settings.model_cache_dir)


async def load_knowledge_files(db: Database, settings: Settings) -> int:
    """Validate every knowledge file (and the passages its entries name in ingested documents), then replace
    the YAML-origin entries in one transaction."""
    from services.documents import check_sources

    entries = load_directory(settings.knowledge.dir)
    async with db.sessions.begin() as session:
        documents = DocumentRepository(session)
        if problems := check_sources(entries, await documents.documents(), await documents.passages()):
            raise KnowledgeError(problems)
        return await KnowledgeRepository(session).replace_from_files(entries)


def core_config(settings: Settings) -> CoreConfig:
    return CoreConfig(
        timezone=ZoneInfo(settings.timezone), log_unanswered=settings.log.unanswered,
        link_policy=LinkPolicy(code_ttl=timedelta(days=settings.link.code_ttl_days),
                               max_failures=settings.link.max_failures,
                               lock_for=timedelta(minutes=settings.link.lock_minutes)),
        web_base_url=settings.web.base_url, cache_dir=settings.model_cache_dir)


def build_core(db: Database, translator: Translator, matcher: Matcher, knowledge: KnowledgeBase,
               config: CoreConfig, *, clock: Callable[[], datetime] | None = None,
               passages: Sequence[PassageInfo] = (), channels: Sequence[Channel] = CHANNELS,
               extra: Sequence[tuple[Declaration, object]] = ()) -> Core:
    """Every part of the conversation core, built once and injected: conversation state and identities
    (cached in the process on SQLite, which one process serves; read through on PostgreSQL, where several
    workers write), the capabilities, and the registry of their commands, buttons and flows. ``extra``: more
    capabilities, each a declaration and the object its handlers are bound to."""
    clock = clock or (lambda: datetime.now(UTC))
    states = StateStore(db.sessions, cache=db.is_sqlite, outside_writes=db.outside_writes)
    identities = IdentityCache(db.sessions, ttl=30.0 if db.is_sqlite else None, outside_writes=db.outside_writes)
    parts = (db, states, identities, translator, clock, config.timezone)
    # the use cases (services/), shared by the chat, the CLI and the web console; the dialogues on top of them
    membership = Membership(*parts, config.link_policy,
                            service=MembershipService(db, clock, config.link_policy, identities))
    hardship = Hardship(*parts, service=HardshipService(db, translator, clock, config.timezone))
    broadcasts = Broadcasts(*parts, editable_channels=editable(channels), local_channels=local(channels),
                            service=BroadcastService(db, translator, clock, config.timezone,
                                                     editable_channels=editable(channels),
                                                     local_channels=local(channels)))
    unanswered = UnansweredLog(db.sessions, scrub=scrub_personal)  # no personal detail is kept
    feedback = Feedback(*parts, votes=FeedbackLog(db.sessions), unanswered=unanswered)
    registry = Registry()
    core = Core(matcher=matcher, knowledge=knowledge, translator=translator, states=states, identities=identities,
                unanswered=unanswered, outbox=OutboxRepository(db), membership=membership,
                hardship=hardship, broadcasts=broadcasts, registry=registry, clock=clock, config=config,
                passages=passages, feedback=feedback, questions=QuestionCounter(db.sessions))
    web = WebSignIn(WebAccess(db, clock=clock), identities, translator, config.web_base_url)
    weekly = WeeklyStats(StatsService(db, clock=clock, timezone=config.timezone), identities, translator,
                         config.web_base_url)
    for declaration, capability in ((MEMBERSHIP, membership), (HARDSHIP, hardship), (BROADCASTS, broadcasts),
                                    (FEEDBACK, feedback), (WEB, web), (STATS, weekly), *extra):
        registry.add(declaration, capability)
    return core


async def load_demo_roster(db: Database, settings: Settings) -> None:
    """The invented demo roster, once: only into a database that has no units at all."""
    async with db.sessions.begin() as session:
        if await UnitRepository(session).count() == 0:
            units, members = await load_demo(session, read_demo(settings.demo.roster), datetime.now(UTC))
            log.info("loaded the demo roster: %d units, %d invented members", units, members)


async def load_passages(db: Database, settings: Settings, entries: Sequence[Entry] = ()) -> list[PassageInfo]:
    """The passages of the source documents; first, with demo data on and no document yet, the seed articles
    of ``settings.documents.dir`` are ingested (each file all or nothing; a bad one is logged and skipped).
    A passage a knowledge entry names but its ingested document lacks is logged."""
    from services.documents import check_sources, ingest

    async with db.sessions() as session:
        empty = await DocumentRepository(session).count() == 0
    if empty and settings.demo.data and settings.documents.dir is not None and settings.documents.dir.is_dir():
        report = await ingest(db, [settings.documents.dir], max_bytes=settings.documents.max_bytes)
        for failure in report.failed:
            log.warning("document not ingested: %s", failure.error)
        log.info("ingested %d documents from %s", report.count("added"), settings.documents.dir)
    async with db.sessions() as session:
        repository = DocumentRepository(session)
        documents, passages = await repository.documents(), await repository.passages()
    for problem in check_sources(entries, documents, passages):
        log.warning("%s", problem)
    return passages


async def build_app(settings: Settings | None = None, *, clock: Callable[[], datetime] | None = None,
                    run_migrations: bool = True, translator: Translator | None = None,
                    extra: Sequence[tuple[Declaration, object]] = ()) -> App:
    settings = settings or Settings()
    db = open_database(settings)
    try:
        if run_migrations:  # tests and one-off tools; the bot and the CLI only check (storage/migrate.py)
            await migrate.upgrade(db)
        else:
            await migrate.prepare(db)
        async with db.sessions() as session:
            empty = await KnowledgeRepository(session).count() == 0
        if empty and settings.knowledge.autoload:
            count = await load_knowledge_files(db, settings)
            log.info("loaded %d knowledge entries from %s", count, settings.knowledge.dir)
        if settings.demo.data:
            await load_demo_roster(db, settings)
        async with db.sessions() as session:
            entries = await KnowledgeRepository(session).all()
            scopes = await KnowledgeEditRepository(session).scopes()  # entries of one unit (handlers/visibility.py)
        passages = await load_passages(db, settings, entries)
        translator = translator or Translator()
        core = build_core(db, translator, build_matcher(entries, settings), KnowledgeBase(entries, scopes),
                          core_config(settings), clock=clock, passages=passages, extra=extra)
        await core.states.load()
    except BaseException:
        await db.dispose()
        raise
    return App(settings=settings, db=db, core=core, translator=translator, passages=passages)
