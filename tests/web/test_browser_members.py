"""The members pages and the knowledge Excel round trip in a real browser (Playwright driving Debian's Chromium)
against the whole running bot: import a roster with a bad row and see the error before anything is written,
print the linking-code sheet, export the knowledge to Excel, change an entry in the file, import it, see the
preview, apply it, and the bot answers with the new text through the fake Telegram. Screenshots go to the
test's tmp dir."""

from __future__ import annotations

import re

import openpyxl
import pytest

from locales import LOCALES_DIR, Translator
from services.roster import label
from storage.membership import MemberRepository
from tests.e2e.conftest import TELEGRAM_TOKEN, code_for, console_overrides, free_port, running_bot
from tests.fakes.telegram_server import FakeTelegram
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")
T = Translator(LOCALES_DIR / "web")


async def test_roster_codes_and_knowledge_excel_in_a_browser(settings, clock, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    port = free_port()
    async with FakeTelegram.running(token=TELEGRAM_TOKEN) as fake, \
            running_bot(settings, clock, **console_overrides(fake, port),
                        telegram_username="union_test_bot") as (app, _server):
        chair, member = fake.user(701, first_name="Hà"), fake.user(702, first_name="An")
        await chair.says(f"/lienket {await code_for(app, 'NTL-0001')}")
        await member.says(f"/lienket {await code_for(app, 'NTL-0103')}")
        await chair.says("/web")
        link = re.search(r"http://127\.0\.0\.1:\d+/web/login/[A-Za-z0-9_-]+", chair.last_reply).group(0)

        async with playwright_api.async_playwright() as pw:
            browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            try:
                page = await browser.new_page(viewport={"width": 1200, "height": 900}, locale="vi-VN",
                                              accept_downloads=True)
                await page.goto(link)
                await page.click("#signin")
                await page.wait_for_url("**/web/knowledge")

                # the unit tree, then a grassroots union's members
                await page.click("nav >> text=Đoàn viên")
                await page.wait_for_url("**/web/members")
                assert await page.locator("#units tbody tr").count() >= 5
                await page.screenshot(path=tmp_path / "members-tree.png", full_page=True)
                await page.click("#units >> text=Công đoàn Công ty Cổ phần Fecon")
                await page.wait_for_url("**/web/members/NTL-FECON")
                await page.screenshot(path=tmp_path / "members-unit.png", full_page=True)

                # a roster with a bad row: the error is shown, nothing is written
                head = ";".join(label(n) for n in ("member_code", "full_name", "phone"))
                csv = f"{head}\nNTL-0911;Lưu Văn Mới;0912345678\nNTL-0912;;0912345679\n".encode("utf-8-sig")
                await page.set_input_files("#roster-file", files=[
                    {"name": "danh-sach.csv", "mimeType": "text/csv", "buffer": csv}])
                await page.click("#check")
                await page.wait_for_selector("#roster-errors")
                assert re.search(r"\b3\b", await page.inner_text("#roster-errors"))
                assert "NTL-0911" in await page.inner_text("#added")
                async with app.db.sessions() as session:
                    assert await MemberRepository(session).by_code("NTL-0911") is None
                await page.screenshot(path=tmp_path / "members-import-preview.png", full_page=True)
                await page.click("#confirm-valid")  # the chair chooses to write the valid rows only
                await page.wait_for_selector("#imported")
                await page.screenshot(path=tmp_path / "members-imported.png")
                async with app.db.sessions() as session:
                    assert (await MemberRepository(session).by_code("NTL-0911")).full_name == "Lưu Văn Mới"

                # the printable sheet of linking codes
                await page.goto(f"http://127.0.0.1:{port}/web/members/NTL-FECON")
                await page.click("#issue-codes")
                await page.wait_for_selector("#cards")
                assert await page.locator("#cards .card svg").count() >= 3
                await page.screenshot(path=tmp_path / "members-codes.png", full_page=True)
                await page.emulate_media(media="print")
                assert not await page.locator("header").is_visible()
                await page.screenshot(path=tmp_path / "members-codes-print.png", full_page=True)
                await page.emulate_media(media="screen")

                # knowledge: Excel out, one summary changed, Excel in, the preview, apply, the bot's answer
                await page.goto(f"http://127.0.0.1:{port}/web/knowledge-excel")
                await page.screenshot(path=tmp_path / "knowledge-excel.png")
                async with page.expect_download() as download:
                    await page.click("#kbx-export")
                path = tmp_path / "kien-thuc.xlsx"
                await (await download.value).save_as(path)
                book = openpyxl.load_workbook(path)
                sheet = book.active
                summary = [c.value for c in sheet[1]].index(T("web.kb.summary")) + 1
                row = next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == "sua-ha-lan")
                new_summary = "Thỏa thuận mới qua Excel: sữa Hà Lan giảm 45% cho đoàn viên có thẻ."
                sheet.cell(row, summary).value = new_summary
                book.save(path)
                await page.set_input_files("#kbx-file", path)
                await page.click("#kbx-check")
                await page.wait_for_selector("#kbx-nothing-written")
                assert new_summary in await page.inner_text("#kbx-changes")
                await page.screenshot(path=tmp_path / "knowledge-excel-preview.png", full_page=True)
                await member.says("sữa hà lan")
                assert new_summary not in member.last_reply  # the preview changed nothing
                await page.click("#kbx-apply")
                await page.wait_for_selector("#kbx-applied")
                await page.screenshot(path=tmp_path / "knowledge-excel-applied.png")
                await member.says("sữa hà lan")
                assert new_summary in member.last_reply  # the running bot, through Telegram, no restart
            finally:
                await browser.close()
    assert (tmp_path / "members-codes.png").stat().st_size > 10_000
