"""Typed settings, read once when the app is built: one section per concern, env prefix ``UNIONBOT_``, ``.env``.

Every setting keeps the environment variable it always had (README's table): ``UNIONBOT_TELEGRAM_MODE`` is
``settings.telegram.mode``, ``UNIONBOT_DATABASE_URL`` is ``settings.database.url``. ``Settings.replace`` takes the
same names without the prefix (``replace(telegram_mode="webhook")``) and validates again, so a copy made by a test
is checked like the environment. A wrong value is a :class:`pydantic.ValidationError`; :func:`describe` turns it
into one line naming the variable and what it accepts (the CLI prints that line and exits 1).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AliasChoices, BaseModel, Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

if TYPE_CHECKING:
    from storage.db import Database

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PREFIX = "UNIONBOT_"
#: webhook secrets: at least this long (``openssl rand -hex 32`` gives 64), at most Telegram's 256; only the
#: characters Telegram allows in ``secret_token`` (Zalo's header takes them too)
WEBHOOK_SECRET_MIN = 16
WEBHOOK_SECRET_MAX = 256
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]+")
Mode = Literal["polling", "webhook"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _seed_documents() -> Path | None:
    """The seed articles beside the project checkout (``../shared/seeds``), when they are there: never copied
    into the repository, their sentences are not ours to ship."""
    seeds = PROJECT_ROOT.parent / "shared" / "seeds"
    return seeds if seeds.is_dir() else None


def default_data_dir() -> Path:
    """Where the embedded database lives when ``UNIONBOT_DATA_DIR`` is unset, the same from any folder: the
    checkout's ``var/`` when running from a checkout (an editable install included), else the user's data folder
    (``~/.local/share/unionbot`` on Linux, platformdirs elsewhere)."""
    if (PROJECT_ROOT / "pyproject.toml").is_file():
        return PROJECT_ROOT / "var"
    from platformdirs import user_data_path

    return user_data_path("unionbot", appauthor=False)


def _env(name: str) -> Any:
    """A field read from ``UNIONBOT_<NAME>`` whatever its section's prefix (the names predate the sections)."""
    return AliasChoices(PREFIX + name)


class Section(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore",
                                      populate_by_name=True)


class _Messenger(Section):
    token: SecretStr | None = None
    api_url: str
    mode: Mode = "polling"
    #: the public HTTPS URL the platform posts updates to, e.g. https://bot.example.org/telegram/webhook
    webhook_url: str = ""
    webhook_path: str
    webhook_secret: SecretStr | None = None

    def secret(self) -> str:
        """The webhook secret (checked when the settings were built: set and usable in webhook mode)."""
        return self.webhook_secret.get_secret_value() if self.webhook_secret is not None else ""

    @model_validator(mode="after")
    def _webhook(self) -> _Messenger:
        """A messenger served by webhook (a token and mode webhook) needs its URL and a usable secret."""
        if self.token is None or self.mode != "webhook":
            return self
        name = str(self.model_config.get("env_prefix", PREFIX))
        if not self.webhook_url:
            raise ValueError(f"{name}WEBHOOK_URL: chế độ webhook cần địa chỉ công khai / webhook mode needs the "
                             "public URL")
        value = self.webhook_secret.get_secret_value() if self.webhook_secret is not None else ""
        if not value:
            raise ValueError(f"{name}WEBHOOK_SECRET: chế độ webhook cần mã bí mật / webhook mode needs a secret "
                             "(it is empty or unset; e.g. $(openssl rand -hex 32))")
        if not WEBHOOK_SECRET_MIN <= len(value) <= WEBHOOK_SECRET_MAX or not WEBHOOK_SECRET_CHARS.fullmatch(value):
            raise ValueError(f"{name}WEBHOOK_SECRET: cần {WEBHOOK_SECRET_MIN}-{WEBHOOK_SECRET_MAX} ký tự / must be "
                             f"{WEBHOOK_SECRET_MIN}-{WEBHOOK_SECRET_MAX} characters of A-Z, a-z, 0-9, _ and - "
                             f"(it has {len(value)}); e.g. $(openssl rand -hex 32)")
        return self


class TelegramSettings(_Messenger):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_TELEGRAM_")
    #: the Bot API server: Telegram's, or a self-hosted / local one
    api_url: str = "https://api.telegram.org"
    webhook_path: str = "/telegram/webhook"
    #: the bot's @username (without "@"): the web console's linking-code sheet makes t.me/<username>?start=<code>
    #: QR codes from it; empty: the sheet shows the codes and the /lienket command, without QR codes
    username: str = Field(default="", pattern=r"^[A-Za-z0-9_]{0,64}$")


class ZaloSettings(_Messenger):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_ZALO_")
    api_url: str = "https://bot-api.zaloplatforms.com"
    webhook_path: str = "/zalo/webhook"


class DatabaseSettings(Section):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_DATABASE_")
    #: SQLAlchemy URL; empty means the embedded SQLite file in ``data_dir``
    url: str = ""


