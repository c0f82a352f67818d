"""Command line: ``unionbot ...`` (also ``python -m bot``). Parses arguments and calls the app; no logic here.

Logs go to stderr; stdout carries only what a command is asked to print. A mistake of the user (wrong settings,
a database to upgrade, a missing file, a bad date) is one line on stderr and exit code 1, never a traceback.
Help texts are in ``locales/*.yaml`` (``cli_help``); the heavy parts (Alembic, the model, aiogram) are imported
only by the commands that need them, so ``unionbot ask`` starts quickly.
"""

from __future__ import annotations

import asyncio
import gc
import json
import sys
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn, TypeVar

import typer

from bot.audit_cli import audit_app
from bot.cli_texts import TranslatedCommand, TranslatedGroup, use
from bot.settings import Settings, SettingsError, open_database
from locales import Translator

if TYPE_CHECKING:
    from storage.db import Database

T = TypeVar("T")
_t = Translator()  # the help texts are read when the command line is built
use(_t)  # and typer's and click's own words (bot/cli_texts.py)


def _h(key: str) -> str:
    return _t(f"cli_help.{key}")


def _typer(help_key: str) -> typer.Typer:
    # plain help (no rich boxes, no "<bool>" beside every flag)
    return typer.Typer(add_completion=False, help=_h(help_key), rich_markup_mode=None, pretty_exceptions_enable=False,
                       cls=TranslatedGroup)


app = _typer("app")
db_app = _typer("db")
kb_app = _typer("kb")
members_app = _typer("members")
requests_app = _typer("requests")
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(members_app, name="members")
app.add_typer(requests_app, name="requests")


def _fail(message: str) -> NoReturn:
    print(message, file=sys.stderr)
    raise typer.Exit(1)


def _settings() -> Settings:
    """The settings, read once; wrong ones are one line naming the variables, exit 1."""
    from bot.logs import setup_logging

    try:
        settings = Settings()
    except SettingsError as exc:
        _fail(_t("cli_help.bad_settings", problems=exc))
    setup_logging(settings.log.level, settings.secrets())
    return settings


def _run(coro: Coroutine[Any, Any, T]) -> T:
    """Run a command's work; a database behind the code is one line saying what to run, exit 1."""
    from services.extras import MissingExtra
    from storage.db import DatabaseMissing
    from storage.migrate import SchemaOutdated

    try:
        return asyncio.run(coro)
    except MissingExtra as exc:  # an optional part the settings use (PostgreSQL, Telegram...): how to install it
        _fail(exc.explain(_t))
    except DatabaseMissing as exc:  # one line and exit code 1, never a fresh empty database in its place
        _fail(str(exc))
    except SchemaOutdated as exc:
        if exc.current is None:
            _fail(_t("cli_help.schema_empty", head=exc.head))
        _fail(_t("cli_help.schema_outdated", current=exc.current, head=exc.head))


@asynccontextmanager
async def database(settings: Settings, *, demo: bool = False) -> AsyncIterator[Database]:
    """The one way a command opens the database: schema checked (a new SQLite file is created and migrated),
    the demo roster loaded when asked and demo data is on, disposed at the end."""
    from storage import migrate

    try:
        db = open_database(settings)
    except OSError as exc:  # the SQLite folder cannot be created
        _fail(_t("cli_help.database_error", reason=exc.strerror or type(exc).__name__))
    try:
        await migrate.prepare(db)
        if demo and settings.demo.data:
            from bot.app import load_demo_roster

            await load_demo_roster(db, settings)
        yield db
    finally:
        await db.dispose()


def _export(settings: Settings, export: Callable[[Database], Awaitable[int]], refused: type[Exception],
            done: Callable[[int], str]) -> None:
    """Run an export command: ``export(db)`` writes the file and says how many rows; ``refused`` (the actor may
    not, no such unit) is its one line and exit 1; ``done(count)`` is printed."""

    async def work() -> None:
        async with database(settings, demo=True) as db:
            try:
                count = await export(db)
            except refused as exc:
                _fail(str(exc))
        print(done(count))

    _run(work())


def _existing(path: Path) -> Path:
    if not path.is_file():
        _fail(_t("cli_help.no_file", path=path))
    return path


@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        run()


@app.command(help=_h("run"), cls=TranslatedCommand)
def run() -> None:
    settings = _settings()
    from bot.runner import serve

    _run(serve(settings))


@app.command(help=_h("extras"), cls=TranslatedCommand)
def extras() -> None:
    """The extras the settings need, one a line (scripts/setup.sh installs them)."""
    from services.extras import needed

    for name in needed(_settings()):
        print(name)


