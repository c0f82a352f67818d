"""Command line: ``unionbot ...`` (also ``python -m bot``). Parses arguments and calls the app; no logic here.

Logs go to stderr; stdout carries only what a command is asked to print.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer

from bot.audit_cli import audit_app
from bot.logs import setup_logging
from bot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=False, help="Trợ lý Công đoàn — union-member assistant")
db_app = typer.Typer(help="Database maintenance")
kb_app = typer.Typer(help="Knowledge base")
members_app = typer.Typer(help="Union units and members: roster import/export, linking codes")
requests_app = typer.Typer(help="Hardship support requests")
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")
app.add_typer(members_app, name="members")
app.add_typer(requests_app, name="requests")
app.add_typer(audit_app, name="audit")


def _settings() -> Settings:
    settings = Settings()
    setup_logging(settings.log_level, settings.secrets())
    return settings


def _run(coro):
    from storage.db import DatabaseMissing

    try:
        return asyncio.run(coro)
    except DatabaseMissing as exc:  # one line and exit code 1, never a fresh empty database in its place
        raise SystemExit(f"error: {exc}") from None


@app.callback(invoke_without_command=True)
def _default(ctx: typer.Context) -> None:
    if ctx.invoked_subcommand is None:
        run()


@app.command()
def run() -> None:
    """Start the bot: messengers whose token is set, else the console chat."""
    settings = _settings()
    from bot.runner import serve

    _run(serve(settings))


@app.command()
def chat(as_who: Annotated[str | None, typer.Option(
        "--as", help="act as a member: a one-time code, or a member code (demo: NTL-0101 is a chair)")] = None) -> None:
    """Chat with the bot in this terminal."""
    settings = _settings()
    from bot.channels.console import run_console

    _run(run_console(settings, as_who))


@app.command()
def ask(
    question: Annotated[str | None, typer.Argument(help="the question; omit with --json to read stdin")] = None,
    as_json: Annotated[bool, typer.Option(
        "--json", help="one question per stdin line, one JSON object per line")] = False,
) -> None:
    """Answer one question (or, with --json, every line of stdin as a new anonymous conversation)."""
    settings = _settings()
    if question is None and not as_json:
        raise typer.BadParameter("give a question, or --json to read questions from stdin")
    _run(_ask(settings, question, as_json))


async def _ask(settings: Settings, question: str | None, as_json: bool) -> None:
    from bot.app import build_app
    from handlers.types import Incoming

    application = await build_app(settings)
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


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply the database migrations."""
    settings = _settings()

    async def work() -> None:
        from locales import Translator
        from storage import migrate
        from storage.db import Database

        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
        finally:
            await db.dispose()
        print(Translator()("cli.db_upgraded"))

    _run(work())


@kb_app.command("load")
def kb_load(directory: Annotated[Path | None, typer.Argument(help="folder of *.yaml files")] = None) -> None:
    """Validate and load the knowledge files (all or nothing; loading twice changes nothing)."""
    settings = _settings()
    if directory is not None:
        settings = settings.model_copy(update={"knowledge_dir": directory})

    async def work() -> int:
        from bot.app import load_knowledge_files
        from locales import Translator
        from storage import migrate
        from storage.db import Database
        from storage.knowledge import KnowledgeError

        t = Translator()
        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
            count = await load_knowledge_files(db, settings)
        except KnowledgeError as exc:
            print(t("cli.kb_invalid"), file=sys.stderr)
            for error in exc.errors:
                print(f"  {error}", file=sys.stderr)
            return 1
        finally:
            await db.dispose()
        print(t("cli.kb_loaded", count=count, directory=settings.knowledge_dir))
        return 0

    raise typer.Exit(_run(work()))


