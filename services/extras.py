"""The optional parts of the install (pyproject.toml's extras), in one place: which module each extra brings,
whether it is installed, and the error that names the command installing it.

Running in the first configuration (the console chat on SQLite, text documents) needs none of them;
``Settings.extras_needed`` says which ones a configured deployment needs (``unionbot extras``, which
scripts/setup.sh reads), and every place that imports an optional library asks :func:`require` (or
:func:`available`, where a plainer form exists: the charts) first. The words are in ``locales/*.yaml``
under ``extras``.
"""

from __future__ import annotations

from importlib.util import find_spec
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.settings import Settings

#: extra -> the modules it brings (the names in pyproject.toml's [project.optional-dependencies])
EXTRAS: dict[str, tuple[str, ...]] = {
    "postgres": ("asyncpg",),
    "redis": ("redis",),
    "telegram": ("aiogram",),
    "documents": ("docx", "pypdf", "bs4"),
    "charts": ("matplotlib",),
}


class MissingExtra(RuntimeError):
    """An optional part the configuration uses is not installed; ``str()`` is for logs (English, no data)."""

    def __init__(self, extra: str) -> None:
        super().__init__(f"the '{extra}' extra is not installed: pip install 'unionbot[{extra}]'")
        self.extra = extra

    def explain(self, t, lang: str = "vi") -> str:
        """The one line a person reads: what is missing, what for, and the command that installs it."""
        return t("extras.missing", lang, extra=self.extra, purpose=t(f"extras.purpose.{self.extra}", lang))


def available(extra: str) -> bool:
    """Whether every module of ``extra`` can be imported (asked each time: cheap once imported)."""
    try:
        return all(find_spec(module) is not None for module in EXTRAS[extra])
    except (ImportError, ValueError):  # a parent package that fails to import, a module without a spec
        return False


def require(extra: str) -> None:
    """Raise :class:`MissingExtra` unless ``extra`` is installed."""
    if not available(extra):
        raise MissingExtra(extra)


def needed(settings: Settings, *, documents: bool = True) -> list[str]:
    """The extras the configured deployment uses: PostgreSQL, Redis, a Telegram token, source documents to
    ingest at first start that are not plain text (``documents=False``: not looked for). The charts are never
    needed (tables and text stand in)."""
    from sqlalchemy.engine import make_url

    from services.documents import TEXT_SUFFIXES, expand
    from storage.db import normalize_url

    found = []
    if make_url(normalize_url(settings.effective_database_url)).drivername == "postgresql+asyncpg":
        found.append("postgres")
    if settings.delivery.redis_url:
        found.append("redis")
    if settings.telegram.token is not None:
        found.append("telegram")
    folder = settings.documents.dir
    if documents and folder is not None and folder.is_dir() and any(p.suffix.lower() not in TEXT_SUFFIXES
                                                     for p in expand([folder])):
        found.append("documents")
    return found
