"""Source documents as knowledge: reading every format, refusing bad files, storing passages all or nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from bot.app import build_app
from services.documents import DocumentError, ingest, read_document, split_sentences
from storage import migrate
from storage.db import Database
from storage.documents import DocumentRepository
from storage.models import DocumentRow, PassageRow
from tests.integration.conftest import SEEDS, needs_seeds

ROOT = Path(__file__).resolve().parents[2]
#: the seed articles live beside the checkout, never in it (their sentences are not ours to ship)

ARTICLE = """-->
Công đoàn quận Thanh Xuân:

Chăm lo Tết cho đoàn viên năm 2023

08:30 | 12/01/2023
(LĐTĐ) Sáng nay (12/1), LĐLĐ quận Thanh Xuân trao 1.500 suất quà cho đoàn viên. Mỗi suất trị giá 500.000 đồng.
Tin khác cùng chuyên mục

Chủ tịch LĐLĐ quận Nguyễn Văn Bình cho biết: quỹ chăm lo đạt 2,5 tỷ đồng! TP. Hà Nội hỗ trợ thêm 19.7 triệu đồng.
"""


@pytest.fixture
async def db(database_url):
    database = Database(database_url)
    await migrate.upgrade(database)
    yield database
    await database.dispose()


async def _counts(db: Database) -> tuple[int, int]:
    async with db.sessions() as session:
        documents = await session.scalar(select(func.count()).select_from(DocumentRow))
        passages = await session.scalar(select(func.count()).select_from(PassageRow))
    return int(documents or 0), int(passages or 0)


def _texts(parsed) -> list[str]:
    return [s for p in parsed.paragraphs for s in p]


# --- sentences ---------------------------------------------------------------------------------------------


def test_sentences_split_on_final_marks_before_a_capital_or_a_digit():
    assert split_sentences("Hội nghị kết thúc. Các đơn vị ký giao ước! Ai dự? 20 người… Đúng vậy.") == [
        "Hội nghị kết thúc.", "Các đơn vị ký giao ước!", "Ai dự?", "20 người…", "Đúng vậy."]


def test_sentences_do_not_split_numbers_abbreviations_or_lowercase_continuations():
    text = ("Quỹ đạt 1.500.000 đồng, tăng 19.7 điểm. TP. Hà Nội và Q. Ba Đình dự. TS. Lan, ThS. Minh, PGS. Hùng "
            "phát biểu về nhà ở, việc làm v.v. Các đơn vị khác... và nhiều người nữa. Ông Nguyễn V. An nói: “Tốt.” "
            "Ăn Tết.")
    assert split_sentences(text) == [
        "Quỹ đạt 1.500.000 đồng, tăng 19.7 điểm.",
        "TP. Hà Nội và Q. Ba Đình dự.",
        "TS. Lan, ThS. Minh, PGS. Hùng phát biểu về nhà ở, việc làm v.v. Các đơn vị khác... và nhiều người nữa.",
        "Ông Nguyễn V. An nói: “Tốt.”",
        "Ăn Tết.",
    ]


# --- formats -----------------------------------------------------------------------------------------------


def test_txt_article_title_date_and_passages(tmp_path):
    path = tmp_path / "bai-viet.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    parsed = read_document(path)
    assert parsed.title == "Công đoàn quận Thanh Xuân: Chăm lo Tết cho đoàn viên năm 2023"
    assert parsed.published == date(2023, 1, 12)
    assert parsed.origin == str(path)
    assert parsed.paragraphs[0] == (
        "(LĐTĐ) Sáng nay (12/1), LĐLĐ quận Thanh Xuân trao 1.500 suất quà cho đoàn viên.",
        "Mỗi suất trị giá 500.000 đồng.")
    texts = _texts(parsed)
    assert "Tin khác cùng chuyên mục" in texts  # a sidebar line stays a passage (it does no harm to retrieval)
    assert "TP. Hà Nội hỗ trợ thêm 19.7 triệu đồng." in texts
    assert not any("-->" in t or "08:30" in t for t in texts)
    assert len(parsed.content_hash) == 64


def test_a_text_without_headline_is_named_by_its_first_sentence_and_keeps_it(tmp_path):
    path = tmp_path / "ghi-chu.txt"
    first = "Ngày 3/3/2024, công đoàn cơ sở tổ chức " + "hội thao cho đoàn viên và người lao động, " * 3 + "vui."
    second = "Có 200 người dự, trong đó có nhiều công nhân ở các tổ sản xuất."
    path.write_text(f"{first} {second}\nGiải nhất thuộc về tổ Cơ khí.\n", encoding="utf-8")
    parsed = read_document(path)
    assert parsed.title == first and parsed.published == date(2024, 3, 3)
    assert parsed.paragraphs == ((first, second), ("Giải nhất thuộc về tổ Cơ khí.",))


@pytest.mark.parametrize(("line", "expected"), [
    ("Hà Nội, ngày 19 tháng 7 năm 2022", date(2022, 7, 19)),
    ("Cập nhật ngày 5/9/2021 lúc 10:00", date(2021, 9, 5)),
    ("2020-12-31", date(2020, 12, 31)),
    ("Sáng nay (19/7), hội nghị sơ kết 6 tháng đầu năm 2022 diễn ra", date(2022, 7, 19)),
    ("Không có ngày nào ở đây", None),
])
def test_dates_near_the_top(tmp_path, line, expected):
    path = tmp_path / "a.txt"
    path.write_text(f"Tiêu đề bài viết\n{line}\nNội dung chính của bài. Câu thứ hai.\n", encoding="utf-8")
    assert read_document(path).published == expected


def test_markdown(tmp_path):
    path = tmp_path / "huong-dan.md"
    path.write_text("# Hướng dẫn vay vốn\n\nĐoàn viên được vay **tối đa 50 triệu** đồng. Thời hạn\nlà 36 tháng.\n\n"
                    "- Điều kiện: có [hợp đồng lao động](http://x.vn) từ 1 năm.\n", encoding="utf-8")
    parsed = read_document(path)
    assert parsed.title == "Hướng dẫn vay vốn"
    assert parsed.paragraphs == (("Đoàn viên được vay tối đa 50 triệu đồng.", "Thời hạn là 36 tháng."),
                                 ("Điều kiện: có hợp đồng lao động từ 1 năm.",))


def test_docx(tmp_path):
    import docx

    document = docx.Document()
    document.add_heading("Thỏa ước lao động tập thể năm 2024", level=1)
    document.add_paragraph("Ngày 15/3/2024, Công đoàn cơ sở ký thỏa ước với doanh nghiệp. Lương tăng 7%.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Phụ cấp ăn trưa", "30.000 đồng mỗi ngày"
    path = tmp_path / "thoa-uoc.docx"
    document.save(str(path))
    parsed = read_document(path)
    assert parsed.title == "Thỏa ước lao động tập thể năm 2024"
    assert parsed.published == date(2024, 3, 15)
    assert parsed.paragraphs[0] == ("Ngày 15/3/2024, Công đoàn cơ sở ký thỏa ước với doanh nghiệp.", "Lương tăng 7%.")
    assert ("Phụ cấp ăn trưa | 30.000 đồng mỗi ngày",) in parsed.paragraphs


def _font() -> Path | None:
    for candidate in ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                      "/usr/share/fonts/TTF/DejaVuSans.ttf", "/Library/Fonts/Arial Unicode.ttf"):
        if Path(candidate).is_file():
            return Path(candidate)
    return None


def _pdf(path: Path, lines: list[str] | None, *, password: str | None = None) -> Path:
    """A PDF written by fpdf2: the lines as text (a Unicode font when the machine has one), or no text at all."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    if lines is not None:
        font = _font()
        if font:
            pdf.add_font("Body", fname=str(font))
            pdf.set_font("Body", size=12)
        else:  # pragma: no cover - ASCII-folded text with a standard font
            from nlu.normalize import fold

            pdf.set_font("Helvetica", size=12)
            lines = [fold(line) for line in lines]
        for line in lines:
            pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    else:
        pdf.rect(20, 20, 80, 40, style="F")  # a drawing, as a scanned page: no text
    pdf.output(str(path))
    if password:
        from pypdf import PdfReader, PdfWriter

        writer = PdfWriter(clone_from=PdfReader(str(path)))
        writer.encrypt(user_password=password, owner_password=password, algorithm="RC4-128")
        with path.open("wb") as out:
            writer.write(out)
    return path


