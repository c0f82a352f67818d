"""The wrong-linking-code throttle holds under concurrency and per member code, on SQLite and PostgreSQL."""

import asyncio
import secrets
from datetime import timedelta

import pytest

from handlers.types import Incoming
from storage.membership import CODE_ALPHABET, hash_code
from tests.integration.test_membership import Account, issue


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


def wrong_codes(n: int, issued: str) -> list[str]:
    codes = set()
    while len(codes) < n:
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
        if hash_code(code) != hash_code(issued):
            codes.add(f"{code[:4]}-{code[4:]}")
    return sorted(codes)


def _fixed(text: str) -> str:
    return text.split("{")[0]


async def test_41_concurrent_wrong_codes_from_one_account_check_at_most_five(app, clock):
    t = app.translator
    right = await issue(app, "NTL-0103")
    replies = await asyncio.gather(*(
        app.core.handle(Incoming(channel="telegram", chat_id="t1", user_id="t1", text=f"/lienket {code}"))
        for code in wrong_codes(41, right)))
    texts = ["\n".join(r.text for r in reply) for reply in replies]
    assert all(t("bot.apology") not in text for text in texts)
    checked = [text for text in texts if text == t("member.code_unknown")]
    locked = [text for text in texts if _fixed(t("member.locked")) in text]
    assert len(checked) <= 4 and len(checked) + len(locked) == 41, texts  # the fifth check locks
    account = Account(app, "t1")
    assert _fixed(t("member.locked")) in await account.says(f"/lienket {right}")  # even the right code waits
    clock.now += timedelta(minutes=16)
    assert "Đã liên kết" in await account.says(f"/lienket {right}")


async def test_five_wrong_codes_for_one_member_code_lock_it_on_every_channel(app, clock):
    t = app.translator
    right = await issue(app, "NTL-0103")
    other = await issue(app, "NTL-0104")
    guesses = wrong_codes(5, right)
    channels = ["telegram", "zalo", "telegram", "zalo", "telegram"]
    for i, (channel, guess) in enumerate(zip(channels, guesses, strict=True)):
        reply = await Account(app, f"a{i}", channel).says(f"/lienket NTL-0103 {guess}")
        assert reply == (t("member.code_unknown") if i < 4 else t("link_throttle.member_locked",
                                                                  until="16:15 15/03/2021")), (i, reply)
    # a sixth account, on another channel, with the right code: the member code is locked
    assert _fixed(t("link_throttle.member_locked")) in await Account(app, "z9", "zalo").says(f"/lienket {right}")
    assert _fixed(t("link_throttle.member_locked")) in await Account(app, "t9").says(f"/lienket NTL-0103 {right}")
    assert "Đã liên kết" in await Account(app, "t8").says(f"/lienket {other}")  # other members are not locked
    clock.now += timedelta(minutes=16)
    assert "Đã liên kết" in await Account(app, "z9", "zalo").says(f"/lienket NTL-0103 {right}")


async def test_the_right_code_after_its_member_code_links(app):
    right = await issue(app, "NTL-0105")
    assert "Đã liên kết" in await Account(app, "m1").says(f"/lienket NTL-0105 {right}")
    wrong_owner = await issue(app, "NTL-0104")
    reply = await Account(app, "m2").says(f"/lienket NTL-0105 {wrong_owner}")  # a code of another member
    assert reply == app.translator("member.code_unknown")
