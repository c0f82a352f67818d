"""Members in the console: the chair's unit tree, a roster import that shows every bad row and every change
before anything is written, the export that imports back, and the printable linking-code sheet whose QR codes
open the bot with the code filled in (``/start <code>`` links the account)."""

from __future__ import annotations

import html
import io
import re

import aiohttp
import openpyxl
import pytest

from handlers.types import Incoming
from services.roster import label
from storage.membership import MemberRepository


@pytest.fixture
def settings(settings):
    return settings.replace(telegram_username="union_test_bot")


def roster_csv(*rows: str) -> bytes:
    head = ";".join(label(n) for n in ("member_code", "full_name", "unit_code", "phone"))
    return "\n".join([head, *rows, ""]).encode("utf-8-sig")


async def upload(browser, unit: str, name: str, data: bytes) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", browser.csrf)
    form.add_field("file", data, filename=name, content_type="text/csv")
    async with browser.http.post(f"/web/members/{unit}/import", data=form, allow_redirects=False) as response:
        return response.status, await response.text()


async def member_names(app) -> dict[str, str]:
    async with app.db.sessions() as session:
        return {m.member_code: m.full_name for m in await MemberRepository(session).in_subtree(
            (await MemberRepository(session).by_code("NTL-0101")).unit)}


def hidden(page: str) -> dict[str, str]:
    return {k: html.unescape(v) for k, v in re.findall(r'type="hidden" name="(\w+)" value="([^"]*)"', page)}


async def test_the_tree_is_the_chairs_subtree(console):
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.get("/web/members")
    assert status == 200
    assert "/web/members/NTL-FECON-T1" in page and "/web/members/NTL-FECON" in page
    assert "NTL-JWM" not in page and "/web/members/NTL\"" not in page
    status, _ = await chair.get("/web/members/NTL-JWM")
    assert status == 403


async def test_a_bad_row_is_shown_before_anything_is_written(console):
    chair = await console.signed_in("NTL-0101")
    before = await member_names(console.app)
    changed_name = "Lê Văn Bình Mới"
    data = roster_csv("NTL-0901;Trần Văn Mới;NTL-FECON;0912345678",
                      "NTL-0902;;NTL-FECON;0912345679",  # row 3: no name
                      f"NTL-0101;{changed_name};NTL-FECON;0900000101")
    status, page = await upload(chair, "NTL-FECON", "ds.csv", data)
    assert status == 200
    assert await member_names(console.app) == before  # the preview wrote nothing
    errors = page.split('id="roster-errors"')[1].split("</div>")[0]
    assert re.search(r"\b3\b", errors) and html.escape(label("full_name")) in errors
    assert "NTL-0901" in page.split('id="added"')[1].split("</table>")[0]
    assert html.escape(label("full_name")) in page.split('id="changed"')[1].split("</table>")[0]
    assert 'id="confirm"' not in page  # a file with a bad row: only "the valid rows", said so

    carried = hidden(page)
    status, page = await chair.post("/web/members/NTL-FECON/import", {**carried, "valid_only": ""})
    assert status == 200 and await member_names(console.app) == before  # without valid_only: refused
    status, page = await chair.post("/web/members/NTL-FECON/import", carried)
    assert status == 200 and 'id="imported"' in page
    after = await member_names(console.app)
    assert after["NTL-0901"] == "Trần Văn Mới" and after["NTL-0101"] == changed_name and "NTL-0902" not in after


async def test_a_good_file_is_written_on_confirm_and_the_export_imports_back(console):
    chair = await console.signed_in("NTL-0101")
    status, page = await upload(chair, "NTL-FECON", "ds.csv", roster_csv("NTL-0903;Đỗ Thị Thử;NTL-FECON-T1;"))
    assert status == 200 and "roster-errors" not in page and 'id="confirm"' in page
    status, page = await chair.post("/web/members/NTL-FECON/import", hidden(page))
    assert status == 200 and (await member_names(console.app))["NTL-0903"] == "Đỗ Thị Thử"

    async with chair.http.get("/web/members/NTL-FECON/export") as response:
        assert response.status == 200
        body = await response.read()
    sheet = openpyxl.load_workbook(io.BytesIO(body)).active
    codes = [row[0] for row in sheet.iter_rows(min_row=2, values_only=True)]
    assert "NTL-0903" in codes and "NTL-0101" in codes and "NTL-0201" not in codes
    form = aiohttp.FormData()
    form.add_field("csrf", chair.csrf)
    form.add_field("file", body, filename="export.xlsx")
    async with chair.http.post("/web/members/NTL-FECON/import", data=form) as response:
        page = await response.text()
    assert "roster-errors" not in page and "NTL-0903" not in page.split('id="summary"')[1].split("</p>")[0]


