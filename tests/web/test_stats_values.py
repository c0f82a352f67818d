"""The statistics page's numbers, from data the test makes through the chat and the console: hardship requests
by status and the median days to a decision (Fecon's chair counts Fecon's; the district's chair Fecon's and JW
Marriott's; a request of 40 days ago is outside the last 30), and an announcement's deliveries — sent, blocked
(403), failed (400) — as the delivery worker settles them. The figures are read off the page: the table under
each chart (or, without the charts extra, instead of it) and the median line."""

from __future__ import annotations

import re
from datetime import timedelta

from bot.channels.errors import Blocked, Permanent
from bot.workers.delivery import DeliveryWorker
from services.actor import Actor
from services.hardship import Form
from services.stats import StatsService
from storage.membership import AccountRepository, MemberData, MemberRepository, UnitRepository
from tests.conftest import Member
from tests.web.conftest import actor_of
from tests.web.test_announcements_console import composed
from tests.web.test_requests_console import member_chat
from tests.web.test_stats_console import without_charts


class Channel:
    """The "test" channel's sender as the delivery worker sees it: one recipient blocked the bot, one chat id
    the platform refuses; the others get the message."""

    def __init__(self, blocked: str, refused: str) -> None:
        self.blocked, self.refused = blocked, refused
        self.delivered: list[str] = []

    async def send(self, chat_id: str, payload: dict, *, pace=None, edit=None) -> str:
        if chat_id == self.blocked:
            raise Blocked("Forbidden: bot was blocked by the user")
        if chat_id == self.refused:
            raise Permanent("Bad Request: chat not found")
        self.delivered.append(chat_id)
        return str(len(self.delivered))


async def linked_members(app, unit_code: str, prefix: str, chats: list[str]) -> None:
    """Invented members of a unit, each with an account on the test channel."""
    now = app.core.clock()
    async with app.db.sessions.begin() as session:
        unit = await UnitRepository(session).by_code(unit_code)
        members = MemberRepository(session)
        await members.upsert_many([MemberData(f"{prefix}-{i:03d}", f"Đoàn viên thống kê {i}", unit.id)
                                   for i in range(len(chats))], now)
        accounts = AccountRepository(session)
        for i, chat in enumerate(chats):
            member = await members.by_code(f"{prefix}-{i:03d}")
            await accounts.link("default", "test", chat, chat, member.id, None, now)


async def submit(app, chat: Member) -> int:
    today = app.core.clock().astimezone(app.core.config.timezone).date()
    sent = await app.core.hardship.service.submit(Actor("test", chat.user, chat.user), Form(
        category="illness", happened_on=today - timedelta(days=1), description="Nằm viện vì sốt xuất huyết",
        contact_phone="0912345678", amount_requested=1_500_000))
    assert sent.status == "ok", sent
    return sent.request.id


async def approve(console, chair_code: str, request_id: int) -> None:
    chair = await console.signed_in(chair_code)  # signed in anew: days pass between the steps
    status, _ = await chair.post(f"/web/requests/{request_id}/approve", {"amount": "1000000", "confirm": "yes"})
    assert status == 303


def figures(page: str, chart: str) -> dict[str, int]:
    """The rows (label -> number) of the table of ``chart`` on the statistics page."""
    section = page.split(f'id="chart-{chart}"')[1].split("</section>")[0]
    return {label: int(n) for label, n in re.findall(r'<th scope="row">([^<]+)</th><td>(\d+)</td>', section)}


