"""Documents, unanswered questions and statistics in a real browser (Playwright driving Debian's Chromium) against
the whole running bot behind the fake Telegram: upload a document and see its passages, then the bot answers from
it; attach an unanswered question to an entry and the bot answers it; the statistics page shows its charts.
Screenshots go to the test's tmp dir."""

from __future__ import annotations

import re

import pytest

from tests.e2e.conftest import TELEGRAM_TOKEN, code_for, console_overrides, free_port, running_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.web.test_browser import CHROMIUM, signed_in_page
from tests.web.test_documents_console import ARTICLE, QUESTION
from tests.web.test_unanswered_console import ASKED

#: a question of a JW Marriott member the bot cannot answer: their chair's list, not Fecon's chairs'
SIBLING_ASKED = "giờ mở cửa phòng gym khách sạn cho công nhân"

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")


async def test_documents_unanswered_and_statistics_in_a_browser(settings, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    port = free_port()
    article = tmp_path / "giai-bong-ban-fecon.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake, \
            running_bot(settings, clock, **console_overrides(fake, port)) as (app, _server):
        admin, member = fake.user(611, first_name="Minh"), fake.user(612, first_name="An")
        await admin.says(f"/lienket {await code_for(app, 'DEMO-ADMIN')}")
        await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
        await member.says(QUESTION)
        assert "173" not in member.last_reply
        for text in (*ASKED, ASKED[0]):
            await member.says(text)
        fallback = member.last_reply
        sibling_chair, sibling_member = fake.user(613, first_name="Lan"), fake.user(614, first_name="Huy")
        await sibling_chair.says(f"/lienket {await code_for(app, 'NTL-0201')}")  # JW Marriott, Fecon's sibling
        await sibling_member.says(f"/lienket {await code_for(app, 'NTL-0202')}")
        await sibling_member.says(SIBLING_ASKED)
        await admin.says("/web")
        link = re.search(r"http://127\.0\.0\.1:\d+/web/login/[A-Za-z0-9_-]+", admin.last_reply).group(0)
        await sibling_chair.says("/web")
        sibling_link = re.search(r"http://127\.0\.0\.1:\d+/web/login/[A-Za-z0-9_-]+",
                                 sibling_chair.last_reply).group(0)

        async with playwright_api.async_playwright() as pw:
            browser, page = await signed_in_page(pw, link)
            try:

                # documents: upload, see the passages, the bot answers from them
                await page.click("nav >> text=Tài liệu")
                await page.set_input_files("#file", str(article))
                await page.click("#send")
                await page.wait_for_url(re.compile(r".*/web/documents/\d+\?done=added"))
                assert "173 đoàn viên" in await page.inner_text("#passages")
                await page.screenshot(path=tmp_path / "documents.png", full_page=True)
                await member.says(QUESTION)
                assert "173" in member.last_reply  # the running bot, through Telegram, no restart
                await page.goto(f"http://127.0.0.1:{port}/web/documents")
                assert "giai-bong-ban-fecon.txt" in await page.inner_text("#documents")

                # unanswered questions: attach the group to an entry, the bot answers with it
                await page.click("nav >> text=Câu hỏi chưa trả lời")
                group = page.locator("tr.group", has_text=ASKED[0]).first
                assert "3" in await group.locator("td").nth(1).inner_text()
                assert SIBLING_ASKED in await page.inner_text("main")  # an admin sees every unit's
                await page.screenshot(path=tmp_path / "unanswered.png", full_page=True)

                # the sibling union's chair, in a browser of their own: their members' question only
                other = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="vi-VN")
                await other.goto(sibling_link)
                await other.click("#signin")
                await other.wait_for_url("**/web/knowledge")
                await other.click("nav >> text=Câu hỏi chưa trả lời")
                listed = await other.inner_text("main")
                assert SIBLING_ASKED in listed and ASKED[0] not in listed and ASKED[2] not in listed
                await other.screenshot(path=tmp_path / "unanswered-sibling-chair.png", full_page=True)
                await other.close()
                await group.locator("select[name=entry]").select_option("kim-sang-gao")
                await group.locator("form.attach button").click()
                await page.wait_for_selector("#done")
                assert "Gạo sạch Kim Sáng" in await page.inner_text("#done")
                await member.says(ASKED[0])
                assert member.last_reply != fallback and "Kim Sáng" in member.last_reply

                # statistics: every chart is drawn
                await app.core.questions.flush()
                await page.click("nav >> text=Thống kê")
                await page.select_option("#days", "7")
                await page.click("form.bar button")
                await page.wait_for_url("**/web/stats?days=7")
                images = page.locator("#charts img")
                assert await images.count() == 7
                await page.wait_for_function(
                    "() => [...document.querySelectorAll('#charts img')].every(i => i.complete)")
                widths = await page.eval_on_selector_all("#charts img", "els => els.map(e => e.naturalWidth)")
                assert all(w > 100 for w in widths), widths
                assert "câu hỏi" in await page.inner_text("#totals")
                await page.screenshot(path=tmp_path / "stats.png", full_page=True)
            finally:
                await browser.close()
    for name in ("documents", "unanswered", "unanswered-sibling-chair", "stats"):
        assert (tmp_path / f"{name}.png").stat().st_size > 10_000
