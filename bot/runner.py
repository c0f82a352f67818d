"""`unionbot run`: serve the messengers whose tokens are configured, else the console chat."""

from __future__ import annotations

import logging

from bot.settings import Settings

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    if settings.telegram_token is None and settings.zalo_token is None:
        from bot.channels.console import run_console

        await run_console(settings)
        return
    raise SystemExit("Messenger channels are not available in this build yet; unset the tokens to use the console.")
