"""Rows written off the member's reply path: queued in memory, written together shortly after.

Used for what answering must never wait for (the unanswered-question log, the question counts): ``_queued``
starts one delayed task, ``flush`` writes the queue in one transaction (a failure is logged and the batch
dropped: it never breaks answering), ``close`` writes whatever is left (waiting for a write under way).
``DelayedFlush`` is that delayed task alone, shared with ``storage.conversation.StateStore``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sized
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

log = logging.getLogger(__name__)

Batch = TypeVar("Batch", bound=Sized)


class DelayedFlush:
    """One delayed task that writes what was queued: ``_queued`` starts it (one at a time), it calls ``flush``
    ``delay`` seconds later; ``close`` stops it and writes what is left. Subclasses define ``flush``."""

    def __init__(self, delay: float) -> None:
        self._delay = delay
        self._task: asyncio.Task | None = None
        self._writing = False  # the delayed task is writing (not sleeping)

    def _queued(self) -> None:
        """Something was queued: write it ``delay`` seconds from now (one task at a time)."""
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._delay)
        self._writing = True
        try:
            await self.flush()
        finally:
            self._writing = False

    async def flush(self) -> None:
        raise NotImplementedError

    async def close(self) -> None:
        """Write what is queued. A write under way is waited for, not cancelled: a task cancelled inside a
        database call lost its batch and could leave its connection to a pool disposed of after this (the
        process then waits at exit for the driver's thread)."""
        task, self._task = self._task, None
        await settle(task, self._writing)
        await self.flush()


class WriteBehind(DelayedFlush, Generic[Batch]):
    #: what the rows are, for the log line of a failed write ("unanswered questions")
    what = "rows"

    def __init__(self, sessions: async_sessionmaker[AsyncSession], delay: float, empty: Callable[[], Batch]) -> None:
        super().__init__(delay)
        self._sessions, self._empty = sessions, empty
        self._pending: Batch = empty()

    async def _write(self, session: AsyncSession, batch: Batch) -> None:
        raise NotImplementedError

    async def flush(self) -> None:
        while len(self._pending):
            batch, self._pending = self._pending, self._empty()
            try:
                async with self._sessions.begin() as session:
                    await self._write(session, batch)
            except Exception:  # noqa: BLE001 - a lost analytics row must never break answering
                log.exception("could not write %d %s", len(batch), self.what)


async def settle(task: asyncio.Task | None, writing: bool) -> None:
    """A delayed write's task stopped: cancelled while it only waits, waited for while it writes (a task cancelled
    inside a database call would be left waiting on a connection disposed of after this)."""
    if task is not None and not task.done():
        if not writing:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
