"""The web and LINE rate limit (frontdoor/ratelimit.py) against a real Redis."""

from __future__ import annotations

import uuid

import pytest
from redis.asyncio import Redis

from frontdoor import ratelimit

pytestmark = pytest.mark.asyncio


async def test_a_burst_across_a_window_boundary_is_still_limited(redis_handle):  # noqa: ANN001
    """Six allowed a minute, sent in the last second of one minute and the first of the next:
    a fixed window let all twelve through."""
    redis, key, boundary = Redis.from_url(redis_handle.url), f"test:{uuid.uuid4().hex}", 1_800_000_000.0
    before = [await ratelimit.allow(redis, key, limit=6, window_s=60, now=boundary - 0.5) for _ in range(6)]
    after = [await ratelimit.allow(redis, key, limit=6, window_s=60, now=boundary + 0.5) for _ in range(6)]
    assert all(before) and not any(after)
    later = await ratelimit.allow(redis, key, limit=6, window_s=60, now=boundary + 121)
    assert later  # two minutes on, the bursts no longer count
    await redis.aclose()
