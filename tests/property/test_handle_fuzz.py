"""10,000 arbitrary inputs through ``Core.handle``: never an exception, always a reply of at most 4,096 chars."""

import asyncio

from hypothesis import HealthCheck, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from bot.app import build_app
from handlers.core import MAX_REPLY_CHARS
from handlers.types import Incoming

SQL = ["'; DROP TABLE knowledge_entries; --", "1 OR 1=1", "\" UNION SELECT * FROM unanswered_questions --",
       "%' AND 1=0 --", "\\x00", "NULL", "$$", "{}{}{0}"]
EMOJI = st.sampled_from(["😀", "🇻🇳", "👍🏽", "❤️", "🧑‍🤝‍🧑", "\u200d", "\ufe0f"])
CONTROL = st.characters(min_codepoint=0, max_codepoint=31) | st.sampled_from(["\x7f", "\u2028", "\u202e"])
MIXED = st.sampled_from(["gạo", "Кирилл", "中文", "عربى", "ภาษาไทย", "đợt 2", "ko dc", "🙂", "28/7", "%", "{x}"])

# mostly typed messages; sometimes a button press, real or forged
ACTIONS = st.one_of([st.none()] * 8 + [st.sampled_from(["kb:kim-sang-gao", "kb:nope", "menu:cluster", "menu:",
                                                        ":", "kb:"]), st.text(max_size=30)])

inputs = st.one_of(
    st.just(""),
    st.text(),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=300),
    st.lists(st.one_of(MIXED, EMOJI, CONTROL, st.sampled_from(SQL)), max_size=40).map(" ".join),
    st.lists(st.one_of(MIXED, EMOJI, CONTROL, st.sampled_from(SQL)), max_size=40).map("".join),
    st.text(min_size=1, max_size=12).map(lambda s: (s * (100_000 // len(s) + 1))[:100_000]),
)


def test_10000_arbitrary_inputs(settings, clock):
    loop = asyncio.new_event_loop()
    app = loop.run_until_complete(build_app(settings, clock=clock))
    seen = {"n": 0}

    @hypothesis_settings(max_examples=10_000, deadline=None, derandomize=True, database=None,
               suppress_health_check=list(HealthCheck))
    @given(text=inputs, action=ACTIONS)
    def check(text, action):
        seen["n"] += 1
        replies = loop.run_until_complete(app.core.handle(
            Incoming(channel="fuzz", chat_id="1", user_id="1", text=text, action=action)))
        assert replies, "no reply"
        for reply in replies:
            assert isinstance(reply.text, str) and 0 < len(reply.text) <= MAX_REPLY_CHARS

    try:
        check()
    finally:
        loop.run_until_complete(app.close())
        loop.close()
    assert seen["n"] == 10_000

