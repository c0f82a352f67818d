"""Knowledge through Excel: export the entries an officer may edit, change one and add one in the file, import
it: a preview of what changes (nothing written yet), then apply: revisions, and the bot answers with the new
text; a file with a bad row applies nothing."""

from __future__ import annotations

import base64
import html
import io
import re

import aiohttp
import openpyxl

from locales import LOCALES_DIR, Translator
from storage.knowledge import KnowledgeEditRepository, KnowledgeRepository

T = Translator(LOCALES_DIR / "web")


async def exported(browser) -> openpyxl.Workbook:
    async with browser.http.get("/web/knowledge-excel/export") as response:
        assert response.status == 200
        return openpyxl.load_workbook(io.BytesIO(await response.read()))


async def upload(browser, book: openpyxl.Workbook) -> tuple[int, str]:
    out = io.BytesIO()
    book.save(out)
    form = aiohttp.FormData()
    form.add_field("csrf", browser.csrf)
    form.add_field("file", out.getvalue(), filename="kien-thuc.xlsx")
    async with browser.http.post("/web/knowledge-excel/import", data=form) as response:
        return response.status, await response.text()


def column(sheet, name: str) -> int:
    return [c.value for c in sheet[1]].index(T(f"web.kb.{name}")) + 1


def row_of(sheet, entry_id: str) -> int:
    return next(r for r in range(2, sheet.max_row + 1) if sheet.cell(r, 1).value == entry_id)


async def entries(app) -> dict[str, str]:
    async with app.db.sessions() as session:
        return {e.id: e.summary for e in await KnowledgeRepository(session).all()}


async def test_round_trip_preview_then_apply_and_the_bot_answers(console, member):
    chair = await console.signed_in("NTL-0001")
    book = await exported(chair)
    sheet = book.active
    ids = [sheet.cell(r, 1).value for r in range(2, sheet.max_row + 1)]
    assert "sua-ha-lan" in ids and len(ids) < len(await entries(console.app))  # the chair's scope only
    new_summary = "Thỏa thuận mới qua Excel: sữa Hà Lan giảm 40% cho đoàn viên có thẻ."
    sheet.cell(row_of(sheet, "sua-ha-lan"), column(sheet, "summary")).value = new_summary
    template = [c.value for c in sheet[row_of(sheet, "sua-ha-lan")]]
    added = [*template]
    added[0], added[column(sheet, "name") - 1] = "sua-excel-moi", "Ưu đãi thử qua Excel"
    added[column(sheet, "aliases") - 1] = ""
    sheet.append(added)
    before = await entries(console.app)

    status, page = await upload(chair, book)
    assert status == 200, page
    assert await entries(console.app) == before  # the preview wrote nothing
    assert 'id="kbx-nothing-written"' in page
    table = html.unescape(page.split('id="kbx-changes"')[1].split("</table>")[0])
    assert "sua-excel-moi" in table and new_summary in table and "<strong>summary</strong>" in table
    assert len(re.findall(r'<tr class="edit">', table)) == 1  # every other row is unchanged

    carried = dict(re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page))
    status, page = await chair.post("/web/knowledge-excel/import", carried)
    assert status == 200 and 'id="kbx-applied"' in page
    after = await entries(console.app)
    assert after["sua-ha-lan"] == new_summary and "sua-excel-moi" in after
    async with console.app.db.sessions() as session:
        revision = (await KnowledgeEditRepository(session).revisions("sua-ha-lan"))[0]
    assert (revision.action, revision.actor) == ("edit", "web:NTL-0001")
    assert new_summary in await member.says("sữa hà lan")  # the running bot, no restart


async def test_a_bad_row_or_another_units_entry_applies_nothing(console):
    district = await console.signed_in("NTL-0001")
    book = await exported(district)
    sheet = book.active
    sheet.cell(row_of(sheet, "sua-ha-lan"), column(sheet, "summary")).value = "Sửa trộm."
    before = await entries(console.app)
    grassroots = await console.signed_in("NTL-0101")  # a grassroots chair: the Nam Từ Liêm entries are not theirs
    status, page = await upload(grassroots, book)
    assert status == 403 and 'id="kbx-apply"' not in page
    assert re.search(r'<tr class="error"><td>\d+</td><td>sua-ha-lan</td>', page)

    sheet.append(["uu-dai-hong", "benefit", "Thiếu ngày", "", "Tóm tắt.", "", "không phải ngày"])
    status, page = await upload(district, book)  # the district's own file, with one bad row
    assert status == 422 and 'id="kbx-apply"' not in page
    assert re.search(r'<tr class="error"><td>\d+</td><td>uu-dai-hong</td>', page)
    out = io.BytesIO()
    book.save(out)
    carried = {"content": base64.b64encode(out.getvalue()).decode(), "apply": "1"}
    status, _ = await district.post("/web/knowledge-excel/import", carried)  # applying it anyway
    assert status == 422 and await entries(console.app) == before
