"""Entity matching: which knowledge entries a message names, and typo correction of its words.

Names come from the knowledge base (``Entry.match_names``), so an entry added to ``knowledge/*.yaml``
is understood without code changes. Matching is an exact lookup of the message's word n-grams in a
dict of folded names, after each unknown word was corrected to the nearest known word (rapidfuzz
Levenshtein, cached): typos are tolerated and the cost does not grow with the size of the base.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from nlu.normalize import is_syllable


@dataclass(frozen=True, slots=True)
class EntityMatch:
    entry_id: str
    kind: str
    matched: str  # the folded name that matched
    score: float  # characters covered by the match: longer names are stronger evidence


class Speller:
    """Corrects words missing from a vocabulary to the closest known word (edit distance 1, or 2 for long)."""

    def __init__(self, vocabulary: Iterable[str], cache_size: int = 100_000) -> None:
        self.vocabulary = frozenset(w for w in vocabulary if w)
        self._choices = sorted(self.vocabulary)
        self.correct = lru_cache(maxsize=cache_size)(self._correct)

    def _correct(self, word: str) -> str:
        # a known word, a short one, a number, or a well-formed Vietnamese syllable ("luat") is left alone:
        # only misspellings like "sangg", "gaoj", "thuog" are corrected
        if word in self.vocabulary or len(word) < 4 or not word.isalpha() or is_syllable(word):
            return word
        cutoff = 2 if len(word) >= 8 else 1
        best = process.extractOne(word, self._choices, scorer=Levenshtein.distance, score_cutoff=cutoff)
        return best[0] if best else word

    def __call__(self, words: Sequence[str]) -> tuple[str, ...]:
        return tuple(self.correct(w) for w in words)


class EntityIndex:
    def __init__(self, names: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """``names``: (entry id, kind, folded name tokens) for every name of every entry."""
        self._index: dict[tuple[str, ...], list[tuple[str, str]]] = {}
        self.max_len = 1
        for entry_id, kind, toks in names:
            key = tuple(toks)
            if not key:
                continue
            bucket = self._index.setdefault(key, [])
            if (entry_id, kind) not in bucket:
                bucket.append((entry_id, kind))
            self.max_len = max(self.max_len, len(key))

    @property
    def vocabulary(self) -> set[str]:
        return {tok for key in self._index for tok in key}

    def find(self, tokens: Sequence[str]) -> list[EntityMatch]:
        """Entries named in ``tokens``, strongest first, one match per entry."""
        best: dict[str, EntityMatch] = {}
        n_tokens = len(tokens)
        for n in range(min(self.max_len, n_tokens), 0, -1):
            for start in range(n_tokens - n + 1):
                key = tuple(tokens[start:start + n])
                hits = self._index.get(key)
                if not hits:
                    continue
                matched = " ".join(key)
                score = float(len(matched))
                for entry_id, kind in hits:
                    if entry_id not in best or best[entry_id].score < score:
                        best[entry_id] = EntityMatch(entry_id, kind, matched, score)
        return sorted(best.values(), key=lambda m: -m.score)