def test_pdf(tmp_path):
    path = _pdf(tmp_path / "bao-cao.pdf", [
        "Báo cáo công đoàn quận Cầu Giấy",
        "Năm 2023, Liên đoàn Lao động quận đã thăm hỏi 320 đoàn viên có hoàn cảnh khó khăn với tổng số tiền "
        "hơn 640 triệu đồng, trong đó có nhiều gia đình công nhân ở trọ. Các công đoàn cơ sở phối hợp tốt.",
        "Kết quả năm 2024",
        "Tăng 10 phần trăm so với năm trước đó.",
    ])
    parsed = read_document(path)
    assert parsed.title in ("Báo cáo công đoàn quận Cầu Giấy", "Bao cao cong doan quan Cau Giay")
    first, heading, last = parsed.paragraphs  # the wrapped lines of the paragraph are joined again
    assert len(first) == 2 and "320" in first[0] and "640" in first[0] and first[0].endswith(("ở trọ.", "o tro."))
    assert len(heading) == 1 and heading[0].endswith("2024") and last[0].startswith(("Tăng 10", "Tang 10"))


def test_text_saved_as_utf16_and_html_in_a_declared_charset(tmp_path):
    utf16 = tmp_path / "notepad.txt"
    utf16.write_bytes("Thông báo\nĐoàn viên nghỉ ngày 2/9.\n".encode("utf-16"))
    assert read_document(utf16).paragraphs == (("Đoàn viên nghỉ ngày 2/9.",),)
    page = tmp_path / "cu.html"
    page.write_bytes('<html><head><meta charset="windows-1252"></head><body><h1>Thông báo</h1>'
                     '<p>Báo cáo tháng.</p></body></html>'.encode("windows-1252"))
    parsed = read_document(page)
    assert (parsed.title, parsed.paragraphs) == ("Thông báo", (("Báo cáo tháng.",),))


