"""Command line: ``unionbot ...`` (also ``python -m bot``). Parses arguments and calls the app; no logic here.

Logs go to stderr; stdout carries only what a command is asked to print.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import uuid
from pathlib import Path
from typing import Annotated

import typer

from bot.settings import Settings

app = typer.Typer(add_completion=False, no_args_is_help=False, help="Trợ lý Công đoàn — union-member assistant")
db_app = typer.Typer(help="Database maintenance")
kb_app = typer.Typer(help="Knowledge base")
app.add_typer(db_app, name="db")
app.add_typer(kb_app, name="kb")


def _settings() -> Settings:
    settings = Settings()
    logging.basicConfig(stream=sys.stderr, level=settings.log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)
    return settings


def _run(coro):
    return asyncio.run(coro)


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
    dev: Annotated[Path, typer.Option(help="labelled questions (.jsonl) run through the whole bot")] = Path(
        "eval/dev.jsonl"),
    train_dir: Annotated[Path | None, typer.Option("--train", help="train the matcher alone on this data")] = None,
    test_dir: Annotated[Path | None, typer.Option("--test", help="...and test it on this data")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="print the report as JSON")] = False,
    errors: Annotated[bool, typer.Option("--errors", help="list every wrong answer")] = False,
) -> None:
    """Report accuracy: the whole bot on a labelled dev set, or the matcher alone with --train/--test."""
    settings = _settings()
    from bot import evaluation
    from nlu.evaluate import render

    if (train_dir is None) != (test_dir is None):
        raise typer.BadParameter("--train and --test go together")
    if train_dir is not None and test_dir is not None:
        rep = evaluation.matcher_only(train_dir, test_dir)
    else:
        rep = _run(evaluation.whole_bot(settings, dev))
    print(json.dumps(rep, ensure_ascii=False, indent=2) if as_json else render(rep, show_errors=errors))


def main() -> None:
    app()


if __name__ == "__main__":  # pragma: no cover
    main()
