"""Announcements in the console: compose, the recipients per channel (0 warned, never sent), now or at a time
written as in chat and echoed, the live page that reloads itself, the report, cancel — through the chat's
service (services.broadcasts): the outbox rows the delivery workers send."""

from __future__ import annotations

import re
from datetime import timedelta

from storage.outbox import OutboxRepository
from tests.web.test_requests_console import member_chat

DRAFT = re.compile(r'name="draft_id" value="([0-9a-f]{32})"')
TEXT = "Họp công đoàn lúc 15h thứ Sáu tại phòng họp tầng 2."


async def composed(browser) -> str:
    status, page = await browser.get("/web/announcements/new")
    assert status == 200
    return DRAFT.search(page).group(1)


async def test_preview_then_send_now_and_the_report(console):
    app = console.app
    an = await member_chat(app, "801", "NTL-0103")
    chair = await console.signed_in("NTL-0101")
    draft = await composed(chair)
    _, page = await chair.get("/web/announcements/new")
    assert "NTL-FECON-T2" in page and "NTL-JWM" not in page  # the units the chair may send to

    status, page = await chair.post("/web/announcements/preview", {"text": TEXT, "unit": "NTL-FECON", "mode": "now",
                                                                  "draft_id": draft})
    assert status == 200 and '<td id="total"><strong>1</strong></td>' in page and 'id="send"' in page
    assert await OutboxRepository(app.db).pending_for("test", an.user) == []  # a preview sends nothing

    form = {"text": TEXT, "unit": "NTL-FECON", "when": "", "draft_id": draft}
    status, where = await chair.post("/web/announcements/send", form)
    assert status == 303 and (found := re.fullmatch(r"/web/announcements/(\d+)", where))
    [row] = await OutboxRepository(app.db).pending_for("test", an.user)
    assert TEXT in row["text"]
    assert (await chair.post("/web/announcements/send", form)) == (303, where)  # posted again: the same one
    assert len(await OutboxRepository(app.db).pending_for("test", an.user)) == 1

    status, page = await chair.get(where)
    assert status == 200 and 'http-equiv="refresh"' in page and 'data-phase="sending"' in page
    _, listing = await chair.get("/web/announcements")
    assert f"/web/announcements/{found.group(1)}" in listing
    sibling = await console.signed_in("NTL-0201")
    assert (await sibling.get(where))[0] == 403
    assert (await sibling.post(f"{where}/cancel"))[0] == 403

    assert (await chair.post(f"{where}/cancel"))[0] == 303
    _, page = await chair.get(where)
    assert 'data-phase="stopped"' in page and 'http-equiv="refresh"' not in page and 'id="cancel"' not in page
    assert (await chair.post(f"{where}/cancel"))[0] == 409


async def test_nobody_to_send_to_is_warned_and_never_sent(console):
    await member_chat(console.app, "811", "NTL-0103")
    chair = await console.signed_in("NTL-0101")
    draft = await composed(chair)
    status, page = await chair.post("/web/announcements/preview", {"text": TEXT, "unit": "NTL-FECON-T2",
                                                                  "mode": "now", "draft_id": draft})
    assert status == 200 and 'id="empty"' in page and 'id="send"' not in page
    status, page = await chair.post("/web/announcements/send", {"text": TEXT, "unit": "NTL-FECON-T2", "when": "",
                                                               "draft_id": draft})
    assert status == 422 and "0 người nhận" in page
    _, listing = await chair.get("/web/announcements")
    assert "/web/announcements/1" not in listing
    status, _ = await chair.post("/web/announcements/preview", {"text": TEXT, "unit": "NTL-JWM", "draft_id": draft})
    assert status == 403  # not the chair's union