def test_html_drops_scripts_styles_and_navigation(tmp_path):
    path = tmp_path / "tin.html"
    path.write_text("""<!doctype html><html><head><title>Trang tin LĐLĐ</title><style>p{color:red}</style>
        <meta property="article:published_time" content="2022-07-19T17:05:00+07:00"></head>
        <body><nav><a href="/">Trang chủ</a> <a href="/tin">Tin tức</a></nav>
        <script>var x = "Không được lọt vào.";</script>
        <article><h1>Hội nghị sơ kết Cụm thi đua số 1</h1>
        <p>Sáng 19/7, hội nghị diễn ra tại quận <b>Long Biên</b>. Có 6 đơn vị dự.</p>
        <ul><li>Quận Ba Đình</li><li>Quận Đống Đa</li></ul></article>
        <footer>Bản quyền thuộc về báo</footer></body></html>""", encoding="utf-8")
    parsed = read_document(path)
    assert parsed.title == "Hội nghị sơ kết Cụm thi đua số 1"
    assert parsed.published == date(2022, 7, 19)
    assert parsed.paragraphs == (("Sáng 19/7, hội nghị diễn ra tại quận Long Biên.", "Có 6 đơn vị dự."),
                                 ("Quận Ba Đình",), ("Quận Đống Đa",))


