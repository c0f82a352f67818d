"""The console in a real browser (Playwright driving Debian's Chromium) against the whole running bot: sign in by
the link the bot sent through the fake Telegram, edit an entry and get the new answer from the bot without a
restart, roll it back. Screenshots go to the test's tmp dir."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from tests.e2e.conftest import TELEGRAM_TOKEN, code_for, console_overrides, free_port, running_bot
from tests.fakes.telegram_server import FakeTelegram

CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")
#: headless, and nothing the browser would fetch by itself (updates, safe browsing, field trials)
CHROMIUM_ARGS = ["--no-sandbox", "--disable-background-networking", "--disable-component-update",
                 "--disable-default-apps", "--disable-sync", "--metrics-recording-only", "--no-first-run",
                 "--disable-features=Translate,OptimizationHints,MediaRouter"]


async def signed_in_page(pw, link: str):
    """A Chromium page signed in to the console with the sign-in ``link`` a chair got in chat (on the knowledge
    list); the browser is the caller's to close."""
    browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
    try:
        page = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="vi-VN")
        await page.goto(link)
        await page.click("#signin")
        await page.wait_for_url("**/web/knowledge")
    except BaseException:
        await browser.close()
        raise
    return browser, page


async def test_sign_in_edit_and_roll_back_in_a_browser(settings, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    port = free_port()
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake, \
            running_bot(settings, clock, **console_overrides(fake, port)) as (app, _server):
        chair, member = fake.user(601, first_name="Hà"), fake.user(602, first_name="An")
        await chair.says(f"/lienket {await code_for(app, 'NTL-0001')}")
        await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
        await member.says("sữa hà lan")
        before = member.last_reply
        await chair.says("/web")
        link = re.search(r"http://127\.0\.0\.1:\d+/web/login/[A-Za-z0-9_-]+", chair.last_reply).group(0)

        async with playwright_api.async_playwright() as pw:
            browser, page = await signed_in_page(pw, link)
            try:
                assert await page.locator("#entries tbody tr").count() > 5
                await page.screenshot(path=tmp_path / "knowledge-list.png")

                await page.fill("#q", "sua ha lan")
                await page.press("#q", "Enter")
                await page.click("text=Sữa Hà Lan")
                await page.click("#edit")
                new_summary = "Thỏa thuận mới: 5 mặt hàng sữa được giảm 35% cho đoàn viên có thẻ."
                await page.fill("#summary", new_summary)
                await page.click("#save")
                await page.wait_for_url("**/web/knowledge/sua-ha-lan")
                assert new_summary in await page.inner_text("#summary")

                await member.says("sữa hà lan")
                assert new_summary in member.last_reply  # the running bot, through Telegram, no restart
                await page.click("#revisions details summary")
                await page.screenshot(path=tmp_path / "knowledge-entry.png", full_page=True)

                await page.locator("button.rollback").first.click()
                await page.wait_for_url("**/web/knowledge/sua-ha-lan")
                assert new_summary not in await page.inner_text("#summary")
                await member.says("sữa hà lan")
                assert member.last_reply == before

                await page.goto(link)  # the link was used: it signs nobody in again
                await page.click("#signin")
                assert "đã được dùng" in await page.inner_text("#message")
            finally:
                await browser.close()
    assert (tmp_path / "knowledge-list.png").stat().st_size > 10_000
