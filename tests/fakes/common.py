"""What the channel fakes share: serving on a free port, and waiting until enough has arrived."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiohttp import web


async def wait_for_count(changed: asyncio.Event, get: Callable[[], list], count: int, timeout: float, what: str) -> list:
    """`get()` once it holds `count` items; `changed` is set by the fake on every call it records."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        got = get()
        if len(got) >= count:
            return got
        changed.clear()
        try:
            await asyncio.wait_for(changed.wait(), timeout=0.2)
        except asyncio.TimeoutError:
            pass
    raise AssertionError(f"expected {count} messages to {what}, got {get()}")


async def serve(route: str, handler) -> tuple[web.AppRunner, str]:  # noqa: ANN001
    """An aiohttp server on a free loopback port, every method of `route` to `handler`."""
    app = web.Application()
    app.router.add_route("*", route, handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}"
