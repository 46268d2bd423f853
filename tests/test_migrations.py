"""Migrations apply, and walk down and up again (a stairway), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest
from alembic.script import ScriptDirectory
from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import create_async_engine

from frontdoor.migrate import alembic_config, downgrade, upgrade


def _tables(url: str) -> set[str]:
    async def _run() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(_run())


def _stairway(url: str) -> None:
    revisions = list(ScriptDirectory.from_config(alembic_config(url)).walk_revisions("base", "heads"))
    for revision in reversed(revisions):
        upgrade(url, revision.revision)
        downgrade(url, revision.down_revision or "base")
        upgrade(url, revision.revision)
    assert {"conversation", "message", "handoff_case", "counselor", "audit_log"} <= _tables(url)


def test_migrations_stairway_on_sqlite(tmp_path):  # noqa: ANN001
    _stairway(f"sqlite+aiosqlite:///{tmp_path / 'stairway.sqlite3'}")


@pytest.mark.postgres
def test_migrations_stairway_on_postgresql(pg_scratch_url):  # noqa: ANN001
    _stairway(pg_scratch_url)
