"""A fixed-window rate limit in Redis. If Redis is unavailable the message is allowed:
a failing part degrades protection, never a resident's ability to write."""

from __future__ import annotations

import logging
import time

from redis.asyncio import Redis

log = logging.getLogger(__name__)


async def allow(redis: Redis, key: str, *, limit: int, window_s: int) -> bool:
    bucket = f"frontdoor:rate:{key}:{int(time.time()) // window_s}"
    try:
        async with redis.pipeline(transaction=True) as pipe:
            count, _ = await pipe.incr(bucket).expire(bucket, window_s * 2).execute()
    except Exception:
        log.warning("rate limit check failed; allowing", exc_info=True)
        return True
    return int(count) <= limit
