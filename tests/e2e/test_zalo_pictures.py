"""/thongke on Zalo: the chart the bot drew goes by sendPhoto, at a short-lived unguessable address of the bot's
own web server, which the (fake) platform fetches; without a public address, or when the photo fails, the text
(with the console's link) goes alone."""

from __future__ import annotations

import re
from datetime import timedelta

import aiohttp
from pydantic import SecretStr

from storage.membership import AccountRepository, MemberRepository
from tests.e2e.conftest import ZALO_TOKEN, free_port, running_bot
from tests.fakes.zalo_server import FakeZalo

CHART = re.compile(r"^http://127\.0\.0\.1:\d+/charts/([A-Za-z0-9_-]{20,})\.png$")
SLOW = {"timeout": 60.0}  # drawing the chart takes a second or more of CPU on a loaded machine


async def linked_chair(app, fake: FakeZalo, code: str = "NTL-0101"):
    async with app.db.sessions.begin() as session:
        chair = await MemberRepository(session).by_code(code)
        issued = await AccountRepository(session).issue_code(chair.id, None, app.core.clock(), timedelta(days=1))
    user = fake.user("c0ffee0000000001", "Hà")
    await user.says(f"/lienket {issued}")
    return user


def overrides(fake: FakeZalo, *, public: bool) -> dict:
    port = free_port()
    found = {"zalo_token": SecretStr(ZALO_TOKEN), "zalo_api_url": fake.base_url, "zalo_mode": "polling",
             "web_port": port}
    if public:
        found["web_base_url"] = f"http://127.0.0.1:{port}"
    return found


async def get(url: str) -> tuple[int, bytes, str]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        return response.status, await response.read(), response.content_type


async def test_thongke_sends_the_chart_by_url_the_platform_fetches(settings, clock):
    async with FakeZalo.running(token=ZALO_TOKEN) as fake:
        fake.fetch_photos = True  # like the platform: the photo's URL is fetched to be shown
        async with running_bot(settings, clock, **overrides(fake, public=True)) as (app, _server):
            chair = await linked_chair(app, fake)
            new = await chair.says("/thongke", **SLOW)
            photos = [m for m in new if m.kind == "photo"]
            assert len(photos) == 1
            photo = photos[0]
            match = CHART.match(photo.photo or "")
            assert match, photo.photo
            assert photo.photo_data is not None and photo.photo_data.startswith(b"\x89PNG")
            assert photo.photo_type == "image/png"
            assert "7 ngày qua" in (photo.caption or "")  # the text is the caption: one message
            assert len(photo.caption or "") <= 2000
            assert not [m for m in new if m.kind == "text"]

            status, body, _ = await get(photo.photo)
            assert status == 200 and body == photo.photo_data  # valid for a while: the platform may fetch again
            base = photo.photo.rsplit("/", 1)[0]
            token = match.group(1)
            other = token[:-1] + ("y" if token.endswith("x") else "x")  # never the token itself (was 1 run in 64)
            assert (await get(f"{base}/{other}.png"))[0] == 404  # unknown token
            assert (await get(f"{base}/"))[0] in (404, 405)  # nothing is listed
            clock.now += timedelta(hours=1, minutes=1)
            assert (await get(photo.photo))[0] == 404  # expired


async def test_without_a_public_address_the_text_and_no_photo(settings, clock):
    async with FakeZalo.running(token=ZALO_TOKEN) as fake, \
            running_bot(settings, clock, **overrides(fake, public=False)) as (app, _server):
        chair = await linked_chair(app, fake)
        new = await chair.says("/thongke", **SLOW)
        assert fake.count("sendPhoto") == 0
        assert any("7 ngày qua" in (m.text or "") for m in new)


async def test_when_the_photo_fails_the_text_with_the_link_goes(settings, clock):
    async with FakeZalo.running(token=ZALO_TOKEN) as fake:
        fake.fetch_photos = True
        async with running_bot(settings, clock, **overrides(fake, public=True)) as (app, _server):
            chair = await linked_chair(app, fake)
            fake.fail("sendPhoto", 400, description="Bad Request: photo url could not be fetched")
            new = await chair.says("/thongke", **SLOW)
            assert fake.count("sendPhoto", ok=False) == 1 and not [m for m in new if m.kind == "photo"]
            texts = "\n".join(m.text or "" for m in new)
            assert "7 ngày qua" in texts