@kb_app.command("ingest")
def kb_ingest(paths: Annotated[list[Path], typer.Argument(
        help="tệp hoặc thư mục: .txt, .md, .docx, .pdf, .html")]) -> None:
    """Nạp tài liệu nguồn (bài viết, văn bản .txt/.md/.docx/.pdf/.html) làm kiến thức: mỗi tệp nạp trọn vẹn
    hoặc không nạp gì; nạp lại tệp không đổi thì không thay đổi gì, tệp đã sửa thì thay các câu cũ."""
    settings = _settings()

    async def work() -> int:
        from locales import Translator
        from services.documents import check_knowledge_sources, expand, ingest
        from storage import migrate
        from storage.db import Database

        t = Translator()
        if not expand(paths):
            print(t("documents.nothing"), file=sys.stderr)
            return 1
        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
            report = await ingest(db, paths, max_bytes=settings.document_max_bytes)
            problems = await check_knowledge_sources(db)
        finally:
            await db.dispose()
        for problem in problems:
            print(t("documents.warning", problem=problem), file=sys.stderr)
        for result in report.results:
            if result.outcome is None:
                print(t("documents.failed", error=result.error), file=sys.stderr)
            else:
                print(t(f"documents.{result.outcome}", path=result.path, title=result.title,
                        passages=result.passages))
        print(t("documents.summary", added=report.count("added"), replaced=report.count("replaced"),
                unchanged=report.count("unchanged"), failed=len(report.failed)))
        return 0 if report.ok else 1

    raise typer.Exit(_run(work()))


@kb_app.command("documents")
def kb_documents() -> None:
    """Liệt kê các tài liệu nguồn đã nạp: mã, ngày, số câu, tiêu đề, nơi lấy."""
    settings = _settings()

    async def work() -> None:
        from locales import Translator
        from storage import migrate
        from storage.db import Database
        from storage.documents import DocumentRepository

        t = Translator()
        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
            async with db.sessions() as session:
                documents = await DocumentRepository(session).documents()
        finally:
            await db.dispose()
        if not documents:
            print(t("documents.none"))
        for d in documents:
            print(t("documents.row", id=d.id, date=d.published.strftime("%d/%m/%Y") if d.published else "—",
                    passages=d.passages, title=d.title, origin=d.origin))

    _run(work())


@kb_app.command("remove")
def kb_remove(document: Annotated[str, typer.Argument(help="mã tài liệu (xem kb documents), tên tệp hoặc đường dẫn")]
              ) -> None:
    """Gỡ một tài liệu nguồn và mọi câu của nó khỏi cơ sở dữ liệu."""
    settings = _settings()

    async def work() -> int:
        from locales import Translator
        from services.documents import origin_of
        from storage import migrate
        from storage.db import Database
        from storage.documents import DocumentRepository

        t = Translator()
        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
            async with db.sessions.begin() as session:
                repository = DocumentRepository(session)
                wanted = {document, origin_of(Path(document))}
                matches = [d for d in await repository.documents()
                           if str(d.id) == document or d.origin in wanted or d.name == document]
                if len(matches) == 1:
                    await repository.delete(matches[0].id)
        finally:
            await db.dispose()
        if len(matches) != 1:
            print(t("documents.remove_ambiguous" if matches else "documents.remove_unknown", document=document),
                  file=sys.stderr)
            return 1
        print(t("documents.removed", title=matches[0].title, origin=matches[0].origin))
        return 0

    raise typer.Exit(_run(work()))


@app.command()
def unanswered(limit: Annotated[int, typer.Option(help="how many to list")] = 30) -> None:
    """List the questions the bot could not answer, most frequent first."""
    settings = _settings()

    async def work() -> None:
        from locales import Translator
        from storage import migrate
        from storage.db import Database
        from storage.unanswered import UnansweredRepository

        t = Translator()
        db = Database(settings.effective_database_url)
        try:
            await migrate.upgrade(db)
            async with db.sessions() as session:
                rows = await UnansweredRepository(session).most_frequent(limit)
        finally:
            await db.dispose()
        if not rows:
            print(t("cli.no_unanswered"))
            return
        print(t("cli.unanswered_header"))
        for row in rows:
            print(f"{row.count:>6} | {row.sample_text} | {row.last_intent}")

    _run(work())


