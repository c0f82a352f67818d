"""Bounded, fair processing of incoming updates: one ``Intake`` per process, shared by every channel.

An adapter hands each update to the intake as a *job* (a callable returning an awaitable) with the key of its
chat, instead of starting a task of its own. A fixed number of workers run the jobs:

* **bounded**: at most ``workers`` jobs run at once (sized to the database pool: a few on SQLite's single
  connection, more on PostgreSQL), so a burst of 2,000 updates does not become 2,000 tasks queueing for one
  connection until the pool times out;
* **ordered per chat**: the jobs of one chat run one after another, in the order they were put;
* **fair**: chats take turns (a chat with many queued jobs goes to the back after each of them);
* **back-pressure**: at most ``capacity`` jobs are held (queued or running). ``put`` waits for room — a poller
  that awaits it fetches no more than the intake can hold; ``offer`` does not wait and says whether it was
  taken (a webhook can answer 503/429 so the platform retries, or keep the update stored for later).

A ``FloodGuard`` (optional) slows a member who sends more than ``per_minute`` messages in a minute: their
excess updates are dropped and they get one polite note (``on_flood``) per flood; everyone else is unaffected.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from storage.db import unreachable

log = logging.getLogger(__name__)

T = TypeVar("T")

#: how long an update waits for the database to come back (tried again with backoff) before the member is told to
#: try again later; its chat's later updates wait behind it, so they stay in order
DATABASE_RETRY_SECONDS = 120.0

Job = Callable[[], Awaitable[object]]

#: jobs run at once when the settings leave it to the database: SQLite has one connection, so more workers only
#: overlap the network part of the updates (sending replies); PostgreSQL's pool serves more
SQLITE_WORKERS = 4
POSTGRES_WORKERS = 12


def default_workers(is_sqlite: bool) -> int:
    return SQLITE_WORKERS if is_sqlite else POSTGRES_WORKERS


def build_intake(settings, db) -> Intake:
    """The process's intake from the settings (``intake_workers`` 0: sized to the database)."""
    workers = settings.intake.workers or default_workers(db.is_sqlite)
    return Intake(workers, settings.intake.capacity, FloodGuard(settings.intake.flood_per_minute))


