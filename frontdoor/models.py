"""Core tables: tenants, their channels and heartbeats. Domain tables live in bot/, handoff/, knowledge/, workers/."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime
from frontdoor.types import str_enum


class ChannelKind(StrEnum):
    WEB = "web"
    TELEGRAM = "telegram"
    LINE = "line"


class TenantRow(Base):
    __tablename__ = "tenant"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Channel(Base):
    __tablename__ = "channel"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), index=True)
    kind: Mapped[ChannelKind] = mapped_column(str_enum(ChannelKind))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Heartbeat(Base):
    """The last time a background part proved it was alive (`worker`: a beat-scheduled task
    the worker ran). `/healthz` and the console's banner read it: without it SLA timers stop."""

    __tablename__ = "heartbeat"
    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
