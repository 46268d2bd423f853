"""An inference worker must not outlive its app process (bot/inference.py `exit_with_parent`):
an app killed while its workers load their models used to leave a 700 MB process behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The worker says it is watching by creating the file named in its argument.
WORKER = (
    "import os, sys, time; from bot.inference import exit_with_parent; "
    "exit_with_parent(os.getppid(), every_s=0.05); open(sys.argv[1], 'w').close(); time.sleep(120)"
)
APP = f"import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', {WORKER!r}, sys.argv[1]]); print(p.pid, flush=True); time.sleep(120)"


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _wait(condition, seconds: float) -> None:  # noqa: ANN001
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


def test_a_worker_exits_when_its_app_is_killed(tmp_path: Path) -> None:
    watching = tmp_path / "watching"
    app = subprocess.Popen([sys.executable, "-c", APP, str(watching)], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    worker = int(app.stdout.readline())
    try:
        _wait(watching.exists, 60)
        time.sleep(0.3)
        assert watching.exists() and _running(worker), "the worker must live as long as its app"
        os.kill(app.pid, signal.SIGKILL)
        app.wait()
        _wait(lambda: not _running(worker), 10)
        assert not _running(worker), "the worker outlived its killed app"
    finally:
        for pid in (worker, app.pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        app.stdout.close()
