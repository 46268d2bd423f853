"""A sliding-window rate limit in Redis, approximated from two fixed buckets: the previous
bucket counts in proportion to how much of it still lies within the last `window_s` seconds.
A plain fixed window let a burst straddling a minute boundary through at twice the limit (and
made the limit tests fail whenever they ran across one). If Redis is unavailable the message
is allowed: a failing part degrades protection, never a resident's ability to write."""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis

log = logging.getLogger(__name__)


async def allow(redis: Redis, key: str, *, limit: int, window_s: int, now: float | None = None) -> bool:
    now = time.time() if now is None else now
    slot = int(now // window_s)
    current, previous = f"frontdoor:rate:{key}:{slot}", f"frontdoor:rate:{key}:{slot - 1}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            count, _, before = await pipe.incr(current).expire(current, window_s * 2).get(previous).execute()
    except Exception:
        log.warning("rate limit check failed; allowing", exc_info=True)
        return True
    still_inside = 1.0 - (now - slot * window_s) / window_s
    return int(count) + int(before or 0) * still_inside <= limit
