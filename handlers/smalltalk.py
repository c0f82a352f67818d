"""Greetings, thanks, goodbyes, the help menu and the hardship-request pointer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from handlers import pages
from handlers.registry import Callback
from handlers.types import Choice, Reply
from locales import Translator
from nlu import intents

MENU = (intents.BENEFIT, intents.PROGRAMME, intents.LOAN, intents.EMULATION_PHASE, intents.MOVEMENT,
        intents.CLUSTER, intents.UNION_FACT)


@dataclass(frozen=True)
class MenuButton(Callback):
    """"menu:<intent>": the listing of a kind of knowledge; "menu:hotro": the hardship form."""

    prefix: ClassVar[str] = "menu"
    item: str


def menu_choices(t: Translator, lang: str) -> tuple[Choice, ...]:
    return tuple(Choice(t(f"menu.{intent}", lang), MenuButton(intent).encode()) for intent in MENU)


def help_reply(t: Translator, lang: str, commands: Sequence[str] = (), contact: bool = True) -> Reply:
    """The help menu; ``commands``: the help lines of the commands the member may use (by role, from the
    registry), listed under the questions; ``contact``: the line pointing to a union officer (not for one)."""
    body = [t("help.intro", lang)]  # the topics are the menu's choices; the commands, a few a page
    if commands:
        body += [t("help.commands", lang), *commands]
    first, more = pages.layout(body, [t("help.contact", lang)] if contact else [])
    return Reply(first, menu_choices(t, lang), more=more)


def small_talk(intent: str, t: Translator, lang: str) -> list[Reply]:
    if intent == intents.GREETING:
        return [Reply(t("greeting", lang), menu_choices(t, lang))]
    if intent == intents.HELP:
        return [help_reply(t, lang)]
    if intent == intents.HARDSHIP_REQUEST:
        return [Reply(t("hardship.info", lang))]
    return [Reply(t(intent, lang))]  # thanks, goodbye
