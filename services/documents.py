"""Source documents as knowledge: read .txt/.md/.docx/.pdf/.html files into titled, dated passages and ingest
them (``unionbot kb ingest``, and the seed articles at first start).

Reading and splitting is pure (no SQL): :func:`read_document` returns a :class:`ParsedDocument` or raises
:class:`DocumentError` with a Vietnamese message naming the file. :func:`ingest` stores each document in its
own transaction through ``storage.documents.DocumentRepository``: all or nothing per document, unchanged
content is left alone, a changed file (same origin, new content) gets its passages replaced.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zipfile
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path, PurePath
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from locales import DEFAULT_LANGUAGE, Translator
from services.extras import MissingExtra, available
from storage.db import Database
from storage.documents import DocumentInfo, DocumentRepository, Outcome, PassageInfo, origin_name
from storage.knowledge import Entry

if TYPE_CHECKING:
    from bs4 import BeautifulSoup
    from pypdf import PdfReader
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.knowledge import Actor

#: extensions read, by reader
TEXT_SUFFIXES = (".txt", ".md", ".markdown")
HTML_SUFFIXES = (".html", ".htm")
SUFFIXES = (*TEXT_SUFFIXES, ".docx", ".pdf", *HTML_SUFFIXES)
DEFAULT_MAX_BYTES = 20 * 1024 * 1024

_translate: Translator | None = None


def _t(key: str, **values: object) -> str:
    global _translate
    if _translate is None:
        _translate = Translator()
    return _translate(f"documents.{key}", DEFAULT_LANGUAGE, **values)


class DocumentError(Exception):
    """A file that cannot be ingested; ``str(error)`` is a Vietnamese message naming the file."""

    def __init__(self, file: Path | str, reason: str, **values: object) -> None:
        self.file, self.reason, self.values = str(file), reason, values
        super().__init__(_t("error", file=self.file, reason=_t(f"reason.{reason}", **values)))


@dataclass(frozen=True)
class ParsedDocument:
    title: str
    published: date | None
    origin: str
    content_hash: str
    paragraphs: tuple[tuple[str, ...], ...]  # the sentences of each paragraph, in reading order
    publication: str | None = None  # who published it ("Lao động Thủ đô"), when the file or the user says

    @property
    def passages(self) -> int:
        return sum(len(p) for p in self.paragraphs)


# --- sentences -------------------------------------------------------------------------------------------

#: words written with a final dot that do not end a sentence (compared case-sensitively, without the dot)
ABBREVIATIONS = frozenset({
    "TP", "Tp", "tp", "Q", "P", "TX", "TT", "H", "TS", "ThS", "PGS", "GS", "BS", "KS", "CN", "NXB", "St", "Th",
    "v.v", "vv", "v.v..", "Mr", "Mrs", "Dr", "No", "tr", "Tr", "ĐT", "Đ", "ông", "bà", "Số", "số",
})
_BOUNDARY = re.compile(r"[.!?…]+[\"”’»)\]]*(?=\s+[\"“‘«(\[]?(\w))")


def _is_abbreviation(text: str, end: int) -> bool:
    """Is the word ending at ``text[end]`` (a dot) an abbreviation or a lone initial ("TP.", "Q.", "N.")?"""
    start = end
    while start > 0 and not text[start - 1].isspace() and text[start - 1] not in "([\"“":
        start -= 1
    word = text[start:end]
    if not word:
        return False
    return word in ABBREVIATIONS or word.lower() in ("v.v", "v.v..") or (len(word) == 1 and word.isupper())


def split_sentences(text: str) -> list[str]:
    """Split Vietnamese text into sentences.

    A sentence ends at ``. ! ? …`` (with closing quotes or brackets) followed by a space and an upper-case
    letter or a digit; not inside numbers (1.500.000, 19.7) since no space follows the dot there, and not
    after an abbreviation (TP., Q., TS., ThS., PGS., v.v.) or an initial.
    """
    text = " ".join(text.split())
    sentences: list[str] = []
    start = 0
    for match in _BOUNDARY.finditer(text):
        marks, following = match.group(0), match.group(1)
        if not (following.isupper() or following.isdigit()):
            continue
        if marks[0] == "." and len(marks.rstrip("\"”’»)]")) == 1 and _is_abbreviation(text, match.start()):
            continue
        sentence = text[start:match.end()].strip()
        if sentence:
            sentences.append(sentence)
        start = match.end()
    rest = text[start:].strip()
    if rest:
        sentences.append(rest)
    return sentences


# --- dates -----------------------------------------------------------------------------------------------

_FULL_DATES = [
    re.compile(r"(?<!\d)(\d{1,2})\s*/\s*(\d{1,2})\s*/\s*(\d{4})(?!\d)"),
    re.compile(r"(?<!\d)(\d{1,2})-(\d{1,2})-(\d{4})(?!\d)"),
    re.compile(r"ngày\s+(\d{1,2})\s+tháng\s+(\d{1,2})\s+năm\s+(\d{4})", re.IGNORECASE),
]
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_SHORT_DATE = re.compile(r"(?:\(|ngày\s+)(\d{1,2})/(\d{1,2})(?:\)|(?![/\d]))", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)((?:19|20)\d{2})(?!\d)")
#: a line that is only a time and/or date ("17:05 | 19/07/2022"): metadata, not a passage
_DATE_LINE = re.compile(r"^[\s|:,\-–—/0-9]*(thứ\s+\w+|chủ nhật)?[\s|:,\-–—/0-9]*(gmt[+\d:]*)?[\s]*$", re.IGNORECASE)

#: how many lines after the title are searched for the publication date
DATE_WINDOW = 6
#: a first line longer than this is text, not a headline
TITLE_MAX = 200


def _valid(day: int, month: int, year: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def find_date(lines: Sequence[str]) -> date | None:
    """The first date written in ``lines``: "17:05 | 19/07/2022", "19/07/2022", "ngày 19 tháng 7 năm 2022",
    "2022-07-19", or "(19/7)" / "ngày 19/7" with the year taken from the same lines."""
    for line in lines:
        found: list[tuple[int, date]] = []
        for pattern in _FULL_DATES:
            for m in pattern.finditer(line):
                if value := _valid(int(m.group(1)), int(m.group(2)), int(m.group(3))):
                    found.append((m.start(), value))
        for m in _ISO_DATE.finditer(line):
            if value := _valid(int(m.group(3)), int(m.group(2)), int(m.group(1))):
                found.append((m.start(), value))
        if found:
            return min(found, key=lambda f: f[0])[1]
    years = [int(y) for line in lines for y in _YEAR.findall(line)]
    if years:
        for line in lines:
            for m in _SHORT_DATE.finditer(line):
                if value := _valid(int(m.group(1)), int(m.group(2)), years[0]):
                    return value
    return None


# --- from lines to a document ----------------------------------------------------------------------------

_LETTER = re.compile(r"[^\W\d_]")
_SENTENCE_END = (".", "!", "?", "…")
_TERMINAL = (*_SENTENCE_END, ":", ";", "\"", "”", ")")


def clean_line(line: str) -> str:
    return " ".join(unicodedata.normalize("NFC", line).replace("\u00ad", "").split())


def _meaningful(line: str) -> bool:
    """Has letters (not "-->", not a row of dashes or a bare number)."""
    return bool(_LETTER.search(line))


def unwrap(lines: Iterable[str]) -> list[str]:
    """Lines to paragraphs: blank lines separate; a line continuing the previous one (it starts in lower case)
    is joined to it."""
    paragraphs: list[str] = []
    open_paragraph = False
    for raw in lines:
        line = clean_line(raw)
        if not line:
            open_paragraph = False
            continue
        if open_paragraph and paragraphs and line[0].islower():
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        open_paragraph = True
    return paragraphs


def build_document(origin: str, blocks: Sequence[str], *, title: str | None = None,
                   published: date | None = None, publication: str | None = None) -> ParsedDocument:
    """Title (given, or the first meaningful block; a headline ending with ":" takes the next one), date (given,
    or the first found near the top), and the sentences of every other meaningful block."""
    blocks = [b for b in (clean_line(b) for b in blocks) if b]
    meaningful = [i for i, b in enumerate(blocks) if _meaningful(b)]
    if not meaningful:
        raise DocumentError(origin, "no_text")
    used: set[int] = set()
    first, title_given = meaningful[0], bool(title)
    if not title:
        title, used = blocks[first], {first}
        if title.endswith(":") and len(meaningful) > 1 and len(blocks[meaningful[1]]) <= 300:
            title, used = f"{title} {blocks[meaningful[1]]}", {first, meaningful[1]}
        elif len(title) > TITLE_MAX:  # no headline: the text starts at once; name it by its start, keep it
            first_sentence = split_sentences(title)[0]
            title = first_sentence if len(first_sentence) <= TITLE_MAX else title[:TITLE_MAX].rsplit(" ", 1)[0] + "…"
            used = set()
    top = max(used, default=first if not title_given else -1) + 1
    if published is None:
        published = find_date(blocks[:top + DATE_WINDOW])
    body = [b for i, b in enumerate(blocks)
            if i not in used and _meaningful(b) and not (i < top + DATE_WINDOW and _DATE_LINE.match(b))]
    paragraphs = tuple(tuple(s) for s in (split_sentences(b) for b in body) if s)
    if not paragraphs:
        paragraphs = (tuple(split_sentences(title)),)
    publication = clean_publication(publication)
    # the publication is part of the content: ingesting a file again under another one replaces it
    text = "\n".join([title, published.isoformat() if published else "", *(" ".join(p) for p in paragraphs)]
                     + ([f"publication: {publication}"] if publication else []))
    return ParsedDocument(title=title[:TITLE_MAX * 2], published=published, origin=origin,
                          content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(), paragraphs=paragraphs,
                          publication=publication)


# --- the publication -------------------------------------------------------------------------------------

#: a publication's name is short: longer text is not one
PUBLICATION_MAX = 80
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ")


def clean_publication(name: object) -> str | None:
    """A publication's name as shown in a source line, or None when ``name`` is not one (empty, too long, a
    URL)."""
    if not isinstance(name, str):
        return None
    text = clean_line(name).strip(" -|–—·:")
    if not text or len(text) > PUBLICATION_MAX or "://" in text or not _meaningful(text):
        return None
    return text


def publication_from_title(page_title: str, headline: str = "") -> str | None:
    """The site's name a page's ``<title>`` ends with: "Headline - Lao động Thủ đô", "Headline | Site" (the
    last part, short, after the page's ``headline`` when there is one)."""
    page_title = clean_line(page_title)
    cut = max((page_title.rfind(sep), sep) for sep in _TITLE_SEPARATORS)
    if cut[0] <= 0:
        return None
    head, tail = page_title[:cut[0]].strip(), page_title[cut[0] + len(cut[1]):].strip()
    if not head or len(tail.split()) > 8:
        return None
    if headline and _anchor_key(head) not in _anchor_key(headline) and _anchor_key(headline) not in _anchor_key(head):
        return None  # the title is not "<the headline> - <site>": a dash inside a headline of its own
    return clean_publication(tail)


def _json_ld_publisher(soup: BeautifulSoup) -> str | None:
    """``publisher.name`` (or ``publisher`` as a string) of the page's JSON-LD (schema.org NewsArticle...)."""
    import json

    def publisher(node: object) -> str | None:
        if isinstance(node, list):
            return next((found for item in node if (found := publisher(item))), None)
        if not isinstance(node, dict):
            return None
        value = node.get("publisher")
        if isinstance(value, list):
            value = value[0] if value else None
        if isinstance(value, dict):
            value = value.get("name")
        if found := clean_publication(value):
            return found
        return publisher(node.get("@graph"))

    for script in soup.find_all("script", attrs={"type": "application/ld+json"}):
        try:
            data = json.loads(script.string or "")
        except ValueError:
            continue
        if found := publisher(data):
            return found
    return None


# --- readers ---------------------------------------------------------------------------------------------

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufffd]")
_MD_PREFIX = re.compile(r"^\s{0,3}(#{1,6}\s+|>\s?|[-*+]\s+|\d+[.)]\s+)")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MD_EMPHASIS = re.compile(r"(\*\*|__|\*|`)")