class KnowledgeSettings(Section):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_KNOWLEDGE_")
    dir: Path = PROJECT_ROOT / "knowledge"
    #: load the knowledge files at start when the database holds no knowledge yet
    autoload: bool = Field(default=True, validation_alias=_env("AUTOLOAD_KNOWLEDGE"))
    #: every process polls the knowledge version this often (changes from the web console or another worker)
    poll_seconds: float = Field(default=2.0, gt=0)


class DocumentsSettings(Section):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_DOCUMENTS_")
    #: source documents ingested at first start, when demo data is on and the database has no document yet;
    #: an empty value means none
    dir: Path | None = Field(default_factory=_seed_documents)
    #: the largest document file ``unionbot kb ingest`` reads, in megabytes
    max_mb: float = Field(default=20, gt=0, validation_alias=_env("DOCUMENT_MAX_MB"))

    @field_validator("dir", mode="before")
    @classmethod
    def _no_documents(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def max_bytes(self) -> int:
        return int(self.max_mb * 1024 * 1024)


class DemoSettings(Section):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_DEMO_")
    #: load the demo roster (demo/roster.yaml, invented people) when the database has no units yet
    data: bool = True
    roster: Path = PROJECT_ROOT / "demo" / "roster.yaml"


class LinkSettings(Section):
    """One-time linking codes."""

    model_config = SettingsConfigDict(env_prefix="UNIONBOT_LINK_")
    code_ttl_days: float = Field(default=14, gt=0)
    max_failures: int = Field(default=5, ge=1)
    lock_minutes: float = Field(default=15, ge=0)


class DeliverySettings(Section):
    """Outbox delivery and replies: messages per second per bot token (Telegram allows about 30/s overall), the
    minimum seconds between two proactive messages to one chat, seconds between two rounds of broadcast progress,
    seconds a reply waits out 429s, and Redis (e.g. redis://127.0.0.1:6379/0) sharing a token's rate between
    processes."""

    model_config = SettingsConfigDict(env_prefix="UNIONBOT_DELIVERY_")
    rate_telegram: float = Field(default=25, gt=0)
    rate_zalo: float = Field(default=10, gt=0)
    per_chat_interval: float = Field(default=1.0, ge=0)
    progress_interval: float = Field(default=5.0, gt=0, validation_alias=_env("PROGRESS_INTERVAL"))
    reply_max_wait: float = Field(default=300.0, gt=0, validation_alias=_env("REPLY_MAX_WAIT"))
    redis_url: str = Field(default="", validation_alias=_env("REDIS_URL"))


class IntakeSettings(Section):
    """Under load (bot/intake.py): updates handled at once (0: sized to the database), updates held in memory,
    messages a member may send in a minute before they are slowed."""

    model_config = SettingsConfigDict(env_prefix="UNIONBOT_INTAKE_")
    workers: int = Field(default=0, ge=0)
    capacity: int = Field(default=1000, ge=1)
    flood_per_minute: int = Field(default=30, ge=1, validation_alias=_env("FLOOD_PER_MINUTE"))


class WebSettings(Section):
    """Where the webhook server listens (behind a reverse proxy), and the seconds a webhook worker holds a
    received update while handling it (a worker that vanished leaves it; after this long another handles it)."""

    model_config = SettingsConfigDict(env_prefix="UNIONBOT_WEB_")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    webhook_lease_seconds: float = Field(default=60.0, gt=0, validation_alias=_env("WEBHOOK_LEASE_SECONDS"))
    #: the web console (web/): its public address, e.g. https://bot.example.org or http://127.0.0.1:8080; the
    #: console is served (on host:port, with polling too) only when it is set; a session ends after
    #: ``session_minutes`` without use
    base_url: str = ""
    session_minutes: float = Field(default=30, gt=0)


class LogSettings(Section):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_LOG_")
    level: LogLevel = "INFO"
    #: keep the questions the bot could not answer (``unionbot unanswered``)
    unanswered: bool = True

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


#: section field name -> its class, in the order the README lists them
SECTIONS: dict[str, type[Section]] = {
    "database": DatabaseSettings, "telegram": TelegramSettings, "zalo": ZaloSettings,
    "knowledge": KnowledgeSettings, "documents": DocumentsSettings, "demo": DemoSettings, "link": LinkSettings,
    "delivery": DeliverySettings, "intake": IntakeSettings, "web": WebSettings, "log": LogSettings,
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=PREFIX, env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    #: where the embedded database and caches live
    data_dir: Path = Field(default_factory=default_data_dir)
    #: where the trained NLU model is cached; empty means ``data_dir/cache``
    cache_dir: Path | None = None
    #: the union's clock: "the current phase", reminders, dates of requests and exports
    timezone: str = "Asia/Ho_Chi_Minh"

    database: DatabaseSettings
    telegram: TelegramSettings
    zalo: ZaloSettings
    knowledge: KnowledgeSettings
    documents: DocumentsSettings
    demo: DemoSettings
    link: LinkSettings
    delivery: DeliverySettings
    intake: IntakeSettings
    web: WebSettings
    log: LogSettings

    def __init__(self, _env_file: Any = ".env", **values: Any) -> None:
        """Each section reads its own variables (and the same ``.env``) unless given; a dict given for a section
        is its values, the environment filling the rest; a value may also be named like its variable
        (``Settings(documents_dir=None)``). Raises :class:`SettingsError` naming every wrong one."""
        names = env_names()
        for key in [key for key in values if key not in Settings.model_fields and key in names]:
            section_name, field = names[key]
            if section_name is not None:
                given = values.setdefault(section_name, {})
                if not isinstance(given, dict):
                    raise TypeError(f"{key} given beside {section_name}")
                given[field] = values.pop(key)
        problems = []
        for name, section in SECTIONS.items():
            given = values.get(name)
            if isinstance(given, section):
                continue
            try:
                values[name] = section(_env_file=_env_file, **(given or {}))
            except ValidationError as exc:
                problems.append(describe(exc, name))
        if not problems:
            try:
                super().__init__(_env_file=_env_file, **values)
            except ValidationError as exc:
                problems.append(describe(exc))
        if problems:
            raise SettingsError("; ".join(problems))

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError("múi giờ không có / unknown time zone, e.g. Asia/Ho_Chi_Minh") from None
        return value

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _no_cache_dir(cls, value: object) -> object:
        return None if value == "" else value

    def replace(self, **changes: Any) -> Settings:
        """A copy with some settings changed, named like their variables without ``UNIONBOT_`` (``web_port``,
        ``telegram_mode``) or given a whole section, validated again like the environment."""
        data: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            data[name] = value.model_dump() if isinstance(value, BaseModel) else value
        names = env_names()
        for key, value in changes.items():
            if key in type(self).model_fields:
                data[key] = value.model_dump() if isinstance(value, BaseModel) else value
            elif key in names:
                section, field = names[key]
                data[section][field] = value  # type: ignore[index]
            else:
                raise TypeError(f"no setting UNIONBOT_{key.upper()}")
        return type(self)(_env_file=None, **data)

    def secrets(self) -> list[str]:
        """Values that must never appear in logs or error messages."""
        values = [self.telegram.token, self.zalo.token, self.telegram.webhook_secret, self.zalo.webhook_secret]
        return [v.get_secret_value() for v in values if v is not None]

    @property
    def sqlite_default(self) -> bool:
        """The embedded SQLite file in ``data_dir`` (no ``UNIONBOT_DATABASE_URL``)."""
        return not self.database.url

    @property
    def effective_database_url(self) -> str:
        if self.database.url:
            return self.database.url
        return f"sqlite+aiosqlite:///{self.data_dir / 'unionbot.db'}"

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"


def env_names() -> dict[str, tuple[str | None, str]]:
    """``telegram_mode`` -> ("telegram", "mode"); ``data_dir`` -> (None, "data_dir"): each variable's field."""
    names: dict[str, tuple[str | None, str]] = {}
    for field in Settings.model_fields:
        if field not in SECTIONS:
            names[field] = (None, field)
    for section_name, section in SECTIONS.items():
        prefix = str(section.model_config.get("env_prefix", "")).removeprefix(PREFIX).lower()
        for field, info in section.model_fields.items():
            alias = info.validation_alias
            if isinstance(alias, AliasChoices):
                env = str(alias.choices[0]).removeprefix(PREFIX).lower()
            else:
                env = prefix + field
            names[env] = (section_name, field)
    return names


class SettingsError(ValueError):
    """Wrong settings, in one line that names each variable and what it accepts."""


def describe(error: ValidationError, section: str | None = None) -> str:
    """One line naming each wrong variable: ``UNIONBOT_TELEGRAM_MODE: Input should be 'polling' or 'webhook'``."""
    fields = {value: key for key, value in env_names().items()}
    lines = []
    for item in error.errors(include_url=False):
        loc = tuple(str(part) for part in item["loc"])
        message = str(item["msg"]).removeprefix("Value error, ")
        if message.startswith(PREFIX):  # a validator that named its variable itself
            lines.append(message)
            continue
        if loc and loc[0].upper().startswith(PREFIX):  # a field read from a variable of its own
            name = loc[0].upper()
        else:
            env = fields.get((section, loc[0]) if section and loc else (None, loc[0] if loc else ""))
            name = PREFIX + env.upper() if env else ".".join(filter(None, (section, *loc)))
        value = item.get("input")
        got = f" (không phải / not {value!r})" if isinstance(value, str | int | float) and item["type"] != "missing" \
            else ""
        lines.append(f"{name}: {message}{got}")
    return "; ".join(lines)


def open_database(settings: Settings) -> Database:
    """The database the settings name, for the bot and every CLI command alike: a SQLite file this installation
    created and that has vanished since is refused (``storage.db.DatabaseMissing``), never recreated empty."""
    from services.extras import needed, require
    from storage.db import Database, KnownFiles

    if "postgres" in needed(settings, documents=False):
        require("postgres")  # asyncpg: one line naming the command that installs it, not SQLAlchemy's traceback
    return Database(settings.effective_database_url, known=KnownFiles(settings.data_dir / "databases"))
