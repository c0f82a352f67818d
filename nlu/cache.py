"""What start-up derives from the knowledge, the documents and the training examples, stored under the cache dir.

Building the evidence index normalises every sentence of every document (seconds on a large corpus); the
result depends only on its inputs, so it is stored once, keyed by a hash of those inputs *and* of the code that
derives it (the source files of the modules named below and the NLU data files), and loaded at the next start.
Anything that changes — a knowledge entry, an ingested document, an abbreviation, the scoring code — gives a new
key, hence a rebuild. Several processes may share the folder: a file is written to a temporary name and renamed
into place (readers see a whole file or none); beyond the newest few of a kind, older files are removed. The cache is
an optimisation only: a missing, read-only or unreadable folder, or a corrupt file, means building in memory
(logged), never a failure.

The files are pickles, read only from the installation's own cache folder (as trusted as its database file).
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import TypeVar

from nlu.normalize import Normalizer

log = logging.getLogger(__name__)

T = TypeVar("T")

#: bumped when the stored layout changes in a way the source hash would not show
FORMAT = "1"
#: files kept per kind: the newest (several databases or test runs may share one folder)
KEEP = 4
#: the modules whose code shapes the evidence index
EVIDENCE_MODULES = ("nlu.evidence", "nlu.editions", "nlu.bm25", "nlu.normalize", "nlu.cache")


def code_digest(modules: Iterable[str], files: Iterable[Path] = ()) -> str:
    """A hash of the named modules' source files and of ``files`` (data the code reads)."""
    digest = hashlib.sha256(FORMAT.encode())
    for name in modules:
        module = sys.modules.get(name) or __import__(name, fromlist=["_"])
        digest.update(Path(module.__file__ or "").read_bytes())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def digest(*parts: str | bytes) -> str:
    h = hashlib.sha256()
    for part in parts:
        h.update(part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass"))
        h.update(b"\0")
    return h.hexdigest()[:24]


def records_digest(records: Iterable) -> str:
    """A hash of evidence records (``nlu.evidence.Record``); a paragraph shared by its sentences is hashed once."""
    h = hashlib.sha256()
    seen: set[int] = set()
    for r in records:
        h.update(repr((r.text, r.title, r.date, r.doc, r.position, r.label, r.entry_id, r.exact_date,
                       r.publication)).encode())
        if id(r.paragraph) not in seen:
            seen.add(id(r.paragraph))
            h.update(repr(r.paragraph).encode())
        h.update(b"\n")
    return h.hexdigest()


def load_or_build(directory: Path | None, kind: str, key: str, build: Callable[[], T],
                  prepare: Callable[[T], object] = lambda _v: None) -> T:
    """The value stored under ``kind``/``key``, or ``build()`` — then stored (``prepare`` runs first: what a
    stored value must hold that a fresh one computes lazily)."""
    path = directory / f"{kind}-{key}.pickle" if directory is not None else None
    if path is not None:
        try:
            with path.open("rb") as f:
                return pickle.load(f)
        except FileNotFoundError:
            pass
        except Exception as exc:  # corrupt, truncated, from another version: rebuilt below
            log.warning("cache file %s unreadable (%s); rebuilding", path.name, type(exc).__name__)
    value = build()
    if path is not None:
        prepare(value)
        store(path, value)
    return value


def store(path: Path, value: object) -> None:
    """Write ``value`` to ``path`` atomically (temporary file in the same folder, then a rename); the other
    files of its kind beyond the newest ``KEEP`` are removed. A folder that cannot be written is logged and skipped."""
    kind = path.name.rsplit("-", 1)[0]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{kind}-", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        older = sorted((p for p in path.parent.glob(f"{kind}-*.pickle") if p != path), key=_age)
        for old in older[KEEP - 1:]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        log.warning("cache folder %s not writable (%s); kept in memory only", path.parent, type(exc).__name__)


def _age(path: Path) -> float:
    try:
        return -path.stat().st_mtime
    except OSError:  # removed meanwhile by another process
        return 0.0


def passages_digest(passages: Iterable) -> str:
    """A hash of document sentences (``nlu.evidence.Passage``), in their order, with every field their records are
    made of (``nlu.evidence.records_from_passages``)."""
    h = hashlib.sha256()
    for p in passages:
        h.update(repr((p.document_id, p.title, p.published, p.origin, p.paragraph, p.sentence, p.text,
                       p.publication)).encode())
        h.update(b"\n")
    return h.hexdigest()


def evidence_index(records: Sequence, normalizer: Normalizer, common: Callable[[], Iterable[str]],
                   directory: Path | None, common_from: Sequence[Path] = (), passages: Sequence = ()):
    """The :class:`nlu.evidence.EvidenceIndex` of ``records`` and of the sentences ``passages``
    (``nlu.evidence.Passage``, made records after them), loaded from ``directory`` when it was built from the
    same records, passages, normalizer, domain words, data and code; else built (with its BM25 ranking) and stored.
    The passages' records are made only to build it: the key hashes the passages themselves (and the code that
    makes them records, ``nlu.evidence``), so a start that finds the index pays for neither. ``common`` computes
    the domain words, from the files ``common_from`` (part of the key: computed only when the index is built)."""
    from nlu.evidence import DATA_FILE, EvidenceIndex, records_from_passages

    def build() -> EvidenceIndex:
        return EvidenceIndex([*records, *records_from_passages(passages)], normalizer, common=frozenset(common()))

    if directory is None:
        return build()
    key = digest(code_digest(EVIDENCE_MODULES, [DATA_FILE, *common_from]), normalizer.signature,
                 records_digest(records), passages_digest(passages))
    index = load_or_build(directory, "evidence", key, build, prepare=lambda built: built.prepare())
    index.attach(normalizer)
    return index


#: the modules whose code shapes the matcher's name index and entry retriever
MATCHER_MODULES = ("nlu.matcher", "nlu.entities", "nlu.retrieval", "nlu.normalize", "nlu.cache")


def matcher_indexes(entries: Sequence, normalizer: Normalizer, directory: Path | None) -> tuple:
    """The matcher's (name index, entry retriever) of ``entries`` (``nlu.matcher.NamedEntry``), stored like the
    evidence index."""
    from nlu.matcher import build_indexes

    if directory is None:
        return build_indexes(entries, normalizer)
    key = digest(code_digest(MATCHER_MODULES), normalizer.signature,
                 repr([(e.id, e.kind, tuple(e.names), e.text) for e in entries]))
    return load_or_build(directory, "matcher", key, lambda: build_indexes(entries, normalizer))
