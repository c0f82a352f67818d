"""Two processes on one SQLite file (``unionbot chat`` beside ``unionbot run``): each sees what the other wrote.

Each App has its own engine and connection, as a second process would; the in-process caches of
conversation state and identities must notice the other's commits (issue 12)."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.app import build_app
from handlers.types import Incoming
from storage.membership import AccountRepository, MemberRepository

REF = re.compile(r"HT-\d{4}-\d{6}")


class Person:
    def __init__(self, app, user: str) -> None:
        self.app, self.user, self.text = app, user, ""

    async def says(self, text: str = "", action: str | None = None) -> str:
        replies = await self.app.core.handle(Incoming(channel="console", chat_id=self.user, user_id=self.user,
                                                      text=text, action=action))
        self.text = "\n".join(r.text for r in replies)
        return self.text


async def linked(app, member_code: str, user: str) -> Person:
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        code = await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))
    person = Person(app, user)
    assert "Đã liên kết" in await person.says(f"/lienket {code}")
    return person


async def test_ask_for_information_round_trip_across_two_processes(app, settings, clock):
    other = await build_app(settings, clock=clock)  # the chair's process, on the same SQLite file
    try:
        member = await linked(app, "NTL-0103", "m1")
        chair = await linked(other, "NTL-0101", "c1")
        await member.says("/hotro")
        for answer in ["1", "hôm qua", "Em bị sốt xuất huyết phải nằm viện 5 ngày", "2 triệu", "xong", "đúng",
                       "đồng ý"]:
            await member.says(answer)
        reference = REF.search(await member.says("gửi")).group(0)

        assert reference in await chair.says("/duyet")  # the chair's process sees the member's request
        request_id = re.search(r"req:view:(\d+)", " ".join(
            c.action for r in await other.core.handle(Incoming(channel="console", chat_id="c1", user_id="c1",
                                                               text="/duyet")) for c in r.choices)).group(1)
        await chair.says(action=f"req:ask:{request_id}")
        assert "Đã cập nhật" in await chair.says("Bạn gửi thêm hóa đơn viện phí nhé")

        # the member's process learns of the question written by the other process, without a restart
        reply = await member.says("Em gửi hóa đơn ạ")
        assert "Đã chuyển thông tin bổ sung" in reply, reply
        history = await chair.says("/duyet")
        assert reference in history
    finally:
        await other.close()