_CHARSET = re.compile(rb"""charset\s*=\s*["']?([A-Za-z0-9_-]+)""", re.IGNORECASE)


def _decode(path: Path, data: bytes, *, declared: bool = False) -> str:
    """UTF-8 (with or without BOM), UTF-16 with a BOM (Windows Notepad's "Unicode"), or — for HTML — the
    charset the page declares; anything else is not text."""
    encoding = "utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-8-sig"
    if declared and encoding == "utf-8-sig" and (m := _CHARSET.search(data[:4096])):
        encoding = m.group(1).decode("ascii")
    try:
        text = data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        raise DocumentError(path, "not_text") from None
    if len(_CONTROL.findall(text)) > max(2, len(text) // 200):
        raise DocumentError(path, "not_text")
    return text


def _read_text(path: Path, data: bytes) -> list[str]:
    lines = _decode(path, data).splitlines()
    if path.suffix.lower() in (".md", ".markdown"):
        lines = [_MD_EMPHASIS.sub("", _MD_LINK.sub(r"\1", _MD_PREFIX.sub("", line)))
                 for line in lines if not re.match(r"^\s*(```|---+\s*$|\|?[\s:-]*\|[\s|:-]*$)", line)]
    return unwrap(lines)


def _docx_company(path: Path) -> str | None:
    """The organisation an Office file names (``docProps/app.xml``'s Company): python-docx's core properties
    have no publisher, and their author is a person (never shown)."""
    from xml.etree import ElementTree

    try:
        with zipfile.ZipFile(path) as archive:
            root = ElementTree.fromstring(archive.read("docProps/app.xml"))
    except (KeyError, OSError, zipfile.BadZipFile, ElementTree.ParseError):
        return None
    company = next((e.text for e in root.iter() if e.tag.rsplit("}", 1)[-1] == "Company"), None)
    return clean_publication(company)


def _read_docx(path: Path) -> tuple[list[str], str | None, str | None]:
    if not zipfile.is_zipfile(path):
        raise DocumentError(path, "bad_docx")
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, KeyError, ValueError, zipfile.BadZipFile):
        raise DocumentError(path, "bad_docx") from None
    blocks = [p.text for p in document.paragraphs]
    for table in document.tables:
        for row in table.rows:
            blocks.append(" | ".join(dict.fromkeys(c.text.strip() for c in row.cells if c.text.strip())))
    title = (document.core_properties.title or "").strip() or None
    return blocks, title, _docx_company(path)