# --- bad files ---------------------------------------------------------------------------------------------


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    files = {
        "empty": tmp_path / "rong.txt",
        "garbage": tmp_path / "rac.txt",
        "encrypted": tmp_path / "mat-khau.pdf",
        "image": tmp_path / "scan.pdf",
        "large": tmp_path / "lon.txt",
        "extension": tmp_path / "bang.xls",
        "docx": tmp_path / "khong-phai-zip.docx",
        "marks": tmp_path / "chi-dau.txt",
        "pdf": tmp_path / "khong-phai.pdf",
        "html": tmp_path / "rac.html",
    }
    files["empty"].write_bytes(b"")
    files["garbage"].write_bytes(bytes(range(256)) * 40 + os.urandom(4096))
    _pdf(files["encrypted"], ["Tài liệu mật của công đoàn"], password="bimat")
    _pdf(files["image"], None)
    with files["large"].open("wb") as out:  # 50 MB without writing them: a sparse file
        out.seek(50 * 1024 * 1024 - 1)
        out.write(b"\0")
    files["extension"].write_text("Số liệu", encoding="utf-8")
    files["docx"].write_text("Tài liệu Word cũ đổi tên", encoding="utf-8")
    files["marks"].write_text("-->\n---\n12345\n", encoding="utf-8")
    files["pdf"].write_text("Đây không phải PDF", encoding="utf-8")
    files["html"].write_bytes(b"<html>" + os.urandom(8192))
    return files


@pytest.mark.parametrize(("kind", "words"), [
    ("empty", "rỗng"), ("garbage", "không phải văn bản"), ("encrypted", "mật khẩu"), ("image", "không có chữ"),
    ("large", "quá lớn"), ("extension", "không được hỗ trợ"), ("docx", "không phải tệp .docx"),
    ("marks", "không có nội dung"), ("pdf", "không đọc được tệp PDF"), ("html", "không phải văn bản"),
])
def test_bad_file_gets_a_vietnamese_error_naming_it(tmp_path, kind, words):
    path = _bad_files(tmp_path)[kind]
    with pytest.raises(DocumentError) as caught:
        read_document(path)
    assert str(path) in str(caught.value) and words in str(caught.value)


