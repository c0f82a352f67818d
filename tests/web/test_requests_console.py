"""Hardship requests in the console: the list and its filters, a request with its photos, the chat's actions
(ask, approve after a confirmation, reject, forward) with the member told through the outbox, and the export."""

from __future__ import annotations

import io
from datetime import date, timedelta

import openpyxl

from services.actor import Actor
from services.hardship import Form
from storage.hardship import HardshipRepository
from storage.membership import AccountRepository, MemberRepository
from storage.outbox import OutboxRepository
from tests.conftest import Member


async def member_chat(app, user: str, member_code: str) -> Member:
    """A member's chat account on the test channel, linked with a code as in chat."""
    async with app.db.sessions.begin() as session:
        member = await MemberRepository(session).by_code(member_code)
        code = await AccountRepository(session).issue_code(member.id, None, app.core.clock(), timedelta(days=1))
    chat = Member(app, user=user)
    await chat.says(f"/lienket {code}")
    return chat


async def submitted(app, chat: Member, category: str = "illness", photos: tuple = (), amount: int = 2_000_000):
    service = app.core.hardship.service
    sent = await service.submit(Actor("test", chat.user, chat.user), Form(
        category=category, happened_on=date(2021, 3, 14), description="Nằm viện năm ngày vì sốt cao",
        contact_phone="0912345678", amount_requested=amount, photos=photos))
    assert sent.status == "ok", sent
    return sent.request


async def told(app, chat: Member) -> list[str]:
    return [row["text"] for row in await OutboxRepository(app.db).pending_for("test", chat.user)]


async def status_of(app, request_id: int) -> str:
    async with app.db.sessions() as session:
        return (await HardshipRepository(session).get(request_id)).status


async def test_list_filters_and_a_request_with_its_details(console):
    app = console.app
    an = await member_chat(app, "701", "NTL-0103")
    ill = await submitted(app, an)
    fire = await submitted(app, an, "disaster")
    lan = await member_chat(app, "702", "NTL-0202")  # of the sibling union: not for the Fecon chair
    other = await submitted(app, lan)
    chair = await console.signed_in("NTL-0101")

    status, page = await chair.get("/web/requests")
    assert status == 200 and ill.reference in page and fire.reference in page and other.reference not in page
    _, page = await chair.get("/web/requests?urgent=1")
    assert fire.reference in page and ill.reference not in page
    _, page = await chair.get("/web/requests?category=illness&status=submitted")
    assert ill.reference in page and fire.reference not in page
    _, page = await chair.get("/web/requests?from=2021-03-16")
    assert ill.reference not in page and fire.reference not in page
    _, page = await chair.get("/web/requests?from=2021-03-15&to=2021-03-15")
    assert ill.reference in page

    status, page = await chair.get(f"/web/requests/{ill.id}")
    assert status == 200 and "0912345678" in page and "Nằm viện năm ngày" in page
    assert (await chair.get(f"/web/requests/{other.id}"))[0] == 403
    parent = await console.signed_in("NTL-0001")  # the district's chair reviews its grassroots unions' requests
    _, page = await parent.get("/web/requests")
    assert ill.reference in page and other.reference in page


async def test_approve_asks_for_a_confirmation_then_tells_the_member(console):
    app = console.app
    an = await member_chat(app, "711", "NTL-0103")
    request = await submitted(app, an)
    chair = await console.signed_in("NTL-0101")
    await chair.get(f"/web/requests/{request.id}")

    status, page = await chair.post(f"/web/requests/{request.id}/approve",
                                    {"amount": "1,5 triệu", "note": "Nhận tại VP"})
    assert status == 200 and "1.500.000 đ" in page and 'name="confirm" value="yes"' in page
    assert await status_of(app, request.id) == "submitted" and await told(app, an) == []  # nothing before the yes

    status, where = await chair.post(f"/web/requests/{request.id}/approve",
                                     {"amount": "1500000", "note": "Nhận tại VP", "confirm": "yes"})
    assert status == 303 and where == f"/web/requests/{request.id}?done=approved"
    assert await status_of(app, request.id) == "approved"
    [notice] = await told(app, an)
    assert "1.500.000 đ" in notice and "Nhận tại VP" in notice and request.reference in notice
    status, page = await chair.post(f"/web/requests/{request.id}/approve",
                                    {"amount": "1500000", "confirm": "yes"})  # the form sent again
    assert status == 409 and len(await told(app, an)) == 1
    status, page = await chair.post(f"/web/requests/{request.id}/approve", {"amount": "mười đồng"})
    assert status == 422