@app.command("eval")
def evaluate(
    dev: Annotated[list[Path] | None, typer.Option(
        help="labelled questions (.jsonl) run through the whole bot: intent-labelled (eval/dev.jsonl) or fact "
             "questions (eval/facts_dev.jsonl); repeat for several sets")] = None,
    train_dir: Annotated[Path | None, typer.Option("--train", help="train the matcher alone on this data")] = None,
    test_dir: Annotated[Path | None, typer.Option("--test", help="...and test it on this data")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    errors: Annotated[bool, typer.Option("--errors", help="list every wrong answer")] = False,
) -> None:
    """Report accuracy: the whole bot on a labelled dev set, or the matcher alone with --train/--test."""
    settings = _settings()
    from bot import evaluation
    from nlu.evaluate import render, render_facts

    def text(rep: dict) -> str:
        return (render_facts if rep.get("format") == "facts" else render)(rep, show_errors=errors)

    if (train_dir is None) != (test_dir is None):
        raise typer.BadParameter("--train and --test go together")
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


async def _open_db(settings: Settings):
    from storage import migrate
    from storage.db import Database

    db = Database(settings.effective_database_url)
    await migrate.upgrade(db)
    if settings.demo_data:
        from bot.app import load_demo_roster

        await load_demo_roster(db, settings)
    return db


def _fail(message: str) -> None:
    print(message, file=sys.stderr)
    raise typer.Exit(1)


@members_app.command("codes")
def members_codes(
    unit: Annotated[str, typer.Option("--unit", help="unit code; every active member of its subtree")],
    out: Annotated[Path | None, typer.Option("--out", help="CSV file to write (default: stdout)")] = None,
    only_unlinked: Annotated[bool, typer.Option("--only-unlinked", help="skip members with a linked account")] = False,
) -> None:
    """Issue one-time linking codes for a unit's members, as a CSV to hand out (earlier codes stop working)."""
    settings = _settings()

    async def work() -> None:
        import csv
        from datetime import UTC, datetime, timedelta
        from zoneinfo import ZoneInfo

        from locales import Translator
        from storage.membership import AccountRepository, AuditRepository, MemberRepository, UnitRepository, format_code

        t = Translator()
        db = await _open_db(settings)
        now = datetime.now(UTC)
        ttl = timedelta(days=settings.link_code_ttl_days)
        try:
            async with db.sessions.begin() as session:
                root = await UnitRepository(session).by_code(unit)
                if root is None:
                    _fail(t("member.unit.unknown", code=unit))
                accounts = AccountRepository(session)
                rows = []
                for member in await MemberRepository(session).in_subtree(root, active_only=True):
                    if only_unlinked and await accounts.accounts_of(member.id):
                        continue
                    code = await accounts.issue_code(member.id, None, now, ttl)
                    rows.append([member.member_code, member.full_name, member.unit.code, format_code(code),
                                 (now + ttl).astimezone(ZoneInfo(settings.timezone)).strftime("%d/%m/%Y %H:%M")])
                await AuditRepository(session).record(actor="cli", actor_member_id=None, action="issue_link_codes",
                                                      unit_id=root.id, target=root.code, now=now, count=len(rows))
        finally:
            await db.dispose()
        handle = out.open("w", encoding="utf-8-sig", newline="") if out else sys.stdout
        try:
            writer = csv.writer(handle)
            writer.writerow([t("cli.codes.member_code"), t("cli.codes.full_name"), t("cli.codes.unit"),
                             t("cli.codes.code"), t("cli.codes.expires")])
            writer.writerows(rows)
        finally:
            if out:
                handle.close()
        if out:
            print(t("cli.codes.written", count=len(rows), path=out), file=sys.stderr)

    _run(work())


@members_app.command("import")
def members_import(
    file: Annotated[Path, typer.Argument(help="roster file: .xlsx or .csv with Vietnamese column names")],
    unit: Annotated[str, typer.Option("--unit", help="the unit the members belong to (or whose subtree)")],
    skip_invalid: Annotated[bool, typer.Option("--skip-invalid", help="import the valid rows of a file with errors")]
    = False,
) -> None:
    """Import (or update) members from Excel/CSV; a file with errors imports nothing unless --skip-invalid."""
    settings = _settings()

    async def work() -> int:
        from datetime import UTC, datetime

        from locales import Translator
        from storage.membership import AuditRepository, UnitRepository
        from storage.roster import import_roster

        t = Translator()
        done = 0

        def progress(n: int) -> None:  # a running count on stderr: the total is known only after reading
            nonlocal done
            done += n
            print("\r" + t("cli.import_progress", done=done), end="", file=sys.stderr, flush=True)

        db = await _open_db(settings)
        try:
            async with db.sessions.begin() as session:
                try:
                    report = await import_roster(session, file, unit, skip_invalid=skip_invalid,
                                                 now=datetime.now(UTC), progress=progress)
                except ValueError as exc:
                    _fail(str(exc))
                if report.inserted or report.updated:
                    root = await UnitRepository(session).by_code(unit)
                    await AuditRepository(session).record(
                        actor="cli", actor_member_id=None, action="import_roster", unit_id=root.id,
                        target=file.name, now=datetime.now(UTC), inserted=report.inserted,
                        updated=report.updated, skipped=report.skipped)
        finally:
            await db.dispose()
        if done:
            print(file=sys.stderr)
        if report.issues:
            print(report.render(), file=sys.stderr)
        print(report.summary())
        return 0 if report.ok or (skip_invalid and (report.inserted or report.updated)) else 1

    raise typer.Exit(_run(work()))


@members_app.command("export")
def members_export(
    file: Annotated[Path, typer.Argument(help="where to write: .xlsx or .csv")],
    unit: Annotated[str, typer.Option("--unit", help="unit code: every member of its subtree")],
) -> None:
    """Export a unit's roster (its whole subtree) to Excel or CSV, in the import format."""
    settings = _settings()

    async def work() -> None:
        from storage.roster import export_roster

        db = await _open_db(settings)
        try:
            async with db.sessions() as session:
                try:
                    count = await export_roster(session, unit, file)
                except ValueError as exc:
                    _fail(str(exc))
        finally:
            await db.dispose()
        from locales import Translator

        print(Translator()("cli.exported", count=count, path=file))

    _run(work())


@requests_app.command("export")
def requests_export(
    unit: Annotated[str, typer.Option("--unit", help="unit code: requests of its subtree")],
    date_from: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD or DD/MM/YYYY")],
    date_to: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD or DD/MM/YYYY")],
    fmt: Annotated[str, typer.Option("--format", help="xlsx or csv")] = "xlsx",
    out: Annotated[Path | None, typer.Option("--out", help="file to write (default requests-UNIT-FROM-TO.FORMAT)")]
    = None,
) -> None:
    """Export hardship requests (with their history) for the union's records."""
    settings = _settings()

    async def work() -> None:
        from datetime import UTC, datetime
        from zoneinfo import ZoneInfo

        from locales import Translator
        from storage.hardship import HardshipRepository, export_requests
        from storage.membership import AuditRepository, UnitRepository
        from storage.roster import parse_date

        t = Translator()
        start, end = parse_date(date_from), parse_date(date_to)
        if isinstance(start, str) or isinstance(end, str) or fmt not in ("xlsx", "csv"):
            _fail(t("cli.bad_export_args"))
        path = out or Path(f"requests-{unit}-{start:%Y%m%d}-{end:%Y%m%d}.{fmt}")
        db = await _open_db(settings)
        try:
            async with db.sessions.begin() as session:
                root = await UnitRepository(session).by_code(unit)
                if root is None:
                    _fail(t("member.unit.unknown", code=unit))
                tz = ZoneInfo(settings.timezone)  # the union's days and times, not the server's
                requests = await HardshipRepository(session).in_period(root, start, end, tz)
                labels = {key.removeprefix("hardship."): value for key, value in t.tables["vi"].items()
                          if key.startswith(("hardship.category.", "hardship.status.", "hardship.action."))}
                labels.update(yes=t("hardship.export.urgent_yes"), no=t("hardship.export.urgent_no"))
                count = export_requests(requests, path, t("hardship.export.headers").split("|"), labels, tz)
                await AuditRepository(session).record(actor="cli", actor_member_id=None, action="export_requests",
                                                      unit_id=root.id, target=path.name, now=datetime.now(UTC),
                                                      count=count)
        finally:
            await db.dispose()
        print(t("hardship.export.written", count=count, path=path))

    _run(work())


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
