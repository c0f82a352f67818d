"""Ingested documents carry their publication (issue #15: "Sources: publication, article date"): read from the file
(HTML metadata, .docx properties, PDF metadata), the sub-folder it was filed in, or ``--publication``, and shown
with the article's date in the source line of the answers drawn from the document.

Through the public ways in: the app's first start ingesting a folder then ``Core.process``, and ``unionbot kb
ingest`` then ``unionbot ask``. The articles are invented here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.app import build_app
from handlers.types import Incoming

TITLE = "Công đoàn quận Tây Hồ chăm lo cho người lao động năm 2024"
BODY = [
    "Năm 2024, Liên đoàn Lao động quận Tây Hồ đã hỗ trợ 321 công nhân có hoàn cảnh khó khăn với tổng số tiền "
    "456 triệu đồng.",
    "Chủ tịch Liên đoàn Lao động quận Tây Hồ cho biết quận sẽ tiếp tục chăm lo cho công nhân.",
]
QUESTION = "Năm 2024 quận Tây Hồ hỗ trợ bao nhiêu công nhân?"
TEXT = "\n\n".join([TITLE, "08:30 | 20/12/2024", *BODY]) + "\n"


def _html(head: str, title: str = TITLE) -> str:
    return (f"<html><head><meta charset='utf-8'><title>{title}</title>{head}</head><body><h1>{TITLE}</h1>"
            f"<p>20/12/2024</p>" + "".join(f"<p>{s}</p>" for s in BODY) + "</body></html>")


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _docx(path: Path, company: str) -> Path:
    """A .docx whose properties name the organisation (docProps/app.xml's Company, as Word writes it)."""
    import docx

    document = docx.Document()
    document.add_heading(TITLE, level=1)
    document.add_paragraph("Ngày 20/12/2024.")
    for sentence in BODY:
        document.add_paragraph(sentence)
    path.parent.mkdir(parents=True, exist_ok=True)
    plain = path.parent.parent / "plain.docx"
    document.save(str(plain))
    app_xml = ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
               '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
               f'<Application>Microsoft Office Word</Application><Company>{company}</Company></Properties>')
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            if item.filename != "docProps/app.xml":
                target.writestr(item, source.read(item.filename))
        target.writestr("docProps/app.xml", app_xml)
    plain.unlink()
    return path


def _pdf(path: Path, publisher: str) -> Path:
    """A PDF with the article as text (fpdf2) and a /Publisher in its document information (pypdf)."""
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    lines = [TITLE, "20/12/2024", *BODY]
    path.parent.mkdir(parents=True, exist_ok=True)
    pdf = FPDF()
    pdf.add_page()
    font = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    if not font.is_file():
        pytest.skip("no Unicode font to write Vietnamese into a PDF")
    pdf.add_font("Body", fname=str(font))
    pdf.set_font("Body", size=12)
    for line in lines:
        pdf.multi_cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(4)
    pdf.output(str(path))
    writer = PdfWriter(clone_from=PdfReader(str(path)))
    writer.add_metadata({"/Publisher": publisher, "/Author": "Nguyễn Văn A"})
    with path.open("wb") as out:
        writer.write(out)
    return path


CASES: dict[str, tuple[Callable[[Path], Path], str | None]] = {
    "og:site_name": (lambda d: _write(d / "a.html", _html('<meta property="og:site_name" content="Lao động Thủ đô">')),
                     "Lao động Thủ đô"),
    "meta publisher": (lambda d: _write(d / "a.html", _html('<meta name="publisher" content="Báo Lao Động">')),
                       "Báo Lao Động"),
    "JSON-LD publisher": (lambda d: _write(d / "a.html", _html(
        '<script type="application/ld+json">' + json.dumps(
            {"@context": "https://schema.org", "@type": "NewsArticle", "headline": TITLE,
             "publisher": {"@type": "Organization", "name": "Tạp chí Công đoàn"}}, ensure_ascii=False)
        + "</script>")), "Tạp chí Công đoàn"),
    "the site's name after the title": (lambda d: _write(d / "a.html", _html("", f"{TITLE} - Người Lao Động")),
                                        "Người Lao Động"),
    "the site's name after ' | '": (lambda d: _write(d / "a.html", _html("", f"{TITLE} | Công đoàn Việt Nam")),
                                    "Công đoàn Việt Nam"),
    ".docx properties": (lambda d: _docx(d / "a.docx", "LĐLĐ quận Tây Hồ"), "LĐLĐ quận Tây Hồ"),
    "PDF metadata": (lambda d: _pdf(d / "a.pdf", "Lao động Thủ đô"), "Lao động Thủ đô"),
    "the sub-folder it was filed in": (lambda d: _write(d / "Lao động Thủ đô" / "a.txt", TEXT), "Lao động Thủ đô"),
    "none known": (lambda d: _write(d / "a.txt", TEXT), None),
}


@pytest.mark.parametrize("case", list(CASES))
async def test_the_source_line_names_the_publication_and_the_date(case, settings, tmp_path):
    write, publication = CASES[case]
    folder = tmp_path / "docs"
    write(folder)
    application = await build_app(settings.replace(documents_dir=folder))  # first start: the folder is ingested
    try:
        assert {p.publication for p in application.passages} == {publication}
        outcome = await application.core.process(Incoming(channel="test", chat_id="7", user_id="7", text=QUESTION))
    finally:
        await application.close()
    reply = "\n".join(r.text for r in outcome.replies)
    assert not outcome.fallback and "321" in reply
    where = f"{publication}, “{TITLE}”" if publication else f"“{TITLE}”"
    assert f"Nguồn: {where}, 20/12/2024." in reply.splitlines()


def test_kb_ingest_publication_option_and_ask(tmp_path, model_cache):
    env = {k: v for k, v in os.environ.items() if not k.startswith("UNIONBOT_")}
    env.update(UNIONBOT_DATA_DIR=str(tmp_path / "data"), UNIONBOT_CACHE_DIR=str(model_cache),
               UNIONBOT_DOCUMENTS_DIR="")

    def run(*args: str) -> subprocess.CompletedProcess:
        result = subprocess.run([sys.executable, "-m", "bot", *args], capture_output=True, text=True, env=env,
                                cwd=tmp_path, timeout=180)
        assert result.returncode == 0, result.stderr
        return result

    page = _write(tmp_path / "bai.html", _html('<meta property="og:site_name" content="laodongthudo.vn">'))
    assert "1 tệp mới" in run("kb", "ingest", "--publication", "Lao động Thủ đô", str(page)).stdout
    assert "Nguồn: Lao động Thủ đô, “" + TITLE + "”, 20/12/2024." in run("ask", QUESTION).stdout
    # the file's own name for its publisher when none is given; the same file under another one is an update
    assert "Đã cập nhật" in run("kb", "ingest", str(page)).stdout
    assert "Nguồn: laodongthudo.vn, “" + TITLE + "”, 20/12/2024." in run("ask", QUESTION).stdout
    assert "--publication" in run("kb", "ingest", "--help").stdout
