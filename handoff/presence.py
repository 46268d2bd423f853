"""Which counselors have the console open, per tenant, in Redis (a sorted set of
connection → expiry). An escalation counts the console as reached only when one of the
staff it is meant for is connected (issue 12); a socket refreshes its entry while open,
so a crashed browser or web process drops out by itself after `ttl`."""

from __future__ import annotations

import time
import uuid

from redis.asyncio import Redis

TTL_SECONDS = 45


def _key(tenant_id: str) -> str:
    return f"frontdoor:online:{tenant_id}"


def connection_member(staff_id: uuid.UUID | str) -> str:
    """One member per open socket: two tabs of one counselor are two connections."""
    return f"{staff_id}:{uuid.uuid4().hex[:12]}"


async def mark_online(redis: Redis, tenant_id: str, member: str, *, ttl: float = TTL_SECONDS) -> None:
    now = time.time()
    async with redis.pipeline(transaction=False) as pipe:
        pipe.zadd(_key(tenant_id), {member: now + ttl})
        pipe.zremrangebyscore(_key(tenant_id), "-inf", now)
        await pipe.execute()


async def mark_offline(redis: Redis, tenant_id: str, member: str) -> None:
    await redis.zrem(_key(tenant_id), member)


async def online_staff(redis: Redis, tenant_id: str) -> set[str]:
    members = await redis.zrangebyscore(_key(tenant_id), time.time(), "+inf")
    return {m.split(":", 1)[0] for m in members}
