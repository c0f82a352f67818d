# ruff: noqa: ASYNC109  (``until`` takes a timeout on purpose)
"""Under load (issue 12), through the whole bot and the fake Telegram: a burst of members all answered, in order per
chat; flood control; the send governor (replies before an announcement's rows, 429s waited out)."""

from __future__ import annotations

import asyncio

from storage.membership import format_code
from tests.load.roster import members_with_codes

APOLOGY = "Xin lỗi, mình vừa gặp trục trặc"


async def until(condition, timeout: float, what: str) -> None:
    """Poll ``condition`` (bounded); fail with ``what`` when it does not hold within ``timeout`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_a_burst_of_members_is_all_answered_in_order_per_chat(telegram):
    """200 members each send "/lienket" and then, before any reply, their code: every one is linked, which needs the
    code to be handled after the command (it is a code only in the state /lienket left)."""
    count = 200
    codes = await members_with_codes(telegram.app.db, count, now=telegram.app.core.clock())
    users = [telegram.user(50_000 + i) for i in range(count)]
    for user, code in zip(users, codes, strict=True):
        telegram.inject({"message": telegram.new_user_message(user, user.chat, text="/lienket")})
        telegram.inject({"message": telegram.new_user_message(user, user.chat, text=format_code(code))})
    await until(lambda: all(len(u.replies) >= 2 for u in users), 120, "two replies for every member")
    await telegram.wait_idle(timeout=10)
    texts = [[m["text"] for m in u.replies] for u in users]
    assert not [t for t in texts if len(t) != 2], "every member answered exactly twice"
    assert not [t for t in texts if any(APOLOGY in x for x in t)]
    not_linked = [t for t in texts if "Đã liên kết" not in t[1]]
    assert not not_linked, f"{len(not_linked)} members not linked, e.g. {not_linked[:2]}"
