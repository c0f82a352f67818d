"""The console channel: an interactive chat in the terminal, no account needed."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable
from datetime import UTC, datetime

from bot.app import App, build_app
from bot.settings import Settings
from handlers.types import Incoming, Reply
from locales import Translator
from storage.membership import AccountRepository, AuditRepository, MemberRepository, looks_like_code

QUIT = {"/thoat", "/quit", "/exit", "thoat", "exit", "quit"}


def render(reply: Reply, t: Translator, lang: str = "vi") -> str:
    lines = [reply.text]
    if reply.choices:
        lines.extend(f"  [{i}] {c.label}" for i, c in enumerate(reply.choices, start=1))
    return "\n".join(lines)


async def converse(core_handle, lines, write: Callable[[str], None], t: Translator, user: str = "console") -> None:
    """Drive a conversation: read lines, hand them to the core, write the rendered replies."""
    async for text in lines:
        if text.strip().lower() in QUIT:
            break
        replies = await core_handle(Incoming(channel="console", chat_id=user, user_id=user, text=text,
                                             buttons=False))
        for reply in replies:
            write(render(reply, t) + "\n")


async def _stdin_lines(prompt: str):
    while True:
        try:
            line = await asyncio.to_thread(input, prompt)
        except EOFError:
            return
        yield line


async def sign_in(app: App, user: str, who: str) -> str:
    """`unionbot chat --as X`: X is a one-time code (redeemed like /lienket) or a member code. The console is
    the operator's own terminal, so a member code links the console account directly (and is audited)."""
    t = app.translator
    if looks_like_code(who):
        replies = await app.core.handle(Incoming(channel="console", chat_id=user, user_id=user, text=f"/lienket {who}"))
        return "\n".join(r.text for r in replies)
    now = datetime.now(UTC)
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(who)
        if member is None:
            return t("console.unknown_member", code=who)
        await AccountRepository(session).link("default", "console", user, user, member.id, None, now)
        await AuditRepository(session).record(actor=f"console:{user}", actor_member_id=member.id,
                                              action="console_sign_in", unit_id=member.unit.id,
                                              target=member.member_code, now=now)
    return t("console.signed_in", name=member.full_name, unit=member.unit.name)


async def run_console(settings: Settings, as_who: str | None = None) -> None:
    app = await build_app(settings)
    t = app.translator
    user = f"console-{getpass.getuser()}"
    try:
        print(t("console.welcome"))
        if as_who:
            print(await sign_in(app, user, as_who))
        interactive = sys.stdin.isatty()
        prompt = f"{t('console.you')}> " if interactive else ""
        await converse(app.core.handle, _stdin_lines(prompt), lambda s: print(s, flush=True), t, user=user)
        print(t("console.bye"))
    finally:
        await app.close()
