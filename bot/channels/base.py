"""What each platform can do, declared once: the ``Channel`` spec every part of the bot reads.

The core and the composition root decide from these flags, never from lists of channel names: where a
chair's broadcast progress is one message kept up to date (``editable``), where announcements go (only to
channels with a delivery worker), how choices are shown (``buttons``, else numbered options) and where a
reply is split (``text_limit``). The specs are plain data here, so reading them imports no platform library
(the Telegram adapter's aiogram takes seconds to import); each adapter module names its own spec.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Channel:
    #: the channel name carried by every ``Incoming``, outbox row and conversation state
    name: str
    #: choices are shown as buttons (else as numbered options the member answers with the number or words)
    buttons: bool
    #: the bot can edit a message it sent (Telegram's editMessageText; the Zalo Bot API has none)
    editable: bool
    #: the longest text one message may carry, in characters; longer replies are split cleanly
    text_limit: int
    #: a delivery worker sends this channel's outbox rows (announcements, notifications); a local terminal has
    #: none, so nothing proactive is queued for it (no worker would ever finish a broadcast)
    has_delivery: bool


TELEGRAM = Channel("telegram", buttons=True, editable=True, text_limit=4096, has_delivery=True)
ZALO = Channel("zalo", buttons=False, editable=False, text_limit=2000, has_delivery=True)
CONSOLE = Channel("console", buttons=False, editable=False, text_limit=100_000, has_delivery=False)

#: every platform the bot knows; a new adapter adds its spec here
CHANNELS: tuple[Channel, ...] = (TELEGRAM, ZALO, CONSOLE)


def editable(channels: Iterable[Channel] = CHANNELS) -> frozenset[str]:
    """The names of the channels whose sent messages the bot can edit."""
    return frozenset(c.name for c in channels if c.editable)


def local(channels: Iterable[Channel] = CHANNELS) -> frozenset[str]:
    """The names of the channels without a delivery worker: no announcement or notification is queued there."""
    return frozenset(c.name for c in channels if not c.has_delivery)
