"""Outbound delivery on channels that can fail after the message is stored (LINE push).

A stored message is the truth; a delivery row says whether the resident's app got it. A
failed delivery stays visible in the console (「未送信」) instead of being lost silently.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import ForeignKey, Integer, String, and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from bot.models import ConversationEvent, Message
from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime
from frontdoor.types import str_enum


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"


class Delivery(Base):
    __tablename__ = "delivery"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"), unique=True)
    channel: Mapped[str] = mapped_column(String(24))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    via: Mapped[str | None] = mapped_column(String(8))  # reply | push
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Sent as X-Line-Retry-Key: a retried push is delivered at most once.
    retry_key: Mapped[str] = mapped_column(String(36), default=lambda: str(uuid.uuid4()))
    last_error: Mapped[str | None] = mapped_column(String(64))  # an HTTP status or error class, never text
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


async def start(session: AsyncSession, *, message_ids: list[int], channel: str, retry_key: str | None = None) -> list[Delivery]:
    """Pending deliveries for stored messages (committed by the caller before sending). A
    caller that may send the same thing again (a retried task) passes its own stable key."""
    extra = {"retry_key": retry_key} if retry_key else {}
    rows = [Delivery(message_id=mid, channel=channel, **extra) for mid in message_ids]
    session.add_all(rows)
    await session.flush()
    return rows


async def note_attempt(session: AsyncSession, *, delivery_ids: list[int], error: str) -> None:
    await session.execute(
        update(Delivery).where(Delivery.id.in_(delivery_ids)).values(attempts=Delivery.attempts + 1, last_error=error[:64])
    )


async def mark_sent(session: AsyncSession, *, delivery_ids: list[int], via: str, now: datetime) -> int:
    """Compare-and-set: pending or failed → sent (a late success after a recorded failure counts)."""
    result = await session.execute(
        update(Delivery)
        .where(Delivery.id.in_(delivery_ids), Delivery.status != DeliveryStatus.SENT)
        .values(status=DeliveryStatus.SENT, via=via, sent_at=now, attempts=Delivery.attempts + 1)
    )
    return result.rowcount


async def mark_failed(session: AsyncSession, *, delivery_ids: list[int], error: str, now: datetime) -> list[tuple[uuid.UUID, int]]:
    """Compare-and-set: pending → failed, with an event row per message for the audit.
    Returns the (conversation id, message id) pairs that changed, for the live console."""
    rows = (
        await session.execute(
            select(Message.conversation_id, Message.id, Delivery.id)
            .join(Delivery, Delivery.message_id == Message.id)
            .where(Delivery.id.in_(delivery_ids), Delivery.status == DeliveryStatus.PENDING)
        )
    ).all()
    changed = []
    for conversation_id, message_id, delivery_id in rows:
        result = await session.execute(
            update(Delivery)
            .where(Delivery.id == delivery_id, Delivery.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.FAILED, failed_at=now, last_error=error[:64])
        )
        if result.rowcount == 1:
            session.add(ConversationEvent(conversation_id=conversation_id, action="delivery_failed", detail={"message_id": message_id, "error": error[:64]}, at=now))
            changed.append((conversation_id, message_id))
    return changed


STUCK_AFTER = timedelta(minutes=5)  # a pending delivery this old was cut off (the process stopped)


async def undelivered_ids(session: AsyncSession, *, conversation_id: uuid.UUID, now: datetime | None = None) -> set[int]:
    """Message ids of a conversation the resident's app did not receive: failed after the
    retries, or pending for longer than any retry takes."""
    stuck = (now or utc_now()) - STUCK_AFTER
    rows = await session.scalars(
        select(Delivery.message_id)
        .join(Message, Message.id == Delivery.message_id)
        .where(
            Message.conversation_id == conversation_id,
            or_(Delivery.status == DeliveryStatus.FAILED, and_(Delivery.status == DeliveryStatus.PENDING, Delivery.created_at < stuck)),
        )
    )
    return set(rows)