async def test_requests_by_status_the_median_days_to_a_decision_and_deliveries(console, clock, monkeypatch):
    app = console.app
    start = clock.now
    an = await member_chat(app, "901", "NTL-0103")  # Fecon's first union group
    lan = await member_chat(app, "902", "NTL-0202")  # JW Marriott, Fecon's sibling

    clock.now = start - timedelta(days=40)  # outside the last 30 days: counted nowhere below
    old = await submit(app, an)
    clock.now = start - timedelta(days=35)
    await approve(console, "NTL-0101", old)

    clock.now = start
    fecon = [await submit(app, an) for _ in range(6)]
    sibling = await submit(app, lan)
    chair = await console.signed_in("NTL-0101")
    assert (await chair.post(f"/web/requests/{fecon[3]}/ask", {"question": "Xin gửi giấy ra viện"}))[0] == 303
    assert (await chair.post(f"/web/requests/{fecon[4]}/forward"))[0] == 303
    # decisions after 1, 2 and 6 days (Fecon: median 2); JW Marriott's after 10 (with Fecon's, median 4)
    clock.now = start + timedelta(days=1)
    await approve(console, "NTL-0101", fecon[0])
    clock.now = start + timedelta(days=2)
    chair = await console.signed_in("NTL-0101")
    assert (await chair.post(f"/web/requests/{fecon[1]}/reject", {"reason": "Không đủ điều kiện"}))[0] == 303
    clock.now = start + timedelta(days=6)
    await approve(console, "NTL-0101", fecon[2])

    # an announcement to Fecon's four (invented) members: two delivered, one blocked the bot, one refused;
    # and one to JW Marriott's member, delivered (not Fecon's)
    await linked_members(app, "NTL-FECON-T1", "TK", ["911", "912", "913", "914"])
    for code, unit in (("NTL-0101", "NTL-FECON"), ("NTL-0201", "NTL-JWM")):
        officer = await console.signed_in(code)
        form = {"text": "Họp tổng kết năm lúc 14h thứ Sáu.", "unit": unit, "when": "",
                "draft_id": await composed(officer)}
        assert (await officer.post("/web/announcements/send", form))[0] == 303
    channel = Channel(blocked="913", refused="914")
    worker = DeliveryWorker(app.db, channel, bot_id="default", channel="test", rate_per_second=None,
                            per_chat_interval=0, clock=app.core.clock)
    await worker.run_until_idle(timeout=20)
    assert set(channel.delivered) == {"901", "902", "911", "912"}  # (the two askers: their requests' news too)

    clock.now = start + timedelta(days=10)
    await approve(console, "NTL-0201", sibling)

    service = StatsService(app.db, clock=app.core.clock, timezone=app.core.config.timezone)
    mine = await service.summary(await actor_of(app, "NTL-0101"), 30)
    assert mine.requests == {"approved": 2, "rejected": 1, "info_requested": 1, "forwarded": 1, "submitted": 1}
    assert (mine.decided, mine.median_days) == (3, 2.0)
    assert mine.broadcasts == {"sent": 3, "blocked": 1, "failed": 1}  # 901 (an) is Fecon's too
    district = await service.summary(await actor_of(app, "NTL-0001"), 30)
    assert (district.requests["approved"], district.decided, district.median_days) == (3, 4, 4.0)
    assert district.broadcasts == {"sent": 4, "blocked": 1, "failed": 1}
    assert (await service.summary(await actor_of(app, "NTL-0101"), 90)).decided == 4  # the old one: 35 days ago

    for drawn in (True, False):
        if not drawn:
            without_charts(monkeypatch)
        chair = await console.signed_in("NTL-0101")
        status, page = await chair.get("/web/stats?days=30")
        assert status == 200
        assert figures(page, "requests") == {"đang chờ xem xét": 1, "công đoàn cần thêm thông tin": 1,
                                             "đã chuyển công đoàn cấp trên": 1, "đã duyệt": 2,
                                             "không được duyệt": 1}, drawn
        assert figures(page, "broadcasts") == {"Đã gửi": 3, "Bị chặn": 1, "Lỗi": 1}
        assert "Thời gian xử lý (trung vị): 2,0 ngày, trên 3 đề nghị đã quyết định" in page
        district = await console.signed_in("NTL-0001")
        _, page = await district.get("/web/stats?days=30")
        assert "Thời gian xử lý (trung vị): 4,0 ngày, trên 4 đề nghị đã quyết định" in page
        assert figures(page, "broadcasts") == {"Đã gửi": 4, "Bị chặn": 1, "Lỗi": 1}
