"""Outbox delivery: one ``DeliveryWorker`` per bot token sends the queued rows at the platform's rate.

The worker knows no platform. It talks to a *sender* (``TelegramSender``, ``ZaloSender`` in the channel
adapters) that delivers one payload and maps the platform's errors to the typed errors of
``bot.channels.errors`` (re-exported here for the worker's callers):

* ``RetryAfter(seconds)`` (429): the whole worker pauses for ``seconds``; the row waits as long and the
  attempt is not counted as a failure;
* ``Blocked`` (403): the recipient blocked the bot; the row is ``blocked`` and the recipient unreachable;
* ``Transient`` (5xx, network): retried with exponential backoff, ``failed`` after ``max_attempts``;
* ``Permanent`` (400 and the like): ``failed`` at once.

Order of one send, so that a row is ``sending`` only during the HTTP call (the crash policy of
``storage.outbox`` relies on it): take a concurrency slot, wait out a 429 pause, take a token from the global
rate limiter, *then* claim one ready row, send it and settle it. Nothing waits while holding a claimed row:
a row whose chat got a message less than ``per_chat_interval`` ago is put back with that ``not_before``.
Confirmations of sent rows are buffered and written ``batch`` at a time (or every ``flush_interval``): a row
sent but not yet confirmed when the process dies is still ``sending``, which ``recover`` settles as sent.
A live row (a message kept up to date, see ``OutboxRepository.refresh_live``) is confirmed at once, with the
platform's message id, and is sent as an edit of that message the next time.

The limiter (``WindowLimiter``) allows at most rate − 1 calls in any sliding second, counting a call from
its start until one second after it completed: whatever the network or the event loop delays, no one-second
window at the platform can hold more than the cap. Calls are spaced at 1.25 × the rate, so after a stall the
worker catches up quickly but never in one burst. When it fell behind, the worker claims as many rows as
tokens are available at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import math
import os
import socket
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from bot.channels.errors import Blocked, Pace, Permanent, RetryAfter, Transient
from services.notifications import payload_reply, reply_payload  # noqa: F401 - the adapters import them here
from storage.db import Database
from storage.outbox import Claimed, OutboxRepository

log = logging.getLogger(__name__)

#: fraction of the configured rate actually used: headroom for jitter between us and the platform's clock
CATCH_UP = 1.25  # how much faster than the rate calls may follow each other after a stall

class Sender(Protocol):
    """What the worker needs from a channel adapter."""

    async def send(self, chat_id: str, payload: dict, *, pace: Pace | None = None,
                   edit: str | None = None) -> str | None:
        """Deliver one payload; ``pace`` is awaited before every API call after the first.

        ``edit``: the platform id of a message sent earlier (a live row) to replace with the payload; a
        platform that cannot edit, or a message that can no longer be edited, gets a new message instead.
        Returns the id of the message sent or edited (the last one of a multi-part payload), when known.
        """


class WindowLimiter:
    """At most ``limit`` API calls in any sliding second, counted so the platform can never see more.

    A call counts from the moment it is started (in flight) until one second after it completed. The
    platform receives a request between those two moments, so every one-second window the platform can
    measure is covered by ours: with ``limit = rate - 1`` the cap holds whatever the network or the event
    loop does. Calls are also spaced (``1 / (1.25 * rate)``), so after a stall the worker catches up
    quickly but never in one burst.
    """

    def __init__(self, rate: float) -> None:
        self.limit = max(1, math.floor(rate) - 1)
        self.max_rate = self.limit
        self.spacing = 1.0 / (CATCH_UP * rate)
        self._completed: deque[float] = deque()
        self._in_flight = 0
        self._next = 0.0

    def _count(self, now: float) -> int:
        while self._completed and now - self._completed[0] >= 1.0:
            self._completed.popleft()
        return self._in_flight + len(self._completed)

    def has_capacity(self) -> bool:
        now = asyncio.get_running_loop().time()
        return self._count(now) < self.limit and now >= self._next

    async def acquire(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if self._count(now) < self.limit and now >= self._next:
                self._in_flight += 1
                self._next = now + self.spacing
                return
            if self._count(now) >= self.limit:
                wait = self._completed[0] + 1.0 - now if self._completed else 0.005  # a call in flight ends
            else:
                wait = self._next - now
            await asyncio.sleep(max(wait, 0.001))

    def done(self, calls: int = 1) -> None:
        """``calls`` acquired calls completed now."""
        now = asyncio.get_running_loop().time()
        self._in_flight -= calls
        self._completed.extend([now] * calls)

    def unused(self, calls: int = 1) -> None:
        """``calls`` acquired but never made (nothing to send after all)."""
        self._in_flight -= calls


def make_limiter(rate: float) -> WindowLimiter:
    return WindowLimiter(rate)


def _utcnow() -> datetime:
    return datetime.now(UTC)


class DeliveryWorker:
    """Sends one bot's outbox rows on one channel. ``run()`` until ``stop()``; ``run_until_idle()`` in tests."""

    def __init__(self, db: Database, sender: Sender, *, bot_id: str, channel: str, rate_per_second: float | None,
                 per_chat_interval: float = 1.0, batch: int = 50, concurrency: int = 8, max_attempts: int = 5,
                 lease: float = 60.0, worker_id: str | None = None, clock: Callable[[], datetime] | None = None,
                 backoff: float = 2.0, max_backoff: float = 600.0, idle_sleep: float = 0.2,
                 flush_interval: float = 0.05,
                 on_progress: Callable[[int, dict[str, int]], Any] | None = None,
                 progress_every: int | None = None, governor: Any = None) -> None:
        self.repo = OutboxRepository(db)
        #: the bot token's ``SendGovernor`` (bot/governor.py), shared with direct replies, which go first; without
        #: one the worker has a ``WindowLimiter`` of its own at ``rate_per_second``
        self.governor = governor
        self.sender = sender
        self.bot_id, self.channel = bot_id, channel
        self.rate = rate_per_second
        self.per_chat_interval = per_chat_interval
        self.concurrency = concurrency
        self.max_attempts = max_attempts
        self.lease = lease
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"
        self.clock = clock or _utcnow
        self.backoff, self.max_backoff = backoff, max_backoff
        self.idle_sleep = idle_sleep
        self.batch, self.flush_interval = batch, flush_interval
        self.on_progress = on_progress
        #: progress is reported every this many settled rows of a broadcast (default: ``batch``)
        self.progress_every = progress_every or batch
        self.sent = 0  # rows this worker marked sent
        self._limiter: WindowLimiter | Any = None
        self._slots = asyncio.Semaphore(concurrency)  # a fresh one at each run()
        self._stopping = asyncio.Event()
        self._paused_until = 0.0  # loop time
        self._last_sent: dict[str, float] = {}  # chat -> loop time of its last send
        self._settled: dict[int, int] = {}  # broadcast -> rows settled (for on_progress)
        self._tasks: set[asyncio.Task] = set()
        self._flushing = asyncio.Lock()  # held by the periodic flush: stopping never cuts one (and its progress) short
        self._next_recover = 0.0
        self._idle_until = 0.0  # loop time: nothing was ready, next look then
        self._unconfirmed: list[Claimed] = []  # sent, not yet marked sent in the database

    # ----- lifecycle ---------------------------------------------------------------------------------
    def stop(self) -> None:
        """Ask ``run()`` to return once the sends in flight are settled."""
        self._stopping.set()

    async def run(self) -> None:
        """Deliver until ``stop()``: per limiter token, claim one ready row and send it in a task (when behind
        the pace, one per token available at once).

        When nothing is ready the loop sleeps until a row is due (at most ``idle_sleep``).
        """
        loop = asyncio.get_running_loop()
        self._stopping.clear()
        self._slots = asyncio.Semaphore(self.concurrency)
        if self.governor is not None:
            from bot.governor import BULK

            self._limiter = self.governor.lane(BULK)
        else:
            self._limiter = make_limiter(self.rate) if self.rate else None
        self._idle_until = 0.0
        log.info("delivery %s/%s: started (worker %s, %.1f msg/s)", self.channel, self.bot_id, self.worker_id,
                 self.rate or 0)
        flusher = asyncio.create_task(self._flush_periodically())
        try:
            while not self._stopping.is_set():
                await self._slots.acquire()
                try:
                    await self._wait_turn(loop)
                except Exception:
                    self._slots.release()
                    log.exception("delivery %s/%s: recovering stale rows failed", self.channel, self.bot_id)
                    await self._sleep(1.0)
                    continue
                except BaseException:
                    self._slots.release()
                    raise
                if self._stopping.is_set():
                    self._slots.release()
                    break
                wanted = 1 + await self._take_spare()
                rows = await self._claim(wanted)
                for _ in range(wanted - len(rows)):
                    self._slots.release()
                if self._limiter is not None and wanted > len(rows):
                    self._limiter.unused(wanted - len(rows))
                for row in rows:
                    task = asyncio.create_task(self._deliver(row))
                    self._tasks.add(task)
                    task.add_done_callback(self._tasks.discard)
        finally:
            if self._tasks:  # let the sends in flight settle their rows
                await asyncio.gather(*self._tasks, return_exceptions=True)
            async with self._flushing:  # between two periodic flushes, not in the middle of one
                flusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await flusher
            await self._flush()
            log.info("delivery %s/%s: stopped", self.channel, self.bot_id)

    async def run_until_idle(self, timeout: float | None = None) -> None:
        """Run until no row of this bot and channel is pending or sending (tests, benchmarks)."""
        runner = asyncio.create_task(self.run())
        try:
            async with asyncio.timeout(timeout):
                while not runner.done():
                    await asyncio.wait([runner], timeout=0.05)
                    if not runner.done() and not self._tasks and not await self.repo.has_work(self.bot_id,
                                                                                              self.channel):
                        break
        finally:
            self.stop()
            await runner

    # ----- one row -----------------------------------------------------------------------------------
    async def _wait_turn(self, loop: asyncio.AbstractEventLoop) -> None:
        """Wait while paused by a 429 or idle, then for a rate token; now and then recover stale rows."""
        while (wait := max(self._paused_until, self._idle_until) - loop.time()) > 0 and not self._stopping.is_set():
            await self._sleep(wait)
        if self._stopping.is_set():
            return
        if self._limiter is not None:
            await self._limiter.acquire()
        if loop.time() >= self._next_recover:
            self._next_recover = loop.time() + max(self.lease / 2, 0.5)
            recovered = await self.repo.recover(self.clock(), self.lease, bot_id=self.bot_id, channel=self.channel)
            if recovered:
                log.warning("delivery %s/%s: %d rows left sending by a dead worker marked sent (unconfirmed)",
                            self.channel, self.bot_id, recovered)

    async def _take_spare(self) -> int:
        """Rate tokens (with free slots) available right now, without waiting: the worker fell behind its pace
        (a slow claim, a late timer) and catches up by claiming that many more rows at once."""
        spare = 0
        while (self._limiter is not None and spare < self._limiter.max_rate - 1 and not self._slots.locked()
               and self._limiter.has_capacity()):
            await self._slots.acquire()  # free: returns at once
            await self._limiter.acquire()  # has capacity: returns at once
            spare += 1
        return spare

    async def _claim(self, limit: int) -> list[Claimed]:
        """Claim up to ``limit`` ready rows, right before sending them; nothing ready: idle until one is due."""
        try:
            rows = await self.repo.claim(self.bot_id, self.channel, self.worker_id, limit, self.clock(), self.lease)
        except Exception:
            log.exception("delivery %s/%s: claiming failed", self.channel, self.bot_id)
            self._idle_until = asyncio.get_running_loop().time() + 1.0
            return []
        if not rows:
            self._idle_until = asyncio.get_running_loop().time() + await self._idle_delay()
        return rows

    async def _deliver(self, row: Claimed) -> None:
        """Send one claimed row and settle it; releases the concurrency slot."""
        loop = asyncio.get_running_loop()
        calls = 1  # the rate token taken before the claim; multi-part payloads take more through ``pace``

        async def pace() -> None:
            nonlocal calls
            await self._pace()
            calls += 1

        sent = False
        try:
            last = self._last_sent.get(row.chat_id)
            if last is not None and (wait := last + self.per_chat_interval - loop.time()) > 0:
                await self.repo.reschedule(row.id, self.clock() + timedelta(seconds=wait), None, count_failure=False)
                return
            self._last_sent[row.chat_id] = loop.time()
            try:
                sent = True
                message_id = await self.sender.send(row.chat_id, row.payload, pace=pace,
                                                    edit=row.message_id if row.live else None)
            except RetryAfter as exc:
                self._paused_until = max(self._paused_until, loop.time() + exc.seconds)
                if self.governor is not None:  # every sender of the token waits, replies too
                    self.governor.pause(exc.seconds)
                log.warning("delivery %s/%s: 429, pausing %.1fs", self.channel, self.bot_id, exc.seconds)
                await self.repo.reschedule(row.id, self.clock() + timedelta(seconds=exc.seconds), str(exc),
                                           count_failure=False)
            except Blocked:
                await self.repo.mark_blocked(row.id, self.clock())
                await self._progress(row)
            except Permanent as exc:
                log.warning("delivery %s/%s: row %s failed: %s", self.channel, self.bot_id, row.id, exc)
                await self.repo.mark_failed(row.id, str(exc))
                await self._progress(row)
            except Exception as exc:  # Transient, or a bug in the sender: retried, counted
                if not isinstance(exc, Transient):
                    log.exception("delivery %s/%s: unexpected error on row %s", self.channel, self.bot_id, row.id)
                await self._retry_later(row, f"{type(exc).__name__}: {exc}")
            else:
                if row.live:  # confirmed at once, with the message its next refresh edits
                    await self.repo.mark_sent(row.id, self.clock(), message_id=message_id or row.message_id)
                    return
                self._unconfirmed.append(row)
                if len(self._unconfirmed) >= self.batch:
                    await self._flush()
        except Exception:  # the database: the row stays sending and ``recover`` settles it after the lease
            log.exception("delivery %s/%s: could not settle row %s", self.channel, self.bot_id, row.id)
        finally:
            if self._limiter is not None:
                (self._limiter.done if sent else self._limiter.unused)(calls)
            assert self._slots is not None
            self._slots.release()

    async def _retry_later(self, row: Claimed, error: str) -> None:
        if row.attempts >= self.max_attempts:
            log.warning("delivery %s/%s: row %s failed after %d attempts: %s", self.channel, self.bot_id, row.id,
                        row.attempts, error)
            await self.repo.mark_failed(row.id, error)
            await self._progress(row)
            return
        delay = min(self.backoff * 2 ** (row.attempts - 1), self.max_backoff)
        await self.repo.reschedule(row.id, self.clock() + timedelta(seconds=delay), error, count_failure=True)

    async def _flush(self) -> None:
        """Mark the buffered sent rows sent, in one transaction."""
        rows, self._unconfirmed = self._unconfirmed, []
        if not rows:
            return
        try:
            await self.repo.mark_sent_many([r.id for r in rows], self.clock())
        except Exception:
            log.exception("delivery %s/%s: could not confirm %d sent rows", self.channel, self.bot_id, len(rows))
            self._unconfirmed = rows + self._unconfirmed  # next time; a crash meanwhile: ``recover``
            return
        self.sent += len(rows)
        for row in rows:
            await self._progress(row)

    async def _flush_periodically(self) -> None:
        """Confirm sent rows every ``flush_interval``; forget per-chat send times that no longer matter."""
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.flush_interval)
            async with self._flushing:
                await self._flush()
            if len(self._last_sent) > 10_000:
                horizon = loop.time() - self.per_chat_interval
                self._last_sent = {chat: t for chat, t in self._last_sent.items() if t > horizon}

    async def _pace(self) -> None:
        """Before each further API call of a multi-part payload (photos, long text): a rate token."""
        if self._limiter is not None:
            await self._limiter.acquire()

    async def _progress(self, row: Claimed) -> None:
        """Every ``progress_every`` settled rows of a broadcast: ``on_progress(broadcast_id, counts)``."""
        if self.on_progress is None or row.broadcast_id is None:
            return
        settled = self._settled[row.broadcast_id] = self._settled.get(row.broadcast_id, 0) + 1
        if settled % self.progress_every == 0:
            result = self.on_progress(row.broadcast_id, await self.repo.counts(row.broadcast_id))
            if inspect.isawaitable(result):
                await result

    # ----- waiting -----------------------------------------------------------------------------------
    async def _idle_delay(self) -> float:
        """Nothing ready: ``idle_sleep``, or less when a row becomes due sooner."""
        delay = self.idle_sleep
        with contextlib.suppress(Exception):
            due = await self.repo.next_due(self.bot_id, self.channel)
            if due is not None:
                delay = min(delay, max((due - self.clock()).total_seconds(), 0.01))
        return delay

    async def _sleep(self, seconds: float) -> None:
        """Sleep, but wake up at once on ``stop()``."""
        if seconds > 0:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), timeout=seconds)