@app.command(help=_h("chat"), cls=TranslatedCommand)
def chat(as_who: Annotated[str | None, typer.Option("--as", help=_h("chat_as"))] = None) -> None:
    settings = _settings()
    from bot.channels.console import run_console

    _run(run_console(settings, as_who))


@app.command(help=_h("ask"), cls=TranslatedCommand)
def ask(
    question: Annotated[str | None, typer.Argument(help=_h("ask_question"), metavar=_h("mv_question"),
                                                         show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_h("ask_json"))] = False,
) -> None:
    if question is None and not as_json:
        _fail(_t("cli_help.no_question"))
    settings = _settings()
    _run(_ask(settings, question, as_json))


@contextmanager
def _starting() -> Iterator[None]:
    """Start-up without the cyclic garbage collector, then its objects frozen: importing the app and building it
    allocate objects that live as long as the process (modules, classes, ORM mappers, the model, the indexes),
    which the collector would traverse again and again for nothing (two full collections and ~340 young ones,
    ~0.15 s of a one-shot ``ask``). After start-up they are moved out of its reach (``gc.freeze``) and it runs
    as usual for the work: the garbage of answering is collected as before."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


async def _ask(settings: Settings, question: str | None, as_json: bool) -> None:
    with _starting():
        from bot.app import build_app

        application = await build_app(settings, run_migrations=False)
    from handlers.types import Incoming

    try:
        questions = [question] if question is not None else (line.rstrip("\n") for line in sys.stdin)
        for text in questions:
            chat_id = f"ask-{uuid.uuid4().hex}"
            outcome = await application.core.process(Incoming(channel="cli", chat_id=chat_id, user_id=chat_id,
                                                              text=text))
            reply = "\n\n".join(r.text for r in outcome.replies)
            if as_json:
                sys.stdout.write(json.dumps({"question": text, "reply": reply, "intent": outcome.intent,
                                             "confidence": round(outcome.confidence, 4),
                                             "fallback": outcome.fallback}, ensure_ascii=False) + "\n")
                sys.stdout.flush()
            else:
                print(reply)
    finally:
        await application.close()


@db_app.command("upgrade", help=_h("db_upgrade"), cls=TranslatedCommand)
def db_upgrade() -> None:
    settings = _settings()

    async def work() -> None:
        from storage import migrate

        db = open_database(settings)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
        print(_t("cli.db_upgraded"))

    _run(work())


@kb_app.command("load", help=_h("kb_load"), cls=TranslatedCommand)
def kb_load(directory: Annotated[Path | None, typer.Argument(help=_h("kb_load_dir"), metavar=_h("mv_folder"),
                                                                          show_default=False)] = None
            ) -> None:
    settings = _settings()
    if directory is not None:
        if not directory.is_dir():
            _fail(_t("cli_help.no_folder", path=directory))
        settings = settings.replace(knowledge_dir=directory)

    async def work() -> int:
        from bot.app import load_knowledge_files
        from storage.knowledge import KnowledgeError

        async with database(settings) as db:
            try:
                count = await load_knowledge_files(db, settings)
            except KnowledgeError as exc:
                print(_t("cli.kb_invalid"), file=sys.stderr)
                for error in exc.errors:
                    print(f"  {error}", file=sys.stderr)
                return 1
        print(_t("cli.kb_loaded", count=count, directory=settings.knowledge.dir))
        return 0

    raise typer.Exit(_run(work()))


@kb_app.command("ingest", help=_h("kb_ingest"), cls=TranslatedCommand)
def kb_ingest(paths: Annotated[list[Path], typer.Argument(help=_h("kb_ingest_paths"), metavar=_h("mv_paths"),
                                                                       show_default=False)],
              publication: Annotated[str | None, typer.Option(help=_h("kb_ingest_publication"),
                                                              show_default=False)] = None) -> None:
    settings = _settings()

    async def work() -> int:
        from services.documents import check_knowledge_sources, expand, ingest

        if not expand(paths):
            print(_t("documents.nothing"), file=sys.stderr)
            return 1
        async with database(settings) as db:
            report = await ingest(db, paths, max_bytes=settings.documents.max_bytes, publication=publication)
            problems = await check_knowledge_sources(db)
        for problem in problems:
            print(_t("documents.warning", problem=problem), file=sys.stderr)
        for result in report.results:
            if result.outcome is None:
                print(_t("documents.failed", error=result.error), file=sys.stderr)
            else:
                print(_t(f"documents.{result.outcome}", path=result.path, title=result.title,
                         passages=result.passages))
        print(_t("documents.summary", added=report.count("added"), replaced=report.count("replaced"),
                 unchanged=report.count("unchanged"), failed=len(report.failed)))
        return 0 if report.ok else 1

    raise typer.Exit(_run(work()))


@kb_app.command("documents", help=_h("kb_documents"), cls=TranslatedCommand)
def kb_documents() -> None:
    settings = _settings()

    async def work() -> None:
        from services.documents import stored_documents

        async with database(settings) as db:
            documents = await stored_documents(db)
        if not documents:
            print(_t("documents.none"))
        for d in documents:
            print(_t("documents.row", id=d.id, date=d.published.strftime("%d/%m/%Y") if d.published else "—",
                     passages=d.passages, title=d.title, origin=d.origin))

    _run(work())


@kb_app.command("remove", help=_h("kb_remove"), cls=TranslatedCommand)
def kb_remove(document: Annotated[str, typer.Argument(help=_h("kb_remove_document"), metavar=_h("mv_document"),
                                                                       show_default=False)]) -> None:
    settings = _settings()

    async def work() -> int:
        from services.documents import remove_document

        async with database(settings) as db:
            matches = await remove_document(db, document)
        if len(matches) != 1:
            print(_t("documents.remove_ambiguous" if matches else "documents.remove_unknown", document=document),
                  file=sys.stderr)
            return 1
        print(_t("documents.removed", title=matches[0].title, origin=matches[0].origin))
        return 0

    raise typer.Exit(_run(work()))


@app.command(help=_h("unanswered"), cls=TranslatedCommand)
def unanswered(limit: Annotated[int, typer.Option(help=_h("unanswered_limit"), min=1)] = 30) -> None:
    settings = _settings()

    async def work() -> None:
        from services.unanswered import most_frequent

        async with database(settings) as db:
            rows = await most_frequent(db, limit)
        if not rows:
            print(_t("cli.no_unanswered"))
            return
        print(_t("cli.unanswered_header"))
        for row in rows:
            print(f"{row.count:>6} | {row.sample_text} | {row.last_intent}")

    _run(work())


@app.command("eval", help=_h("eval"), cls=TranslatedCommand)
def evaluate(
    dev: Annotated[list[Path] | None, typer.Option(help=_h("eval_dev"), show_default=False)] = None,
    train_dir: Annotated[Path | None, typer.Option("--train", help=_h("eval_train"), show_default=False)] = None,
    test_dir: Annotated[Path | None, typer.Option("--test", help=_h("eval_test"), show_default=False)] = None,
    as_json: Annotated[bool, typer.Option("--json", help=_h("eval_json"))] = False,
    errors: Annotated[bool, typer.Option("--errors", help=_h("eval_errors"))] = False,
) -> None:
    if (train_dir is None) != (test_dir is None):
        _fail(_t("cli_help.eval_pair"))
    for path in [*(dev or []), *(p for p in (train_dir, test_dir) if p is not None)]:
        if not path.exists():
            _fail(_t("cli_help.no_file", path=path))
    settings = _settings()
    from bot import evaluation
    from nlu.evaluate import render, render_facts

    def text(rep: dict) -> str:
        return (render_facts if rep.get("format") == "facts" else render)(rep, show_errors=errors)

    if train_dir is not None and test_dir is not None:
        rep = evaluation.matcher_only(train_dir, test_dir)
        print(json.dumps(rep, ensure_ascii=False, indent=2) if as_json else render(rep, show_errors=errors))
        return
    sets = dev or [Path("eval/dev.jsonl")]
    reports = {str(path): _run(evaluation.whole_bot(settings, path)) for path in sets}
    if len(sets) == 1:
        rep = reports[str(sets[0])]
        print(json.dumps(rep, ensure_ascii=False, indent=2) if as_json else text(rep))
    elif as_json:
        print(json.dumps(reports, ensure_ascii=False, indent=2))
    else:
        print("\n\n".join(f"== {path}\n{text(rep)}" for path, rep in reports.items()))


@members_app.command("codes", help=_h("codes"), cls=TranslatedCommand)
def members_codes(
    unit: Annotated[str, typer.Option("--unit", help=_h("codes_unit"), show_default=False)],
    out: Annotated[Path | None, typer.Option("--out", help=_h("codes_out"), show_default=False)] = None,
    only_unlinked: Annotated[bool, typer.Option("--only-unlinked", help=_h("codes_only_unlinked"))] = False,
) -> None:
    settings = _settings()

    async def work() -> None:
        import csv
        from datetime import UTC, datetime, timedelta
        from zoneinfo import ZoneInfo

        from services.membership import LinkPolicy, MembershipService

        policy = LinkPolicy(code_ttl=timedelta(days=settings.link.code_ttl_days))
        async with database(settings, demo=True) as db:
            issued = await MembershipService(db, lambda: datetime.now(UTC), policy).issue_unit_codes(
                unit, only_unlinked=only_unlinked)
        if issued is None:
            _fail(_t("member.unit.unknown", code=unit))
        until = issued.until.astimezone(ZoneInfo(settings.timezone)).strftime("%H:%M %d/%m/%Y")
        rows = [[m.member_code, m.full_name, m.unit.code, code, until] for m, code in issued.codes]
        handle = out.open("w", encoding="utf-8-sig", newline="") if out else sys.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow([_t("cli.codes.member_code"), _t("cli.codes.full_name"), _t("cli.codes.unit"),
                             _t("cli.codes.code"), _t("cli.codes.expires")])
            writer.writerows(rows)
        finally:
            if out:
                handle.close()
        if out:
            print(_t("cli.codes.written", count=len(rows), path=out), file=sys.stderr)

    _run(work())


@members_app.command("import", help=_h("import"), cls=TranslatedCommand)
def members_import(
    file: Annotated[Path, typer.Argument(help=_h("import_file"), metavar=_h("mv_file"), show_default=False)],
    unit: Annotated[str, typer.Option("--unit", help=_h("import_unit"), show_default=False)],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help=_h("import_skip_invalid"))] = False,
) -> None:
    _existing(file)
    settings = _settings()

    async def work() -> int:
        from datetime import UTC, datetime

        from services.roster import RosterRefused, import_members

        done = 0

        def progress(n: int) -> None:  # a running count on stderr: the total is known only after reading
            nonlocal done
            done += n
            print("\r" + _t("cli.import_progress", done=done), end="", file=sys.stderr, flush=True)

        async with database(settings, demo=True) as db:
            try:
                report = await import_members(db, file, unit, skip_invalid=skip_invalid, now=datetime.now(UTC),
                                              progress=progress)
            except RosterRefused as exc:
                if done:
                    print(file=sys.stderr)
                _fail(str(exc))
        if done:
            print(file=sys.stderr)
        if report.issues:
            print(report.render(), file=sys.stderr)
        print(report.verdict(), file=sys.stdout if report.applied else sys.stderr)  # nothing written: no counts
        return 0 if report.ok or (skip_invalid and (report.inserted or report.updated)) else 1

    raise typer.Exit(_run(work()))


@members_app.command("export", help=_h("export"), cls=TranslatedCommand)
def members_export(
    file: Annotated[Path, typer.Argument(help=_h("export_file"), metavar=_h("mv_file"), show_default=False)],
    unit: Annotated[str, typer.Option("--unit", help=_h("export_unit"), show_default=False)],
) -> None:
    from datetime import UTC, datetime

    from services.roster import RosterRefused, export_members

    _export(_settings(), lambda db: export_members(db, unit, file, now=datetime.now(UTC)), RosterRefused,
            lambda count: _t("cli.exported", count=count, path=file))


@requests_app.command("export", help=_h("requests_export"), cls=TranslatedCommand)
def requests_export(
    unit: Annotated[str, typer.Option("--unit", help=_h("requests_unit"), show_default=False)],
    date_from: Annotated[str, typer.Option("--from", help=_h("requests_from"), show_default=False)],
    date_to: Annotated[str, typer.Option("--to", help=_h("requests_to"), show_default=False)],
    fmt: Annotated[str, typer.Option("--format", help=_h("requests_format"))] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help=_h("requests_out"), show_default=False)] = None,
) -> None:
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from services.hardship import ExportRefused, HardshipService
    from services.roster import parse_date

    start, end = parse_date(date_from), parse_date(date_to)
    if isinstance(start, str) or isinstance(end, str) or fmt not in ("xlsx", "csv"):
        _fail(_t("cli.bad_export_args"))
    settings = _settings()
    path = out or Path(f"requests-{unit}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}")
    zone = ZoneInfo(settings.timezone)  # the union's days and times, not the server's
    _export(settings,
            lambda db: HardshipService(db, _t, lambda: datetime.now(UTC), zone).export(unit, start, end, path),
            ExportRefused, lambda count: _t("hardship.export.written", count=count, path=path))


app.add_typer(audit_app(_t), name="audit")


def main() -> None:
    from bot.cli_texts import run as run_cli

    sys.exit(run_cli(app))


if __name__ == "__main__":  # pragma: no cover
    main()