async def test_the_codes_sheet_links_by_its_qr_code(console):
    chair = await console.signed_in("NTL-0101")
    status, page = await chair.post("/web/members/NTL-FECON/codes", {"only_unlinked": "1"})
    assert status == 200
    cards = page.split('id="cards"')[1]
    assert cards.count("<svg") >= 3
    name, code = re.search(r'<strong>([^<]+)</strong>.*?class="code">([A-Z0-9]{4}-[A-Z0-9]{4})<', cards, re.S).groups()
    # the QR's link is t.me/<bot>?start=<code>; Telegram sends it as "/start <code>"
    replies = await console.app.core.handle(Incoming(channel="telegram", chat_id="7001", user_id="7001",
                                                     text=f"/start {code}"))
    assert replies[0].text.startswith("Đã liên kết") and html.unescape(name) in replies[0].text
    status, _ = await (await console.signed_in("NTL-0201")).post("/web/members/NTL-FECON/codes")
    assert status == 403


def modules(svg: str) -> tuple[tuple[int, ...], ...]:
    """The dark modules an inline SVG QR code draws (segno's one path of horizontal runs: ``M x y`` starts a
    row's run at x, ``h n`` draws n modules, ``m dx dy`` moves), without the quiet zone, as rows of 0/1."""
    size = int(re.search(r'width="(\d+)"', svg).group(1))
    scale = float(re.search(r'transform="scale\(([\d.]+)\)"', svg).group(1))
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for op, args in re.findall(r"([MmHh])([-\d. ]+)", re.search(r' d="([^"]+)"', svg).group(1)):
        values = [float(v) for v in args.split()]
        if op in "Mm":
            x, y = (values[0], values[1]) if op == "M" else (x + values[0], y + values[1])
        else:
            end = values[0] if op == "H" else x + values[0]
            dark.update((int(y), col) for col in range(int(x), int(end)))
            x = end
    border = min(c for _, c in dark)
    n = int(size / scale) - 2 * border
    return tuple(tuple(int((r + border, c + border) in dark) for c in range(n)) for r in range(n))


async def test_each_cards_qr_code_is_the_telegram_deep_link_with_that_members_code(console):
    """The QR code of each card encodes https://t.me/<bot>?start=<the card's code> — the modules the SVG draws
    are those of that link's QR code (at any error-correction level) — and the same link is printed beside it."""
    import segno

    chair = await console.signed_in("NTL-0101")
    status, page = await chair.post("/web/members/NTL-FECON/codes")
    assert status == 200
    cards = page.split('id="cards"')[1].split('<div class="card">')[1:]
    assert len(cards) >= 3
    seen = set()
    for card in cards:
        code = re.search(r'class="code">([A-Z0-9]{4}-[A-Z0-9]{4})<', card).group(1)
        link = f"https://t.me/union_test_bot?start={code}"
        assert f'<p class="small link">{html.escape(link)}</p>' in card
        drawn = modules(re.search(r"<svg.*?</svg>", card, re.S).group(0))
        references = {tuple(tuple(int(bool(v)) for v in row) for row in segno.make(link, error=level).matrix)
                      for level in "lmqh"}
        assert drawn in references, code
        swapped = "Y" if code.endswith("X") else "X"  # another code: one letter other than the card's last
        other = segno.make(f"https://t.me/union_test_bot?start={code[:-1]}{swapped}", error="m").matrix
        assert drawn != tuple(tuple(int(bool(v)) for v in row) for row in other)
        seen.add(code)
    assert len(seen) == len(cards)  # one code per member
