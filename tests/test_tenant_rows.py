"""Several API processes starting at once on a new database (uvicorn --workers, replicas in
docker-compose) each create the tenant and channel rows; none may fail its start-up."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import func, select

from bot.conversations import ensure_tenant_rows
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade
from frontdoor.models import Channel, ChannelKind, TenantRow

TENANTS = [("kashiwa", "柏市 福祉の総合相談"), ("setagaya", "世田谷区 高齢者安心コール")]


async def _start_at_once(url: str, processes: int) -> tuple[int, int]:
    engines = [create_engine(url) for _ in range(processes)]
    try:

        async def start(engine) -> None:  # noqa: ANN001
            async with session_factory(engine)() as session:
                await ensure_tenant_rows(session, TENANTS)

        await asyncio.gather(*(start(e) for e in engines))
        await start(engines[0])  # a restart later changes nothing
        async with session_factory(engines[0])() as session:
            return await session.scalar(select(func.count()).select_from(TenantRow)), await session.scalar(
                select(func.count()).select_from(Channel)
            )
    finally:
        for engine in engines:
            await engine.dispose()


def _check(url: str) -> None:
    upgrade(url)
    tenants, channels = asyncio.run(_start_at_once(url, processes=4))
    assert (tenants, channels) == (len(TENANTS), len(TENANTS) * len(ChannelKind))


def test_processes_starting_together_on_a_new_sqlite_database(tmp_path):  # noqa: ANN001
    _check(f"sqlite+aiosqlite:///{tmp_path / 'new.sqlite3'}")


@pytest.mark.postgres
def test_processes_starting_together_on_a_new_postgresql_database(pg_scratch_url):  # noqa: ANN001
    _check(pg_scratch_url)
