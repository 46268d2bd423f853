"""Is every part that keeps residents safe running? The database, Redis, and the worker
(whose SLA sweep writes a heartbeat every beat tick): with the worker or Redis down, SLA
timers stop and emergencies are not escalated (issue 12), so `/healthz` reports each part
and the console shows a banner."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from redis.asyncio import Redis
from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from frontdoor.models import Heartbeat

CHECK_TIMEOUT_S = 2.0


async def beat(session: AsyncSession, *, name: str, now: datetime) -> None:
    """Record that `name` ran just now (an upsert that works on SQLite and PostgreSQL)."""
    result = await session.execute(update(Heartbeat).where(Heartbeat.name == name).values(at=now))
    if result.rowcount == 0:
        session.add(Heartbeat(name=name, at=now))
    await session.commit()


async def _database(sessions: async_sessionmaker[AsyncSession]) -> datetime | None:
    async with sessions() as session:
        await session.execute(text("SELECT 1"))
        return await session.scalar(select(Heartbeat.at).where(Heartbeat.name == "worker"))


async def check(sessions: async_sessionmaker[AsyncSession], redis: Redis, *, now: datetime, stale_after: timedelta) -> dict:
    """{"ok": bool, "database": "ok"|"down", "redis": ..., "worker": "ok"|"down"|"unknown"}."""
    report: dict = {}
    try:
        heartbeat = await asyncio.wait_for(_database(sessions), CHECK_TIMEOUT_S)
        report["database"] = "ok"
        report["worker"] = "ok" if heartbeat is not None and now - heartbeat <= stale_after else "down"
    except Exception:  # noqa: BLE001  # any failure means the part is not usable
        report["database"], report["worker"] = "down", "unknown"
    try:
        await asyncio.wait_for(redis.ping(), CHECK_TIMEOUT_S)
        report["redis"] = "ok"
    except Exception:  # noqa: BLE001
        report["redis"] = "down"
    report["ok"] = all(report[k] == "ok" for k in ("database", "redis", "worker"))
    return report