def test_the_size_limit_is_a_setting(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Tiêu đề\n" + "Một câu dài về công đoàn. " * 100, encoding="utf-8")
    with pytest.raises(DocumentError, match="quá lớn"):
        read_document(path, max_bytes=1024)
    assert read_document(path, max_bytes=1024 * 1024).passages == 100


# --- storage and ingestion ---------------------------------------------------------------------------------


async def test_repository_upsert_unchanged_replaced_and_delete(db, tmp_path):
    path = tmp_path / "a.txt"
    path.write_text(ARTICLE, encoding="utf-8")
    first = read_document(path)
    async with db.sessions.begin() as session:
        document_id, outcome = await DocumentRepository(session).upsert(first)
    assert outcome == "added"
    async with db.sessions.begin() as session:
        assert await DocumentRepository(session).upsert(first) == (document_id, "unchanged")
    path.write_text(ARTICLE.replace("1.500 suất", "2.000 suất"), encoding="utf-8")
    async with db.sessions.begin() as session:
        assert await DocumentRepository(session).upsert(read_document(path)) == (document_id, "replaced")
    async with db.sessions() as session:
        repo = DocumentRepository(session)
        (info,) = await repo.documents()
        passages = await repo.passages()
    assert (info.name, info.title, info.published, info.passages) == (
        "a.txt", first.title, date(2023, 1, 12), len(passages))
    assert passages[0].text.startswith("(LĐTĐ) Sáng nay (12/1), LĐLĐ quận Thanh Xuân trao 2.000 suất")
    assert (passages[0].paragraph, passages[0].sentence, passages[1].paragraph, passages[1].sentence) == (0, 0, 0, 1)
    assert {p.title for p in passages} == {first.title} and {p.document_id for p in passages} == {document_id}
    assert not any("1.500 suất" in p.text for p in passages)
    async with db.sessions.begin() as session:
        assert await DocumentRepository(session).delete(document_id)
        assert not await DocumentRepository(session).delete(document_id)
    assert await _counts(db) == (0, 0)


async def test_ingest_loads_good_files_reports_each_bad_one_and_half_loads_nothing(db, tmp_path):
    good = tmp_path / "tot.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "bad").mkdir()
    bad = _bad_files(tmp_path / "bad")
    report = await ingest(db, [good, *bad.values()])
    assert [r.outcome for r in report.results] == ["added"] + [None] * len(bad)
    assert all(str(path) in r.error for path, r in zip(bad.values(), report.results[1:], strict=True))
    documents, passages = await _counts(db)
    assert documents == 1 and passages == report.results[0].passages > 0

    again = await ingest(db, [good])
    assert [r.outcome for r in again.results] == ["unchanged"]
    assert await _counts(db) == (documents, passages)


async def test_ingest_a_folder_and_a_changed_file_replaces_its_passages(db, tmp_path):
    folder = tmp_path / "tai-lieu"
    (folder / "con").mkdir(parents=True)
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (folder / "con" / "b.md").write_text("# Quỹ trợ vốn\n\nĐoàn viên vay tối đa 50 triệu đồng.\n", encoding="utf-8")
    (folder / "anh.jpg").write_bytes(b"\xff\xd8\xff")  # in a folder, files of other kinds are not documents
    report = await ingest(db, [folder])
    assert [(Path(r.path).name, r.outcome) for r in report.results] == [("a.txt", "added"), ("b.md", "added")]
    (folder / "con" / "b.md").write_text("# Quỹ trợ vốn\n\nĐoàn viên vay tối đa 70 triệu đồng. Trong 3 năm.\n",
                                         encoding="utf-8")
    report = await ingest(db, [folder])
    assert [r.outcome for r in report.results] == ["unchanged", "replaced"]
    async with db.sessions() as session:
        texts = [p.text for p in await DocumentRepository(session).passages() if p.title == "Quỹ trợ vốn"]
    assert texts == ["Đoàn viên vay tối đa 70 triệu đồng.", "Trong 3 năm."]
    assert (await _counts(db))[0] == 2


async def test_a_failure_in_the_middle_of_a_document_writes_nothing_of_it(db, tmp_path, monkeypatch):
    old = tmp_path / "cu.txt"
    old.write_text(ARTICLE, encoding="utf-8")
    await ingest(db, [old])
    before = await _counts(db)
    async with db.sessions() as session:
        passages_before = [p.text for p in await DocumentRepository(session).passages()]

    from sqlalchemy.ext.asyncio import AsyncSession

    real_execute = AsyncSession.execute

    async def insert_half_then_fail(self, statement, params=None, **kwargs):
        """The disk fills up halfway through a document's sentences."""
        if getattr(getattr(statement, "table", None), "name", None) == "document_passages" and isinstance(params, list):
            await real_execute(self, statement, params[: len(params) // 2], **kwargs)
            raise OperationalError("INSERT INTO document_passages", {}, Exception("disk full"))
        return await real_execute(self, statement, params, **kwargs)

    monkeypatch.setattr(AsyncSession, "execute", insert_half_then_fail)
    new = tmp_path / "moi.txt"
    new.write_text(ARTICLE.replace("Thanh Xuân", "Tây Hồ"), encoding="utf-8")
    old.write_text(ARTICLE.replace("1.500", "9.999"), encoding="utf-8")
    report = await ingest(db, [new, old])
    monkeypatch.undo()
    assert [r.outcome for r in report.results] == [None, None]
    assert str(new) in report.results[0].error and "cơ sở dữ liệu" in report.results[0].error
    assert await _counts(db) == before
    async with db.sessions() as session:
        assert [p.text for p in await DocumentRepository(session).passages()] == passages_before


# --- the seed articles and the app -------------------------------------------------------------------------


@needs_seeds
def test_seed_articles_titles_and_dates():
    parsed = {p.name: read_document(p) for p in sorted(SEEDS.glob("*.txt"))}
    assert len(parsed) >= 5
    first = parsed["001_d84ce019b34163c3.txt"]
    assert first.title.startswith("Cụm thi đua số 1 Liên đoàn Lao động thành phố Hà Nội: Quyết tâm hoàn thành")
    assert first.published == date(2022, 7, 19)
    assert parsed["000_559a168466690f69.txt"].title == "Cụm thi đua số 6 Liên đoàn Lao động thành phố Hà Nội"
    assert all(not d.title.startswith("-->") and d.passages > 20 for d in parsed.values())
    texts = _texts(first)
    assert any("Ba Đình, Long Biên, Đống Đa, Hai Bà Trưng, Hoàn Kiếm và Hoàng Mai" in t for t in texts)


@needs_seeds
async def test_the_app_ingests_the_seed_articles_at_first_start_and_exposes_the_passages(settings):
    settings = settings.replace(documents_dir=SEEDS)
    application = await build_app(settings)
    try:
        assert application.passages and application.core.passages == application.passages
        assert {Path(p.origin).name for p in application.passages} >= {"001_d84ce019b34163c3.txt"}
        count = len(application.passages)
    finally:
        await application.close()
    application = await build_app(settings)  # a second start ingests nothing again
    try:
        assert len(application.passages) == count
    finally:
        await application.close()


async def test_no_documents_without_demo_data_or_without_the_folder(settings, tmp_path):
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text(ARTICLE, encoding="utf-8")
    for update in ({"documents_dir": folder, "demo_data": False}, {"documents_dir": None}):
        application = await build_app(settings.replace(**update))
        try:
            assert application.passages == [] and application.core.passages == []
        finally:
            await application.close()
    application = await build_app(settings.replace(documents_dir=folder))
    try:
        assert [p.text for p in application.passages][:1] == [
            "(LĐTĐ) Sáng nay (12/1), LĐLĐ quận Thanh Xuân trao 1.500 suất quà cho đoàn viên."]
    finally:
        await application.close()


# --- the command line --------------------------------------------------------------------------------------


def test_cli_kb_ingest(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache),
               UNIONBOT_DOCUMENT_MAX_MB="10")

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "kb", "ingest", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)

    good = tmp_path / "tot.txt"
    good.write_text(ARTICLE, encoding="utf-8")
    bad = _bad_files(tmp_path)
    result = run(str(good), str(bad["large"]), str(bad["docx"]))
    assert result.returncode == 1
    assert "Đã nạp: " in result.stdout and "tot.txt" in result.stdout
    assert "lon.txt: tệp quá lớn (50 MB, giới hạn 10 MB)" in result.stderr
    assert "khong-phai-zip.docx: không phải tệp .docx" in result.stderr
    assert "1 tệp mới" in result.stdout and "2 lỗi" in result.stdout

    result = run(str(good))
    assert result.returncode == 0, result.stderr
    assert "Không thay đổi" in result.stdout and "1 không thay đổi" in result.stdout

    good.write_text(ARTICLE + "\nĐoạn mới được thêm vào. Có hai câu.\n", encoding="utf-8")
    result = run(".")  # a folder: the bad files in it are reported, the changed one is replaced
    assert result.returncode == 1
    assert "Đã cập nhật: " in result.stdout and "tot.txt" in result.stdout
    assert "rong.txt: tệp rỗng" in result.stderr

    assert run(str(tmp_path / "khong-co")).returncode == 1


# --- knowledge entries naming passages of their source document --------------------------------------------

ENTRY = """entries:
- id: qua-tet-thanh-xuan
  kind: fact
  name: Quà Tết Thanh Xuân 2023
  summary: LĐLĐ quận Thanh Xuân trao quà Tết cho đoàn viên.
  source:
    document: {document}
    title: Chăm lo Tết cho đoàn viên năm 2023
    passages:
    - "{anchor}"
  as_of: 2023-01-12
  fact: {{}}
"""


async def test_an_entry_names_passages_of_its_source_document(db, tmp_path):
    from services.documents import check_sources, source_passages
    from storage.knowledge import load_directory

    article = tmp_path / "thanh-xuan.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    await ingest(db, [article])
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.yaml").write_text(ENTRY.format(document="thanh-xuan.txt", anchor="mỗi suất trị giá  500.000"),
                               encoding="utf-8")
    (entry,) = load_directory(kb)
    async with db.sessions() as session:
        repository = DocumentRepository(session)
        documents, passages = await repository.documents(), await repository.passages()
    assert check_sources([entry], documents, passages) == []
    assert [p.text for p in source_passages(entry, documents, passages)] == ["Mỗi suất trị giá 500.000 đồng."]

    (kb / "a.yaml").write_text(ENTRY.format(document="thanh-xuan.txt", anchor="mỗi suất trị giá 700.000"),
                               encoding="utf-8")
    (wrong,) = load_directory(kb)
    assert check_sources([wrong], documents, passages) == [
        "mục kiến thức 'qua-tet-thanh-xuan': không thấy đoạn “mỗi suất trị giá 700.000” trong tài liệu thanh-xuan.txt"]
    (kb / "a.yaml").write_text(ENTRY.format(document="chua-nap.txt", anchor="bất kỳ"), encoding="utf-8")
    assert check_sources(load_directory(kb), documents, passages) == []  # a document not ingested is not checked


