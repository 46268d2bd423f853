"""Run async core code from a Celery task: a fresh engine per task (NullPool), because a
pooled engine cannot cross event loops."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.db import create_engine, session_factory
from frontdoor.settings import Settings

T = TypeVar("T")


def run_with_session(settings: Settings, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
    async def _main() -> T:
        engine = create_engine(settings.resolved_database_url(), null_pool=True)
        try:
            async with session_factory(engine)() as session:
                return await work(session)
        finally:
            await engine.dispose()

    return asyncio.run(_main())


def run_with_session_and_redis(settings: Settings, work: Callable[[AsyncSession, Redis], Awaitable[T]]) -> T:
    async def _main() -> T:
        redis = Redis.from_url(settings.redis_url, decode_responses=True)
        engine = create_engine(settings.resolved_database_url(), null_pool=True)
        try:
            async with session_factory(engine)() as session:
                return await work(session, redis)
        finally:
            await engine.dispose()
            await redis.aclose()

    return asyncio.run(_main())
