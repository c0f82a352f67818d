"""Typed settings, read once when the app is built: env prefix ``UNIONBOT_``, optional ``.env`` file."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
#: webhook secrets: at least this long (``openssl rand -hex 32`` gives 64), at most Telegram's 256; only the
#: characters Telegram allows in ``secret_token`` (Zalo's header takes them too)
WEBHOOK_SECRET_MIN = 16
WEBHOOK_SECRET_MAX = 256
WEBHOOK_SECRET_CHARS = re.compile(r"[A-Za-z0-9_-]+")


def _seed_documents() -> Path | None:
    """The seed articles beside the project checkout (``../shared/seeds``), when they are there: never copied
    into the repository, their sentences are not ours to ship."""
    seeds = PROJECT_ROOT.parent / "shared" / "seeds"
    return seeds if seeds.is_dir() else None


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="UNIONBOT_", env_file=".env", env_file_encoding="utf-8",
                                      extra="ignore")

    #: where the embedded database and caches live
    data_dir: Path = Path("var")
    #: SQLAlchemy URL; empty means the embedded SQLite file in ``data_dir``
    database_url: str = ""
    #: where the trained NLU model is cached; empty means ``data_dir/cache``
    cache_dir: Path | None = None
    knowledge_dir: Path = PROJECT_ROOT / "knowledge"
    #: load the knowledge files at start when the database holds no knowledge yet
    autoload_knowledge: bool = True
    timezone: str = "Asia/Ho_Chi_Minh"
    log_level: str = "INFO"
    log_unanswered: bool = True

    #: source documents ingested at first start, when demo data is on and the database has no document yet;
    #: an empty value means none
    documents_dir: Path | None = Field(default_factory=_seed_documents)
    #: the largest document file ``unionbot kb ingest`` reads, in megabytes
    document_max_mb: float = Field(default=20, gt=0)
    #: load the demo roster (demo/roster.yaml, invented people) when the database has no units yet
    demo_data: bool = True
    demo_roster: Path = PROJECT_ROOT / "demo" / "roster.yaml"
    #: one-time linking codes
    link_code_ttl_days: float = 14
    link_max_failures: int = 5
    link_lock_minutes: float = 15

    telegram_token: SecretStr | None = None
    #: the Bot API server: Telegram's, or a self-hosted / local one
    telegram_api_url: str = "https://api.telegram.org"
    #: "polling" or "webhook"
    telegram_mode: str = "polling"
    #: the public HTTPS URL Telegram posts updates to, e.g. https://bot.example.org/telegram/webhook
    telegram_webhook_url: str = ""
    telegram_webhook_path: str = "/telegram/webhook"
    telegram_webhook_secret: SecretStr | None = None

    zalo_token: SecretStr | None = None
    zalo_api_url: str = "https://bot-api.zaloplatforms.com"
    #: "polling" or "webhook"
    zalo_mode: str = "polling"
    zalo_webhook_url: str = ""
    zalo_webhook_path: str = "/zalo/webhook"
    zalo_webhook_secret: SecretStr | None = None

    #: outbox delivery: messages per second per bot token (Telegram allows about 30/s overall) and the
    #: minimum seconds between two proactive messages to the same chat
    delivery_rate_telegram: float = 25
    delivery_rate_zalo: float = 10
    delivery_per_chat_interval: float = 1.0
    #: seconds between two rounds of broadcast progress (a chair's live message on Telegram is refreshed then)
    progress_interval: float = Field(default=5.0, gt=0)

    #: under load (bot/intake.py, bot/governor.py): updates handled at once (0: sized to the database), updates held
    #: in memory, messages a member may send in a minute before they are slowed, seconds a reply waits out 429s,
    #: and Redis (e.g. redis://127.0.0.1:6379/0) to share each bot token's send rate between processes
    intake_workers: int = Field(default=0, ge=0)
    intake_capacity: int = Field(default=1000, ge=1)
    flood_per_minute: int = Field(default=30, ge=1)
    reply_max_wait: float = Field(default=300.0, gt=0)
    redis_url: str = ""

    #: where the webhook server listens (behind a reverse proxy)
    web_host: str = "127.0.0.1"
    web_port: int = 8080
    #: the web console (web/): its public address, e.g. https://bot.example.org or http://127.0.0.1:8080; the
    #: console is served (on web_host:web_port, with polling too) only when it is set; sessions end after
    #: ``web_session_minutes`` without use; every process polls the knowledge version this often
    web_base_url: str = ""
    web_session_minutes: float = Field(default=30, gt=0)
    knowledge_poll_seconds: float = Field(default=2.0, gt=0)
    #: seconds a webhook worker holds a received update while handling it; a worker that vanished (a crash)
    #: leaves it in the database, and after this long another worker, or this one restarted, handles it
    webhook_lease_seconds: float = Field(default=60.0, gt=0)

    def webhook_error(self) -> str | None:
        """What is wrong with the webhook settings of the messengers to serve, in one line; None when nothing."""
        checks = [("TELEGRAM", self.telegram_token, self.telegram_mode, self.telegram_webhook_url,
                   self.telegram_webhook_secret),
                  ("ZALO", self.zalo_token, self.zalo_mode, self.zalo_webhook_url, self.zalo_webhook_secret)]
        for name, token, mode, url, secret in checks:
            if token is None:
                continue
            if mode not in ("polling", "webhook"):
                return f"UNIONBOT_{name}_MODE must be 'polling' or 'webhook', not {mode!r}"
            if mode != "webhook":
                continue
            if not url:
                return f"{name.title()} webhook mode needs UNIONBOT_{name}_WEBHOOK_URL"
            value = secret.get_secret_value() if secret is not None else ""
            if not value:
                return (f"{name.title()} webhook mode needs UNIONBOT_{name}_WEBHOOK_SECRET (it is empty or unset; "
                        "e.g. $(openssl rand -hex 32))")
            if not WEBHOOK_SECRET_MIN <= len(value) <= WEBHOOK_SECRET_MAX or not WEBHOOK_SECRET_CHARS.fullmatch(value):
                return (f"UNIONBOT_{name}_WEBHOOK_SECRET must be {WEBHOOK_SECRET_MIN}-{WEBHOOK_SECRET_MAX} characters "
                        f"of A-Z, a-z, 0-9, _ and - (it has {len(value)}); e.g. $(openssl rand -hex 32)")
        return None

    @field_validator("documents_dir", mode="before")
    @classmethod
    def _no_documents(cls, value: object) -> object:
        return None if value == "" else value

    @property
    def document_max_bytes(self) -> int:
        return int(self.document_max_mb * 1024 * 1024)

    def secrets(self) -> list[str]:
        """Values that must never appear in logs or error messages."""
        values = [self.telegram_token, self.zalo_token, self.telegram_webhook_secret, self.zalo_webhook_secret]
        return [v.get_secret_value() for v in values if v is not None]

    @property
    def effective_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{self.data_dir / 'unionbot.db'}"

    @property
    def model_cache_dir(self) -> Path:
        return self.cache_dir or self.data_dir / "cache"
