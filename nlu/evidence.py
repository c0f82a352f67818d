"""The evidence index: which sentence of the source documents (or field of a knowledge entry) answers a question.

Pure: built once from plain records, no I/O at match time. A question is read into a :class:`Question`
(what kind of answer it wants, its key terms, the constraints it names: a place, a cluster, a phase, a
year), then :meth:`EvidenceIndex.search` ranks sentences with BM25 (``bm25s``) over accent-folded
syllables and syllable bigrams, keeps those that satisfy every constraint, weighs them by the share of
the key terms they contain and by the kind of answer they hold (a number, a date, a person's name, a
list), and says one of three things:

- ``answered``: the sentence(s) that answer, strongest first;
- ``unknown``: a key term, place, cluster, phase or year no record mentions at all (honest fallback);
- ``weak``: nothing answers well enough (the caller decides: another answer, or the fallback).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from functools import lru_cache
from itertools import combinations
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from nlu.bm25 import Ranker
from nlu.data import YAML_LOADER
from nlu.editions import editions
from nlu.normalize import Normalizer, clean, fold, has_diacritics, is_roman, is_syllable, normalize_tones
from nlu.normalize import tokens as word_tokens

DATA_FILE = Path(__file__).with_name("data") / "evidence.yaml"

#: the share of a question's key terms (weighted by rarity) the answering sentence and its paragraph must hold
MIN_COVERAGE = 0.7
#: a second sentence is shown beside the best when it scores at least this share of the best
SECOND_ANSWER = 0.9
#: a key term this common in the evidence (in about one sentence in seven or more) is no subject the gate asks for
GAP_MIN_IDF = 2.0
#: an answer already holding most of the question (coverage) is refused only for a missing rare term (in a few
#: sentences at most: "phim", "xe", a brand)
ANSWER_GAP_IDF = 4.0
#: ... but not for one the documents write elsewhere, when the answer holds this much of the question: a member's
#: own verb or qualifier ("vượt", "kịp", "nhằm") beside everything the sentence says; a word no document writes
#: ("phim", "xe đưa đón") still refuses
KNOWN_GAP_COVERAGE = 0.8
#: how well a sentence joining two items ("… nhận Cờ thi đua và … nhận Bằng khen") answers a list question, when it
#: holds every key term (a sentence listing none answers it less than the threshold of 0.7)
JOINED = 0.75
#: a list question answered by a sentence naming one item: a sentence scoring this share of it that gives the item
#: with others (the list it is one of) answers instead
FULLER = 0.6
#: sentences ranked by BM25 before the finer scoring
CANDIDATES = 40
#: the sentences a question asking for several things ("những ai", "các quận nào") may be answered with
MAX_ITEMS = 8

#: "author": who wrote the article (its byline), asked as "tác giả", "ai viết"; "photo": who took a photo (its
#: caption's "(Ảnh: …)"), asked as "ai chụp"
KINDS = ("author", "photo", "date", "person", "quantity", "place", "definition", "list")
_NUMBER_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "nhi": 2, "ba": 3, "bon": 4, "tu": 4, "sau": 6}
_YEAR = re.compile(r"^(19|20)\d\d$")
_YEAR_PARTS = re.compile(r"[-/]")  # "2023-2028", "2020/2021"
_UNIT_WORDS = frozenset({"nguoi", "don", "dot", "nam", "thang", "ngay", "lan", "ban", "cai"})  # "bao nhiêu bản"
_MONEY_TOPICS = frozenset({"gia", "tien", "phi", "luong", "kinh"})
#: a money word in a compound meaning something else: "tham gia", "gia đình", "kinh tế", "kinh doanh" name no price
_ORDINAL_WORDS = frozenset({"thu", "khoa"})  # "lần thứ XIII", "Quốc hội khóa XV": the number after is an ordinal
_NOT_MONEY = frozenset({("tham", "gia"), ("gia", "dinh"), ("kinh", "te"), ("kinh", "doanh"), ("kinh", "nghiem")})
_MONEY_WORDS = frozenset({"dong", "trieu", "ty", "nghin", "ngan", "usd"})
_TIME_WORDS = frozenset({"thang", "nam", "ngay", "tuan", "gio"})
#: "bao nhiêu <noun>" asking a count of people, and the words after a number that count people ("247 đoàn viên",
#: "101 cá nhân", "8,6 triệu lượt", "300 công nhân")
_PEOPLE_NOUNS = frozenset({("doan", "vien"), ("cong", "nhan"), ("ca", "nhan"), ("lao", "dong"), ("cnvcld",),
                           ("cnld",), ("nld",), ("dv",)})
_PLURAL = frozenset({"cac", "nhung"})
#: a group of people or bodies (answering "ai"): "các đơn vị thành viên", "đoàn viên", "tập thể"
_GROUPS = _PEOPLE_NOUNS | {("don", "vi"), ("tap", "the")}
_PEOPLE_WORDS = frozenset({"nguoi", "nhan", "luot", "vien", "cnvcld", "cnld", "nld", "cnvcnld"})
_VOWEL = re.compile(r"[aeiouy]")
_NUM = re.compile(r"^\d+(?:[.,]\d+)*%?$")
_DATE_RE = re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\btháng \d{1,2}\b|\bngày \d{1,2}\b", re.IGNORECASE)
_CAP_WORD = re.compile(r"[A-ZĐÀ-Ỹ][a-zà-ỹđ]*", re.UNICODE)
_LEADING_TAG = re.compile(r"^\((?:LĐTĐ|LĐ)\)\s*")
#: the first two words of a title ("chủ tịch", "cụm trưởng"), and the words that end a title and its body in a question
_TITLE_STARTS = frozenset({("chu", "tich"), ("cum", "truong"), ("giam", "doc"), ("bi", "thu"), ("truong", "ban"),
                           ("pho", "ban"), ("tong", "giam")})
#: words of the names of the union's bodies ("Tổng Liên đoàn Lao động Việt Nam", "LĐLĐ thành phố", "công đoàn ngành")
_BODY_WORDS = frozenset({"tong", "lien", "doan", "lao", "dong", "cong", "thanh", "pho", "ha", "noi", "quan", "huyen",
                         "xa", "phuong", "viet", "nam", "nganh", "co", "so", "thuong", "truc", "cum", "tinh", "ban"})
_TITLE_END = frozenset({"la", "ai", "ten", "gi", "nao", "hien", "nay", "dang", "hoi", "o", "tai", "nam", "khi", "cua",
                        "do", "va", "voi", "thi", "co", "duoc", "nhung", "cac", "ve", "tu", "den", "trong", "luc",
                        "khong", "vay", "a", "ad", "admin", "nhe", "oi", "the"})
_CREDIT_ONLY = re.compile(r"^\(?\s*(?:Ảnh|ảnh|ẢNH)\s*:[^.()]{1,40}\)?[\s|.]*$")
_PHOTO_CREDIT = re.compile(r"\b(?:Ảnh|ảnh|ẢNH)\s*:\s*\S")
#: the words of a question about an article itself ("bài viết", "bài báo", "tác giả"): no term its sentences hold
_ARTICLE_WORDS = frozenset({"bai", "viet", "bao", "tac", "gia", "tin", "nay", "ve"})
#: words that set two subjects side by side ("hay", "và", "với", "so với", "hoặc")
#: marks of a sentence that gives a theme, a slogan or contents rather than naming them
_GIVES = ("“", '"', ":")
_SIDES = frozenset({"hay", "va", "voi", "hoac"})
#: where the words a sentence opens with end: its first " là ", parenthesis, dash, colon or comma
_HEAD_END = re.compile(r"\s+là\s+|\s*[(:,;]|\s+[–—-]\s+", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Passage:
    """A sentence of an ingested document (the same fields as ``storage.documents.PassageInfo``)."""

    id: int
    document_id: int
    title: str
    published: date | None
    origin: str
    paragraph: int
    sentence: int
    text: str
    publication: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    """One sentence the bot may answer with, and what places it in its source."""

    text: str
    title: str  # the document's title (or the knowledge entry's source headline)
    date: date | None  # when the source says it was true (publication date or the entry's "as of")
    doc: str  # one key per source document
    paragraph: tuple[str, ...] = ()  # the sentences of its paragraph, itself included
    position: int = 0  # its index in ``paragraph``
    label: str = ""  # a knowledge entry's name: part of the sentence's context
    entry_id: str | None = None
    exact_date: bool = True  # ``date`` is a day the source names, not only "as of" a year
    publication: str | None = None  # who published the document ("Lao động Thủ đô"), when known
    byline: bool = False  # the article's author's name, alone on the line that ends it


@dataclass(frozen=True)
class Language:
    cues: dict[str, tuple[tuple[str, ...], ...]]
    which_nouns: tuple[tuple[str, ...], ...]
    stopwords: frozenset[str]
    synonyms: dict[str, tuple[str, ...]]
    sidebar_markers: frozenset[str]
    surnames: frozenset[str]
    places: dict[tuple[str, ...], str]  # folded tokens -> folded name
    cue_words: frozenset[str] = field(init=False)
    not_names: frozenset[tuple[str, ...]]  # capitalised pairs that start like a person's name but are not
    roles: frozenset[str]  # words of a title ("cụm trưởng", "phó chủ tịch"): who holds it must be said with it
    generic: frozenset[str]  # the union's generic words: with a content word they make a term ("đoàn phí")
    what_nouns: frozenset[str]  # "chủ đề", "nội dung": "… là gì" asks their words, not a definition
    everyday: frozenset[str] = frozenset()  # words around a question that name no subject: the gate skips them
    qualifiers: frozenset[tuple[str, str]] = frozenset()  # "tối thiểu", "ít nhất": qualify a figure, no subject
    #: the stop words as written, with their accents: a word typed with diacritics is a stop word only as one of
    #: these ("răng" is a content word, though it folds as "rằng")
    stop_forms: frozenset[str] = frozenset()
    #: words pointing at a person the previous answer named ("ông ấy", "chị đó"), folded, with the sex they imply
    #: ("m", "f", or "" for either)
    pointers: dict[tuple[str, ...], str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path = DATA_FILE) -> Language:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
        cues = {kind: tuple(tuple(fold(p).split()) for p in data["cues"][kind]) for kind in KINDS}
        return cls(
            cues=cues,
            which_nouns=tuple(tuple(fold(p).split()) for p in data["which_nouns"]),
            stopwords=frozenset(fold(str(w)) for w in data["stopwords"]),
            stop_forms=frozenset(_typed(str(w)) for w in data["stopwords"]),
            synonyms={fold(k): tuple(fold(v) for v in vs) for k, vs in data["synonyms"].items()},
            sidebar_markers=frozenset(fold(m) for m in data["sidebar_markers"]),
            surnames=frozenset(fold(s) for s in data["surnames"]),
            places={tuple(fold(p).split()): fold(p) for p in data["places"]},
            not_names=frozenset(tuple(fold(p).split()) for p in data["not_names"]),
            what_nouns=frozenset(fold(w) for w in data["what_nouns"]),
            generic=frozenset(fold(w) for w in data["generic"]),
            roles=frozenset(fold(w) for w in data["roles"]),
            everyday=frozenset(fold(str(w)) for w in data.get("everyday", ())),
            qualifiers=frozenset((a, b) for a, b in (fold(str(p)).split() for p in data.get("qualifiers", ()))),
            pointers={tuple(fold(str(p)).split()): sex for sex, ps in data.get("pointers", {}).items()
                      for p in ps},
        )

    def __post_init__(self) -> None:
        words = frozenset(w for phrases in self.cues.values() for p in phrases for w in p)
        object.__setattr__(self, "cue_words", words)

    def is_stop(self, word: str, typed: str | None = None) -> bool:
        """Whether a folded word is a stop word: typed with diacritics (``typed``), only as an accented stop word
        ("rằng", not "răng"); typed without any (or not known as typed), whenever it folds as one."""
        return word in self.stopwords and (typed is None or typed in self.stop_forms)


def _typed(text: str) -> str:
    """A word as typed, its accents kept: tone marks placed as spelling places them, lower case."""
    return normalize_tones(clean(text)).lower()


@lru_cache(maxsize=1024)
def _marks(text: str, toks: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(folded word, as typed) for the words of ``toks`` typed in ``text`` with diacritics, each typed in one way
    only (a word typed once with and once without them, or in two ways, is read folded). Kept for the last
    questions: a question is read, searched and gated, each step asking."""
    seen: dict[str, set[str]] = {}
    wanted = set(toks)
    for w in word_tokens(_typed(text)):
        f = fold(w)
        if f in wanted:
            seen.setdefault(f, set()).add(w)
    return tuple((f, a) for f, forms in seen.items() if len(forms) == 1 and (a := next(iter(forms))) != f)