def _pdf_publisher(reader: PdfReader) -> str | None:
    """The publisher a PDF's metadata names: XMP ``dc:publisher``, or a ``/Publisher`` entry of its document
    information (the standard ``/Author`` is a person, never shown)."""
    try:
        xmp = reader.xmp_metadata
        for name in (xmp.dc_publisher if xmp is not None else None) or []:
            if found := clean_publication(name):
                return found
        info = reader.metadata
        return clean_publication(info.get("/Publisher")) if info is not None else None
    except Exception:  # noqa: BLE001 - broken metadata is no publisher; the text was read already
        return None


def _read_pdf(path: Path) -> tuple[list[str], str | None]:
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(str(path))
        if reader.is_encrypted:
            try:
                opened = bool(reader.decrypt(""))  # PasswordType.NOT_DECRYPTED is 0
            except Exception:  # noqa: BLE001 - a cipher pypdf cannot open is the same answer: encrypted
                opened = False
            if not opened:
                raise DocumentError(path, "encrypted_pdf")
        pages = [page.extract_text() or "" for page in reader.pages]
    except DocumentError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError):
        raise DocumentError(path, "bad_pdf") from None
    if not any(_meaningful(p) for p in pages):
        raise DocumentError(path, "image_pdf")
    paragraphs: list[str] = []
    for page in pages:
        paragraphs.extend(_pdf_paragraphs([clean_line(line) for line in page.splitlines()]))
    return paragraphs, _pdf_publisher(reader)


