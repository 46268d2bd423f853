"""Live relay between resident and counselor over Redis pub/sub.

Every message is in the database before it is published here, so a subscriber that was
away (a dropped socket, a restarted replica, a restarted Redis) catches up from the
database, never from Redis: `follow` calls the subscriber's catch-up each time its
subscription (re)starts, before live events flow again (issue 12).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

log = logging.getLogger(__name__)


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


class _TellingPubSub(PubSub):
    """redis-py reconnects a subscription by itself and re-subscribes, silently: anything
    published in between is gone. This one says so, so the subscriber can catch up."""

    reconnected = False

    async def on_connect(self, connection) -> None:  # noqa: ANN001
        await super().on_connect(connection)
        self.reconnected = True


async def follow(
    redis: Redis,
    channel: str,
    *,
    catch_up: Callable[[], Awaitable[None]],
    deliver: Callable[[str], Awaitable[None]],
    retry_s: float = 0.2,
    retry_max_s: float = 5.0,
) -> None:
    """Deliver the channel's raw events until cancelled. Each time the subscription starts
    or comes back after Redis went away, `catch_up` runs first (read the database after the
    last id the subscriber has), so no event is lost in the gap. Never returns normally."""
    delay = retry_s
    while True:
        pubsub = _TellingPubSub(redis.connection_pool)
        try:
            await pubsub.subscribe(channel)
            delay = retry_s
            await catch_up()
            while True:
                item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if pubsub.reconnected:
                    pubsub.reconnected = False
                    log.info("relay subscription restored; catching up from the database")
                    await catch_up()
                if item and item.get("type") == "message":
                    await deliver(item["data"])
        except (RedisError, OSError):
            log.warning("relay subscription lost; retrying in %.1fs", delay)
        finally:
            try:
                await pubsub.aclose()
            except Exception:  # noqa: BLE001  # the connection is gone already
                pass
        await asyncio.sleep(delay)
        delay = min(delay * 2, retry_max_s)