async def retry_while_unavailable(call: Callable[[], Awaitable[T]], what: str, *,
                                  give_up_after: float = DATABASE_RETRY_SECONDS, first_delay: float = 0.25,
                                  max_delay: float = 5.0) -> T:
    """``call()``, made again (backing off) while it fails because the database cannot be reached — a PostgreSQL
    restart, a network cut, terminated backends — for at most ``give_up_after`` seconds; then the last error is
    raised (the adapter apologises). ``what`` names the update in the log (an id, never its text). Only for a call
    with no effect before its database work fails: the core's handling (its transactions roll back; replies are
    sent after it returned)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + give_up_after
    delay, tries = first_delay, 0
    while True:
        try:
            result = await call()
        except Exception as exc:
            if not unreachable(exc) or loop.time() + delay > deadline:
                raise
            tries += 1
            log.warning("%s: the database is unreachable (%s); trying again in %.1fs (#%d)", what,
                        type(exc.__cause__ or exc).__name__, delay, tries)
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
            continue
        if tries:
            log.info("%s: handled after %d retries (the database is back)", what, tries)
        return result


class FloodGuard:
    """Counts each member's messages over the last ``window`` seconds; past ``per_minute`` a member is flooding.

    ``admit(member)`` returns ``"ok"``, ``"note"`` (the first message over the limit: tell them once) or
    ``"drop"``. A member who was told is told again only after a window in which they were admitted again.
    """

    def __init__(self, per_minute: int, window: float = 60.0, clock: Callable[[], float] | None = None) -> None:
        self.limit = per_minute
        self.window = window
        self._clock = clock
        self._seen: dict[str, deque[float]] = {}
        self._noted: set[str] = set()

    def _now(self) -> float:
        return self._clock() if self._clock is not None else asyncio.get_running_loop().time()

    def admit(self, member: str) -> str:
        now = self._now()
        times = self._seen.setdefault(member, deque())
        while times and now - times[0] >= self.window:
            times.popleft()
        if len(times) < self.limit:
            times.append(now)
            if len(times) == 1:  # admitted after a quiet window: a new flood gets a new note
                self._noted.discard(member)
            if len(self._seen) > 50_000:  # forget members quiet for a window
                self._seen = {m: t for m, t in self._seen.items() if t and now - t[-1] < self.window}
            return "ok"
        if member in self._noted:
            return "drop"
        self._noted.add(member)
        return "note"


class Intake:
    """Runs jobs with bounded concurrency, in order per chat, fairly across chats; see the module docstring."""

    def __init__(self, workers: int, capacity: int = 1000, flood: FloodGuard | None = None) -> None:
        self.workers = max(1, workers)
        self.capacity = max(self.workers, capacity)
        self.flood = flood
        self._chats: dict[str, deque[Job]] = {}
        self._busy: set[str] = set()  # chats with a job running
        self._ready: asyncio.Queue[str] | None = None
        self._room: asyncio.Event | None = None  # set when a job finished
        self._held = 0  # jobs queued or running
        self._idle: asyncio.Event | None = None
        self._tasks: list[asyncio.Task] = []
        self._notes: set[asyncio.Task] = set()
        self._closed = False  # stopping: nothing new is taken
        self.dropped = 0  # updates dropped by flood control

    # ----- putting -----------------------------------------------------------------------------------
    async def put(self, chat: str, job: Job, member: str | None = None, on_flood: Job | None = None) -> bool:
        """Queue ``job`` for ``chat``, waiting while the intake is full; False when flood control dropped it."""
        if self._closed:  # stopping: a poller waits here until it is cancelled, its update not confirmed
            await asyncio.get_running_loop().create_future()
        if not self._flood_admits(member, on_flood):
            return False
        self._start()
        assert self._room is not None
        while self._held >= self.capacity:
            self._room.clear()
            await self._room.wait()
        self._queue(chat, job)
        return True

    def offer(self, chat: str, job: Job, member: str | None = None, on_flood: Job | None = None) -> bool | None:
        """Queue ``job`` without waiting: True when queued, None when the intake is full (nothing queued: the
        caller sheds the update), False when flood control dropped it."""
        if self.full or self._closed:
            return None
        if not self._flood_admits(member, on_flood):
            return False
        self._start()
        self._queue(chat, job)
        return True

    @property
    def full(self) -> bool:
        return self._held >= self.capacity

    @property
    def held(self) -> int:
        return self._held

    def _flood_admits(self, member: str | None, on_flood: Job | None) -> bool:
        if self.flood is None or member is None:
            return True
        verdict = self.flood.admit(member)
        if verdict == "ok":
            return True
        self.dropped += 1
        if verdict == "note":
            log.info("flood control: a member is sending too fast; their excess messages are dropped")
            if on_flood is not None:  # the note goes through the member's chat like any job, but takes no slot
                task = asyncio.create_task(self._run(on_flood))
                self._notes.add(task)
                task.add_done_callback(self._notes.discard)
        return False

    def _queue(self, chat: str, job: Job) -> None:
        assert self._ready is not None and self._idle is not None
        self._held += 1
        self._idle.clear()
        jobs = self._chats.setdefault(chat, deque())
        jobs.append(job)
        if len(jobs) == 1 and chat not in self._busy:
            self._ready.put_nowait(chat)

    # ----- running -----------------------------------------------------------------------------------
    def _start(self) -> None:
        if self._ready is not None:
            return
        self._ready = asyncio.Queue()
        self._room = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks = [asyncio.create_task(self._work(), name=f"intake-{i}") for i in range(self.workers)]

    async def _work(self) -> None:
        assert self._ready is not None and self._room is not None and self._idle is not None
        while True:
            chat = await self._ready.get()
            jobs = self._chats[chat]
            job = jobs.popleft()
            self._busy.add(chat)
            try:
                await self._run(job)
            finally:
                self._busy.discard(chat)
                self._held -= 1
                self._room.set()
                if jobs:
                    self._ready.put_nowait(chat)  # to the back: chats take turns
                else:
                    del self._chats[chat]
                if self._held == 0:
                    self._idle.set()

    @staticmethod
    async def _run(job: Job) -> None:
        try:
            await job()
        except Exception:  # the adapters handle their own errors; this keeps the worker alive whatever happens
            log.exception("intake: an update failed")

    async def drain(self, timeout: float | None = None) -> bool:  # noqa: ASYNC109 - the caller's deadline
        """Wait until every held job has run (at most ``timeout`` seconds); True when nothing is left."""
        if self._idle is None:
            return True
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        return self._held == 0

    async def stop(self, timeout: float | None = 5.0) -> None:  # noqa: ASYNC109
        """Take nothing new, drain (at most ``timeout``), then stop the workers."""
        self._closed = True
        left = not await self.drain(timeout)
        if left:
            log.warning("intake: %d updates still queued or running at stop", self._held)
        for task in [*self._tasks, *self._notes]:
            task.cancel()
        for task in [*self._tasks, *self._notes]:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        self._ready = None
        self._room = None
        self._idle = None
        self._chats.clear()
        self._busy.clear()
        self._held = 0
