"""Hardship requests and announcements in a real browser (Playwright driving Debian's Chromium) against the whole
running bot on the fake Telegram: approve a request with its confirmation and see the member told in Telegram;
compose and send an announcement and watch its page reload itself while the delivery worker sends it (partial
progress in the "sending" phase) until it has. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import asyncio
import re
import struct
import zlib

import pytest

from tests.e2e.conftest import (
    TELEGRAM_TOKEN,
    code_for,
    console_overrides,
    eventually,
    fill_hardship_on_telegram,
    free_port,
    running_bot,
)
from tests.fakes.telegram_server import FakeTelegram
from tests.web.test_browser import CHROMIUM, signed_in_page

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")
REF = re.compile(r"HT-\d{4}-\d{6}")
LINK = re.compile(r"http://127\.0\.0\.1:\d+/web/login/[A-Za-z0-9_-]+")


def png(width: int = 320, height: int = 200) -> bytes:
    """A small real image (stripes), for the photo a member sends."""
    row = b"\x00" + b"".join(bytes((40 + (x // 20) * 12 % 200, 90, 160)) for x in range(width))
    rows = row * height
    chunk = lambda kind, data: struct.pack(">I", len(data)) + kind + data + struct.pack(  # noqa: E731
        ">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


async def test_approve_a_request_with_its_photo_and_the_member_is_told(settings, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake, \
            running_bot(settings, clock, **console_overrides(fake, free_port())) as (app, _server):
        member, chair = fake.user(611, first_name="An"), fake.user(612, first_name="Bình")
        await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
        await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
        fake.photo_sizes("giay-ra-vien", png())  # the photo's bytes, before the member sends it
        await fill_hardship_on_telegram(member, amount="2 triệu", photo="giay-ra-vien")
        await member.presses("hs:submit")
        reference = REF.search(member.last_reply).group(0)
        await chair.says("/web")
        link = LINK.search(chair.last_reply).group(0)

        async with playwright_api.async_playwright() as pw:
            browser, page = await signed_in_page(pw, link)
            try:
                await page.click("nav >> text=Đề nghị hỗ trợ")
                await page.wait_for_url("**/web/requests")
                await page.select_option("#status", "submitted")
                await page.click("#filter")
                assert await page.locator("#requests tbody tr").count() == 1
                await page.screenshot(path=tmp_path / "requests-list.png", full_page=True)
                await page.click(f"text={reference}")
                assert "sốt xuất huyết" in await page.inner_text("#request")
                photo = page.locator("#photos img").first
                await photo.wait_for()
                # the picture loads after the page (through the channel's getFile): wait for it, then check it
                await page.wait_for_function("() => { const i = document.querySelector('#photos img');"
                                             " return i && i.complete && i.naturalWidth > 0; }")
                assert await photo.evaluate("img => img.naturalWidth") == 320  # via getFile
                await page.screenshot(path=tmp_path / "request.png", full_page=True)

                await page.fill("#amount", "1,5 triệu")
                await page.fill("#note", "Nhận tại văn phòng công đoàn")
                await page.click("#approve-button")
                assert "1.500.000 đ" in await page.inner_text("#confirm-amount")  # nothing decided yet
                assert not any("1.500.000" in (m["text"] or "") for m in member.replies)
                await page.screenshot(path=tmp_path / "request-confirm.png")
                await page.click("#confirm")
                await page.wait_for_url("**?done=approved")
                assert "1.500.000 đ" in await page.inner_text("#approved-amount")
                await eventually(lambda: "1.500.000 đ" in (member.last_reply or ""), timeout=15.0)  # through the outbox
                assert "Nhận tại văn phòng công đoàn" in member.last_reply
                assert await page.locator("#approve").count() == 0  # decided: no more actions
            finally:
                await browser.close()
    assert (tmp_path / "request.png").stat().st_size > 10_000


#: invented members of Fecon's first union group besides the three linked in chat; delivered at about one
#: message a second (``delivery_rate_telegram`` 2: one call a second under the window limiter), the broadcast
#: spans several of the page's reloads (every 3 s while sending)
MORE = 12


async def test_compose_send_an_announcement_and_watch_it_go_out(settings, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    from tests.e2e.test_broadcast_progress import add_members

    text = "Mời đoàn viên dự họp công đoàn lúc 15h thứ Sáu tại phòng họp tầng 2."
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake, \
            running_bot(settings, clock, **console_overrides(fake, free_port()),
                        delivery_rate_telegram=2.0) as (app, _server):
        members = [fake.user(621 + i, first_name=f"Đoàn viên {i}") for i in range(3)]
        for user, code in zip(members, ("NTL-0103", "NTL-0104", "NTL-0105"), strict=True):
            await user.says(f"/lienket {await code_for(app, code)}")
        more = [fake.user(6500 + i) for i in range(MORE)]
        await add_members(app, "telegram", TELEGRAM_TOKEN.split(":")[0], [str(u.id) for u in more])
        chair = fake.user(631, first_name="Bình")
        await chair.says(f"/lienket {await code_for(app, 'NTL-0101')}")
        await chair.says("/web")
        link = LINK.search(chair.last_reply).group(0)
        total = 4 + MORE  # three members, the chair and the invented ones, on Telegram

        async with playwright_api.async_playwright() as pw:
            browser, page = await signed_in_page(pw, link)
            try:
                await page.click("nav >> text=Thông báo")
                await page.click("#new")
                await page.fill("#text", text)
                await page.select_option("#unit", "NTL-FECON")
                await page.click("#preview")
                assert await page.inner_text("#total") == str(total)
                assert "Telegram" in await page.inner_text("#audience")
                await page.screenshot(path=tmp_path / "announcement-preview.png", full_page=True)
                await page.click("#send")
                await page.wait_for_url(re.compile(r".*/web/announcements/\d+$"))
                # what the page shows at each of its own reloads, until the delivery is over
                seen: list[tuple[str, int]] = []
                loop = asyncio.get_running_loop()
                deadline = loop.time() + 60
                while loop.time() < deadline and (not seen or seen[-1][0] != "finished"):
                    try:
                        phase = await page.get_attribute("#phase", "data-phase", timeout=2_000)
                        sent = int(await page.inner_text("#sent", timeout=2_000))
                    except playwright_api.Error:  # the page is reloading itself just now
                        continue
                    if not seen or seen[-1] != (phase, sent):
                        seen.append((phase, sent))
                        if phase == "sending" and 0 < sent < total:
                            await page.screenshot(path=tmp_path / "announcement-sending.png", full_page=True)
                    await asyncio.sleep(0.2)
                sending = [n for phase, n in seen if phase == "sending"]
                assert any(0 < n < total for n in sending), seen  # partial progress, seen while it went out
                assert len(set(sending)) >= 2 and sending == sorted(sending), seen  # rising, reload by reload
                assert seen[-1] == ("finished", total), seen
                assert await page.inner_text("#sent") == str(total)
                assert await page.locator('meta[http-equiv="refresh"]').count() == 0 and \
                    await page.locator("#cancel").count() == 0
                await page.screenshot(path=tmp_path / "announcement-report.png", full_page=True)
            finally:
                await browser.close()
        for user in [*members, *more]:
            assert any(text in (m["text"] or "") for m in user.replies)
    assert (tmp_path / "announcement-report.png").stat().st_size > 10_000
    assert (tmp_path / "announcement-sending.png").stat().st_size > 10_000
