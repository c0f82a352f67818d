"""Source documents in the console: an upload is read and stored as ``unionbot kb ingest`` does (all or nothing,
idempotent by content, bad files named), listed with its passages, and the running bot answers from it at once;
a delete (after a confirmation page) takes it away again."""

from __future__ import annotations

import aiohttp

from storage.documents import DocumentRepository
from tests.conftest import needs_extra

#: invented here (never copied from the seed articles): a fact the bot cannot know before the upload
ARTICLE = """Công đoàn Fecon tổ chức giải bóng bàn năm 2026

Ngày 3/3/2026

Năm 2026, Công đoàn Fecon tổ chức giải bóng bàn cho 173 đoàn viên tại nhà văn hóa phường Mỹ Đình.
Giải bóng bàn năm 2026 của Công đoàn Fecon có tổng giải thưởng 47 triệu đồng.
"""
QUESTION = "Công đoàn Fecon tổ chức giải bóng bàn cho bao nhiêu đoàn viên?"


async def upload(browser, name: str, data: bytes) -> tuple[int, str]:
    form = aiohttp.FormData()
    form.add_field("csrf", browser.csrf)
    form.add_field("file", data, filename=name, content_type="application/octet-stream")
    async with browser.http.post("/web/documents", data=form, allow_redirects=False) as response:
        text = await response.text()
        return response.status, response.headers.get("Location", "") if response.status == 303 else text


async def stored(app) -> list:
    async with app.db.sessions() as session:
        return [(d.title, d.passages) for d in await DocumentRepository(session).documents()]


async def test_an_upload_is_listed_with_its_passages_and_the_bot_answers_from_it(console, member):
    assert "173" not in await member.says(QUESTION)
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    status, location = await upload(admin, "giai-bong-ban.txt", ARTICLE.encode())
    assert status == 303 and location.startswith("/web/documents/"), location
    assert "173" in await member.says(QUESTION)  # the same running bot, no restart

    status, page = await admin.get(location)
    assert status == 200 and "Công đoàn Fecon tổ chức giải bóng bàn năm 2026" in page
    assert "tổng giải thưởng 47 triệu đồng" in page  # a passage
    status, listing = await admin.get("/web/documents")
    assert "giai-bong-ban.txt" in listing and "web:DEMO-ADMIN" in listing and "03/03/2026" in listing

    # the same content again changes nothing
    status, page = await upload(admin, "giai-bong-ban.txt", ARTICLE.encode())
    assert status == 200 and "không thay đổi" in page
    assert len(await stored(console.app)) == 1

    document_id = location.rsplit("/", 1)[1].split("?")[0]
    status, page = await admin.get(f"/web/documents/{document_id}/delete")
    assert status == 200 and "Gỡ hẳn tài liệu" in page
    assert await stored(console.app) != []  # the confirmation page removes nothing
    status, _ = await admin.post(f"/web/documents/{document_id}/delete")
    assert status == 303
    assert await stored(console.app) == []
    assert "173" not in await member.says(QUESTION)


@needs_extra("documents")  # without it a .docx is refused for the missing extra before it is opened
async def test_bad_files_are_named_with_a_clear_error_and_nothing_is_stored(console):
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    cases = {"bang-luong.xlsx": b"PK\x03\x04 not a document", "hop-dong.docx": b"this is not a zip file",
             "trong.txt": b"", "nhi-phan.txt": bytes(range(256)) * 8}
    reasons = {"bang-luong.xlsx": "không được hỗ trợ", "hop-dong.docx": "không phải tệp .docx hợp lệ",
               "trong.txt": "tệp rỗng", "nhi-phan.txt": "không phải văn bản"}
    for name, data in cases.items():
        status, page = await upload(admin, name, data)
        assert status == 422, name
        assert name in page and reasons[name] in page, name
        assert "/tmp" not in page and "unionbot-upload" not in page  # no server path in the message
    assert await stored(console.app) == []


async def test_a_file_over_the_limit_gets_a_vietnamese_error(console):
    console.app.settings = console.app.settings.replace(document_max_mb=0.001)  # about 1 KB
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    status, page = await upload(admin, "dai.txt", ("Một câu dài về công đoàn. " * 200).encode())
    assert status == 422 and "tệp quá lớn" in page and "dai.txt" in page
    assert await stored(console.app) == []


