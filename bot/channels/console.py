"""The console channel: an interactive chat in the terminal, no account needed."""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable

from bot.app import build_app
from bot.settings import Settings
from handlers.types import Choice, Incoming, Reply
from locales import Translator

QUIT = {"/thoat", "/quit", "/exit", "thoat", "exit", "quit"}


def render(reply: Reply, t: Translator, lang: str = "vi") -> str:
    lines = [reply.text]
    if reply.choices:
        lines.extend(f"  [{i}] {c.label}" for i, c in enumerate(reply.choices, start=1))
    return "\n".join(lines)


def resolve_choice(text: str, choices: tuple[Choice, ...]) -> str | None:
    """A bare number picks the numbered option shown last."""
    stripped = text.strip()
    if stripped.isdigit() and 1 <= int(stripped) <= len(choices):
        return choices[int(stripped) - 1].action
    return None


async def converse(core_handle, lines, write: Callable[[str], None], t: Translator, user: str = "console") -> None:
    """Drive a conversation: read lines, hand them to the core, write the rendered replies."""
    choices: tuple[Choice, ...] = ()
    async for text in lines:
        if text.strip().lower() in QUIT:
            break
        action = resolve_choice(text, choices)
        incoming = Incoming(channel="console", chat_id=user, user_id=user, text="" if action else text,
                            action=action)
        replies = await core_handle(incoming)
        for reply in replies:
            write(render(reply, t) + "\n")
        choices = next((r.choices for r in reversed(replies) if r.choices), ())


async def _stdin_lines(prompt: str):
    while True:
        try:
            line = await asyncio.to_thread(input, prompt)
        except EOFError:
            return
        yield line


async def run_console(settings: Settings) -> None:
    app = await build_app(settings)
    t = app.translator
    try:
        print(t("console.welcome"))
        interactive = sys.stdin.isatty()
        prompt = f"{t('console.you')}> " if interactive else ""
        await converse(app.core.handle, _stdin_lines(prompt), lambda s: print(s, flush=True), t,
                       user=f"console-{getpass.getuser()}")
        print(t("console.bye"))
    finally:
        await app.close()
