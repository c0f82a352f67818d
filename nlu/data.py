"""Reading NLU data files: intent examples, the abbreviation table, labelled evaluation sets."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

DATA_DIR = Path(__file__).with_name("data")
#: libyaml when present: ten times faster than the pure-Python parser at every start
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_abbreviations(path: Path | None = None) -> dict[str, str]:
    path = path or DATA_DIR / "abbreviations.yaml"
    table = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER) or {}
    if not isinstance(table, dict):
        raise ValueError(f"{path}: expected a mapping of abbreviation: expansion")
    return {str(k): str(v) for k, v in table.items()}


def load_labelled(path: Path) -> list[tuple[str, str]]:
    """Labelled utterances as (text, intent) from any of the supported layouts:

    - a directory with ``seq.in`` and ``label`` (one utterance / one intent per line, as public
      Vietnamese intent datasets ship them);
    - a directory of ``<intent>.txt`` files, one utterance per line (our training layout);
    - a ``.jsonl`` file of ``{"text": ..., "intent": ...}`` objects (or a directory holding one).
    """
    if path.is_dir() and (path / "seq.in").exists():
        texts = (path / "seq.in").read_text(encoding="utf-8").splitlines()
        labels = (path / "label").read_text(encoding="utf-8").splitlines()
        if len(texts) != len(labels):
            raise ValueError(f"{path}: seq.in has {len(texts)} lines but label has {len(labels)}")
        return [(t, lab.strip()) for t, lab in zip(texts, labels, strict=True) if t.strip()]
    if path.is_dir():
        jsonl = sorted(path.glob("*.jsonl"))
        if jsonl:
            return [pair for f in jsonl for pair in load_labelled(f)]
        return [(line.strip(), f.stem) for f in sorted(path.glob("*.txt"))
                for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
    if path.suffix == ".jsonl":
        pairs = []
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            obj = json.loads(line)
            if "text" not in obj or "intent" not in obj:
                raise ValueError(f"{path}:{number}: needs 'text' and 'intent'")
            pairs.append((obj["text"], obj["intent"]))
        return pairs
    raise ValueError(f"{path}: not a seq.in/label directory, a directory of .txt files or a .jsonl file")


def load_training_examples(directory: Path | None = None) -> list[tuple[str, str]]:
    return load_labelled(directory or DATA_DIR / "train")


def training_files(directory: Path | None = None) -> list[Path]:
    """The files :func:`load_training_examples` reads (what a cache derived from them is keyed by)."""
    directory = directory or DATA_DIR / "train"
    return sorted(p for p in directory.rglob("*") if p.is_file())
