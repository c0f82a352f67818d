"""Periodic jobs: emulation reminders and broadcast progress reports (``services.broadcasts``).

Both are idempotent (outbox dedupe keys), so running them in every process, or again after a restart,
queues nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from services.broadcasts import BroadcastService
from storage.knowledge import KnowledgeBase

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, broadcasts: BroadcastService, knowledge: Callable[[], KnowledgeBase], *,
                 progress_every: float = 5.0, reminders_every: float = 300.0) -> None:
        self.broadcasts = broadcasts
        #: the knowledge as it is now (chairs edit it while the bot runs): campaign phases to remind of
        self.knowledge = knowledge
        self.progress_every = progress_every
        self.reminders_every = reminders_every
        self._stop = asyncio.Event()

    async def run(self) -> None:
        since_reminders = self.reminders_every  # check reminders at start
        while not self._stop.is_set():
            now = self.broadcasts.clock()
            try:
                await self.broadcasts.report_progress(now)
                if since_reminders >= self.reminders_every:
                    queued = await self.broadcasts.send_reminders(self.knowledge(), now)
                    if queued:
                        log.info("queued %d reminders", queued)
                    since_reminders = 0.0
            except Exception:
                log.exception("scheduled job failed; trying again later")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=self.progress_every)
            since_reminders += self.progress_every

    def stop(self) -> None:
        self._stop.set()