def _pdf_paragraphs(lines: list[str]) -> list[str]:
    """A PDF page's lines to paragraphs: its text has no blank lines between paragraphs, so a line continues
    the previous one when that one was wrapped (nearly as long as the page's longest line, with no final
    punctuation) or when it starts in lower case. A short line (a heading) stays a paragraph of its own."""
    width = max((len(line) for line in lines), default=0)
    paragraphs: list[str] = []
    previous = ""
    for line in lines:
        if not line:
            previous = ""
            continue
        wrapped = len(previous) >= 0.75 * width and not previous.endswith(_TERMINAL)
        if previous and (wrapped or (line[0].islower() and not previous.endswith(_SENTENCE_END))):
            paragraphs[-1] = f"{paragraphs[-1]} {line}"
        else:
            paragraphs.append(line)
        previous = line
    return paragraphs


_DROP_TAGS = ("script", "style", "nav", "noscript", "template", "form", "header", "footer", "aside", "iframe",
              "svg", "button", "select")
_BLOCK_TAGS = ("p", "div", "section", "article", "main", "h1", "h2", "h3", "h4", "h5", "h6", "li", "tr", "td",
               "th", "blockquote", "pre", "br", "dt", "dd", "figcaption", "time", "table", "ul", "ol")


def _read_html(path: Path, data: bytes) -> tuple[list[str], str | None, date | None, str | None]:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_decode(path, data, declared=True), "html.parser")
    published = None
    for meta in soup.find_all("meta", attrs={"property": "article:published_time"}):
        if m := _ISO_DATE.search(str(meta.get("content", ""))):
            published = _valid(int(m.group(3)), int(m.group(2)), int(m.group(1)))
    site_names = soup.find_all("meta", attrs={"property": "og:site_name"})
    publishers = soup.find_all("meta", attrs={"name": "publisher"})
    metas = [clean_publication(meta.get("content")) for meta in [*site_names, *publishers]]
    publication = next((m for m in metas if m), None) or _json_ld_publisher(soup)
    for tag in soup.find_all(_DROP_TAGS):
        tag.decompose()
    heading = soup.find("h1")
    head_title = soup.find("title")
    title = clean_line(heading.get_text(" ")) if heading else ""
    page_title = clean_line(head_title.get_text(" ")) if head_title else ""
    from_title = publication_from_title(page_title, title)
    if not title and page_title:  # "Headline - Site": the headline without the site's name
        title = page_title[:page_title.rfind(from_title)].rstrip(" |-–—") if from_title else page_title
    if head_title:
        head_title.decompose()
    if heading:
        heading.decompose()
    for tag in soup.find_all(_BLOCK_TAGS):
        tag.insert_before("\n")
        tag.insert_after("\n")
    publication = publication or from_title
    body = soup.body or soup
    return unwrap(body.get_text().split("\n")), title or None, published, publication