@dataclass(frozen=True)
class Question:
    """What a question asks, read from its words."""

    text: str
    tokens: tuple[str, ...] = ()
    kind: str | None = None  # one of KINDS, or None
    unit: tuple[str, ...] = ()  # "bao nhiêu người" -> ("nguoi",); "công ty nào" -> ("cong", "ty")
    terms: tuple[str, ...] = ()  # key terms: content words the evidence must hold
    places: tuple[str, ...] = ()
    clusters: tuple[int, ...] = ()
    phases: tuple[int, ...] = ()
    years: tuple[int, ...] = ()
    #: pairs of adjacent words the sources also write together ("cụm trưởng", "đoàn phí"): the answer must too
    compounds: tuple[tuple[str, str], ...] = ()
    #: the words naming what is asked ("thu khoản gì", "lĩnh vực nào", "bên nào đông hơn"): the answer holds an
    #: instance of it, seldom the word itself, so they rank evidence but no refusal rests on them
    asked: tuple[str, ...] = ()
    #: a title and the body it belongs to, as the question writes them ("chủ tịch tổng liên đoàn", "chủ tịch LĐLĐ
    #: thành phố"): who holds it is said only by a sentence writing the same words in a row
    title: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {"text": self.text, "tokens": list(self.tokens), "kind": self.kind, "unit": list(self.unit),
                "terms": list(self.terms),
                "places": list(self.places), "clusters": list(self.clusters), "phases": list(self.phases),
                "years": list(self.years), "compounds": [list(c) for c in self.compounds],
                "asked": list(self.asked), "title": list(self.title)}

    @classmethod
    def from_dict(cls, data: dict) -> Question:
        return cls(text=str(data.get("text", "")), tokens=tuple(str(t) for t in data.get("tokens", ())),
                   kind=data.get("kind"), unit=tuple(data.get("unit", ())),
                   terms=tuple(data.get("terms", ())), places=tuple(data.get("places", ())),
                   clusters=tuple(int(x) for x in data.get("clusters", ())),
                   phases=tuple(int(x) for x in data.get("phases", ())),
                   years=tuple(int(x) for x in data.get("years", ())),
                   compounds=tuple((str(a), str(b)) for a, b in data.get("compounds", ())),
                   asked=tuple(str(x) for x in data.get("asked", ())),
                   title=tuple(str(x) for x in data.get("title", ())))

    @property
    def constrained(self) -> bool:  # noqa: D401 - compounds are no constraint a refusal could name
        return bool(self.places or self.clusters or self.phases or self.years)


@dataclass(frozen=True)
class Finding:
    """The verdict of a search."""

    status: str  # "answered" | "unknown" | "weak"
    question: Question
    records: tuple[Record, ...] = ()  # answered: the sentences that answer (with list continuations)
    missing: tuple[tuple[str, str], ...] = ()  # unknown: (what, value) e.g. ("term", "phim"), ("cluster", "2")
    coverage: float = 0.0
    score: float = 0.0
    #: answered: key terms of the question that the answering sentence, its paragraph, title and label do not hold
    gaps: tuple[str, ...] = ()


@dataclass
class _Meta:
    words: frozenset[str]  # folded syllables of the sentence
    pairs: frozenset[tuple[str, str]]  # and its syllable bigrams
    context: frozenset[str]  # of its paragraph, title and label
    places: frozenset[str]
    clusters: frozenset[int]
    phases: frozenset[int]
    years: frozenset[int]
    spans: frozenset[int]  # the years of the spans it names ("2023-2028"), its paragraph's when it names no year
    numbers: tuple[tuple[str, tuple[str, ...]], ...]  # (number, the two words after it)
    has_date: bool
    has_person: bool
    has_list: bool
    text: str = ""
    ordinal: bool = False  # names an ordinal ("lần thứ II", "khóa 3")
    items: int = 0  # how many items it lists (its commas, semicolons and quoted names)
    lead: bool = False  # the first sentence of a knowledge entry's summary
    label: frozenset[str] = frozenset()  # the entry's name
    label_pairs: frozenset[tuple[str, str]] = frozenset()
    defines: frozenset[str] = field(default_factory=frozenset)  # folded words just before a " là "
    #: the words the sentence opens with, up to its first " là ", parenthesis, dash, colon or comma (at most 12): what
    #: it is about when it defines or describes a thing ("X (…)", "X – …", "X, …, được …")
    head: frozenset[str] = field(default_factory=frozenset)
    byline: bool = False


def records_from_passages(passages: Iterable[Passage], language: Language | None = None) -> list[Record]:
    """Sentences of ingested documents as records, grouped by paragraph, without the pages' sidebars."""
    language = language or Language.load()
    by_doc: dict[int, list[Passage]] = {}
    for p in passages:
        by_doc.setdefault(p.document_id, []).append(p)
    records: list[Record] = []
    for items in by_doc.values():
        items.sort(key=lambda p: (p.paragraph, p.sentence))
        kept: list[Passage] = []
        for p in items:
            if " ".join(fold(p.text).split()).strip(" .:") in language.sidebar_markers:
                break  # the article is over: what follows is the page's other news
            kept.append(p)
        paragraphs: dict[int, list[Passage]] = {}
        for p in kept:
            paragraphs.setdefault(p.paragraph, []).append(p)
        # the author's name alone on one of the article's last lines (a copyright notice may follow it)
        last = next((p for p in reversed(kept[-3:]) if _is_byline(_LEADING_TAG.sub("", p.text).strip())), None)
        for group in paragraphs.values():
            texts = tuple(_LEADING_TAG.sub("", p.text).strip() for p in group)
            for i, p in enumerate(group):
                if not texts[i]:
                    continue
                records.append(Record(text=texts[i], title=p.title, date=p.published, doc=Path(p.origin).name,
                                      paragraph=texts, position=i, exact_date=p.published is not None,
                                      publication=p.publication, byline=p is last))
    return records


_BYLINE = re.compile(r"^(?:[A-ZĐÀ-Ỹ][a-zà-ỹđ]*\.?\s?){1,4}$|^(?:[A-ZĐÀ-Ỹ]\.){1,3}[A-ZĐÀ-Ỹ]?$")


_QUOTED = re.compile(r"[“\"]([^”\"]{2,160})[”\"]")


def _names(text: str) -> frozenset[str]:
    """The quoted names a sentence gives ("Lao động giỏi", "Xanh, sạch, đẹp"), folded."""
    return frozenset(" ".join(fold(n).split()) for n in _QUOTED.findall(text))


def _fullest_first(blocks: list[list[Record]]) -> list[list[Record]]:
    """A list question's answers (each sentence with its continuation) without those whose quoted names another answer
    gives all of, and more (an entry's sentence about one campaign beside the article's list of them): the fuller
    answer takes the place of the first, so the first page shows the list, not one of its items. An answer sharing a
    name with a fuller one comes after it ("“A” là phong trào trọng tâm …, Đợt 2 có chủ đề “B”" after the list of
    “A”, “C”, “D”, …)."""
    named = [frozenset().union(*(_names(r.text) for r in block)) for block in blocks]
    kept = [(block, names) for block, names in zip(blocks, named, strict=True)
            if not names or not any(_within(names, other) for other in named)]
    out: list[int] = []
    for k, (_block, names) in enumerate(kept):
        fuller = sorted((j for j, (_b, other) in enumerate(kept) if j not in out and len(other) > len(names)
                         and _shares(names, other)), key=lambda j: -len(kept[j][1]))
        out.extend(j for j in [*fuller, k] if j not in out)
    return [kept[j][0] for j in out]


def _shares(a: frozenset[str], b: frozenset[str]) -> bool:
    """Some quoted name of ``a`` is one of ``b`` (as it is, or inside a longer name)."""
    return any(n == g or n in g for n in a for g in b)


def _within(a: frozenset[str], b: frozenset[str]) -> bool:
    """Quoted names ``b`` give every one of ``a`` (as it is, or inside a longer name), and more."""
    return len(b) > len(a) and all(any(n == g or n in g for g in b) for n in a)


def _is_byline(text: str) -> bool:
    """The line that ends an article names its author when it is a name alone: two to four capitalised words
    ("Trần Vũ"), or initials ("Đ.L")."""
    words = text.split()
    return 1 <= len(words) <= 4 and bool(_BYLINE.match(text.strip())) and (len(words) > 1 or "." in text)


def _cluster_numbers(toks: Sequence[str]) -> set[int]:
    found = set()
    for i, t in enumerate(toks):
        if t != "cum":
            continue
        rest = list(toks[i + 1:i + 5])
        if rest[:2] == ["thi", "dua"]:
            rest = rest[2:]
        if rest[:1] == ["so"]:
            rest = rest[1:]
        if rest and rest[0].isdigit() and 0 < int(rest[0]) < 100:
            found.add(int(rest[0]))
    return found


def _phase_numbers(toks: Sequence[str]) -> set[int]:
    found = set()
    for i, t in enumerate(toks):
        if t != "dot":
            continue
        rest = list(toks[i + 1:i + 5])
        if rest[:2] == ["thi", "dua"]:
            rest = rest[2:]
        if rest[:1] in (["thu"], ["so"]):
            rest = rest[1:]
        if rest and rest[0].isdigit() and 0 < int(rest[0]) < 20:
            found.add(int(rest[0]))
        elif rest and rest[0] in _NUMBER_WORDS and (len(rest) == 1 or rest[0] != "tu"):
            found.add(_NUMBER_WORDS[rest[0]])
    return found


def _years(toks: Iterable[str]) -> set[int]:
    found = set()
    for t in toks:
        for part in _YEAR_PARTS.split(t) if "-" in t or "/" in t else (t,):
            if len(part) == 4 and _YEAR.match(part):  # (the length first: most words are no year)
                found.add(int(part))
    return found


def _spans(toks: Sequence[str]) -> tuple[str, ...]:
    """A term's span typed without its dash ("nhiệm kỳ 2023 2028", "giai đoạn 2021 2025") as written with it: two
    years side by side after "kỳ" or "giai đoạn", the second the later, are one span, not two questions."""
    out: list[str] = []
    i = 0
    while i < len(toks):
        a = toks[i]
        b = toks[i + 1] if i + 1 < len(toks) else ""
        if _YEAR.match(a) and _YEAR.match(b) and int(a) < int(b) <= int(a) + 10 \
                and (out[-1:] == ["ky"] or out[-2:] == ["giai", "doan"]):
            out.append(f"{a}-{b}")
            i += 2
            continue
        out.append(a)
        i += 1
    return tuple(out)


def _places(toks: Sequence[str], places: dict[tuple[str, ...], str], fuzzy: bool = False
            ) -> list[tuple[int, int, str]]:
    """(start, end, name) of every place named, longest first, not overlapping; ``fuzzy``: one letter off
    ("hoa kiem" for Hoàn Kiếm) in names of at least 8 letters."""
    out: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    if fuzzy:
        starts: Sequence[int] = range(len(toks))
    else:  # a name starts with the first word of a place: only those positions are looked at
        first = {k[0] for k in places}
        starts = [i for i, t in enumerate(toks) if t in first]
    for n in (4, 3, 2):
        for i in starts:
            if i > len(toks) - n:
                break
            key = tuple(toks[i:i + n])
            if fuzzy and key not in places:
                joined = " ".join(key)
                key = next((k for k, name in places.items() if len(k) == n and len(name) >= 8
                            and Levenshtein.distance(joined, name, score_cutoff=1) <= 1), key)
            if key in places and not taken & set(range(i, i + n)):
                out.append((i, i + n, places[key]))
                taken.update(range(i, i + n))
    return sorted(out)


#: words before a place name that make it a ward or commune inside a district ("phường Mỹ Đình"): a sentence naming
#: one is still about its paragraph's district
_WARD_WORDS = frozenset({"phuong", "xa"})


