"""NUL bytes and other control characters never reach storage (PostgreSQL refuses NUL in text)."""

import asyncio

import pytest

from handlers.types import Incoming
from storage.hardship import HardshipRepository
from storage.membership import MemberRepository
from storage.unanswered import UnansweredRepository
from tests.integration.test_hardship import REF, as_member


@pytest.fixture
def app(app_on_both):
    """The whole app on SQLite and on PostgreSQL (tests/integration/conftest.py)."""
    return app_on_both


async def test_a_description_with_a_nul_byte_is_submitted(app):
    member = await as_member(app, "NTL-0103", "m1", channel="zalo", buttons=False)
    chair = await as_member(app, "NTL-0101", "c1")
    for answer in ["/hotro", "1", "hôm qua", "Em bị\x00 sốt\x07 xuất huyết\r\nnằm viện\x1b 5 ngày", "bỏ qua", "xong",
                   "đúng", "đồng ý"]:
        await member.says(answer)
    assert "Bước 8/8" in member.text
    assert REF.search(await member.says("gửi\x00")), member.text
    async with app.db.sessions() as session:
        owner = await MemberRepository(session).by_code("NTL-0103")
        [request] = await HardshipRepository(session).of_member(owner.id)
    assert request.description == "Em bị sốt xuất huyết\nnằm viện 5 ngày"
    await chair.presses(f"req:ask:{request.id}")
    assert "Đã cập nhật" in await chair.says("Bạn gửi\x00 thêm hóa đơn nhé")
    assert "Đã chuyển thông tin bổ sung" in await member.says("Em gửi\x00 hóa đơn ạ")


async def test_a_nul_question_does_not_lose_the_unanswered_batch(app):
    questions = ["xyzzy plugh frobnicate một", "xyzzy\x00 plugh frobnicate hai", "xyzzy plugh frobnicate ba"]
    await asyncio.gather(*(app.core.handle(Incoming(channel="telegram", chat_id=f"u{i}", user_id=f"u{i}", text=q))
                           for i, q in enumerate(questions)))
    await app.core.unanswered.flush()
    async with app.db.sessions() as session:
        logged = {q.sample_text for q in await UnansweredRepository(session).most_frequent()}
    assert logged >= {"xyzzy plugh frobnicate một", "xyzzy plugh frobnicate hai", "xyzzy plugh frobnicate ba"}