def read_document(path: Path, *, max_bytes: int = DEFAULT_MAX_BYTES, origin: str | None = None,
                  publication: str | None = None, folder: str | None = None) -> ParsedDocument:
    """Read one file into a :class:`ParsedDocument`; raise :class:`DocumentError` naming the file when it is
    missing, empty, too large, of an unsupported kind, garbage, or has no text (an encrypted or scanned PDF).

    The publication: ``publication`` when given (the user's ``--publication``), else the one the file names
    (HTML: ``og:site_name``, ``<meta name="publisher">``, JSON-LD ``publisher``, the site's name ending its
    ``<title>``; .docx: the Company of its properties; PDF: its metadata's publisher), else ``folder`` (the
    name of the sub-folder it was filed in)."""
    origin = origin or str(path)
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise DocumentError(path, "unsupported", suffix=suffix or _t("no_suffix"), supported=", ".join(SUFFIXES))
    try:
        size = path.stat().st_size
    except OSError:
        raise DocumentError(path, "missing") from None
    if not path.is_file():
        raise DocumentError(path, "missing")
    if size == 0:
        raise DocumentError(path, "empty")
    if size > max_bytes:
        raise DocumentError(path, "too_large", size=_megabytes(size), limit=_megabytes(max_bytes))
    if suffix not in TEXT_SUFFIXES and not available("documents"):  # .docx, .pdf, .html: the `documents` extra
        missing = MissingExtra("documents")
        raise DocumentError(path, "missing_extra", command=missing.explain(Translator())) from missing
    title: str | None = None
    published: date | None = None
    named: str | None = None
    if suffix == ".docx":
        blocks, title, named = _read_docx(path)
    elif suffix == ".pdf":
        blocks, named = _read_pdf(path)
    else:
        data = path.read_bytes()
        if suffix in HTML_SUFFIXES:
            blocks, title, published, named = _read_html(path, data)
        else:
            blocks = _read_text(path, data)
    try:
        return build_document(origin, blocks, title=title, published=published,
                              publication=clean_publication(publication) or named or folder)
    except DocumentError as exc:
        raise DocumentError(path, exc.reason, **exc.values) from None


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.0f} MB" if size >= 1024 * 1024 else f"{size / 1024:.0f} KB"


