"""One send governor per bot token: direct replies and the outbox worker share the platform's global rate.

``SendGovernor`` is the outbox's sliding-window limiter (``WindowLimiter`` in bot/workers/delivery.py: at most
rate − 1 calls in any sliding second, a call counted from its start until one second after it completed) with
three things added:

* **priorities**: callers wait in one queue ordered by priority — ``REPLY`` (the answer to a member's own
  message) before ``NOTIFY`` before ``BULK`` (the outbox worker, whose rows are mostly announcements) — and a
  single granter hands out the limiter's tokens in that order, so a reply never waits behind 10,000 queued rows;
* **one pause per token**: a 429 (``pause(retry_after)``) stops every sender of the token, not just the call
  that got it; ``rate_limited`` counts the 429s seen;
* **shared budget** (optional, ``RedisWindow``): with several processes serving one token, every grant also
  takes a place in the same sliding window kept in Redis, and a pause is shared too, so the processes together
  stay under the cap. Without Redis the budget is the process's own (right for SQLite, one process).

Adapters call ``send(make_call)`` (acquire at ``REPLY``, call, release) for direct replies; the delivery worker
takes ``lane(BULK)``, which looks like a ``WindowLimiter``.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import heapq
import itertools
import logging
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.workers.delivery import WindowLimiter

log = logging.getLogger(__name__)

REPLY, NOTIFY, BULK = 0, 1, 2

T = TypeVar("T")

#: Redis scripts. Scores are milliseconds of Redis's own clock (one clock for every process); a call in flight
#: has a score in the future (now + lease) until it completes, then the completion time: it counts until one
#: second after that, exactly as in ``WindowLimiter``. A crashed process's calls expire after the lease.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return paused end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - 1000)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) + 2000)
  return 0
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
local oldest = tonumber(first[2])
if oldest > now then return 5 end
return math.max(1, oldest + 1000 - now)
"""
_COMPLETE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
for i = 1, #ARGV do redis.call('ZADD', KEYS[1], 'XX', now, ARGV[i]) end
return 0
"""


def token_key(channel: str, token: str) -> str:
    """The Redis key of a bot token's budget: a hash, never the token."""
    return f"unionbot:send:{channel}:{hashlib.sha256(token.encode()).hexdigest()[:20]}"


class RedisWindow:
    """The sliding window of one bot token in Redis, shared by every process serving it."""

    def __init__(self, redis, key: str, limit: int, lease: float = 30.0) -> None:
        self.redis = redis
        self.key, self.pause_key = key, key + ":pause"
        self.limit = limit
        self.lease_ms = int(lease * 1000)
        self._acquire = redis.register_script(_ACQUIRE)
        self._complete = redis.register_script(_COMPLETE)
        self._tasks: set[asyncio.Task] = set()

    async def acquire(self) -> str:
        """Wait for a place in the shared window; returns the call's id (give it to ``done`` or ``unused``)."""
        call = uuid.uuid4().hex
        while True:
            wait = int(await self._acquire(keys=[self.key, self.pause_key], args=[self.limit, call, self.lease_ms]))
            if wait == 0:
                return call
            await asyncio.sleep(wait / 1000)

    def done(self, calls: list[str]) -> None:
        self._later(self._complete(keys=[self.key], args=calls))

    def unused(self, calls: list[str]) -> None:
        self._later(self.redis.zrem(self.key, *calls))

    def pause(self, seconds: float) -> None:
        self._later(self.redis.set(self.pause_key, 1, px=max(1, int(seconds * 1000))))

    def _later(self, awaitable: Awaitable) -> None:
        async def run() -> None:
            try:
                await awaitable
            except Exception as exc:  # the window entry expires after the lease anyway
                log.warning("send governor: Redis update failed (%s)", type(exc).__name__)

        task = asyncio.create_task(run())
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def close(self) -> None:
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            await self.redis.aclose()


