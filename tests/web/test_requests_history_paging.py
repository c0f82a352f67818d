"""A request's history names who took each step (role and name of the officer; the member's own steps as
"đoàn viên"; never a phone) on the console's page, in the chat's view and in the export; the list pages through
any number of requests with the filters kept, and the export has them all."""

from __future__ import annotations

import io
import re
from datetime import date

import openpyxl

from services.actor import Actor
from storage.hardship import HardshipRepository, NewRequest
from storage.membership import MemberRepository, UnitRepository
from tests.web.conftest import identity_of
from tests.web.test_requests_console import member_chat, submitted

PHONE = "0912345678"  # the contact phone of every request submitted here


def history_of(page: str) -> list[str]:
    block = re.search(r'<ol id="history">(.*?)</ol>', page, re.S)
    assert block, "the page has a history"
    return [re.sub(r"<[^>]+>", "", item).strip() for item in re.findall(r"<li>(.*?)</li>", block.group(1), re.S)]


async def reviewer(app, code: str) -> Actor:
    return Actor(channel="test", user_id=f"officer-{code}", identity=await identity_of(app, code))


async def test_each_step_of_the_history_says_who_took_it(console):
    app = console.app
    service = app.core.hardship.service
    an = await member_chat(app, "801", "NTL-0103")
    request = await submitted(app, an)
    asked = await service.decide(await reviewer(app, "NTL-0101"), request.id, "ask_info", "Xin giấy ra viện")
    assert asked.ok
    member = Actor(channel="test", user_id=an.user, identity=await identity_of(app, "NTL-0103"))
    assert (await service.provide_info(member, request.id, "Em gửi giấy ra viện ạ", ())).ok  # their own step
    assert (await service.forward(await reviewer(app, "NTL-0102"), request.id)).ok  # the deputy chair forwards
    approved = await service.decide(await reviewer(app, "NTL-0001"), request.id, "approve", amount=1_000_000)
    assert approved.ok  # the district union's chair decides

    chair = await console.signed_in("NTL-0001")
    status, page = await chair.get(f"/web/requests/{request.id}")
    assert status == 200
    steps = history_of(page)
    assert len(steps) == 5
    assert "Gửi đề nghị — đoàn viên" in steps[0] and "Nguyễn Văn An" not in steps[0]
    assert "Lê Văn Bình (demo) (NTL-0101), chủ tịch Công đoàn Công ty Cổ phần Fecon" in steps[1]
    assert "Xin giấy ra viện" in steps[1]
    assert "Đoàn viên bổ sung thông tin — đoàn viên" in steps[2]
    assert "Đỗ Thị Mai (demo) (NTL-0102), phó chủ tịch Công đoàn Công ty Cổ phần Fecon" in steps[3]
    assert "Phạm Thu Hà (demo) (NTL-0001), chủ tịch LĐLĐ quận Nam Từ Liêm" in steps[4]
    history = "\n".join(steps)
    assert PHONE not in history and "0900000" not in history  # never a phone

    # the chat's view of the request (a chair's "xem" button) names them the same way
    view = await an.presses(f"req:view:{request.id}")  # not a reviewer: refused, nothing shown
    assert "Phạm Thu Hà" not in view
    async with app.db.sessions() as session:
        full = await HardshipRepository(session).get(request.id)
    lines = [service.step(e) for e in full.history]
    assert lines[4].startswith("Đã duyệt — bởi Phạm Thu Hà (demo) (NTL-0001), chủ tịch LĐLĐ quận Nam Từ Liêm")

    # the export's history column
    async with chair.http.get("/web/requests/export?unit=NTL&from=2021-01-01&to=2021-12-31") as response:
        assert response.status == 200
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    header, row = [[c.value for c in r] for r in book.active.iter_rows()]
    exported = dict(zip(header, row, strict=True))["Lịch sử"].split("; ")
    assert len(exported) == 5
    assert exported[0].endswith("Gửi đề nghị — bởi đoàn viên")
    assert "Công đoàn hỏi thêm thông tin — bởi Lê Văn Bình (demo) (NTL-0101), chủ tịch" in exported[1]
    assert "— bởi Đỗ Thị Mai (demo) (NTL-0102), phó chủ tịch" in exported[3]
    assert PHONE not in "; ".join(exported)


async def test_the_chair_sees_who_acted_in_the_chats_view(app):
    from tests.web.test_requests_console import member_chat as chat_of

    an = await chat_of(app, "811", "NTL-0103")
    request = await submitted(app, an)
    chair = await chat_of(app, "812", "NTL-0101")
    await app.core.hardship.service.decide(await reviewer(app, "NTL-0102"), request.id, "reject", "Chưa đủ hồ sơ")
    pages = [await chair.presses(f"req:view:{request.id}")]
    more = lambda: [c.action for r in chair.replies for c in r.choices if "thêm" in c.label.lower()]  # noqa: E731
    while more() and len(pages) < 6:  # a reply for a phone is paged ("xem thêm")
        pages.append(await chair.presses(more()[0]))
    view = "\n".join(pages)
    assert "Gửi đề nghị — bởi đoàn viên" in view
    assert "Không duyệt — bởi Đỗ Thị Mai (demo) (NTL-0102), phó chủ tịch Công đoàn Công ty Cổ phần Fecon: " \
           "Chưa đủ hồ sơ" in view


async def bulk(app, count: int, category: str = "illness") -> list[str]:
    """``count`` requests of NTL-0103, straight through the repository (one transaction): their references."""
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code("NTL-0103")
        unit = await UnitRepository(session).by_code("NTL-FECON")
        repo = HardshipRepository(session)
        now = app.core.clock()
        return [(await repo.create(NewRequest(
            member_id=member.id, unit_id=unit.id, category=category, happened_on=date(2021, 3, 1),
            description=f"Đề nghị số {i}", amount_requested=1_000_000, contact_phone=PHONE, consent=True,
            photos=()), now)).reference for i in range(count)]


async def test_the_list_pages_through_more_than_500_requests_with_the_filters_kept(console):
    app = console.app
    illness = await bulk(app, 530)
    fire = await bulk(app, 3, "disaster")
    chair = await console.signed_in("NTL-0101")

    seen: list[str] = []
    url = "/web/requests?category=illness"
    pages = 0
    while url:
        status, page = await chair.get(url.replace("&amp;", "&"))
        assert status == 200
        pages += 1
        seen += re.findall(r'<a href="/web/requests/\d+">(HT-[\d-]+)</a>', page)
        assert "530 đề nghị" in page
        found = re.search(r'<a href="([^"]+)" rel="next"', page)
        url = found.group(1) if found else ""
        if url:
            assert "category=illness" in url  # the filter goes along
        assert pages < 20
    assert pages == 11  # 50 a page
    assert len(seen) == 530 and set(seen) == set(illness)  # every one, once
    assert seen[-1] == illness[0]  # the oldest, on the last page
    assert not set(fire) & set(seen)

    _, last = await chair.get("/web/requests?category=illness&page=11")
    assert illness[0] in last and 'aria-current="page">11<' in last
    _, beyond = await chair.get("/web/requests?category=illness&page=99")  # past the end: the last page
    assert illness[0] in beyond

    async with chair.http.get("/web/requests/export?unit=NTL-FECON&from=2021-01-01&to=2021-12-31") as response:
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    rows = [[c.value for c in r] for r in book.active.iter_rows()][1:]
    assert len(rows) == 533 and {r[0] for r in rows} == set(illness) | set(fire)