async def test_ask_reject_and_forward_as_in_chat(console):
    app = console.app
    an = await member_chat(app, "721", "NTL-0103")
    asked, rejected, forwarded = [await submitted(app, an) for _ in range(3)]
    chair = await console.signed_in("NTL-0101")
    await chair.get("/web/requests")

    assert (await chair.post(f"/web/requests/{asked.id}/ask", {"question": "Xin gửi giấy ra viện"}))[0] == 303
    assert await status_of(app, asked.id) == "info_requested"
    assert any("Xin gửi giấy ra viện" in text for text in await told(app, an))
    await an.says("Em gửi giấy ra viện ngày 14/3 ạ")  # the member's next message answers it, as after a chat question
    async with app.db.sessions() as session:
        history = (await HardshipRepository(session).get(asked.id)).history
    assert history[-1].action == "info_provided" and "giấy ra viện" in history[-1].note

    assert (await chair.post(f"/web/requests/{rejected.id}/reject", {"reason": ""}))[0] == 422
    assert await status_of(app, rejected.id) == "submitted"
    assert (await chair.post(f"/web/requests/{rejected.id}/reject", {"reason": "Không đủ điều kiện"}))[0] == 303
    assert await status_of(app, rejected.id) == "rejected"
    assert any("Không đủ điều kiện" in text for text in await told(app, an))

    assert (await chair.post(f"/web/requests/{forwarded.id}/forward"))[0] == 303
    assert await status_of(app, forwarded.id) == "forwarded"
    assert (await chair.post(f"/web/requests/{forwarded.id}/forward"))[0] == 409
    district = await console.signed_in("NTL-0001")
    _, page = await district.get("/web/requests?status=forwarded")
    assert forwarded.reference in page and asked.reference not in page


async def test_photos_come_through_the_channel_and_only_to_reviewers(console):
    app = console.app
    fetched = []

    async def fake_download(file_id: str) -> tuple[bytes, str]:
        fetched.append(file_id)
        return b"\x89PNG photo of " + file_id.encode(), "image/png"

    console.console.files["test"] = fake_download
    an = await member_chat(app, "731", "NTL-0103")
    request = await submitted(app, an, photos=(("test", "file-A"), ("test", "file-B")))
    chair = await console.signed_in("NTL-0101")
    _, page = await chair.get(f"/web/requests/{request.id}")
    assert f"/web/requests/{request.id}/photos/1" in page
    async with chair.http.get(f"/web/requests/{request.id}/photos/1") as response:
        assert response.status == 200 and response.content_type == "image/png"
        assert await response.read() == b"\x89PNG photo of file-B"
    assert (await chair.get(f"/web/requests/{request.id}/photos/2"))[0] == 404
    sibling = await console.signed_in("NTL-0201")
    assert (await sibling.get(f"/web/requests/{request.id}/photos/0"))[0] == 403
    assert fetched == ["file-B"]


