"""Vietnamese text normalisation: pure functions, no I/O.

The pipeline a member's message goes through before matching:

1. ``clean``: Unicode NFC, control characters and emoji removed, whitespace squeezed,
   input capped at ``MAX_CHARS`` (nobody asks a 100k-character question).
2. ``normalize_tones``: tone marks put where Vietnamese spelling puts them
   ("hoá" -> "hóa", "lựơng" -> "lượng"), so the same word is always the same string.
3. ``fold``: lowercase and accent folding ("Đoàn viên" -> "doan vien"): diacritics are optional
   for members, so every comparison is made on folded text.
4. ``tokens``: words and numbers (dates like 28/7 and percentages kept whole).
5. abbreviations expanded (``ko`` -> ``khong``) from a domain table (``nlu/data/abbreviations.yaml``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

MAX_CHARS = 1000

# Combining marks of the five Vietnamese tones (NFD form).
_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
_VOWELS = set("aăâeêioôơuưy")
_MARKED_VOWELS = set("ăâêôơư")  # vowels that carry a shape diacritic
_FINAL_CONSONANTS = ("ch", "nh", "ng", "c", "m", "n", "p", "t")

_WORD_RE = re.compile(r"\d+(?:[/.,:-]\d+)*%?|[^\W\d_]+", re.UNICODE)
_SPACE_RE = re.compile(r"\s+")


# Letters that look Vietnamese but are not (Icelandic eth typed for đ): replaced in ``clean``.


def clean(text: str) -> str:
    """NFC, drop control/format/symbol characters (emoji), squeeze whitespace, cap length."""
    text = unicodedata.normalize("NFC", text[: MAX_CHARS * 4]).replace("Ð", "Đ").replace("ð", "đ")
    # each distinct character looked at once (a sentence has a few dozen), not every character
    dropped = {ord(ch): " " for ch in set(text) if _dropped(unicodedata.category(ch))}
    if dropped:
        text = text.translate(dropped)
    return _SPACE_RE.sub(" ", text).strip()[:MAX_CHARS]


def _dropped(category: str) -> bool:
    return category[0] == "C" or category == "So" or category == "Sk"


def _split_tone(ch: str) -> tuple[str, str]:
    decomposed = unicodedata.normalize("NFD", ch)
    tone = "".join(c for c in decomposed if c in _TONES)
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in _TONES))
    return base, tone[:1]


@lru_cache(maxsize=65536)
def _normalize_syllable(word: str) -> str:
    if word.isascii():
        return word
    bases: list[str] = []
    tone = ""
    for ch in word:
        base, t = _split_tone(ch)
        bases.append(base)
        if t and not tone:
            tone = t
    if not tone:
        return word
    lower = [b.lower() for b in bases]
    # locate the vowel nucleus
    start = next((i for i, c in enumerate(lower) if c in _VOWELS), None)
    if start is None:
        return word
    end = start
    while end < len(lower) and lower[end] in _VOWELS:
        end += 1
    onset = "".join(lower[:start])
    # "gi" and "qu": the i/u belongs to the onset when another vowel follows
    if (onset == "g" and lower[start] == "i" or onset == "q" and lower[start] == "u") and end - start > 1:
        start += 1
    nucleus = list(range(start, end))
    coda = "".join(lower[end:])
    marked = [i for i in nucleus if lower[i] in _MARKED_VOWELS]
    if marked:
        pos = marked[-1]
    elif len(nucleus) == 1:
        pos = nucleus[0]
    elif len(nucleus) >= 3 or coda and coda.startswith(_FINAL_CONSONANTS):
        pos = nucleus[1]
    else:
        pos = nucleus[0]
    bases[pos] = unicodedata.normalize("NFC", bases[pos] + tone)
    return "".join(bases)


#: a word holding a letter outside ASCII (a word of ASCII letters carries no tone mark to move: it is left alone)
_SYLLABLE_RE = re.compile(r"[^\W\d_]*[^\W\d_\x00-\x7f][^\W\d_]*", re.UNICODE)


def normalize_tones(text: str) -> str:
    """Put every syllable's tone mark on the vowel where standard spelling puts it."""
    return _SYLLABLE_RE.sub(lambda m: _normalize_syllable(m.group(0)), text)