def _own_places(toks: Sequence[str], places: dict[tuple[str, ...], str]) -> frozenset[str]:
    """The districts a sentence names itself: none when it names only wards (then its context's place holds)."""
    own = set()
    for start, _end, name in _places(toks, places):
        before = toks[start - 1] if start else ""
        if before in _WARD_WORDS and not (before == "xa" and start > 1 and toks[start - 2] == "thi"):
            return frozenset()  # "phường Cầu Diễn": a part of the district the paragraph is about
        own.add(name)
    return frozenset(own)


class EvidenceIndex:
    def __init__(self, records: Iterable[Record], normalizer: Normalizer, language: Language | None = None,
                 common: Iterable[str] = ()) -> None:
        """``common``: words of the domain's everyday language (the intent examples' words, with their accents):
        a question's word the evidence lacks is a reason to decline only when it is not one of them."""
        self.normalize = normalizer
        self.common = frozenset(w.lower() for w in common)
        self.common_folded = frozenset(fold(w) for w in self.common)
        self.lang = language or Language.load()
        self.records: list[Record] = list(records)
        self._meta: list[_Meta] = []
        corpus: list[list[str]] = []
        df: Counter[str] = Counter()
        self.bigrams: set[tuple[str, str]] = set()
        self.known_places: set[str] = set()
        self.known_clusters: set[int] = set()
        self.known_phases: set[int] = set()
        self.known_years: set[int] = set()
        #: the numbered editions, anniversaries and documents the records name (``nlu.editions``): kind -> numbers
        self.known_editions: dict[str, set[int]] = {}
        context_cache: dict[tuple, tuple] = {}
        dominant = self._dominant_places()
        self._written = self._written_forms()
        #: how the stop words are written, by their folded form ("ve" -> "về"): with ``_written``, the forms a word
        #: typed with diacritics may be a slip of
        self._stop_forms: dict[str, frozenset[str]] = {}
        for form in self.lang.stop_forms:
            self._stop_forms[fold(form)] = self._stop_forms.get(fold(form), frozenset()) | {form}
        #: one group per paragraph (with its title and label): its words, places and clusters; and which groups hold
        #: a word. A question's key terms must all be held by one group for the evidence to cover it (``gaps``)
        self._groups: list[tuple[frozenset[str], frozenset[str], frozenset[int]]] = []
        self._group_of: dict[tuple, int] = {}
        self._groups_with: dict[str, list[int]] = {}
        for r in self.records:
            toks = self._tokens(r.text)
            key = (r.paragraph, r.title, r.label, r.doc)
            if key not in context_cache:  # what a paragraph, its title and label say: once per paragraph
                ctx = (*self._tokens(" ".join(r.paragraph)), *self._tokens(r.title), *self._tokens(r.label))
                context_cache[key] = (
                    ctx, frozenset(ctx),
                    frozenset(p for _, _, p in _places(ctx, self.lang.places)) | dominant.get(r.doc, frozenset()),
                    frozenset(_cluster_numbers(ctx)), frozenset(_years(t for t in ctx if "-" not in t)),
                    frozenset(_phase_numbers(self._tokens(r.label))), frozenset(_years(t for t in ctx if "-" in t)))
            ctx_toks, context, ctx_places, ctx_clusters, ctx_years, label_phases, ctx_spans = context_cache[key]
            if key not in self._group_of:
                self._group_of[key] = len(self._groups)
                self._groups.append((context | frozenset(toks), ctx_places, ctx_clusters))
                for w in context | frozenset(toks):
                    self._groups_with.setdefault(w, []).append(self._group_of[key])
            corpus.append([*toks, *(f"{a} {b}" for a, b in zip(toks, toks[1:], strict=False))])
            self.bigrams.update(zip(toks, toks[1:], strict=False))
            words = frozenset(toks)
            if r.position and _CREDIT_ONLY.match(r.text):  # "(Ảnh: …)" alone: the credit of the caption before it
                words |= frozenset(self._tokens(r.paragraph[r.position - 1]))
            df.update(words)
            # a sentence that names its own district, cluster or year is about those, whatever its paragraph or
            # document is about ("6 tháng đầu năm 2022: …" is no answer about 2023 because its paragraph names
            # "nhiệm kỳ 2023-2028"; "… Chủ tịch LĐLĐ thị xã Sơn Tây" is no answer about Thanh Trì)
            own_places = _own_places(toks, self.lang.places)
            places = own_places or ctx_places
            own_clusters = frozenset(_cluster_numbers(toks))
            clusters = own_clusters or ctx_clusters
            phases = frozenset(_phase_numbers(toks)) | label_phases
            # (a term's span, "nhiệm kỳ 2023-2028", is no year the sentence is about: it adds its years)
            own_years = _years(t for t in toks if "-" not in t)
            years = own_years or {*ctx_years, *((r.date.year,) if r.date else ())}
            # a span ("nhiệm kỳ 2023-2028") answers a question naming that span, not one about the year 2023
            spans = _years(t for t in toks if "-" in t) | (frozenset() if own_years else ctx_spans)
            meta = _Meta(
                words=words, pairs=frozenset(zip(toks, toks[1:], strict=False)),
                context=context, places=places, clusters=clusters, phases=phases,
                years=frozenset(years), spans=frozenset(spans), numbers=self._numbers(toks),
                has_date=bool(_DATE_RE.search(r.text)),
                has_person=self._has_person(r.text), has_list=r.text.count(",") >= 2 or ":" in r.text,
                defines=self._defines(toks), head=self._head(r.text), text=r.text, byline=r.byline,
                ordinal=any(a in _ORDINAL_WORDS and (b.isdigit() or is_roman(b))
                            for a, b in zip(toks, toks[1:], strict=False)),
                items=r.text.count(",") + r.text.count(";") + r.text.count("“") + r.text.count('"') // 2,
                lead=r.entry_id is not None and r.position == 0,
                label=frozenset(self._tokens(r.label)),
                label_pairs=frozenset(zip(self._tokens(r.label), self._tokens(r.label)[1:], strict=False)))
            self._meta.append(meta)
            self.known_places |= places
            self.known_clusters |= clusters
            self.known_phases |= phases
            self.known_years |= years | spans
            for kind, value, _, _ in editions(toks):
                self.known_editions.setdefault(kind, set()).add(value)
        # which records satisfy a constraint: one set per value, intersected at search time
        self._by: dict[tuple[str, object], set[int]] = {}
        keyed = self.lang.generic | self.lang.roles | self.lang.what_nouns
        for i, m in enumerate(self._meta):
            keys: list[tuple[str, object]] = [("place", v) for v in m.places]
            keys += [("cluster", v) for v in m.clusters]
            keys += [("phase", v) for v in m.phases] + [("year", v) for v in m.years | m.spans]
            keys += [("pair", pair) for pair in m.pairs | m.label_pairs if pair[0] in keyed or pair[1] in keyed]
            for constraint in keys:
                self._by.setdefault(constraint, set()).add(i)
        self.vocabulary = frozenset(df)
        self._df = df
        self._n = max(len(self.records), 1)
        self._choices = sorted(self.vocabulary | self.lang.stopwords | self.lang.cue_words
                               | {k for k in normalizer.abbreviations if k.isalpha()})
        self._known = frozenset(self._choices)
        # the pairs of the cue phrases and of the places' names ("nam từ liêm": "uiêm" after "từ" is "liêm", though
        # "từ" is a stop word; "iống đa" is "Đống Đa", though "đa" folds as "đã")
        self._phrase_bigrams = {(a, b) for phrases in (*self.lang.cues.values(), self.lang.places)
                                for p in phrases for a, b in zip(p, p[1:], strict=False)}
        # the BM25 ranking (bm25s) is built at the first search: a process that answers no question (the
        # CLI's other commands, a webhook worker before its first message) does not pay for it
        self._corpus: list[list[str]] | None = corpus or None
        self._bm25: Ranker | None = None
        self.correct_word = lru_cache(maxsize=50_000)(self._candidates)
        self._idf_cache: dict[str, float] = {}
        self._entry_rows: dict[str, list[int]] | None = None
        self._bylines: list[tuple[int, list[_Meta], frozenset[str]]] | None = None
        self._by_rows: dict[tuple[str, object], np.ndarray] = {}
        self._term_groups: dict[str, np.ndarray] = {}
        self._gap_memo: dict[tuple, tuple[str, ...]] = {}
        self._memos()
        self._cue_index: dict[str, list[tuple[int, str, tuple[str, ...]]]] = {}
        for rank, k in enumerate(KINDS):  # phrases by first word; a kind's phrases in the data's order
            for order, phrase in enumerate(self.lang.cues[k]):
                self._cue_index.setdefault(phrase[0], []).append((rank * 1000 + order, k, phrase))

    # ----- storing (nlu/cache.py) ---------------------------------------------------------------
    def prepare(self) -> None:
        """Build what is otherwise built at the first question (the BM25 ranking), so a stored index has it."""
        self._ranker()

    def __getstate__(self) -> dict:
        """What is derived from the records; the normalizer (given again by :meth:`attach`) and the per-process
        caches are not stored."""
        state = dict(self.__dict__)
        for name in ("normalize", "correct_word", "_idf_cache", "_by_rows", "_term_groups", "_gap_memo",
                     "_content_memo", "_scores_memo", "_allowed_memo"):
            state.pop(name, None)
        return state

    def _memos(self) -> None:
        """The per-process memos of the last questions' work (bounded: each is emptied when it grows past its size).
        A follow-up's readings, a question's parts and the next message asking the same share most of it."""
        #: (text, tokens) -> the words typed as no record writes them (``_content``): asked by every step
        self._content_memo: dict[tuple[str, tuple[str, ...]], dict[str, str]] = {}
        #: a BM25 query (its words, in order) -> the scores of every sentence (read-only): the parts of "Đống Đa và
        #: Tây Hồ …" rank the same words, and so does the same question asked again
        self._scores_memo: dict[tuple[str, ...], np.ndarray] = {}
        #: a question's constraints -> the sentences satisfying them all: a follow-up's readings keep the constraints
        self._allowed_memo: dict[tuple, np.ndarray] = {}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.correct_word = lru_cache(maxsize=50_000)(self._candidates)
        self._idf_cache = {}
        self._by_rows = {}
        self._term_groups = {}
        self._gap_memo = {}
        self._memos()

    def attach(self, normalizer: Normalizer) -> None:
        """The normalizer of a loaded index (the one its key was computed with)."""
        self.normalize = normalizer

    # ----- building -----------------------------------------------------------------------------
    def _dominant_places(self) -> dict[str, frozenset[str]]:
        """The place a document is about, when one place has at least half of its mentions (an article about
        one district names it in the lead, not in every sentence)."""
        counts: dict[str, Counter[str]] = {}
        seen: set[tuple[str, ...]] = set()
        for r in self.records:
            if r.paragraph in seen:
                continue
            seen.add(r.paragraph)
            for text in r.paragraph or (r.text,):
                counts.setdefault(r.doc, Counter()).update(
                    p for _, _, p in _places(self._tokens(text), self.lang.places))
        out = {}
        for doc, c in counts.items():
            if c:
                place, n = c.most_common(1)[0]
                if n >= 2 and n * 2 >= sum(c.values()):
                    out[doc] = frozenset({place})
        return out

    def _tokens(self, text: str) -> tuple[str, ...]:
        return self.normalize(text).tokens if text else ()

    def _written_forms(self) -> dict[str, frozenset[str]]:
        """How the evidence writes the folded stop words ("ve" -> "về"; "dau" -> "đâu", "đầu"), with their accents."""
        forms: dict[str, set[str]] = {}
        seen: set[str] = set()
        for r in self.records:
            for text in (r.text, r.title, r.label, *r.paragraph):
                if not text or text in seen:
                    continue
                seen.add(text)
                for w in word_tokens(self.normalize(text).text.lower()):
                    forms.setdefault(fold(w), set()).add(w)
        return {f: frozenset(v) for f, v in forms.items()}

    @staticmethod
    def _numbers(toks: Sequence[str]) -> tuple[tuple[str, tuple[str, ...]], ...]:
        out = []
        for i, t in enumerate(toks):
            before = toks[i - 1] if i else ""
            after = tuple(toks[i + 1:i + 3])
            named = before in ("cum", "dot") or before == "so" and (toks[i - 2] if i > 1 else "") != "co"
            if named or after[:1] == ("so",) and after[1:] != ("voi",) and not t.endswith("%"):
                continue  # "cụm số 1", "đợt 2" name a thing ("cơ sở 10 phường" counts); "1 số đơn vị" is "some"
                # ("30% so với giá" is not)
            if _NUM.match(t) and not _YEAR.match(t) or before in _ORDINAL_WORDS and is_roman(t):
                out.append((t, after))
        return tuple(out)

    def _has_person(self, text: str) -> bool:
        return bool(self.people(text, first=True))

    def people(self, text: str, first: bool = False) -> list[str]:
        """The people a text names, as written ("Nguyễn Xuân Trọng"): a surname and the capitalised words after it
        (two to four words), not a place or a name that only looks like a person's ("Hà Nội"). ``first``: stop at
        the first."""
        words = [w.strip("(),.:;“”\"-–") for w in text.split()]
        found: list[str] = []
        i = 0
        while i < len(words) - 1:
            word, nxt = words[i], words[i + 1]
            if not word or not _CAP_WORD.fullmatch(word) or fold(word) not in self.lang.surnames \
                    or not nxt or not _CAP_WORD.fullmatch(nxt):
                i += 1
                continue
            pair = (fold(word), fold(nxt))
            if pair in self.lang.not_names or any(key[:2] == pair for key in self.lang.places):
                i += 1
                continue
            end = i + 2
            while end < len(words) and end - i < 4 and words[end] and _CAP_WORD.fullmatch(words[end]) \
                    and text.split()[end - 1][-1:] not in ",.:;)":
                end += 1
            found.append(" ".join(words[i:end]))
            if first:
                break
            i = end
        return list(dict.fromkeys(found))

    def _head(self, text: str) -> frozenset[str]:
        part = _HEAD_END.split(text, maxsplit=1)[0]
        toks = self._tokens(part)
        return frozenset(toks) if len(toks) <= 12 else frozenset()

    @staticmethod
    def _defines(toks: Sequence[str]) -> frozenset[str]:
        out: set[str] = set()
        for i, t in enumerate(toks):
            if t == "la" and i > 0:
                out.update(toks[max(0, i - 4):i])
        return frozenset(out)

    # ----- reading a question -------------------------------------------------------------------
    def _candidates(self, word: str) -> tuple[str, ...]:
        cutoff = 2 if len(word) >= 7 else 1
        found = process.extract(word, self._choices, scorer=Levenshtein.distance, score_cutoff=cutoff, limit=40)
        return tuple(w for w, _, _ in sorted(found, key=lambda x: (x[1], x[0])))

    def _support(self, c: str, left: str | None, right: str | None) -> int:
        """How well a word fits between its neighbours: 2 for each side it forms a known pair with a content word
        (or a cue phrase's pair), 1 with a stop word ("của Đống Đa": "của" is a stop word, the pair is still known)."""
        stop = self.lang.stopwords
        score = 0
        for pair, other in (((left, c), left), ((c, right), right)):
            if other is None:
                continue
            if pair in self._phrase_bigrams:
                score += 2
            elif pair in self.bigrams:
                score += 1 if other in stop else 2
        return score

    def _correct(self, toks: Sequence[str], unwritten: Mapping[str, str] | None = None,
                 typed: Mapping[str, str] | None = None) -> tuple[str, ...]:
        """Slips of one letter corrected by the words around them. An unknown word becomes the known word that fits
        best between its neighbours ("bao nhiu" -> "bao nhieu", "Đgng Đa" -> "Đống Đa"): a letter doubled or dropped
        needs one known pair, a letter swapped for another two (a pair with a content word, or pairs on both sides),
        so "xem phim" does not become "xem pham"; a letter typed twice is dropped ("nàoo"); without any, a word that
        is no Vietnamese syllable ("sangg") becomes its nearest known word. A known word is left alone (correcting
        "vàng" or "cụm" by their neighbours turned questions into others), and so is a roman numeral. ``unwritten``:
        the words typed with diacritics as neither the evidence nor the stop words write them (folded -> as typed),
        read as unknown words. ``typed``: in a question typed with diacritics, its words typed with them (folded ->
        as typed). Such a word, and a syllable typed without any beside them (not an acronym, "HCM"), becomes only a
        word one letter off as typed
        ("ổng" -> "tổng", never "dầu" -> "đảm" nor "phim" -> "phí": the accents typed, or not typed where the word
        needs one, are no slip). (A slip inside a word typed with diacritics is corrected folded: spelling moves its
        tone mark when a letter is added, "huymện" is typed "huỵmên".)"""
        unwritten = unwritten or {}
        out = list(toks)
        for i, w in enumerate(toks):
            if not w.isalpha() or len(w) < 2:
                continue
            left = out[i - 1] if i > 0 else None
            right = toks[i + 1] if i + 1 < len(toks) else None
            if w in self._known and w not in unwritten or is_roman(w):  # "lần thứ III" is no slip for "XIII"
                continue
            undoubled = [w[:k] + w[k + 1:] for k in range(1, len(w)) if w[k] == w[k - 1]]
            known = [c for c in undoubled if c in self._known]
            if known:  # a letter typed twice ("nàoo", "hồo"): Vietnamese syllables seldom double one
                out[i] = known[0]
                continue
            # a one-letter word is no slip of a two-letter one ("ốm" is not "ở" with a letter more)
            cands = tuple(c for c in self.correct_word(w) if len(c) > 1)
            if w in unwritten or typed is not None and w not in typed and is_syllable(w):
                cands = tuple(c for c in cands if self._slip_of(unwritten.get(w, w), c))
            if not cands:
                continue
            scored = []
            for c in cands:
                support = self._support(c, left, right)
                if support >= (1 if len(c) != len(w) else 2):
                    scored.append((support, self._df.get(c, 0), c))
            if scored:
                out[i] = max(scored)[2]
            elif not is_syllable(w) and len(w) >= 3:
                if not _VOWEL.search(w):  # no vowel: an acronym ("hcm" is not "hom"), or a letter dropped ("phm")
                    cands = tuple(c for c in cands if len(c) != len(w))
                if cands:
                    out[i] = cands[0]
        return self.normalize.expand(out)

    def _slip_of(self, typed: str, word: str) -> bool:
        """Whether a word typed with diacritics may be a slip for ``word`` (folded): one of the ways the evidence or
        the stop words write it is one letter off what was typed, accents included (when none is known, the folded
        words' distance decided already)."""
        forms = self._written.get(word, frozenset()) | self._stop_forms.get(word, frozenset())
        return not forms or any(Levenshtein.distance(typed, f, score_cutoff=1) <= 1 for f in forms)

    def _content(self, text: str, toks: tuple[str, ...]) -> dict[str, str]:
        """The question's words typed with diacritics that fold as a stop word but are written so neither among the
        stop words nor in the evidence (``_unwritten``: "răng", "dầu", "bơi"), folded -> as typed: key terms that no
        sentence holds, whatever word they fold like."""
        key = (text, toks)
        found = self._content_memo.get(key)
        if found is None:
            if len(self._content_memo) > 256:
                self._content_memo.clear()
            found = self._content_memo[key] = dict(self._unwritten(_marks(text, toks)))
        return found

    def read(self, text: str) -> Question:
        toks = self.normalize(text).tokens
        typed = dict(_marks(text, toks)) if has_diacritics(text) else None
        q = self._question(text, _spans(self._correct(toks, self._content(text, toks), typed)))
        return self._recorrect(q) or q

    def _unwritten(self, marks: Iterable[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """The words typed with diacritics that fold as a stop word but are written so neither among the stop words
        nor anywhere in the evidence ("răng", "dầu", "bơi"): a content word the evidence lacks, or a slip ("ổng"
        for "tổng") that the corrector reads like any unknown word. An everyday word typed as the domain's own
        examples type it ("đứng đầu", "vé") names no subject, as before."""
        everyday = self.lang.everyday
        return tuple((t, a) for t, a in marks if t in self.lang.stopwords and a not in self.lang.stop_forms
                     and a not in self._written.get(t, ()) and not (t in everyday and a in self.common))

    def _problems(self, q: Question) -> frozenset[str]:
        """The key terms the evidence lacks (no record holds, or no paragraph holds with the others)."""
        return frozenset({v for kind, v in self.unknown(q) if kind == "term"} | set(self.gaps(q)))

    def _recorrect(self, q: Question) -> Question | None:
        """A slip that made another word ("mặt càng" for "mặt hàng", "pháp luậ", "6 thán", "Thàn phố"): a key term
        the evidence lacks becomes the word one letter off that forms a known pair with a content word beside it (or
        pairs on both sides), when the question read so lacks fewer terms. A word the evidence lacks with no such
        neighbour ("vé xem phim", "lương hưu") stays what it is: the refusal names it."""
        bad = self._problems(q)
        if not bad:
            return None
        # (a key term is no stop word: a stop word it was typed for needs three supports, "6 thán đầu" → "tháng")
        toks, stop, content = list(q.tokens), self.lang.stopwords, self._content(q.text, q.tokens)
        for k, w in enumerate(q.tokens):
            if w not in bad or not w.isalpha() or len(w) < 2 or is_roman(w):
                continue
            left = toks[k - 1] if k else None
            right = q.tokens[k + 1] if k + 1 < len(q.tokens) else None
            scored = [(c not in stop, support, self._df.get(c, 0), c) for c in self.correct_word(w)
                      if c != w and (support := self._support(c, left, right)) >= (3 if c in stop else 2)
                      and (w not in content or self._slip_of(content[w], c))]
            if scored:  # a content word first: the slip was made in a key term
                toks[k] = max(scored)[3]
        if toks == list(q.tokens):
            return None
        better = self._question(q.text, tuple(toks))
        return better if len(self._problems(better)) < len(bad) else None

    def _question(self, text: str, toks: tuple[str, ...]) -> Question:
        used: set[int] = set()
        places = []
        for start, end, name in _places(toks, self.lang.places):
            places.append(name)
            used.update(range(start, end))
        clusters = sorted(_cluster_numbers(toks))
        phases = sorted(_phase_numbers(toks))
        years = sorted(_years(toks))
        for i, t in enumerate(toks):
            if t in ("cum", "dot") and (clusters if t == "cum" else phases):
                j = i + 1
                while j < len(toks) and toks[j] in ("thi", "dua", "so", "thu"):
                    j += 1
                if j < len(toks) and (toks[j].isdigit() or toks[j] in _NUMBER_WORDS):
                    used.update(range(i, j + 1))
            if _years([t]) and _YEAR.match(t.split("-")[0]):
                used.add(i)
        kind, unit, cue_at = self._kind(toks, dict(_marks(text, toks)))
        if kind == "quantity" and "%" in text:
            unit = ("%",)
        used |= cue_at
        for i, pair in enumerate(zip(toks, toks[1:], strict=False)):
            if pair in self.lang.qualifiers:  # "tối thiểu bao nhiêu": how the figure is asked, not what about
                used.update((i, i + 1))
        # a word typed with diacritics that folds as a stop word is the content word it was typed as when neither the
        # stop words nor the evidence write it so ("khám răng", "dầu ăn", "đi bơi": the articles write "rằng",
        # "đâu", "bởi"); one the evidence writes ("hội", "đầu") stays what its folded form always was here
        typed = self._content(text, toks)
        terms = []
        for i, t in enumerate(toks):
            if i in used or self.lang.is_stop(t, typed.get(t)):
                continue
            if _NUM.match(t) and _YEAR.match(t):
                continue
            terms.append(t)
        term_set, cues = set(terms), self.lang.cue_words
        asked: list[str] = []
        for i, t in enumerate(toks):  # "<noun> gì / nào": the noun names the kind of thing the answer gives
            if t not in ("gi", "nao") or i == 0 or toks[i - 1] not in term_set:
                continue
            asked.append(toks[i - 1])
            if i > 1 and toks[i - 2] in term_set and (toks[i - 2], toks[i - 1]) in self.bigrams:
                asked.append(toks[i - 2])  # "lĩnh vực gì", "chức vụ gì"
            # "những danh hiệu khen thưởng nào", "các hình thức hỗ trợ nào": the words between "những"/"các" and
            # "nào" name the kind of the items listed ("Cờ thi đua", "Bằng khen"), seldom written beside them
            for j in range(i - 2, max(i - 6, -1), -1):
                if toks[j] in ("nhung", "cac"):
                    if all(w in term_set for w in toks[j + 1:i]):
                        asked.extend(toks[j + 1:i])
                    break
        generic = self.lang.generic

        def ambiguous(i: int) -> bool:
            """A generic word that also pairs with its other neighbour ("hỗ trợ công nhân": "công nhân"): which
            pair the member meant is not known, so neither is a compound the answer must hold."""
            a, b = toks[i], toks[i + 1]
            if b in generic and i + 2 < len(toks) and (b, toks[i + 2]) in self.bigrams \
                    and (toks[i + 2] in term_set or toks[i + 2] in generic):
                return True
            return a in generic and i > 0 and (toks[i - 1], a) in self.bigrams and toks[i - 1] in term_set

        stop = self.lang.stopwords - generic  # ("và", "là" …; the union's own words pair: "đoàn phí")
        compounds = tuple(dict.fromkeys(
            (a, b) for i, (a, b) in enumerate(zip(toks, toks[1:], strict=False))
            if (a in term_set or b in term_set) and a not in cues and b not in cues and (a, b) in self.bigrams
            and a not in stop and b not in stop  # ("trưởng", "và") of "cụm trưởng và phó cụm trưởng" is no name
            and (kind == "person" and (a in self.lang.roles or b in self.lang.roles)
                 or (a in generic or b in generic) and not ambiguous(i))))
        # "chủ đề", "nội dung", "mục tiêu": made of words that alone say nothing, together they name what is asked;
        # the answering sentence must say it ("chủ đề năm 2022 … là gì" is answered by the sentence naming the theme)
        what = self.lang.what_nouns
        topics = tuple((a, b) for a, b in zip(toks, toks[1:], strict=False)
                       if a in what and b in what and (a, b) in self.bigrams)
        compounds = tuple(dict.fromkeys((*compounds, *topics)))
        title = self._title(toks, used) if kind == "person" else ()
        return Question(text=text, tokens=toks, kind=kind, unit=unit, terms=tuple(dict.fromkeys(terms)),
                        compounds=compounds, title=title,
                        places=tuple(dict.fromkeys(places)), clusters=tuple(clusters), phases=tuple(phases),
                        years=tuple(years), asked=tuple(dict.fromkeys(asked)))

    def _title(self, toks: Sequence[str], used: set[int]) -> tuple[str, ...]:
        """The title a "who" question names with the body it belongs to ("chủ tịch liên đoàn lao động thành phố hà
        nội"), from its first title word to a question word, a place, cluster or year: only when it names a body
        (at least one word after the title itself)."""
        for i in range(len(toks) - 1):
            if (toks[i], toks[i + 1]) not in _TITLE_STARTS or i in used:
                continue
            start = i - 1 if i and toks[i - 1] == "pho" else i  # "phó chủ tịch" is a title of its own
            j = i + 2
            while j < len(toks) and j not in used and (toks[j] in _BODY_WORDS or toks[j] not in _TITLE_END
                                                          and (toks[j - 1], toks[j]) in self.bigrams) \
                    and not (toks[j] == "nam" and toks[j + 1:j + 2] and toks[j + 1].isdigit()):  # "… năm 2021"
                j += 1
            return tuple(toks[start:j]) if j - i > 2 else ()
        return ()

    def _kind(self, toks: Sequence[str], typed: Mapping[str, str] | None = None
              ) -> tuple[str | None, tuple[str, ...], set[int]]:
        """The kind of answer asked (the first kind of KINDS whose cue is present), the unit asked for, and
        the positions of every cue word (they are no key terms). ``typed``: the words typed with diacritics (folded
        -> as typed); a one-word cue, a stop word, typed as another word is no cue ("máy móc" asks no "mấy"; a
        phrase's words are its own, "bắt đầu")."""
        typed = typed or {}
        kind: str | None = None
        unit: tuple[str, ...] = ()
        at: set[int] = set()
        found: list[tuple[int, int, int, str]] = []  # (kind's rank, start, length, kind)
        for i, t in enumerate(toks):
            for rank, k, phrase in self._cue_index.get(t, ()):
                n = len(phrase)
                if tuple(toks[i:i + n]) == phrase and (n > 1 or t not in self.lang.stopwords
                                                       or self.lang.is_stop(t, typed.get(t))):
                    found.append((rank, i, n, k))
        for _rank, i, n, k in sorted(found):
            at.update(range(i, i + n))
            if kind is None:
                kind = k
            if k == "quantity" and not unit:
                after = list(toks[i + n:i + n + 2])
                if i and toks[i - 1] in _ORDINAL_WORDS:  # "lần thứ mấy", "khóa mấy": an ordinal, "lần thứ II"
                    unit = ("ordinal",)
                elif i and toks[i - 1] == "so":  # "số mấy": the number a thing is named by, "Chỉ thị số 05"
                    unit = ("numbered",)
                elif after[:2] == ["phan", "tram"]:
                    unit = ("%",)
                elif tuple(after[:2]) in _PEOPLE_NOUNS or after[:1] and after[0] in ("nguoi", "luot"):
                    unit = ("people",)  # "bao nhiêu đoàn viên / người / lượt": a count of people, not money
                elif after and after[0] in ("1", "mot"):
                    pass  # "bao nhiêu 1 suất": how much for one, no count of "1" (the money words say the unit)
                elif after and after[0] not in self.lang.stopwords - _UNIT_WORDS:
                    unit = tuple(after[:1])
        if kind == "person" and "bai" in toks and ("viet" in toks or "bao" in toks):
            kind = "author"  # "bài viết … là của ai": who wrote the article
        if kind == "definition" and any(w in self.lang.what_nouns for w in toks):
            kind = None  # "chủ đề năm 2022 là gì": the theme's words, not a definition
        if kind == "quantity" and (not unit or unit[0] in _MONEY_TOPICS) and any(
                w in _MONEY_TOPICS and (toks[i - 1] if i else "", w) not in _NOT_MONEY
                and (w, toks[i + 1] if i + 1 < len(toks) else "") not in _NOT_MONEY for i, w in enumerate(toks)):
            unit = ("money",)
        if kind is None:
            for noun in self.lang.which_nouns:  # "công ty nào", "quận nào"
                n = len(noun)
                for i in range(len(toks) - n):
                    if tuple(toks[i:i + n]) == noun and toks[i + n] == "nao":
                        return "which", noun, at | set(range(i, i + n + 1))
        return kind, unit if kind == "quantity" else (), at

    # ----- searching ----------------------------------------------------------------------------
    def _expand(self, term: str) -> tuple[str, ...]:
        return (term, *self.lang.synonyms.get(term, ()))

    def _idf(self, term: str) -> float:
        if term not in self._idf_cache:
            df = max((self._df.get(t, 0) for t in self._expand(term)), default=0)
            self._idf_cache[term] = math.log(1 + (self._n - df + 0.5) / (df + 0.5))
        return self._idf_cache[term]

    def unknown(self, q: Question) -> tuple[tuple[str, str], ...]:
        missing: list[tuple[str, str]] = []
        accented: list[str] | None = None  # the question's words as typed: read when a term needs them
        as_typed = dict(_marks(q.text, q.tokens))
        content = self._content(q.text, q.tokens)
        for t in q.terms:
            a = as_typed.get(t)
            if t in content:  # typed as neither the evidence nor a stop word writes it ("dầu", "răng"): in no record
                missing.append(("term", t))
                continue
            if a is not None and t not in q.asked and t not in self.lang.everyday and a not in self.common \
                    and t in self._written and a not in self._written[t]:
                missing.append(("term", t))  # typed as the evidence never writes it ("tiền điên")
                continue
            if t in q.asked:
                continue
            if any(x in self.vocabulary for x in self._expand(t)) or t in self.lang.everyday:
                continue  # an everyday word ("bit", "ít") names no subject: its absence is no reason to decline
            if t in self.common_folded:
                # an everyday word of the domain ("mua", "chia") is no subject of its own, unless the accents
                # typed say it is another word ("hưu" is not "hữu")
                if accented is None:
                    accented = [w.lower() for w in word_tokens(normalize_tones(clean(q.text)))]
                typed = [w for w in accented if fold(w) == t]
                if not typed or any(w in self.common or w == t for w in typed):
                    continue
            missing.append(("term", t))
        if q.title and not len(self._title_rows(q.title)):
            missing.append(("term", " ".join(q.title)))
        missing.extend(("place", p) for p in q.places if p not in self.known_places)
        missing.extend(("cluster", str(c)) for c in q.clusters if c not in self.known_clusters)
        missing.extend(("phase", str(p)) for p in q.phases if p not in self.known_phases)
        missing.extend(("year", str(y)) for y in q.years if y not in self.known_years)
        # "hội thi lần 3" where the evidence has only "lần thứ II": another edition, not described
        missing.extend(("edition", " ".join(q.tokens[start:end])) for kind, value, start, end in editions(q.tokens)
                       if kind in self.known_editions and value not in self.known_editions[kind])
        return tuple(missing)

    def _gap_terms(self, q: Question) -> list[str]:
        """The key terms the evidence must hold: not numbers, not everyday words, not the evidence's commonest words.
        A word typed as no record writes it ("dầu", though "đầu" is an everyday word here) is no everyday word."""
        content = self._content(q.text, q.tokens)
        return [t for t in q.terms if not _NUM.match(t) and (t not in self.lang.everyday or t in content)
                and t not in q.asked and self._idf(t) >= GAP_MIN_IDF]

    def _held(self, t: str, words: frozenset[str]) -> bool:
        return any(f in words for f in self._expand(t))

    def gaps(self, q: Question) -> tuple[str, ...]:
        """The key terms of the question that no paragraph of the evidence (with its title or entry name) holds
        together with the others, in a paragraph about the question's place and cluster: those the best-covering
        paragraph lacks. Empty when one paragraph holds them all: the evidence covers what the question is about.
        Kept for the last questions asked (a question is read, searched and gated: three calls)."""
        key = (q.terms, q.asked, q.places, q.clusters, tuple(self._content(q.text, q.tokens)))
        found = self._gap_memo.get(key)
        if found is None:
            if len(self._gap_memo) > 256:
                self._gap_memo.clear()
            found = self._gap_memo[key] = self._gaps(q)
        return found

    def _gaps(self, q: Question) -> tuple[str, ...]:
        terms = self._gap_terms(q)
        if not terms:
            return ()
        best = tuple(terms)
        # a word typed as no record writes it is held by no paragraph (not by the words it folds like: "ràng")
        content = self._content(q.text, q.tokens)
        for g in self._heaviest_groups([t for t in terms if t not in content], 60):
            words, places, clusters = self._groups[g]
            if not (all(p in places for p in q.places) and all(c in clusters for c in q.clusters)):
                continue
            missing = tuple(t for t in terms if t in content or not self._held(t, words))
            if len(missing) < len(best):
                best = missing
                if not best:
                    break
        return best

    def _heaviest_groups(self, terms: Sequence[str], limit: int) -> list[int]:
        """The ``limit`` paragraph groups holding the most of ``terms`` (each weighing its rarity), heaviest first;
        ties in the order the groups were first seen, term by term (each term's groups in the order of
        :meth:`_groups_of`). Arrays over all the groups: a common term is in thousands of them."""
        n = len(self._groups)
        weight = np.zeros(n)
        unseen = np.iinfo(np.int64).max
        first = np.full(n, unseen, dtype=np.int64)  # when each group was first seen
        offset = 0
        for t in terms:
            groups = self._groups_of(t)
            weight[groups] += self._idf(t)
            new = np.flatnonzero(first[groups] == unseen)
            first[groups[new]] = offset + new
            offset += len(groups)
        seen = np.flatnonzero(first != unseen)
        if len(seen) > limit:  # only the groups at least as heavy as the limit-th need ordering
            cut = np.partition(-weight[seen], limit - 1)[limit - 1]
            seen = seen[-weight[seen] <= cut]
        order = np.lexsort((first[seen], -weight[seen]))[:limit]
        return seen[order].tolist()

    def _groups_of(self, term: str) -> np.ndarray:
        """The paragraph groups holding a term or one of its synonyms, in the order a set of them iterates (the
        order of the first-seen ties of :meth:`gaps`, kept from the dict it once was); kept per term of the
        evidence's vocabulary (a word no group holds is not kept)."""
        found = self._term_groups.get(term)
        if found is None:
            found = np.array(tuple({g for f in self._expand(term) for g in self._groups_with.get(f, ())}),
                             dtype=np.int64)
            if len(found):
                self._term_groups[term] = found
        return found

    def uncovered(self, q: Question, gaps: tuple[str, ...] | None = None) -> tuple[tuple[str, str], ...]:
        """What the evidence lacks of the question, as ``Finding.missing`` says it: the key terms no paragraph holds
        together (``gaps``) — or, when a paragraph holds them all but none about the question's place or cluster,
        that place or cluster (the subject is known; it is not described there). ``gaps``: ``gaps(q)`` if known."""
        gaps = self.gaps(q) if gaps is None else gaps
        if not gaps or not (q.places or q.clusters):
            return self.phrased(q, tuple(("term", t) for t in self._named_gaps(q, gaps)))
        bare = replace(q, places=(), clusters=())
        anywhere = self.gaps(bare)
        if len(anywhere) >= len(gaps):
            return self.phrased(q, tuple(("term", t) for t in self._named_gaps(q, gaps)))
        return (*(("place", p) for p in q.places), *(("cluster", str(c)) for c in q.clusters),
                *self.phrased(q, tuple(("term", t) for t in self._named_gaps(bare, anywhere))))

    def _named_gaps(self, q: Question, gaps: tuple[str, ...]) -> tuple[str, ...]:
        """Which of the key terms no paragraph holds together a refusal names: those no paragraph holds at all when
        there are ("dầu", "răng", "buýt": never "giảm", which the evidence writes, beside them); else, of the sets of
        as many terms whose absence leaves the others held by one paragraph (about the question's place and
        cluster), the rarest ("vé tàu … giảm": "tàu", not "giảm")."""
        content = self._content(q.text, q.tokens)
        absent = tuple(t for t in gaps if t in content or not len(self._groups_of(t)))
        if absent:
            return absent
        # two key terms typed side by side that no record writes side by side ("điện thoại": "điện" and "thoại"
        # are written, never together) name the thing the evidence lacks, not a common word beside them ("ưu đãi")
        # (the rarest such pair: "ưu đãi giảm giá" is two pairs the evidence writes, "đãi giảm" none it needs)
        keys = set(self._gap_terms(q))
        unpaired = [(a, b) for a, b in zip(q.tokens, q.tokens[1:], strict=False)
                    if a in keys and b in keys and (a, b) not in self.bigrams]
        if unpaired:
            return max(unpaired, key=lambda pair: self._idf(pair[0]) + self._idf(pair[1]))
        terms = self._gap_terms(q)
        best, weight = gaps, sum(self._idf(t) for t in gaps)
        for named in combinations(terms, len(gaps)):
            if (w := sum(self._idf(t) for t in named)) <= weight:
                continue
            groups: np.ndarray | None = None
            for t in terms:
                if t not in named:
                    found = self._groups_of(t)
                    groups = found if groups is None else np.intersect1d(groups, found, assume_unique=True)
            if groups is None or any(all(p in self._groups[g][1] for p in q.places)
                                     and all(c in self._groups[g][2] for c in q.clusters) for g in groups.tolist()):
                best, weight = named, w
        return best

    def phrased(self, q: Question, missing: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        """Missing key terms as the question names the thing it asks: with the words typed beside them that the
        evidence never writes beside them ("dầu" -> "dầu ăn", "răng" -> "khám răng", "buýt" -> "vé xe buýt"), up
        to three words; not a stop word or a cue, not an everyday word before it ("mua", "xin"), not a word written
        with its other neighbour (the "đãi" of "ưu đãi"). A word typed with diacritics is judged as typed ("vé" is
        no "về")."""
        toks = q.tokens
        # (syllables only: an acronym or a code the evidence lacks is named as it is, and weighs as it does)
        singles = {v for kind, v in missing if kind == "term" and v in toks and is_syllable(v)}
        if not singles:
            return tuple(missing)
        marks = dict(_marks(q.text, toks))

        def writes(w: str) -> bool:  # the evidence (or a stop word) writes the word as the member typed it
            typed = marks.get(w)
            return typed is None or typed in self._written.get(w, ()) or typed in self._stop_forms.get(w, ())

        def written(a: str, b: str) -> bool:  # the pair as typed, side by side in a sentence
            return (a, b) in self.bigrams and writes(a) and writes(b)

        def joins(j: int, edge: int) -> bool:
            w = toks[j]
            if not is_syllable(w) or w in self.lang.cue_words or self.lang.is_stop(w, marks.get(w)):
                return False
            if j < edge and w in self.lang.everyday and writes(w):
                return False
            if written(*((w, toks[edge]) if j < edge else (toks[edge], w))):
                return False
            far = j - 1 if j < edge else j + 1
            return not (0 <= far < len(toks) and not self.lang.is_stop(toks[far], marks.get(toks[far]))
                        and written(*((toks[far], w) if far < j else (w, toks[far]))))

        out: list[tuple[str, str]] = []
        done: set[str] = set()
        for kind, value in missing:
            if kind != "term" or value not in singles:
                out.append((kind, value))
                continue
            if value in done:
                continue
            start = toks.index(value)
            end = start + 1
            while start > 0 and toks[start - 1] in singles:
                start -= 1
            while end < len(toks) and toks[end] in singles:
                end += 1
            while end < len(toks) and end - start < 3 and joins(end, end - 1):
                end += 1
            while start > 0 and end - start < 3 and joins(start - 1, start):
                start -= 1
            done.update(t for t in toks[start:end] if t in singles)
            out.append(("term", " ".join(toks[start:end])))
        return tuple(dict.fromkeys(out))

    def entry_fits(self, entry_id: str, q: Question) -> bool:
        """Whether what a knowledge entry says is about the question's place and cluster (its years and phases are
        often implied, not written)."""
        bare = replace(q, compounds=(), phases=(), years=q.years if self._entry_years(entry_id) else ())
        return any(self._satisfies(self._meta[i], bare) for i in self._rows_by_entry().get(entry_id, ()))

    def _rows_by_entry(self) -> dict[str, list[int]]:
        """The records of each knowledge entry, found once rather than at every question (a document's sentences
        are most of the records)."""
        if self._entry_rows is None:
            self._entry_rows = {}
            for i, r in enumerate(self.records):
                if r.entry_id is not None:
                    self._entry_rows.setdefault(r.entry_id, []).append(i)
        return self._entry_rows

    @property
    def entry_ids(self) -> frozenset[str]:
        """The knowledge entries the index holds sentences of."""
        return frozenset(self._rows_by_entry())

    def _entry_years(self, entry_id: str) -> bool:
        """Whether an entry's sentences name a year (then a question's year must be one of them)."""
        return any(_years(self._tokens(self.records[i].text)) for i in self._rows_by_entry().get(entry_id, ()))

    def _satisfies(self, m: _Meta, q: Question) -> bool:
        return all(c in m.pairs or c in m.label_pairs for c in q.compounds) and (
            all(p in m.places for p in q.places) and all(c in m.clusters for c in q.clusters)
                and all(p in m.phases for p in q.phases) and self._in_years(m, q))

    @staticmethod
    def _in_years(m: _Meta, q: Question) -> bool:
        """The question's years are the sentence's own (or its paragraph's), or the span it names."""
        return all(y in m.years for y in q.years) or len(q.years) >= 2 and set(q.years) <= m.years | m.spans

    def _kind_factor(self, m: _Meta, q: Question) -> float:
        kind = q.kind
        if m.byline or kind == "author":  # a byline answers who wrote the article, and nothing else
            return 1.0 if m.byline and kind == "author" else 0.0
        if kind == "photo":  # who took a photo: its caption's credit
            return 1.0 if _PHOTO_CREDIT.search(m.text) else 0.0
        if kind is None:
            what = self.lang.what_nouns
            if any(a in what and b in what for a, b in q.compounds):
                # "chủ đề / nội dung … là gì": the sentence that gives it quotes it or lists it after a colon, not
                # the one that only names it ("theo chủ đề năm của Thành phố")
                return 1.0 if any(c in m.text for c in _GIVES) else 0.5
            return 1.0
        if kind == "quantity":
            # "có mấy phong trào": the sentence naming them one by one counts them, though it writes no number
            named = bool(q.unit) and q.unit[0] not in ("ordinal", "numbered", "%", "money", "people") \
                and self._counts_by_naming(m, frozenset(self._expand(q.unit[0])))
            if not m.numbers and q.unit[:1] != ("numbered",):
                return 0.9 if named else 0.2
            if not q.unit:
                # "6 tháng đầu năm" is a period, not the amount asked
                return 0.3 if all(after[:1] and after[0] in _TIME_WORDS for _, after in m.numbers) else 1.0
            unit = q.unit[0]
            if unit == "ordinal":
                return 1.0 if m.ordinal else 0.75  # "SEA Games 31" answers "lần thứ mấy" too
            if unit == "numbered":
                return 1.0 if any(a == "so" and b[:1].isdigit() for a, b in m.pairs) else 0.6
            units = _PEOPLE_WORDS if unit == "people" else frozenset(self._expand(unit))  # "101 cá nhân", "lượt"
            for number, after in m.numbers:
                if unit == "%" and number.endswith("%") or not units.isdisjoint(after):
                    return 1.0
                if unit == "money" and (number.endswith("%") or set(after[:1]) & _MONEY_WORDS):
                    return 1.0
            return 0.9 if named else 0.6
        if kind == "date":
            return 1.0 if m.has_date else 0.25
        if kind == "person":
            return 1.0 if m.has_person or self._named_after(m.text, q) else 0.2
        if kind == "place":
            return 1.0 if m.places or "tai" in m.words else 0.4
        if kind == "list":  # the sentence listing more items is the fuller answer
            if not m.has_list:  # two items joined ("2 đơn vị nhận Cờ thi đua và 3 nhận Bằng khen") still list
                return JOINED if m.items or " và " in m.text else 0.6
            return min(1.0, (0.9 if ":" in m.text else 0.8) + 0.02 * m.items)
        if kind == "definition":  # "X là …", "X (…)", "X – …", a sentence about X, or the lead of the entry named X
            if m.lead and set(q.terms) <= m.label:
                return 1.0
            subject = [t for t in q.terms if t not in self.lang.everyday] or list(q.terms)
            if subject and all(t in m.defines or t in m.head for t in subject):
                return 1.0  # the sentence says what X is: it writes X, and nothing before X's description
            return 0.8 if any(t in m.defines for t in q.terms) else 0.3  # another thing's "là", X's word in it
        if kind == "which":
            return 1.0 if set(q.unit) <= m.words else 0.4
        return 1.0

    @staticmethod
    def _counts_by_naming(m: _Meta, units: frozenset[str]) -> bool:
        """A sentence naming the things of the unit asked one by one ("các phong trào … gồm “A”, “B”, “C”"): it
        answers how many there are, though it writes no number. The names follow "các / những" and the unit, with
        no number between (the names of "Cụm số 6 biểu dương 276 “Công nhân giỏi”" are no clusters)."""
        if units.isdisjoint(m.words) or len(_names(m.text)) < 2:
            return False
        toks = fold(m.text.split("“")[0].split('"')[0]).split()
        return any(a in ("cac", "nhung") and b in units and not any(c.isdigit() for c in "".join(toks[k + 2:]))
                   for k, (a, b) in enumerate(zip(toks, toks[1:], strict=False)))

    def _named_after(self, text: str, q: Question) -> bool:
        """Whom a question asks after its own words ("mừng sinh nhật ai", "ký giữa những ai"), the sentence names right
        after those words: with a capital ("mừng sinh nhật Bác", a person it calls so, without surname), or as a group
        of people or bodies ("ký giữa các đơn vị thành viên")."""
        if "ai" not in q.tokens:
            return False
        k = q.tokens.index("ai")
        before = [t for t in q.tokens[max(0, k - 3):k] if t not in _PLURAL]
        if not before:
            return False
        # the two words right before (a stop word too: "giữa"); a group may follow the last alone ("ký giao ước …
        # giữa các đơn vị")
        words = [w.strip("(),.:;“”\"-–") for w in text.split()]
        folded = [fold(w) for w in words]
        for asked in (before[-2:], before[-1:]):
            n = len(asked)
            for i in range(n, len(words)):
                if folded[i - n:i] != asked:
                    continue
                j = i + 1 if folded[i] in _PLURAL and i + 1 < len(words) else i
                if j == i and n == len(before[-2:]) and _CAP_WORD.fullmatch(words[i]) \
                        or tuple(folded[j:j + 2]) in _GROUPS or tuple(folded[j:j + 1]) in _GROUPS \
                        or folded[j] in _PEOPLE_WORDS:
                    return True
        return False

    def _unseen(self, q: Question, pool: Sequence[int]) -> frozenset[str]:
        """The words naming what is asked that no sentence of ``pool`` holds: a word of several ("danh hiệu khen
        thưởng") with its neighbour as the question writes them ("Bằng khen" holds "khen", not "khen thưởng"), a
        word alone as itself."""
        if not q.asked:
            return frozenset()
        asked, toks = set(q.asked), q.tokens
        wanted: dict[str, list] = {}
        for k, t in enumerate(toks):
            if t not in asked:
                continue
            pairs = [p for p in ((toks[k - 1], t) if k else None, (t, toks[k + 1]) if k + 1 < len(toks) else None)
                     if p is not None and p[0] in asked and p[1] in asked]
            wanted.setdefault(t, []).extend(pairs)
        out = set()
        for t, pairs in wanted.items():
            if pairs:
                seen = any(not self._meta[i].pairs.isdisjoint(pairs) for i in pool)
            else:
                seen = any(self._held(t, self._meta[i].words) for i in pool)
            if not seen:
                out.add(t)
        return frozenset(out)

    def _weights(self, q: Question, unseen: frozenset[str] = frozenset()
                 ) -> tuple[list[tuple[float, tuple[str, ...], bool]], list[tuple]]:
        """The question's key terms (with the words they may be found as) and compounds, with their weights.
        ``unseen``: words naming what is asked ("những danh hiệu khen thưởng nào") that no candidate sentence holds:
        the answer gives instances of the kind ("Cờ thi đua", "Bằng khen"), so they count only where held."""
        # an everyday word no record holds ("bit", "hok") can be found nowhere: it weighs nothing
        terms = [(self._idf(t) * (0.5 if t in q.asked else 1.0), self._expand(t), t in unseen) for t in q.terms
                 if t not in self.lang.everyday and t not in q.asked
                 or any(x in self.vocabulary for x in self._expand(t))]
        term_set, cues, generic, asked = set(q.terms), self.lang.cue_words, self.lang.generic, unseen
        # a pair may be written with the words' synonyms ("khen thưởng" as "tuyên dương")
        pairs = [(self._idf(a) + self._idf(b), (a, b),
                  frozenset((x, y) for x in self._expand(a) for y in self._expand(b)))
                 for a, b in zip(q.tokens, q.tokens[1:], strict=False)
                 if (a in term_set or b in term_set) and a not in cues and b not in cues and (a, b) in self.bigrams
                 and all(w in term_set or w in generic for w in (a, b))  # "được khen" is no compound
                 and a not in asked and b not in asked]  # the kind's name no candidate writes: no compound either
        return terms, pairs

    def _title_rows(self, title: tuple[str, ...]) -> np.ndarray:
        """The records writing a title and its body in a row ("chủ tịch liên đoàn lao động quận"; up to two words
        may follow the title itself: "phó chủ tịch thường trực liên đoàn …"), "chủ tịch" not as part of "phó chủ
        tịch"."""
        key = ("title", title)
        rows = self._by_rows.get(key)
        if rows is None:
            head = 3 if title[0] == "pho" else 2
            found = []
            body = frozenset(zip(title[head:], title[head + 1:], strict=False))  # the body's pairs, in any sentence
            for i in self._rows_of(("pair", title[head - 2:head])).tolist():
                if not body <= self._meta[i].pairs:
                    continue  # the body's words are not all written side by side in it: no need to read it
                toks = self._tokens(self.records[i].text)
                for k in range(len(toks) - head + 1):
                    if tuple(toks[k:k + head]) != title[:head] or head == 2 and k and toks[k - 1] == "pho":
                        continue
                    rest = title[head:]
                    if any(tuple(toks[k + head + g:k + head + g + len(rest)]) == rest for g in range(3)):
                        found.append(i)
                        break
            rows = self._by_rows[key] = np.array(found, dtype=np.int64)
        return rows

    def _rows_of(self, key: tuple[str, object]) -> np.ndarray:
        """The records satisfying one constraint, as a sorted array (intersected in C at search time)."""
        rows = self._by_rows.get(key)
        if rows is None:
            rows = self._by_rows[key] = np.array(sorted(self._by.get(key, ())), dtype=np.int64)
        return rows

    def _own_year_rows(self, year: int) -> np.ndarray:
        """The records whose own (or paragraph's) years hold ``year``, not only a span they name: a sorted array."""
        key = ("own year", year)
        rows = self._by_rows.get(key)
        if rows is None:
            rows = self._by_rows[key] = np.array(
                [i for i in self._rows_of(("year", year)).tolist() if year in self._meta[i].years], dtype=np.int64)
        return rows

    @staticmethod
    def _coverage(m: _Meta, weights) -> float:
        terms, pairs = weights
        if not terms:
            return 1.0
        total = got = 0.0
        words, context = m.words, m.context  # this runs for every candidate: set operations in C, no lookups
        for w, forms, bonus in terms:
            if not words.isdisjoint(forms):
                got += w
            elif not context.isdisjoint(forms):
                got += 0.6 * w
            elif bonus:
                continue
            total += w
        # a compound of the question ("ăn ca", "đoàn phí") counts again, as a pair the sentence must hold
        for w, pair, forms in pairs:
            total += w
            if not m.pairs.isdisjoint(forms):
                got += w
            elif pair[0] in context and pair[1] in context:
                got += 0.6 * w
        return got / total if total else 1.0

    def _ranker(self) -> Ranker | None:
        """BM25 over the sentences (and their bigrams), built once; None without sentences. bm25s builds it here,
        at the first question (or when the index is stored: ``nlu/cache.py``), not at start."""
        if self._bm25 is None and self._corpus:
            self._bm25 = Ranker.build(self._corpus)
            self._corpus = None
        return self._bm25

    def search(self, q: Question) -> Finding:
        missing = self.unknown(q)
        if missing:
            return Finding("unknown", q, missing=self.phrased(q, missing))
        ranker = self._ranker()
        if ranker is None or not (q.terms or q.constrained or q.title or q.compounds):
            return Finding("weak", q)  # (a question naming nothing to look for, "vé là gì" read as "về là gì")
        if q.kind == "author":
            return self._author(q)
        # one stop-word test for the question's words, as ``_question`` reads them (``Language.is_stop``: a word typed
        # with diacritics as no record writes it is a content word, "khám răng")
        typed = self._content(q.text, q.tokens)
        stop = {t for t in q.tokens if self.lang.is_stop(t, typed.get(t))}
        words = [x for t in q.terms for x in self._expand(t)]
        words += [t for t in q.tokens if t not in stop or t in self.lang.cue_words]
        content = [t for t in q.tokens if t not in stop]
        cues = self.lang.cue_words
        # the question's word pairs as typed too ("thành phố", "tổng liên đoàn": words of no weight alone)
        pairs = [f"{a} {b}" for a, b in zip(q.tokens, q.tokens[1:], strict=False) if a not in cues and b not in cues]
        query = list(dict.fromkeys(
            [*words, *(f"{a} {b}" for a, b in zip(content, content[1:], strict=False)), *pairs]))
        query = [t for t in query if t in ranker.vocab]
        if not query and not q.constrained:
            return Finding("weak", q)
        scores = self._scores(ranker, query)
        if q.constrained or q.compounds or q.title:  # the best-ranked sentences satisfying the constraints
            ids = self._allowed(q)
            if len(ids) > CANDIDATES:
                ids = ids[np.argpartition(-scores[ids], CANDIDATES - 1)[:CANDIDATES]]
            pool = ids[np.argsort(-scores[ids], kind="stable")].tolist()  # Python ints: cheaper to index with
        else:
            k = min(CANDIDATES, int(np.count_nonzero(scores)))
            pool = np.argpartition(-scores, k - 1)[:k].tolist() if k else []
        if not pool:
            return Finding("weak", q)
        pool_scores = scores[pool].tolist()  # Python floats, read from the array once
        top = max(pool_scores) or 1.0
        unseen = self._unseen(q, pool)
        weights = self._weights(q, unseen)
        covered = [self._coverage(self._meta[i], weights) for i in pool]
        if max(covered) < MIN_COVERAGE:
            # no candidate holds enough of the question: weak, whatever the kind of answer each holds (not weighed;
            # the best-covering sentence is what the verdict shows)
            k = covered.index(max(covered))
            return Finding("weak", q, records=(self.records[pool[k]],), coverage=covered[k],
                           score=0.75 * covered[k] + 0.25 * pool_scores[k] / top)
        ranked = []
        for i, bm25, cov in zip(pool, pool_scores, covered, strict=True):
            m = self._meta[i]
            factor = self._kind_factor(m, q)
            if q.kind == "list" and factor == JOINED and cov < 0.99:  # two items joined: only holding all it asks
                factor = 0.6
            ranked.append(((0.75 * cov + 0.25 * bm25 / top) * factor, cov, factor, i))
        ranked.sort(key=lambda x: (-x[0], x[3]))
        gap_terms = self._gap_terms(q)

        def holds_all(j: int) -> bool:
            m = self._meta[j]
            return all(self._held(t, m.words) or self._held(t, m.context) for t in gap_terms)

        # the best sentence whose paragraph holds every key term, when one answers nearly as well as the best
        top_score = ranked[0][0]
        for k, (score, c, f, j) in enumerate(ranked[:10]):
            if score < 0.8 * top_score:
                break
            if c >= MIN_COVERAGE and f >= 0.7 and holds_all(j):
                ranked.insert(0, ranked.pop(k))
                break
        best, cov, factor, i = ranked[0]
        if cov < MIN_COVERAGE or factor < 0.7:
            return Finding("weak", q, records=(self.records[i],), coverage=cov, score=best)
        chosen = [i]
        plural = q.kind == "list" or q.kind in ("person", "which") and ("nhung" in q.tokens or "cac" in q.tokens)
        for score, c2, f2, j in ranked[1:MAX_ITEMS * 2 if plural else 6]:
            if score < SECOND_ANSWER * best or c2 < MIN_COVERAGE or f2 < 0.7:
                break
            other, first = self.records[j], self.records[i]
            if plural:  # "những ai", "các quận nào": every sentence that answers as well, each adding an item
                if not any(self._repeats(self._meta[k], self._meta[j]) for k in chosen):
                    chosen.append(j)
                if len(chosen) == MAX_ITEMS:
                    break
            elif other.doc != first.doc and not self._same_fact(self._meta[i], self._meta[j]):
                chosen.append(j)
                break
        if q.kind == "list":  # one item found ("Phong trào “A” là một nội dung …"): the list it is one of, when a
            # sentence answering nearly as well gives it with others (its own or its continuation's quoted names)
            given = frozenset().union(*(_names(r.text) for k in chosen for r in self._with_continuation(
                self.records[k], q)))
            if len(given) <= 1:
                for score, c2, _f2, j in ranked[1:MAX_ITEMS * 2]:  # (its block lists, whatever the sentence)
                    if j in chosen or score < FULLER * best or c2 < MIN_COVERAGE:
                        continue
                    names = frozenset().union(*(_names(r.text) for r in self._with_continuation(self.records[j], q)))
                    if len(names) >= 3 and _within(given, names):
                        chosen.append(j)
                        break
        blocks: list[list[Record]] = []
        for j in chosen:
            r = self.records[j]
            if q.kind == "photo" and r.position and _CREDIT_ONLY.match(r.text):  # the caption, then its credit
                blocks.append([replace(r, text=f"{r.paragraph[r.position - 1]} {r.text.rstrip(' |')}")])
                continue
            blocks.append(self._with_continuation(r, q))
        if q.kind == "list" and len(blocks) > 1:
            blocks = _fullest_first(blocks)
        out: list[Record] = []
        for block in blocks:
            out.extend(r for r in block if r.text not in {x.text for x in out})
        m = self._meta[i]
        held = m.words | m.context
        gaps = tuple(t for t in self._gap_terms(q) if self._idf(t) >= ANSWER_GAP_IDF and not self._held(t, held))
        if len(gaps) == 1 and cov >= KNOWN_GAP_COVERAGE and any(x in self.vocabulary for x in self._expand(gaps[0])):
            gaps = ()
        return Finding("answered", q, records=tuple(out), coverage=cov, score=best, gaps=gaps)

    def _scores(self, ranker: Ranker, query: Sequence[str]) -> np.ndarray:
        """The BM25 scores of every sentence for ``query`` (read-only), ranked once for the last queries."""
        key = tuple(query)
        scores = self._scores_memo.get(key)
        if scores is None:
            if len(self._scores_memo) >= 16:  # (a sentence's score each: 16 queries of the ×100 corpus are 2 MB)
                self._scores_memo.clear()
            scores = ranker.get_scores(query) if query else np.zeros(len(self.records))
            scores.flags.writeable = False
            self._scores_memo[key] = scores
        return scores

    def _allowed(self, q: Question) -> np.ndarray:
        """The sentences satisfying every constraint of the question (place, cluster, phase, year, compound, title),
        as a sorted array; kept for the last questions' constraints."""
        memo_key = (q.places, q.clusters, q.phases, q.years, q.compounds, q.title)
        ids = self._allowed_memo.get(memo_key)
        if ids is not None:
            return ids
        allowed: np.ndarray | None = None
        keys: list[tuple[str, object]] = [("place", v) for v in q.places]
        keys += [("cluster", v) for v in q.clusters]
        keys += [("phase", v) for v in q.phases] + [("year", v) for v in q.years]
        keys += [("pair", c) for c in q.compounds]
        for key in keys:
            found = self._rows_of(key)
            allowed = found if allowed is None else np.intersect1d(allowed, found, assume_unique=True)
            if not len(allowed):
                break
        ids = allowed if allowed is not None else np.zeros(0, dtype=np.int64)
        if q.title:  # who holds the title the question names: the sentences writing it
            ids = np.intersect1d(ids, self._title_rows(q.title), assume_unique=True) if allowed is not None \
                else self._title_rows(q.title)
        if len(q.years) == 1 and len(ids):  # the years of a span only for a question naming the span
            # (``_in_years`` row by row, as arrays: the rows hold every year of the question in their years or
            # spans already; one year must be their own; two or more may be a span's)
            ids = np.intersect1d(ids, self._own_year_rows(q.years[0]), assume_unique=True)
        if len(self._allowed_memo) > 256:
            self._allowed_memo.clear()
        self._allowed_memo[memo_key] = ids
        return ids

    def _author(self, q: Question) -> Finding:
        """Who wrote the article the question is about: the byline of the one document whose sentences hold the
        question's key terms best, among those about its place, cluster and year."""
        found: list[tuple[float, float, int]] = []
        if self._bylines is None:  # each byline with its article's sentences, found once
            by_doc: dict[str, list[_Meta]] = {}
            for m, r in zip(self._meta, self.records, strict=True):
                if r.entry_id is None:
                    by_doc.setdefault(r.doc, []).append(m)
            self._bylines = [(i, metas, frozenset().union(*(x.words | x.context for x in metas)))
                             for i, m in enumerate(self._meta) if m.byline
                             for metas in (by_doc[self.records[i].doc],)]
        for i, metas, words in self._bylines:
            # how much the article is about the place, cluster and year asked: the share of its sentences that are
            fit = 1.0
            for wanted, held in ((q.places, "places"), (q.clusters, "clusters"), (q.years, "years")):
                for v in wanted:
                    fit *= sum(v in getattr(x, held) for x in metas) / len(metas)
            terms = [t for t in q.terms if t not in _ARTICLE_WORDS]
            total = sum(self._idf(t) for t in terms)
            got = sum(self._idf(t) for t in terms if self._held(t, words))
            cov = got / total if total else 1.0
            if fit > 0 and cov >= MIN_COVERAGE:
                found.append((fit * cov, cov, i))
        found.sort(key=lambda x: -x[0])
        if not found or len(found) > 1 and found[1][0] * 2 > found[0][0]:
            return Finding("weak", q)  # no article, or two that fit nearly as well: whose byline is not known
        _fit, cov, i = found[0]
        return Finding("answered", q, records=(self.records[i],), coverage=cov, score=cov)

    def excerpt(self, r: Record, q: Question, limit: int) -> Record:
        """A sentence longer than ``limit`` cut to the clauses (between semicolons) that hold the question's words,
        the best first, then its neighbours while they fit: the part that answers is shown, not the sentence's
        first ``limit`` characters."""
        if len(r.text) <= limit:
            return r
        head, colon, items = r.text.partition(":")
        if q.kind == "list" and colon and len(items) + 60 <= limit:  # a list after a long lead-in: the list whole
            return replace(r, text="… " + " ".join(head.split()[-8:]) + ":" + items)
        clauses = [c for c in re.split(r"(?<=;)\s+", r.text) if c]
        if len(clauses) < 2:
            return r
        wanted = {f for t in (*q.terms, *q.unit) for f in self._expand(t)}
        scores = [len(wanted & set(self._tokens(c))) for c in clauses]
        best = max(range(len(clauses)), key=lambda k: (scores[k], -k))
        if not scores[best] or len(clauses[best]) > limit:
            return r
        start = end = best
        size = len(clauses[best])
        while True:  # the neighbours holding the question's words first, then those after (a list goes on)
            options = [k for k in (start - 1, end + 1) if 0 <= k < len(clauses) and size + len(clauses[k]) + 1 <= limit]
            if not options:
                break
            k = max(options, key=lambda k: (scores[k], k > end))
            size += len(clauses[k]) + 1
            start, end = min(start, k), max(end, k)
        text = " ".join(clauses[start:end + 1])
        return replace(r, text=("… " if start else "") + text + (" …" if end + 1 < len(clauses) else ""))

    @staticmethod
    def _repeats(a: _Meta, b: _Meta) -> bool:
        """One sentence says nothing the other does not (an entry's sentence and the article's that it restates)."""
        return len(a.words & b.words) >= 0.9 * min(len(a.words), len(b.words))

    @staticmethod
    def _same_fact(a: _Meta, b: _Meta) -> bool:
        na = {n for n, _ in a.numbers}
        nb = {n for n, _ in b.numbers}
        return bool(na & nb) or (not na and not nb and len(a.words & b.words) >= 0.6 * min(len(a.words), len(b.words)))

    def _with_continuation(self, r: Record, q: Question) -> list[Record]:
        """A sentence announcing a list ("theo 2 đợt.", "gồm:") with the sentences of its paragraph that continue it."""
        out = [r]
        if not r.paragraph or r.position + 1 >= len(r.paragraph):
            return out
        announces = r.text.rstrip().endswith(":") or bool(re.search(r"\b(\d+|hai|ba|bốn) (đợt|nội dung|nhóm)\b",
                                                                     r.text, re.IGNORECASE))
        toks = self._tokens(r.text)
        if not announces:
            if q.kind == "list":  # a list going on in the next sentence ("… Công ty A …. Công ty B với …"): the next
                # sentence of the paragraph opening with two words this one holds side by side is one more item
                nxt = r.paragraph[r.position + 1]
                first = self._tokens(nxt)[:2]
                if len(first) == 2 and tuple(first) in set(zip(toks, toks[1:], strict=False)):
                    out.append(replace(r, text=nxt, position=r.position + 1))
            return out
        head = set(toks)
        for k in range(r.position + 1, min(len(r.paragraph), r.position + 6)):
            nxt = r.paragraph[k]
            first = self._tokens(nxt)[:1]
            if not first or first[0] not in head:
                break
            out.append(replace(r, text=nxt, position=k))
        return out

    # ----- questions in several parts -----------------------------------------------------------
    def split(self, q: Question) -> list[Question]:
        """A question naming several places, clusters, phases or things ("gạo và sữa") as one question each."""
        for attr in ("places", "clusters", "phases"):
            values = getattr(q, attr)
            if len(values) > 1:
                changes: list[dict[str, Any]] = [{attr: (v,)} for v in values]
                return [replace(q, **c) for c in changes]
        if len(q.years) > 1 and not any("-" in t and _years([t]) for t in q.tokens):
            # "hồi 2021 với hồi 2022": two years asked side by side (not the span of a term, "2023-2028")
            return [replace(q, years=(y,)) for y in q.years]
        if len(q.places) == 1 and len(q.clusters) == 1 and any(t in _SIDES for t in q.tokens):
            # "Cụm 6 hay Nam Từ Liêm …": a cluster and a district set side by side are two subjects, not one
            return [replace(q, places=()), replace(q, clusters=())]
        toks = q.tokens
        for i, t in enumerate(toks):
            if t not in ("va", "voi") or i == 0 or i + 1 >= len(toks):
                continue
            left: list[str] = []
            j = i - 1
            while j >= 0 and toks[j] in q.terms and len(left) < 3:
                left.insert(0, toks[j])
                j -= 1
            # as many words on each side, the longest that fit: "gạo Kim Sáng và sữa Hà Lan"; "ưu đãi gạo và sữa"
            # is "gạo" and "sữa", with "ưu đãi" shared
            n = len(left)
            while n and not (len(right := toks[i + 1:i + 1 + n]) == n and all(w in q.terms for w in right)):
                n -= 1
            if not n:
                continue
            left = left[-n:]
            shared = [w for w in q.terms if w not in left and w not in right]
            return [replace(q, terms=tuple(dict.fromkeys([*left, *shared]))),
                    replace(q, terms=tuple(dict.fromkeys([*right, *shared])))]
        return [q]

    def names_it(self, finding: Finding) -> bool:
        """Whether an answer names what the question names: its sentence holds every key term and, side by side as
        the question writes them, two of them one of which is rare ("mục tiêu kép": the sentence about the "mục
        tiêu kép" answers "mục tiêu kép là gì", not the list of a category's entries)."""
        if finding.status != "answered" or not finding.records or finding.coverage < 0.99 or finding.gaps:
            return False
        q = finding.question
        pairs = frozenset(zip(self._tokens(finding.records[0].text), self._tokens(finding.records[0].text)[1:],
                              strict=False))
        terms = set(q.terms)
        return any((a, b) in pairs and max(self._idf(a), self._idf(b)) >= ANSWER_GAP_IDF
                   for a, b in zip(q.tokens, q.tokens[1:], strict=False) if a in terms or b in terms)

    # ----- follow-up questions ------------------------------------------------------------------
    def restates(self, finding: Finding, replaced: Sequence[str]) -> bool:
        """Whether the sentence answering a follow-up's reading still holds most of the previous question's words
        that the reading replaced (weighted by rarity): it answers the previous question again ("còn gạo thì sao?"
        after a milk question, answered by a sentence about both), not the subject the follow-up names."""
        if finding.status != "answered" or not finding.records or not replaced:
            return False
        words = frozenset(self._tokens(finding.records[0].text))
        total = sum(self._idf(t) for t in replaced)
        held = sum(self._idf(t) for t in replaced if self._held(t, words))
        return total > 0 and held * 2 >= total

    def merge(self, previous: Question, fragment: Question) -> list[Question]:
        """Readings of a follow-up ("còn sữa thì sao?", "đợt 2 thì sao?", "thế cụm trưởng là ai") against the
        previous question, most likely first."""
        slots = {attr: getattr(fragment, attr) or getattr(previous, attr)
                 for attr in ("places", "clusters", "phases", "years")}
        if fragment.kind is not None:  # a new question about the same subject: "ngày nào?", "tổng số tiền bao nhiêu?"
            alone = replace(fragment, **slots)
            both = replace(alone, terms=tuple(dict.fromkeys([*previous.terms, *fragment.terms])),
                           compounds=tuple(dict.fromkeys([*previous.compounds, *fragment.compounds])))
            return [both, alone] if both.terms != alone.terms else [alone]
        base = replace(previous, text=fragment.text, tokens=fragment.tokens, **slots)
        if not fragment.terms:
            return [base]
        # the fragment's words take the place of one of the previous words ("gạo" -> "sữa")
        readings = [replace(base, terms=tuple(dict.fromkeys([*(t for t in previous.terms if t != old),
                                                              *fragment.terms])))
                    for old in previous.terms]
        # the fragment names a new subject of the same kind of question ("còn sữa thì sao?" after a rice discount)
        readings.append(replace(base, terms=fragment.terms, compounds=fragment.compounds))
        readings.append(replace(base, terms=tuple(dict.fromkeys([*previous.terms, *fragment.terms]))))
        return readings
