"""The console channel: an interactive chat in the terminal, no account needed.

``unionbot chat --as MEMBER_CODE`` acts as that member, with a console account of their own, so sessions of
different members (a member and their chair, say) reach each other: the console has no delivery worker, its
``Inbox`` shows what the outbox holds for the session's chat (notifications, reminders, announcements) when the
session starts, after every reply and, at an interactive terminal, every few seconds.
"""

from __future__ import annotations

import asyncio
import getpass
import sys
from collections.abc import Callable

from bot.app import App, build_app
from bot.channels.base import CONSOLE
from bot.settings import Settings
from bot.workers.delivery import payload_reply
from handlers.types import Incoming, Reply
from locales import Translator
from services.actor import Actor
from services.membership import looks_like_code
from storage.outbox import OutboxRepository

QUIT = {"/thoat", "/quit", "/exit", "thoat", "exit", "quit"}
BOT_ID, CHANNEL = "default", CONSOLE.name  # what the console can do: bot/channels/base.py
INBOX_EVERY = 3.0  # seconds between two looks at the inbox while waiting at an interactive prompt


def render(reply: Reply, t: Translator, lang: str = "vi") -> str:
    lines = [reply.text]
    if reply.choices:
        lines.extend(f"  [{i}] {c.label}" for i, c in enumerate(reply.choices, start=1))
    return "\n".join(lines)


class Inbox:
    """The console's delivery: the outbox rows of one console chat, taken (marked sent) and rendered."""

    def __init__(self, app: App, user: str) -> None:
        self.app = app
        self.user = user

    async def take(self) -> list[str]:
        t = self.app.translator
        payloads = await OutboxRepository(self.app.db).take_for(BOT_ID, CHANNEL, self.user, self.app.core.clock())
        shown = []
        for payload in payloads:
            reply = payload_reply(payload)
            if reply.choices:  # so that "1" picks the notification's first choice, as on Zalo
                await self.app.core.offer_choices(BOT_ID, CHANNEL, self.user, reply.choices)
            shown.append(f"{t('console.notification')}\n{render(reply, t)}")
        return shown


async def converse(core_handle, lines, write: Callable[[str], None], t: Translator, user: str = "console",
                   inbox: Inbox | None = None) -> None:
    """Drive a conversation: read lines, hand them to the core, write the rendered replies (and, with an
    ``inbox``, what was queued for this chat: at the start and after every reply)."""

    async def show_inbox() -> None:
        for text in await inbox.take() if inbox else ():
            write(text + "\n")

    await show_inbox()
    async for text in lines:
        if text.strip().lower() in QUIT:
            break
        replies = await core_handle(Incoming(channel=CHANNEL, bot_id=BOT_ID, chat_id=user, user_id=user, text=text,
                                             buttons=CONSOLE.buttons))
        for reply in replies:
            write(render(reply, t) + "\n")
        await show_inbox()


async def watch_inbox(inbox: Inbox, write: Callable[[str], None], prompt: str) -> None:
    """At an interactive prompt: show new messages as they arrive, then the prompt again."""
    while True:
        await asyncio.sleep(INBOX_EVERY)
        try:
            shown = await inbox.take()
        except Exception:  # a locked or busy database: next time
            continue
        if shown:
            write("\n" + "\n".join(shown) + "\n" + prompt)


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
        replies = await app.core.handle(Incoming(channel=CHANNEL, bot_id=BOT_ID, chat_id=user, user_id=user,
                                                 text=f"/lienket {who}"))
        return "\n".join(r.text for r in replies)
    account = Actor(channel=CHANNEL, user_id=user, chat_id=user, bot_id=BOT_ID)
    member = await app.core.membership.service.link_by_member_code(account, who)
    if member is None:
        return t("console.unknown_member", code=who)
    return t("console.signed_in", name=member.full_name, unit=member.unit.name)


async def run_console(settings: Settings, as_who: str | None = None) -> None:
    app = await build_app(settings, run_migrations=False)  # checks the schema; `unionbot db upgrade` migrates
    t = app.translator
    # acting as a member: a console account of their own (sessions of two members do not share one chat)
    acting_as = as_who.strip().upper() if as_who and not looks_like_code(as_who) else None
    user = f"console-{acting_as}" if acting_as else f"console-{getpass.getuser()}"
    watcher = None
    stop_web = None
    if settings.web.base_url:  # the web console (web/) beside the chat
        from web.app import serve_beside

        stop_web = await serve_beside(app)
    try:
        print(t("console.welcome"))
        if as_who:
            print(await sign_in(app, user, as_who))
        interactive = sys.stdin.isatty()
        prompt = f"{t('console.you')}> " if interactive else ""
        inbox = Inbox(app, user)

        def write(text: str) -> None:
            print(text, end="" if text.endswith(prompt) and prompt else "\n", flush=True)

        if interactive:
            watcher = asyncio.create_task(watch_inbox(inbox, write, prompt))
        await converse(app.core.handle, _stdin_lines(prompt), write, t, user=user, inbox=inbox)
        print(t("console.bye"))
    finally:
        if watcher is not None:
            watcher.cancel()
        if stop_web is not None:
            await stop_web()
        await app.close()