class SendGovernor:
    """The send budget of one bot token in this process (and, with ``shared``, across processes)."""

    def __init__(self, rate: float, *, shared: RedisWindow | None = None, name: str = "") -> None:
        self.limiter = WindowLimiter(rate)
        self.max_rate = self.limiter.max_rate
        self.shared = shared
        self.name = name
        self.rate_limited = 0  # 429s seen by the senders of this token
        self._waiters: list[tuple[int, int, asyncio.Future]] = []
        self._seq = itertools.count()
        self._granter: asyncio.Task | None = None
        self._paused_until = 0.0  # loop time
        self._shared_calls: deque[str] = deque()  # ids of this process's calls in the shared window
        self._shared_failed = False

    # ----- taking and giving back ----------------------------------------------------------------------
    async def acquire(self, priority: int = REPLY) -> None:
        """Wait for one API call's token; callers of a lower ``priority`` number go first."""
        future = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiters, (priority, next(self._seq), future))
        if self._granter is None or self._granter.done():
            self._granter = asyncio.create_task(self._grant(), name=f"governor-{self.name}")
        try:
            await future
        except asyncio.CancelledError:
            if future.done() and not future.cancelled():  # granted, but the caller went away
                self.unused()
            raise

    def has_capacity(self) -> bool:
        """A token is free right now and nobody waits for one (the outbox worker catching up)."""
        loop = asyncio.get_running_loop()
        return not self._waiters and loop.time() >= self._paused_until and self.limiter.has_capacity()

    def done(self, calls: int = 1) -> None:
        """``calls`` granted calls completed now."""
        self.limiter.done(calls)
        self._release_shared(calls, used=True)

    def unused(self, calls: int = 1) -> None:
        """``calls`` granted but never made."""
        self.limiter.unused(calls)
        self._release_shared(calls, used=False)

    def pause(self, seconds: float) -> None:
        """A 429 with ``retry_after = seconds``: nothing is sent for this token until it has passed."""
        self.rate_limited += 1
        until = asyncio.get_running_loop().time() + seconds
        if until > self._paused_until:
            self._paused_until = until
            log.warning("send governor %s: 429 (#%d), every send of this bot waits %.1fs", self.name,
                        self.rate_limited, seconds)
        if self.shared is not None:
            self.shared.pause(seconds)

    async def send(self, make_call: Callable[[], Awaitable[T]], priority: int = REPLY) -> T:
        """One API call under the governor."""
        await self.acquire(priority)
        try:
            return await make_call()
        finally:
            self.done()

    def lane(self, priority: int) -> Lane:
        """This governor as a ``WindowLimiter`` whose ``acquire`` waits at ``priority`` (the delivery worker)."""
        return Lane(self, priority)

    async def close(self) -> None:
        if self._granter is not None:
            self._granter.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._granter
        if self.shared is not None:
            await self.shared.close()

    # ----- granting ------------------------------------------------------------------------------------
    async def _grant(self) -> None:
        """Hand out tokens, best priority first, while anyone waits."""
        loop = asyncio.get_running_loop()
        while True:
            while self._waiters and self._waiters[0][2].done():  # a waiter that was cancelled
                heapq.heappop(self._waiters)
            if not self._waiters:
                return
            if (wait := self._paused_until - loop.time()) > 0:
                await asyncio.sleep(wait)
                continue
            await self.limiter.acquire()
            await self._take_shared()
            if self._paused_until > loop.time():  # a 429 came meanwhile
                self.unused()
                continue
            while self._waiters:
                _, _, future = heapq.heappop(self._waiters)
                if not future.done():
                    future.set_result(None)
                    break
            else:
                self.unused()

    async def _take_shared(self) -> None:
        if self.shared is None:
            return
        try:
            self._shared_calls.append(await self.shared.acquire())
            if self._shared_failed:
                log.warning("send governor %s: Redis is back; the send rate is shared again", self.name)
                self._shared_failed = False
        except Exception as exc:  # Redis away: the process's own limit still holds; say so once
            if not self._shared_failed:
                log.warning("send governor %s: Redis unavailable (%s); limiting this process alone", self.name,
                            type(exc).__name__)
                self._shared_failed = True
            self._shared_calls.append("")

    def _release_shared(self, calls: int, *, used: bool) -> None:
        if self.shared is None:
            return
        ids = [self._shared_calls.popleft() for _ in range(min(calls, len(self._shared_calls)))]
        ids = [i for i in ids if i]
        if ids:
            (self.shared.done if used else self.shared.unused)(ids)


class Lane:
    """A ``SendGovernor`` seen as the delivery worker's limiter, acquiring at one priority."""

    def __init__(self, governor: SendGovernor, priority: int) -> None:
        self.governor, self.priority = governor, priority
        self.max_rate = governor.max_rate

    async def acquire(self) -> None:
        await self.governor.acquire(self.priority)

    def has_capacity(self) -> bool:
        return self.governor.has_capacity()

    def done(self, calls: int = 1) -> None:
        self.governor.done(calls)

    def unused(self, calls: int = 1) -> None:
        self.governor.unused(calls)


def build_governor(settings, channel: str, token: str, rate: float) -> SendGovernor:
    """The governor of one bot token: shared through Redis when ``UNIONBOT_REDIS_URL`` is set."""
    shared = None
    if settings.delivery.redis_url:
        from services.extras import require

        require("redis")
        from redis.asyncio import Redis

        shared = RedisWindow(Redis.from_url(settings.delivery.redis_url), token_key(channel, token),
                             WindowLimiter(rate).limit)
    elif not settings.effective_database_url.startswith("sqlite"):
        log.warning("send governor %s: no UNIONBOT_REDIS_URL, so the send rate is this process's alone; with "
                    "several processes on one bot token set it", channel)
    return SendGovernor(rate, shared=shared, name=channel)
