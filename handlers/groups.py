"""Group chats: what the bot may answer in front of everyone, and the buttons only their user may press.

The one place that decides what is personal. In a group the bot answers knowledge questions, the menu and
/help, and nothing else: every other command and button (and the hardship request written in words) is
personal by default and answered with "message the bot privately" (on Telegram with a link that opens the
private chat and runs the same command there). A command added later is personal until it is listed here.
"""

from __future__ import annotations

from handlers.types import Choice, Incoming, Reply
from locales import Translator

#: commands whose answer discloses nothing about anyone: the same for every member of the group
PUBLIC_COMMANDS = frozenset({"help", "menu", "huongdan", "trogiup"})

#: button kinds whose answer is public: a knowledge entry, a listing of the menu, the next page of a public reply
PUBLIC_ACTIONS = frozenset({"kb", "menu", "more"})
PERSONAL_MENU = frozenset({"hotro"})  # "menu:hotro" opens the member's hardship form

#: personal commands that need no argument: a group's "message me privately" link runs them in the private chat
DEEP_LINKED = frozenset({"lienket", "link", "toi", "me", "huylienket", "unlink", "hotro", "support", "hoso",
                         "requests", "duyet", "review", "thongbao", "announce", "nhacnho", "reminders", "donvi",
                         "unit", "thongbao_ketqua", "announce_report"})


def is_personal_command(command: str) -> bool:
    return command not in PUBLIC_COMMANDS


def is_personal_action(action: str) -> bool:
    kind, _, value = action.partition(":")
    return kind not in PUBLIC_ACTIONS or (kind == "menu" and value in PERSONAL_MENU)


def is_personal(action: str | None, command: str | None) -> bool:
    """A button press or a command that must not be answered in a group (plain text is decided by intent)."""
    if action:
        return is_personal_action(action)
    return command is not None and is_personal_command(command)


def deep_link(incoming: Incoming, command: str = "") -> str | None:
    """The link that opens the bot's private chat (Telegram: ``/start <command>`` there); None elsewhere."""
    if incoming.channel != "telegram" or not incoming.bot_username:
        return None
    payload = command if command in DEEP_LINKED else ""
    return f"https://t.me/{incoming.bot_username}" + (f"?start={payload}" if payload else "")


def private_reply(t: Translator, incoming: Incoming, lang: str, command: str = "") -> Reply:
    link = deep_link(incoming, command)
    if link is None:
        return Reply(t("group.private", lang))
    return Reply(t("group.private_link", lang, link=link))


def not_for_you(t: Translator, lang: str) -> Reply:
    return Reply(t("group.not_for_you", lang))


def offered_actions(choices: list | None) -> set[str]:
    return {c.action if isinstance(c, Choice) else c[1] for c in choices or ()}
