"""Waiting for a fake API to have received enough: shared by the channel fakes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable


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
