"""`frontdoor up` starts every part on the embedded default and stops cleanly (issue 2 §7)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

import psutil
import pytest

from tests.conftest import free_port

pytestmark = pytest.mark.slow


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read().decode("utf-8")


def _up(tmp_path, port: int) -> subprocess.Popen:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env.update({"FRONTDOOR_DATA_DIR": str(tmp_path / "data"), "FRONTDOOR_PORT": str(port), "PYTHONUNBUFFERED": "1"})
    # The trained triage model and embeddings are content-keyed caches; a first start without
    # them trains for a few minutes (README), which this test does not need to repeat.
    env["FRONTDOOR_CACHE_PATH"] = os.environ.get("FRONTDOOR_TEST_CACHE_DIR", os.path.expanduser("~/.cache/frontdoor-tests"))
    return subprocess.Popen(
        [sys.executable, "-m", "frontdoor.cli", "up", "--no-demo"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def test_up_starts_pages_and_stops_every_child(tmp_path):  # noqa: ANN001
    port = free_port()
    proc = _up(tmp_path, port)
    output: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            output.append(line)
            if "Ctrl-C" in line:
                break
        printed = "".join(output)
        assert f"http://127.0.0.1:{port}/demo/kashiwa" in printed, printed
        assert "/demo/setagaya" in printed and "/docs" in printed
        children = psutil.Process(proc.pid).children(recursive=True)
        assert len(children) >= 3  # uvicorn, Celery worker, Celery beat (+ redis-server)
        status, body = _get(f"http://127.0.0.1:{port}/demo/kashiwa")
        assert status == 200 and "widget.js" in body
        status, body = _get(f"http://127.0.0.1:{port}/demo/setagaya")
        assert status == 200 and "世田谷区" in body
        assert _get(f"http://127.0.0.1:{port}/docs")[0] == 200
        assert _get(f"http://127.0.0.1:{port}/widget.js")[0] == 200
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
    time.sleep(0.5)
    assert not [c for c in children if c.is_running() and c.status() != psutil.STATUS_ZOMBIE], "every child stopped"


def _read_until(proc: subprocess.Popen, needle: str, output: list[str], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        output.append(line)
        if needle in line:
            return
    raise AssertionError(f"{needle!r} not printed:\n{''.join(output)}")


def _health(port: int) -> dict:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:  # 503 carries the same report
        return json.loads(error.read())


def _child(proc: subprocess.Popen, marker: str) -> psutil.Process:
    [child] = [c for c in psutil.Process(proc.pid).children(recursive=True) if marker in " ".join(c.cmdline())]
    return child


def test_up_restarts_redis_and_the_worker_when_they_die_and_says_so(tmp_path):  # noqa: ANN001
    """Issue 12: with the embedded Redis killed, `frontdoor up` used to run on with SLA timers stopped."""
    port = free_port()
    proc = _up(tmp_path, port)
    output: list[str] = []
    try:
        _read_until(proc, "Ctrl-C", output, 240)
        report = _health(port)
        assert report["database"] == "ok" and report["redis"] == "ok"

        _child(proc, "redis-server").kill()
        _read_until(proc, "Redisを再起動しました", output, 30)
        assert "Redisが停止しました" in "".join(output)
        worker = _child(proc, " worker ")
        worker.kill()
        _read_until(proc, "ワーカーを再起動しました", output, 30)
        assert _child(proc, " worker ").pid != worker.pid

        # The beat's SLA sweep, run by the new worker, proves both are back.
        deadline = time.monotonic() + 90
        while (report := _health(port)) != {"database": "ok", "redis": "ok", "worker": "ok", "ok": True}:
            assert time.monotonic() < deadline, report
            time.sleep(1)
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    assert proc.returncode == 0