# --- ingestion -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IngestResult:
    path: str
    outcome: Outcome | None  # None: failed
    document_id: int | None = None
    title: str = ""
    passages: int = 0
    error: str | None = None


@dataclass
class IngestReport:
    results: list[IngestResult] = field(default_factory=list)

    @property
    def failed(self) -> list[IngestResult]:
        return [r for r in self.results if r.outcome is None]

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome == outcome)

    @property
    def ok(self) -> bool:
        return not self.failed


def expand(paths: Iterable[Path]) -> list[Path]:
    """Files as given, and every supported file under the folders given (sorted, hidden files skipped)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES
                                and not any(part.startswith(".") for part in p.relative_to(path).parts)))
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def filed_under(paths: Iterable[Path]) -> dict[Path, str]:
    """The sub-folder each file of the folders given was filed in ("tai-lieu/Lao động Thủ đô/a.txt" given
    "tai-lieu": "Lao động Thủ đô"): a library sorted by publication. Files given directly, or lying in the
    folder given itself, have none (that folder's name says nothing of who published them)."""
    found: dict[Path, str] = {}
    for path in paths:
        if path.is_dir():
            for file in expand([path]):
                if file.parent != path:
                    found.setdefault(file, file.parent.name)
    return found


def origin_of(path: Path) -> str:
    """Where a file came from, stable whatever the working directory: its absolute path."""
    return str(path.absolute())


async def ingest(db: Database, paths: Iterable[Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 publication: str | None = None) -> IngestReport:
    """Read and store every file (folders: every supported file in them), each in its own transaction: a file
    that fails leaves nothing behind and the others still load. Stored unchanged content changes nothing.
    ``publication`` (``--publication``) names who published every file; else each file's own metadata or the
    sub-folder it was filed in does (:func:`read_document`)."""
    report = IngestReport()
    paths = list(paths)
    folders = filed_under(paths)
    for path in expand(paths):
        try:
            parsed = read_document(path, max_bytes=max_bytes, origin=origin_of(path), publication=publication,
                                   folder=folders.get(path))
        except DocumentError as exc:
            report.results.append(IngestResult(str(path), None, error=str(exc)))
            continue
        try:
            async with db.sessions.begin() as session:
                document_id, outcome = await DocumentRepository(session).upsert(parsed)
        except SQLAlchemyError as exc:  # reported per file; the transaction was rolled back
            error = DocumentError(path, "store_failed", kind=type(exc).__name__)
            report.results.append(IngestResult(str(path), None, error=str(error)))
            continue
        report.results.append(IngestResult(str(path), outcome, document_id, parsed.title, parsed.passages))
    return report


async def stored_documents(db: Database) -> list[DocumentInfo]:
    """Every stored document with its passage count (``unionbot kb documents``)."""
    async with db.sessions() as session:
        return await DocumentRepository(session).documents()


async def remove_document(db: Database, document: str) -> list[DocumentInfo]:
    """The stored documents ``document`` names (an id, the origin or path it was ingested from, or its file
    name); the one found is removed with its passages. Nothing is removed when none or several match."""
    wanted = {document, origin_of(Path(document))}
    async with db.sessions.begin() as session:
        repository = DocumentRepository(session)
        matches = [d for d in await repository.documents()
                   if str(d.id) == document or d.origin in wanted or d.name == document]
        if len(matches) == 1:
            await repository.delete(matches[0].id)
    return matches


# --- knowledge entries that name passages of their source document -------------------------------------


def _anchor_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFC", text).casefold().split())


def _documents_named(name: str, documents: Sequence[DocumentInfo]) -> list[DocumentInfo]:
    return [d for d in documents if name in (d.name, d.origin) or origin_name(name) == d.name]


def source_passages(entry: Entry, documents: Sequence[DocumentInfo],
                    passages: Sequence[PassageInfo]) -> list[PassageInfo]:
    """The passages of the entry's source document that contain one of its ``source.passages`` anchors,
    in reading order (none when the document is not ingested or the entry names no passage)."""
    ids = {d.id for d in _documents_named(entry.source.document, documents)}
    anchors = [_anchor_key(a) for a in entry.source.passages]
    return [p for p in passages if p.document_id in ids and any(a in _anchor_key(p.text) for a in anchors)]


def check_sources(entries: Iterable[Entry], documents: Sequence[DocumentInfo],
                  passages: Sequence[PassageInfo]) -> list[str]:
    """Problems with the passages knowledge entries name: an anchor found in no passage of an ingested source
    document. Entries whose document is not ingested are not checked (documents are optional)."""
    problems: list[str] = []
    by_document: dict[int, list[str]] = {}
    for p in passages:
        by_document.setdefault(p.document_id, []).append(_anchor_key(p.text))
    for entry in entries:
        named = _documents_named(entry.source.document, documents)
        if not entry.source.passages or not named:
            continue
        texts = [t for d in named for t in by_document.get(d.id, [])]
        for anchor in entry.source.passages:
            if not any(_anchor_key(anchor) in t for t in texts):
                problems.append(_t("anchor_missing", entry=entry.id, anchor=anchor, document=entry.source.document))
    return problems


async def check_knowledge_sources(db: Database) -> list[str]:
    """:func:`check_sources` for the knowledge entries and the documents stored in the database."""
    from storage.knowledge import KnowledgeRepository

    async with db.sessions() as session:
        documents = DocumentRepository(session)
        return check_sources(await KnowledgeRepository(session).all(), await documents.documents(),
                             await documents.passages())


# --- the web console's documents (upload, list, passages, delete) ---------------------------------------

#: where an upload's origin lives: "web/<file name>" (its name, as entries name a source document)
UPLOAD_ORIGIN = "web/"


@dataclass(frozen=True)
class DocumentLine:
    """A document as the console lists it: who uploaded it, when (None: the CLI or the seed articles)."""

    info: DocumentInfo
    uploaded_by: str | None
    uploaded_at: datetime | None


class DocumentLibrary:
    """Source documents for the web console, through the same reading and storing as ``unionbot kb ingest``.

    Any chair or admin may read them; adding or removing one changes what the bot answers for every member,
    so it is authorized as a knowledge change at the top of the tree (``authorize(EDIT_KNOWLEDGE, TOP)``:
    admins). A change is audited and bumps the knowledge version: every process's ``KnowledgeWatcher`` reloads
    the passages within seconds (``on_change`` at once in this one)."""

    def __init__(self, db: Database, *, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 max_bytes: int = DEFAULT_MAX_BYTES, on_change: Callable[[], Awaitable[object]] | None = None) -> None:
        self.db, self.clock, self.max_bytes, self.on_change = db, clock, max_bytes, on_change

    @staticmethod
    def _may_read(actor: Actor) -> None:
        from services.authz import may_act_as_chair
        from services.knowledge import Forbidden

        if not (decision := may_act_as_chair(actor.identity)):
            raise Forbidden(decision.reason)

    @staticmethod
    def require_change(actor: Actor) -> None:
        from services.authz import Action, authorize
        from services.knowledge import TOP, Forbidden

        if not (decision := authorize(actor.identity, Action.EDIT_KNOWLEDGE, TOP)):
            raise Forbidden(decision.reason)

    def may_change(self, actor: Actor) -> bool:
        from services.knowledge import Forbidden

        try:
            self.require_change(actor)
        except Forbidden:
            return False
        return True

    async def documents(self, actor: Actor) -> list[DocumentLine]:
        self._may_read(actor)
        async with self.db.sessions() as session:
            repository = DocumentRepository(session)
            uploads = await repository.uploads()
            return [DocumentLine(d, *uploads.get(d.id, (None, None))) for d in await repository.documents()]

    async def document(self, actor: Actor, document_id: int) -> tuple[DocumentLine, list[PassageInfo]]:
        from services.knowledge import NotFound

        self._may_read(actor)
        async with self.db.sessions() as session:
            repository = DocumentRepository(session)
            found = [d for d in await repository.documents() if d.id == document_id]
            if not found:
                raise NotFound(str(document_id))
            uploads = await repository.uploads()
            return DocumentLine(found[0], *uploads.get(document_id, (None, None))), \
                await repository.passages(document_id)

    async def upload(self, actor: Actor, filename: str, data: bytes) -> IngestResult:
        """Read and store one uploaded file (all or nothing; the same content again changes nothing); raise
        ``DocumentError`` (its message names the file) when it cannot be read."""
        import tempfile

        self.require_change(actor)
        name = PurePath(filename.replace("\\", "/")).name.strip() or "tai-lieu"
        with tempfile.TemporaryDirectory(prefix="unionbot-upload-") as folder:
            path = Path(folder) / name
            path.write_bytes(data)
            try:
                parsed = read_document(path, max_bytes=self.max_bytes, origin=UPLOAD_ORIGIN + name)
            except DocumentError as exc:  # name the file as the office knows it, not the temporary folder
                raise DocumentError(name, exc.reason, **exc.values) from None
        now = self.clock()
        async with self.db.sessions.begin() as session:
            document_id, outcome = await DocumentRepository(session).upsert(parsed, now)
            if outcome != "unchanged":
                await _record_change(session, actor, "document.upload", document_id, now, outcome=outcome)
        if outcome != "unchanged":
            await self._changed()
        return IngestResult(name, outcome, document_id, parsed.title, parsed.passages)

    async def delete(self, actor: Actor, document_id: int) -> None:
        from services.knowledge import NotFound

        self.require_change(actor)
        now = self.clock()
        async with self.db.sessions.begin() as session:
            if not await DocumentRepository(session).delete(document_id):
                raise NotFound(str(document_id))
            await _record_change(session, actor, "document.delete", document_id, now)
        await self._changed()

    async def _changed(self) -> None:
        if self.on_change is not None:
            try:
                await self.on_change()
            except Exception:  # noqa: BLE001 - the watcher picks the change up on its next round anyway
                import logging

                logging.getLogger(__name__).exception("passages reload after a document change failed")


async def _record_change(session: AsyncSession, actor: Actor, action: str, document_id: int, now: datetime,
                         **details: object) -> None:
    """Audit a document change (who, when, which document: ids only) and bump the knowledge version."""
    from storage.knowledge import KnowledgeEditRepository
    from storage.membership import AuditRepository

    await AuditRepository(session).record(actor=actor.label, actor_member_id=actor.member_id, action=action,
                                          unit_id=None, target=str(document_id), now=now, **details)
    await KnowledgeEditRepository(session).bump_version(now)
