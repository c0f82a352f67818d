"""Periodic jobs of the core: emulation reminders and broadcast progress reports.

Both are idempotent (outbox dedupe keys), so running them in every process, or again after a restart,
queues nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from handlers.core import Core

log = logging.getLogger(__name__)


class Scheduler:
    def __init__(self, core: Core, *, progress_every: float = 5.0, reminders_every: float = 300.0) -> None:
        self.core = core
        self.progress_every = progress_every
        self.reminders_every = reminders_every
        self._stop = asyncio.Event()

    async def run(self) -> None:
        since_reminders = self.reminders_every  # check reminders at start
        while not self._stop.is_set():
            now = self.core.clock()
            try:
                await self.core.broadcasts.report_progress(now)
                if since_reminders >= self.reminders_every:
                    queued = await self.core.broadcasts.send_reminders(self.core.knowledge, now)
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
