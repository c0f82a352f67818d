"""Every console page at a phone's width (390 px) in a real browser (Playwright driving Debian's Chromium): nothing
is wider than the screen (``scrollWidth <= 390``): long questions and file names wrap, action cells and tables fit
or scroll inside their own box, inputs and charts shrink to the card. A user trial found six pages 479-765 px wide.
Screenshots go to the test's tmp dir."""

from __future__ import annotations

import re

import pytest

from tests.web.conftest import identity_of
from tests.web.test_announcements_console import composed
from tests.web.test_browser import CHROMIUM, CHROMIUM_ARGS
from tests.web.test_documents_console import ARTICLE, upload
from tests.web.test_requests_console import member_chat, submitted
from tests.web.test_unanswered_console import ASKED

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="no Chromium: apt-get install -y chromium (.ci/run does)")

WIDTH = 390
#: a file name with no place to break, as office files are often named
LONG_NAME = "bien-ban-hop-ban-chap-hanh-cong-doan-co-so-cong-ty-co-phan-fecon-quy-I-nam-2026-ban-chinh-thuc.txt"
#: a question with a long unbroken word (a pasted link), as members type them
LONG_QUESTION = "cho hỏi trang https://congdoan.example.vn/uu-dai-doan-vien-2026-danh-sach-doi-tac có còn không"


async def world(console) -> dict[str, str]:
    """Data on every list: unanswered questions, a document with a long name, a request, a scheduled
    announcement; the paths of the pages that show one of each."""
    app = console.app
    member = await member_chat(app, "901", "NTL-0103")
    for text in (*ASKED, LONG_QUESTION):
        await member.says(text)
    await app.core.unanswered.flush()
    await app.core.questions.flush()
    request = await submitted(app, member)
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    status, document = await upload(admin, LONG_NAME, ARTICLE.encode())
    assert status == 303, document
    chair = await console.signed_in("NTL-0101")
    draft = await composed(chair)
    status, announcement = await chair.post("/web/announcements/send", {
        "text": "Họp ban chấp hành chiều thứ Sáu tại hội trường tầng 3.", "unit": "NTL-FECON", "when": "",
        "draft_id": draft})
    assert status == 303, announcement
    return {"document": document.split("?")[0], "request": f"/web/requests/{request.id}",
            "announcement": announcement}


PAGES = ["/web/knowledge", "/web/knowledge/sua-ha-lan", "/web/knowledge/sua-ha-lan/edit", "/web/knowledge/new",
         "/web/knowledge-excel", "/web/members", "/web/members/NTL-FECON", "/web/preview", "/web/requests",
         "{request}", "/web/announcements", "/web/announcements/new", "{announcement}", "/web/documents",
         "{document}", "/web/unanswered", "/web/stats?days=7", "/web/sessions"]


async def test_every_page_fits_a_phone_screen(console, tmp_path):
    playwright_api = pytest.importorskip("playwright.async_api", reason="playwright is not installed")
    paths = await world(console)
    token = await console.console.access.issue_link(await identity_of(console.app, "DEMO-ADMIN"))
    base = console.url.rstrip("/")
    async with playwright_api.async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = await browser.new_page(viewport={"width": WIDTH, "height": 844}, locale="vi-VN")
            await page.goto(f"{base}/web/login/{token}")
            await page.click("#signin")
            await page.wait_for_url("**/web/knowledge")
            too_wide = {}
            for path in (p.format(**paths) for p in PAGES):
                response = await page.goto(base + path)
                assert response is not None and response.status == 200, path
                await page.wait_for_load_state("load")  # the charts' pictures are in: their width counts
                width = await page.evaluate("document.documentElement.scrollWidth")
                name = re.sub(r"[^a-z0-9]+", "-", path.removeprefix("/web/")).strip("-")
                await page.screenshot(path=tmp_path / f"{name}.png", full_page=True)
                if width > WIDTH:
                    too_wide[path] = width
            # the kind's own block is typed in the body's font (a monospace one misplaced Vietnamese marks)
            await page.goto(f"{base}/web/knowledge/sua-ha-lan/edit")
            fonts = await page.evaluate("() => [document.body, document.querySelector('textarea[name=block]')]"
                                        ".map(e => getComputedStyle(e).fontFamily)")
            assert fonts[0] == fonts[1], fonts
            assert too_wide == {}, f"wider than {WIDTH} px: {too_wide} (screenshots in {tmp_path})"
        finally:
            await browser.close()
