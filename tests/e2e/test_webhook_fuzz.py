"""Property: whatever JSON or bytes reach either webhook with the right secret, never a 500 and never a reply."""

from __future__ import annotations

import asyncio
import json
import logging

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from tests.e2e.conftest import TELEGRAM_TOKEN, ZALO_TOKEN, free_port, running_bot
from tests.e2e.test_webhook_integrity import webhook_overrides
from tests.fakes.telegram_server import FakeTelegram
from tests.fakes.zalo_server import FakeZalo

ZALO_EVENTS = ["message.text.received", "message.image.received", "message.sticker.received",
               "message.unsupported.received"]

scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.integers(min_value=-(10**30), max_value=10**30),
                    st.floats(allow_nan=False), st.text(max_size=40), st.sampled_from(["", "0", "-1", "PRIVATE"]))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=5)
                           | st.dictionaries(st.text(max_size=12), inner, max_size=5), max_leaves=20)


def not_a_chat(value) -> bool:
    return not (isinstance(value, dict) and isinstance(value.get("id"), str | int))


# near misses: the real shapes with one part arbitrary (a message with a usable chat would be a real message)
telegram_updates = st.fixed_dictionaries({"update_id": st.integers(min_value=-(10**20), max_value=10**20)},
                                         optional={"message": json_values, "callback_query": json_values,
                                                   "edited_message": json_values})
zalo_events = st.fixed_dictionaries({"event_name": st.sampled_from(ZALO_EVENTS) | st.text(max_size=20),
                                     "message": st.one_of(
                                         json_values.filter(lambda v: not isinstance(v, dict)),
                                         st.fixed_dictionaries({"chat": json_values.filter(not_a_chat)},
                                                               optional={"from": json_values, "date": json_values,
                                                                         "text": json_values,
                                                                         "message_id": json_values}))})
bodies = st.one_of(
    st.binary(max_size=300),
    json_values.map(lambda v: json.dumps(v).encode()),
    telegram_updates.map(lambda v: json.dumps(v).encode()),
    zalo_events.map(lambda v: json.dumps(v).encode()),
    zalo_events.map(lambda v: json.dumps({"ok": True, "result": v}).encode()),
    st.text(max_size=200).map(lambda t: t.encode("utf-8", "surrogatepass")),
)


async def test_arbitrary_bodies_never_give_a_500_or_a_reply(settings, clock, caplog):
    caplog.set_level(logging.ERROR)
    async with (FakeTelegram.running(token=TELEGRAM_TOKEN) as telegram, FakeZalo.running(token=ZALO_TOKEN) as zalo,
                running_bot(settings, clock, **webhook_overrides(telegram, zalo, free_port()))):
        loop = asyncio.get_running_loop()
        statuses: set[int] = set()

        def post(body: bytes) -> None:
            for deliver in (telegram.deliver_raw, zalo.deliver_raw):
                status = asyncio.run_coroutine_threadsafe(deliver(body=body), loop).result(timeout=30)
                statuses.add(status)
                assert status < 500, (status, body[:200])

        @hypothesis_settings(max_examples=300, deadline=None, derandomize=True, database=None,
                             suppress_health_check=list(HealthCheck))
        @given(body=bodies)
        def check(body: bytes) -> None:
            post(body)

        await asyncio.to_thread(check)
        await telegram.wait_idle(timeout=10)
        await zalo.wait_idle(timeout=10)
        await asyncio.sleep(0.5)
        assert telegram.count("sendMessage") == 0 and telegram.count("sendPhoto") == 0
        assert zalo.sent == []
        assert statuses <= {200, 400}, statuses
        assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text[-3000:]
