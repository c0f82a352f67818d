"""Interface strings. Every user-facing sentence lives in ``locales/<lang>.yaml``; Vietnamese is the default."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

LOCALES_DIR = Path(__file__).parent
DEFAULT_LANGUAGE = "vi"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml: ten times faster at start


class _Keep(dict):
    def __missing__(self, key: str) -> str:  # a missing placeholder stays visible instead of crashing
        return "{" + key + "}"


#: the parsed tables by their files (path, modification time, size): a process builds several translators (the
#: command line's, the app's), the YAML is parsed once
_PARSED: dict[tuple[tuple[str, int, int], ...], dict[str, dict[str, str]]] = {}


def _tables(directory: Path) -> dict[str, dict[str, str]]:
    files = sorted(directory.glob("*.yaml"))
    key = tuple((str(path), (st := path.stat()).st_mtime_ns, st.st_size) for path in files)
    if (tables := _PARSED.get(key)) is None:
        tables = _PARSED[key] = {
            path.stem: _flatten(yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER) or {}) for path in files}
    return {lang: dict(table) for lang, table in tables.items()}  # each translator its own copy


class Translator:
    def __init__(self, directory: Path = LOCALES_DIR) -> None:
        self.tables: dict[str, dict[str, str]] = _tables(directory)
        if DEFAULT_LANGUAGE not in self.tables:
            raise RuntimeError(f"{directory}: {DEFAULT_LANGUAGE}.yaml is missing")

    @property
    def languages(self) -> list[str]:
        return sorted(self.tables)

    def language_for(self, code: str | None) -> str:
        """Map a client language code ("en-US", "vi") to a supported language."""
        base = (code or "").split("-")[0].lower()
        return base if base in self.tables else DEFAULT_LANGUAGE

    def __call__(self, key: str, lang: str = DEFAULT_LANGUAGE, **values: object) -> str:
        table = self.tables.get(lang) or self.tables[DEFAULT_LANGUAGE]
        template = table.get(key) or self.tables[DEFAULT_LANGUAGE].get(key)
        if template is None:
            raise KeyError(f"no interface string '{key}'")
        return _no_double_stop(template, values).format_map(_Keep(values)) if values else template


_PLACEHOLDER_STOP = re.compile(r"\{(\w+)\}\.(?!\.)")
_ENDS_A_SENTENCE = (".", "!", "?", "…")


def _no_double_stop(template: str, values: dict) -> str:
    """The template without the full stop after a placeholder whose value already ends a sentence ("Lý do:
    {reason}." with "Thiếu giấy tờ."): no ".." in any message."""
    def stop(match: re.Match) -> str:
        value = values.get(match.group(1))
        ends = value is not None and str(value).rstrip().endswith(_ENDS_A_SENTENCE)
        return match.group(0)[:-1] if ends else match.group(0)
    return _PLACEHOLDER_STOP.sub(stop, template)


def _flatten(tree: dict, prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(key, bool) or key is None:  # YAML reads a bare off/on/yes/no key as a boolean: "web.False"
            raise ValueError(f"locales: the key {prefix}{key} is read as {type(key).__name__}: write it in quotes")
        full = f"{prefix}{key}"
        if isinstance(value, dict):
            flat.update(_flatten(value, full + "."))
        else:
            flat[full] = str(value).rstrip("\n")
    return flat