def test_cli_kb_load_refuses_an_entry_whose_passage_is_not_in_its_ingested_document(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "kb", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)

    article = tmp_path / "thanh-xuan.txt"
    article.write_text(ARTICLE, encoding="utf-8")
    assert run("ingest", str(article)).returncode == 0
    kb = tmp_path / "kb"
    kb.mkdir()
    (kb / "a.yaml").write_text(ENTRY.format(document="thanh-xuan.txt", anchor="trị giá 700.000 đồng"),
                               encoding="utf-8")
    result = run("load", str(kb))
    assert result.returncode == 1 and "không thấy đoạn “trị giá 700.000 đồng”" in result.stderr
    (kb / "a.yaml").write_text(ENTRY.format(document="thanh-xuan.txt", anchor="trị giá 500.000 đồng"),
                               encoding="utf-8")
    result = run("load", str(kb))
    assert result.returncode == 0, result.stderr
    article.write_text(ARTICLE.replace("500.000", "600.000"), encoding="utf-8")  # the document changed under it
    result = run("ingest", str(article))
    assert result.returncode == 0 and "Đã cập nhật" in result.stdout
    assert "Cảnh báo: mục kiến thức 'qua-tet-thanh-xuan'" in result.stderr


def test_documents_dir_setting(settings, monkeypatch, tmp_path):
    from bot.settings import PROJECT_ROOT, Settings

    seeds = PROJECT_ROOT.parent / "shared" / "seeds"
    assert Settings(_env_file=None).documents.dir == (seeds if seeds.is_dir() else None)
    monkeypatch.setenv("UNIONBOT_DOCUMENTS_DIR", "")
    assert Settings(_env_file=None).documents.dir is None
    monkeypatch.setenv("UNIONBOT_DOCUMENTS_DIR", str(tmp_path))
    monkeypatch.setenv("UNIONBOT_DOCUMENT_MAX_MB", "1.5")
    configured = Settings(_env_file=None)
    assert (configured.documents.dir, configured.documents.max_bytes) == (tmp_path, 1536 * 1024)


def test_cli_kb_documents_and_remove(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache))

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "kb", *args], capture_output=True, text=True,
                              env=env, cwd=tmp_path, timeout=120)

    assert "Chưa nạp tài liệu nguồn nào" in run("documents").stdout
    (tmp_path / "a.txt").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "b.md").write_text("# Quỹ trợ vốn\n\nĐoàn viên vay tối đa 50 triệu đồng.\n", encoding="utf-8")
    assert run("ingest", "a.txt", "b.md").returncode == 0
    listing = run("documents").stdout.splitlines()
    assert len(listing) == 2
    assert listing[0].startswith("1 | 12/01/2023 | ") and str(tmp_path / "a.txt") in listing[0]
    assert listing[1].startswith("2 | — | 1 câu | Quỹ trợ vốn | ")
    result = run("remove", "khong-co.txt")
    assert result.returncode == 1 and "Không có tài liệu nào" in result.stderr
    result = run("remove", "a.txt")  # a relative path, as it was ingested
    assert result.returncode == 0 and "Đã gỡ tài liệu" in result.stdout
    result = run("remove", "2")
    assert result.returncode == 0
    assert "Chưa nạp tài liệu nguồn nào" in run("documents").stdout