async def test_chairs_read_documents_and_only_admins_change_them(console):
    chair = await console.signed_in("NTL-0001")
    status, page = await chair.get("/web/documents")
    assert status == 200 and 'id="upload"' not in page
    status, _ = await upload(chair, "giai-bong-ban.txt", ARTICLE.encode())
    assert status == 403
    assert await stored(console.app) == []


async def test_a_body_over_the_servers_limit_gets_a_vietnamese_page(console):
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    status, page = await upload(admin, "rat-lon.txt", b"a" * (1024 * 1024 + 10))  # the test server's 1 MB
    assert status == 413 and "Tệp quá lớn" in page
    assert await stored(console.app) == []


#: invented here, as ARTICLE: one fact in a Word file, one in a PDF
DOCX_LINES = ["Công đoàn Fecon tổ chức giải cờ vua năm 2026", "Ngày 9/4/2026",
              "Năm 2026, Công đoàn Fecon tổ chức giải cờ vua cho 58 đoàn viên tại hội trường công ty.",
              "Giải cờ vua năm 2026 của Công đoàn Fecon kéo dài ba ngày cuối tuần."]
DOCX_QUESTION = "Công đoàn Fecon tổ chức giải cờ vua cho bao nhiêu đoàn viên?"
PDF_LINES = ["Công đoàn Fecon trao học bổng năm 2026", "Ngày 12/5/2026",
             "Năm 2026, Công đoàn Fecon trao 29 suất học bổng cho con đoàn viên học giỏi.",
             "Mỗi suất học bổng của Công đoàn Fecon năm 2026 trị giá 1,5 triệu đồng."]
PDF_QUESTION = "Công đoàn Fecon trao bao nhiêu suất học bổng cho con đoàn viên?"


def docx_bytes(lines: list[str]) -> bytes:
    import io

    import docx

    document = docx.Document()
    document.add_heading(lines[0], level=1)
    for line in lines[1:]:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@needs_extra("documents")
async def test_a_docx_and_a_pdf_upload_are_read_listed_and_answered_from(console, member, tmp_path):
    from tests.integration.test_documents import _pdf

    assert "58" not in await member.says(DOCX_QUESTION) and "29" not in await member.says(PDF_QUESTION)
    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    files = {"giai-co-vua.docx": docx_bytes(DOCX_LINES),
             "hoc-bong.pdf": _pdf(tmp_path / "hoc-bong.pdf", PDF_LINES).read_bytes()}
    for name, data in files.items():
        status, location = await upload(admin, name, data)
        assert status == 303 and location.startswith("/web/documents/"), (name, location)
        status, page = await admin.get(location)
        lines = DOCX_LINES if name.endswith(".docx") else PDF_LINES
        assert status == 200 and lines[0] in page and lines[3] in page, name  # its title and a passage
    _, listing = await admin.get("/web/documents")
    assert "giai-co-vua.docx" in listing and "hoc-bong.pdf" in listing
    assert "09/04/2026" in listing and "12/05/2026" in listing  # the dates read from the files
    assert "58" in await member.says(DOCX_QUESTION)  # the running bot answers from both, no restart
    assert "29" in await member.says(PDF_QUESTION)


@needs_extra("documents")
async def test_a_bad_pdf_gets_its_vietnamese_error_on_the_page_and_nothing_is_stored(console, tmp_path):
    from tests.integration.test_documents import _pdf

    admin = await console.signed_in("DEMO-ADMIN")
    await admin.get("/web/documents")
    cases = {"hong.pdf": (b"%PDF-1.4\nthis is not really a PDF", "không đọc được tệp PDF (tệp bị hỏng)"),
             "ban-scan.pdf": (_pdf(tmp_path / "scan.pdf", None).read_bytes(), "tệp PDF không có chữ (bản scan/ảnh)"),
             "mat-khau.pdf": (_pdf(tmp_path / "khoa.pdf", PDF_LINES, password="bi-mat").read_bytes(),
                              "tệp PDF được đặt mật khẩu")}
    for name, (data, reason) in cases.items():
        status, page = await upload(admin, name, data)
        assert status == 422, name
        assert 'id="error"' in page, name
        error = page.split('id="error">')[1].split("</div>")[0]  # the message shown on the page
        assert name in error and reason in error, (name, error)
    assert await stored(console.app) == []
