"""Database engine and session factories; no module-level engine (composition roots own them)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime

from sqlalchemy import DateTime, MetaData, TypeDecorator
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.pool import NullPool

from frontdoor import logscrub
from frontdoor.clock import as_utc

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class UTCDateTime(TypeDecorator):
    """Stores aware UTC datetimes and always returns aware UTC, on SQLite as on PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect):  # noqa: ANN001
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use frontdoor.clock.utc_now()")
        return as_utc(value)

    def process_result_value(self, value: datetime | None, dialect):  # noqa: ANN001
        return None if value is None else as_utc(value)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def create_engine(url: str, *, null_pool: bool = False, pool_size: int | None = None, max_overflow: int | None = None) -> AsyncEngine:
    """Bound parameters never appear in errors or logs (residents' words, issue 12); every
    process that opens the database also scrubs its log records (frontdoor.logscrub)."""
    logscrub.install()
    kwargs: dict = {"hide_parameters": True}
    if null_pool:
        kwargs["poolclass"] = NullPool
    elif not url.startswith("sqlite"):
        kwargs.update({k: v for k, v in (("pool_size", pool_size), ("max_overflow", max_overflow)) if v is not None})
    if url.startswith("sqlite"):
        # One writer at a time; wait instead of failing under concurrent turns.
        kwargs["connect_args"] = {"timeout": 30}
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        from sqlalchemy import event

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def session_scope(factory: async_sessionmaker[AsyncSession]) -> AsyncIterator[AsyncSession]:
    async with factory() as session:
        yield session