async def test_export_is_the_cli_export_as_a_download(console):
    app = console.app
    an = await member_chat(app, "741", "NTL-0103")
    request = await submitted(app, an)
    chair = await console.signed_in("NTL-0101")
    async with chair.http.get("/web/requests/export?unit=NTL-FECON&from=2021-01-01&to=2021-12-31") as response:
        assert response.status == 200 and "attachment" in response.headers["Content-Disposition"]
        book = openpyxl.load_workbook(io.BytesIO(await response.read()))
    rows = [[c.value for c in row] for row in book.active.iter_rows()]
    assert rows[1][0] == request.reference and len(rows) == 2
    assert (await chair.get("/web/requests/export?unit=NTL-JWM"))[0] == 403
    assert (await chair.get("/web/requests/export?unit=NTL-FECON&from=2021-12-31&to=2021-01-01"))[0] == 422


async def test_the_telegram_sender_downloads_a_members_photo():
    import pytest

    from bot.channels.errors import Permanent
    from bot.channels.telegram import TelegramSender
    from tests.e2e.conftest import TELEGRAM_TOKEN
    from tests.fakes.telegram_server import FakeTelegram

    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake:
        fake.photo_sizes("giay-ra-vien", b"\x89PNG bytes of the photo")
        sender = TelegramSender(TELEGRAM_TOKEN, fake.base_url)
        try:
            body, content_type = await sender.download("giay-ra-vien")
            assert body == b"\x89PNG bytes of the photo" and content_type == "image/jpeg"
            with pytest.raises(Permanent):
                await sender.download("giay-ra-vien", max_bytes=5)
            with pytest.raises(Permanent):  # Telegram refuses the id
                await sender.download("")
        finally:
            await sender.close()


async def test_the_requests_filters_on_postgresql(settings, clock, pg_database_url):
    from bot.app import build_app
    from services.actor import Actor as ChatActor
    from tests.web.conftest import identity_of

    app = await build_app(settings.replace(database_url=pg_database_url), clock=clock)
    try:
        an = await member_chat(app, "751", "NTL-0103")
        ill, fire = await submitted(app, an), await submitted(app, an, "disaster")
        chair = ChatActor("web", "NTL-0101", bot_id="web", identity=await identity_of(app, "NTL-0101"))
        async def search(actor, **filters):
            return (await app.core.hardship.service.search(actor, **filters)).requests

        assert [r.id for r in await search(chair)] == [fire.id, ill.id]  # newest first
        assert [r.id for r in await search(chair, urgent=True)] == [fire.id]
        assert [r.id for r in await search(chair, category="illness", status="submitted")] == [ill.id]
        assert await search(chair, start=date(2021, 3, 16)) == []
        assert len(await search(chair, start=date(2021, 3, 15), end=date(2021, 3, 15))) == 2
        stranger = ChatActor("web", "NTL-0201", bot_id="web", identity=await identity_of(app, "NTL-0201"))
        assert await search(stranger) == []
        second = await app.core.hardship.service.search(chair, page=2, per_page=1)  # the count and pages too
        assert (second.total, second.page, second.pages, [r.id for r in second.requests]) == (2, 2, 2, [ill.id])
    finally:
        await app.close()


async def test_the_zalo_sender_downloads_a_members_photo_from_its_address():
    import pytest
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    from bot.channels.errors import Permanent
    from bot.channels.zalo import ZaloSender

    async def image(_request):
        return web.Response(body=b"\x89PNG zalo photo", content_type="image/png")

    async def page(_request):
        return web.Response(text="<html></html>", content_type="text/html")

    site = web.Application()
    site.add_routes([web.get("/photo.png", image), web.get("/page", page)])
    server = TestServer(site, host="127.0.0.1")
    await server.start_server()
    sender = ZaloSender("zalo-token")
    try:
        assert await sender.download(str(server.make_url("/photo.png"))) == (b"\x89PNG zalo photo", "image/png")
        for refused in (str(server.make_url("/page")), str(server.make_url("/missing")), "file:///etc/passwd"):
            with pytest.raises(Permanent):
                await sender.download(refused)
        with pytest.raises(Permanent):
            await sender.download(str(server.make_url("/photo.png")), max_bytes=4)
    finally:
        await sender.close()
        await server.close()