#: the combining marks of the block Vietnamese diacritics are in (U+0300–U+036F; not the grapheme joiner U+034F,
#: which combines nothing): removed by one regular expression, the rarer marks of other blocks one by one
_MARKS = re.compile("[" + "".join(chr(c) for c in range(0x300, 0x370) if unicodedata.combining(chr(c))) + "]")


def fold(text: str) -> str:
    """Lowercase and strip every diacritic: "Công đoàn" -> "cong doan"."""
    folded = _MARKS.sub("", unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "d").lower()))
    if folded.isascii():
        return folded
    marks = {ord(c): None for c in set(folded) if unicodedata.combining(c)}
    return folded.translate(marks) if marks else folded


def tokens(text: str) -> list[str]:
    return _WORD_RE.findall(text)


_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"  # onset
    r"[aeiouy]{1,3}"  # nucleus (folded)
    r"(?:ch|nh|ng|[cmnpt])?$"  # coda
)


def is_syllable(word: str) -> bool:
    """Whether a folded word is shaped like a Vietnamese syllable (so a real word, not a typo to correct)."""
    return bool(_SYLLABLE.match(word))


_ROMAN = re.compile(r"^(?=[xvi])x{0,3}(?:ix|iv|v?i{0,3})$")


def is_roman(word: str) -> bool:
    """Whether a folded word is a roman numeral from 1 to 39 ("i", "xv", "xxxix"): "khóa XV", "lần thứ III"."""
    return bool(_ROMAN.match(word))


def roman_value(word: str) -> int | None:
    """The value of a folded roman numeral of 1–39 (:func:`is_roman`), else None: "xiii" -> 13."""
    if not is_roman(word):
        return None
    values = [{"i": 1, "v": 5, "x": 10}[c] for c in word]
    return sum(-v if v < nxt else v for v, nxt in zip(values, [*values[1:], 0], strict=True))


def has_diacritics(text: str) -> bool:
    return fold(text) != text.lower()


@dataclass(frozen=True, slots=True)
class Normalized:
    """A message after normalisation: ``text`` keeps the accents, ``folded`` and ``tokens`` do not."""

    text: str
    folded: str
    tokens: tuple[str, ...]


class Normalizer:
    """Normalisation with a domain abbreviation table (keys and values are folded when built)."""

    def __init__(self, abbreviations: Mapping[str, str] | None = None) -> None:
        self._abbr: dict[str, tuple[str, ...]] = {}
        for key, value in (abbreviations or {}).items():
            self._abbr[fold(str(key)).strip()] = tuple(tokens(fold(str(value))))
        # one question is read by several steps (the matcher, the evidence, the follow-up check): normalised once
        self._recent = lru_cache(maxsize=1024)(self._normalize)

    @property
    def abbreviations(self) -> frozenset[str]:
        return frozenset(self._abbr)

    @property
    def signature(self) -> str:
        """The abbreviation table as one stable string: what a cache of normalised text depends on."""
        return repr(sorted(self._abbr.items()))

    def expand(self, toks: Sequence[str]) -> tuple[str, ...]:
        """Folded tokens with the abbreviations expanded (for words corrected into an abbreviation)."""
        out: list[str] = []
        for tok in toks:
            out.extend(self._abbr.get(tok, (tok,)))
        return tuple(out)

    def __call__(self, text: str) -> Normalized:
        return self._recent(text) if len(text) <= MAX_CHARS else self._normalize(text)

    def _normalize(self, text: str) -> Normalized:
        cleaned = normalize_tones(clean(text))
        expanded: list[str] = []
        for tok in tokens(fold(cleaned)):
            expanded.extend(self._abbr.get(tok, (tok,)))
        toks = tuple(expanded)
        return Normalized(text=cleaned, folded=" ".join(toks), tokens=toks)
