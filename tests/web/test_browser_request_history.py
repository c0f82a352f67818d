"""A request's history in a real browser (Playwright, Debian's Chromium): who took each step; and the list's page
links past the first 50. The screenshot goes to the test's tmp dir."""

from __future__ import annotations

import pytest

from tests.web.conftest import identity_of
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_requests_console import member_chat, submitted
from tests.web.test_requests_history_paging import bulk, reviewer

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")


async def test_the_history_shows_who_acted_and_the_list_pages(console, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    app = console.app
    service = app.core.hardship.service
    an = await member_chat(app, "901", "NTL-0103")
    request = await submitted(app, an)
    assert (await service.decide(await reviewer(app, "NTL-0101"), request.id, "ask_info", "Xin giấy ra viện")).ok
    assert (await service.forward(await reviewer(app, "NTL-0102"), request.id)).ok
    await bulk(app, 60)  # two pages
    token = await console.console.access.issue_link(await identity_of(app, "NTL-0001"))

    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="vi-VN")
            await page.goto(f"{console.url.rstrip('/')}/web/login/{token}")
            await page.click("#signin")
            await page.wait_for_url("**/web/knowledge")
            await page.goto(f"{console.url.rstrip('/')}/web/requests?category=illness")
            assert "61 đề nghị" in await page.inner_text("#count")
            await page.click("#next")
            await page.wait_for_url("**page=2**")
            assert "category=illness" in page.url
            await page.click(f"text={request.reference}")  # the oldest: on the last page
            history = page.locator("#history li")
            assert await history.count() == 3
            assert "đoàn viên" in await history.nth(0).inner_text()
            assert "Lê Văn Bình (demo) (NTL-0101), chủ tịch" in await history.nth(1).inner_text()
            assert "Đỗ Thị Mai (demo) (NTL-0102), phó chủ tịch" in await history.nth(2).inner_text()
            await page.screenshot(path=tmp_path / "request-history.png", full_page=True)
        finally:
            await browser.close()
    assert (tmp_path / "request-history.png").stat().st_size > 10_000