async def test_a_time_written_as_in_chat_is_echoed_then_scheduled(console):
    app = console.app  # the clock: 09:00 UTC on Monday 15/03/2021, 16:00 in Hà Nội
    an = await member_chat(app, "821", "NTL-0103")
    chair = await console.signed_in("NTL-0101")
    draft = await composed(chair)
    base = {"text": TEXT, "unit": "NTL-FECON", "mode": "later", "draft_id": draft}
    status, page = await chair.post("/web/announcements/preview", {**base, "when_text": "8h sáng mai"})
    assert status == 200 and "08:00 16/03/2021 (thứ Ba)" in page
    when = re.search(r'name="when" value="([^"]+)"', page).group(1)
    assert (await chair.post("/web/announcements/preview", {**base, "when_text": "hôm qua"}))[0] == 422
    assert (await chair.post("/web/announcements/preview", {**base, "when_text": "lúc nào đó"}))[0] == 422

    status, where = await chair.post("/web/announcements/send", {**base, "when": when})
    assert status == 303
    _, page = await chair.get(where)
    assert 'data-phase="scheduled"' in page and "08:00 16/03/2021" in page
    [row] = await OutboxRepository(app.db).pending_for("test", an.user)  # queued, for its time
    assert TEXT in row["text"]
    status, _ = await chair.post("/web/announcements/send", {**base, "when": "2021-03-15T08:00:00+07:00",
                                                            "draft_id": "0" * 32})
    assert status == 422  # that moment has passed


async def test_an_announcement_to_the_officers_only(console):
    app = console.app
    an = await member_chat(app, "831", "NTL-0103")
    deputy = await member_chat(app, "832", "NTL-0102")  # the Fecon union's deputy chair
    chair = await console.signed_in("NTL-0101")
    draft = await composed(chair)
    base = {"text": TEXT, "unit": "NTL-FECON", "mode": "now", "draft_id": draft}
    _, page = await chair.post("/web/announcements/preview", base)
    assert '<td id="total"><strong>2</strong></td>' in page
    _, page = await chair.post("/web/announcements/preview", {**base, "who": "officers"})
    assert '<td id="total"><strong>1</strong></td>' in page and 'name="who" value="officers"' in page
    assert (await chair.post("/web/announcements/send", {**base, "when": "", "who": "officers"}))[0] == 303
    assert len(await OutboxRepository(app.db).pending_for("test", deputy.user)) == 1
    assert await OutboxRepository(app.db).pending_for("test", an.user) == []


async def test_the_list_shows_every_announcement_the_chair_may_open_and_stop(console):
    """An announcement scheduled by Fecon's chair is on the list of Fecon's chair, of the district's chair above
    (who may open and stop it) and of an admin; not on the sibling union's chair's (who may not open it)."""
    from tests.web.test_access import ROLES

    await member_chat(console.app, "811", "NTL-0103")
    author = await console.signed_in(ROLES["chair_of_unit"])
    draft = await composed(author)
    later = (console.app.core.clock() + timedelta(days=2)).isoformat()
    status, where = await author.post("/web/announcements/send", {"text": TEXT, "unit": "NTL-FECON", "when": later,
                                                                  "draft_id": draft})
    assert status == 303, where
    link = f'href="{where}"'
    for role in ("chair_of_unit", "chair_of_parent", "admin", "chair_of_sibling"):
        browser = await console.signed_in(ROLES[role])
        status, page = await browser.get("/web/announcements")
        assert status == 200
        opened, _ = await browser.get(where)
        if role == "chair_of_sibling":
            assert link not in page and opened == 403, role
            assert "chưa gửi" not in page  # the empty list says what it is, not "you sent none"
        else:
            assert link in page and opened == 200, role
            assert "Họp công đoàn lúc 15h" in page


async def test_the_announcements_a_chair_may_open_on_postgresql(settings, clock, pg_database_url):
    from bot.app import build_app
    from services.actor import Actor as ChatActor
    from services.broadcasts import Draft
    from tests.web.conftest import identity_of

    app = await build_app(settings.replace(database_url=pg_database_url), clock=clock)
    try:
        await member_chat(app, "821", "NTL-0103")
        service = app.core.broadcasts.service

        async def actor(code: str) -> ChatActor:
            return ChatActor("web", code, bot_id="web", identity=await identity_of(app, code))

        queued = await service.queue(await actor("NTL-0101"), Draft(TEXT, "NTL-FECON"),
                                     clock() + timedelta(days=1))
        for code, seen in (("NTL-0101", True), ("NTL-0001", True), ("DEMO-ADMIN", True), ("NTL-0201", False)):
            listed = [b.id for b in await service.visible(await actor(code))]
            assert listed == ([queued.broadcast_id] if seen else []), code
    finally:
        await app.close()
