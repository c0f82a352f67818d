"""The two contracts between the core and the channel adapters: ``Incoming`` in, ``Reply`` out."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Attachment:
    kind: str  # "photo", "sticker", ...
    file_id: str


@dataclass(frozen=True, slots=True)
class Incoming:
    """A platform-neutral event. Ids are strings: Zalo ids are hex."""

    channel: str
    chat_id: str
    user_id: str
    text: str = ""
    action: str | None = None  # a button press: the ``Choice.action`` that was chosen
    message_id: str | None = None
    bot_id: str = "default"  # which bot received it (several bots per deployment later)
    display_name: str | None = None
    language: str | None = None  # the client's language code, e.g. "vi", "en-US"
    contact_phone: str | None = None  # a phone number shared through the platform's contact button
    attachments: tuple[Attachment, ...] = ()
    received_at: datetime | None = None
    is_group: bool = False
    #: the bot's public username where the platform has one (Telegram, from getMe): links to its private chat
    bot_username: str | None = None
    #: the channel shows choices as buttons; without buttons (Zalo, console) choices are numbered and the
    #: member answers with the number or the option's words, which the core resolves
    buttons: bool = True


@dataclass(frozen=True, slots=True)
class Choice:
    label: str
    action: str


@dataclass(frozen=True, slots=True)
class Reply:
    text: str
    choices: tuple[Choice, ...] = field(default_factory=tuple)
    #: photos to show with the text: platform file ids (Telegram) or URLs (Zalo), sent before the text
    photos: tuple[str, ...] = field(default_factory=tuple)
    #: pictures the bot drew (PNG bytes, e.g. /thongke's chart), sent after ``photos``: uploaded where the platform
    #: takes uploads (Telegram); elsewhere left out (the text says what they show)
    pictures: tuple[bytes, ...] = field(default_factory=tuple)
    #: the pages after this one (handlers/pages.py): the core turns them into a "xem thêm" choice and keeps them
    #: in the chat's state; a reply that reaches a channel has none
    more: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What ``Core.process`` decided: the replies plus what evaluation and logs need to know."""

    replies: list[Reply]
    intent: str
    confidence: float
    fallback: bool
    #: what the chat's idle state keeps after this reply (the question a follow-up is read against, the answer
    #: awaiting a vote): the core stores it together with the choices shown, in one write (``Core.offer_choices``)
    keep: Mapping[str, Any] | None = None
