"""The LINE webhook inbox: each event is written here before LINE gets its 200."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime


class LineEvent(Base):
    """One webhook event. The unique `webhook_event_id` makes a redelivered event (LINE's
    `deliveryContext.isRedelivery`) a no-op; `payload` is cleared once the event is handled,
    so a resident's words are kept in one place only (the message table)."""

    __tablename__ = "line_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    webhook_event_id: Mapped[str] = mapped_column(String(64), unique=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict | None] = mapped_column(JSON)
    redelivered: Mapped[int] = mapped_column(Integer, default=0)  # how often LINE sent it again
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    handled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
