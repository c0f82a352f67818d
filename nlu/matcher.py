"""The matcher: from a raw message to an intent, a confidence and the knowledge entries it names."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from nlu import intents
from nlu.classifier import FEATURE_VERSION, IntentModel, Prediction, train
from nlu.entities import EntityIndex, EntityMatch, Speller
from nlu.normalize import Normalized, Normalizer
from nlu.retrieval import Hit, Retriever

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Thresholds:
    """Where the bot stops guessing. Calibrated on eval/dev.jsonl (docs/benchmarks.md); the fallback
    decision lives here and nowhere else."""

    #: an in-scope prediction needs at least this probability...
    min_confidence: float = 0.35
    #: ...and must beat the out-of-scope probability by this margin, unless a named entry backs it
    oos_margin: float = 0.15
    #: an out-of-scope prediction below this is overridden when a knowledge entry is clearly named
    entity_override_max_oos: float = 0.6
    #: a name "clearly" names an entry when it has several words or at least this many letters
    strong_name_chars: int = 6


@dataclass(frozen=True, slots=True)
class Understanding:
    normalized: Normalized
    intent: str
    confidence: float
    entities: tuple[EntityMatch, ...]
    prediction: Prediction | None
    #: entries of the intent's kinds ranked by shared words, for questions that name no entry (the ten best, and every
    #: further one near the best: ``nlu.retrieval.NEAR_BEST``)
    related: tuple[Hit, ...] = ()

    @property
    def tokens(self) -> tuple[str, ...]:
        return self.normalized.tokens

    def entities_of(self, *kinds: str) -> list[EntityMatch]:
        return [e for e in self.entities if e.kind in kinds]


@dataclass(frozen=True, slots=True)
class NamedEntry:
    """What the matcher needs to know of a knowledge entry."""

    id: str
    kind: str
    names: Sequence[str]
    text: str = ""  # everything the entry says, for word-overlap retrieval


class Matcher:
    def __init__(self, normalizer: Normalizer, model: IntentModel, entries: Iterable[NamedEntry],
                 extra_vocabulary: Iterable[str] = (), thresholds: Thresholds | None = None,
                 cache_dir: Path | None = None) -> None:
        """``cache_dir``: where the name index and the entry retriever built from ``entries`` are stored between
        starts (``nlu/cache.py``)."""
        from nlu.cache import matcher_indexes

        self.normalize = normalizer
        self.model = model
        self.thresholds = thresholds or Thresholds()
        self.index, self.retriever = matcher_indexes(list(entries), normalizer, cache_dir)
        vocab = self.index.vocabulary | {f[2:] for f in model.vocab if f.startswith("w:")}
        self.speller = Speller(vocab | set(extra_vocabulary))

    def understand(self, text: str) -> Understanding:
        raw = self.normalize(text or "")
        if not raw.tokens:
            return Understanding(raw, intents.UNSURE, 0.0, (), None)
        corrected = self.speller(raw.tokens)
        norm = Normalized(text=raw.text, folded=" ".join(corrected), tokens=corrected)
        prediction = self.model.predict(corrected)
        entities = tuple(self.index.find(corrected))
        intent, confidence = self._decide(prediction, entities)
        related: tuple[Hit, ...] = ()
        if intent in intents.INTENT_KINDS:
            related = tuple(self.retriever.search(corrected, intents.INTENT_KINDS[intent], near=True))
        return Understanding(norm, intent, confidence, entities, prediction, related)

    def _decide(self, p: Prediction, entities: Sequence[EntityMatch]) -> tuple[str, float]:
        t = self.thresholds
        named = [intents.KIND_INTENT[e.kind] for e in entities
                 if e.kind in intents.KIND_INTENT and (" " in e.matched or len(e.matched) >= t.strong_name_chars)]
        p_oos = dict(p.ranking).get(intents.OUT_OF_SCOPE, 0.0)
        if p.intent == intents.OUT_OF_SCOPE:
            if named and p.confidence < t.entity_override_max_oos:
                fitting = [(label, prob) for label, prob in p.ranking if label in named]
                return fitting[0] if fitting else (named[0], 1.0 - p.confidence)
            return p.intent, p.confidence
        if p.intent in named:
            return p.intent, p.confidence
        if p.confidence >= t.min_confidence and p.confidence - p_oos >= t.oos_margin:
            return p.intent, p.confidence
        if named:
            fitting = [(label, prob) for label, prob in p.ranking if label in named]
            return fitting[0] if fitting else (named[0], p.confidence)
        return intents.UNSURE, p.confidence


def build_indexes(entries: Sequence[NamedEntry], normalizer: Normalizer) -> tuple[EntityIndex, Retriever]:
    """The entries' names for exact lookup, and their text for word-overlap retrieval."""
    index = EntityIndex((e.id, e.kind, normalizer(name).tokens) for e in entries for name in e.names)
    retriever = Retriever((e.id, e.kind, normalizer(" ".join([*e.names, *e.names, e.text])).tokens)
                          for e in entries)
    return index, retriever


def model_fingerprint(examples: Sequence[tuple[str, str]]) -> str:
    digest = hashlib.sha256(FEATURE_VERSION.encode())
    for text, label in examples:
        digest.update(f"{label}\t{text}\n".encode())
    return digest.hexdigest()[:16]


def build_model(normalizer: Normalizer, examples: Sequence[tuple[str, str]],
                cache_dir: Path | None = None) -> IntentModel:
    """Train on ``examples`` or load the cached model trained on exactly the same examples (``nlu/cache.py``:
    an unreadable file is retrained, a folder that cannot be written is logged)."""
    from nlu.cache import load_or_build

    def fit() -> IntentModel:
        return train((normalizer(text).tokens, label) for text, label in examples)

    return load_or_build(cache_dir, "nlu-model", model_fingerprint(examples), fit)
