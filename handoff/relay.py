"""Live relay between resident and counselor over Redis pub/sub.

Every message is in the database before it is published here, so a subscriber that was
away (a dropped socket, a restarted replica) catches up from the database, never from Redis.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

from redis.asyncio import Redis


def conversation_channel(conversation_id: uuid.UUID | str) -> str:
    return f"frontdoor:conv:{conversation_id}"


def console_channel(tenant_id: str) -> str:
    return f"frontdoor:console:{tenant_id}"


class Relay:
    def __init__(self, redis: Redis):
        self.redis = redis

    async def publish(self, channel: str, event: dict[str, Any]) -> None:
        await self.redis.publish(channel, json.dumps(event, ensure_ascii=False, default=str))

    async def to_conversation(self, conversation_id: uuid.UUID, event: dict[str, Any]) -> None:
        await self.publish(conversation_channel(conversation_id), event)

    async def to_console(self, tenant_id: str, event: dict[str, Any]) -> None:
        await self.publish(console_channel(tenant_id), event)

    async def listen(self, *channels: str) -> AsyncIterator[dict[str, Any]]:
        pubsub = self.redis.pubsub()
        await pubsub.subscribe(*channels)
        try:
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    yield json.loads(item["data"])
        finally:
            await pubsub.unsubscribe(*channels)
            await pubsub.aclose()
