"""Residents' conversations and every message in them: the source of truth for reports."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime, new_id
from frontdoor.types import str_enum


class ConversationStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


class ConversationMode(StrEnum):
    BOT = "bot"
    HUMAN = "human"


class Direction(StrEnum):
    INBOUND = "inbound"
    OUTBOUND = "outbound"


class Author(StrEnum):
    RESIDENT = "resident"
    BOT = "bot"
    COUNSELOR = "counselor"
    SYSTEM = "system"


class ResidentContact(Base):
    """A resident as one channel knows them: a pseudonym, never a name.

    `address` is what the channel needs to write back (a Telegram chat id); web residents
    are reached through their open socket and have none.
    """

    __tablename__ = "resident_contact"
    __table_args__ = (UniqueConstraint("channel_id", "pseudonym"),)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"), index=True)
    pseudonym: Mapped[str] = mapped_column(String(64))
    address: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # The resident blocked the LINE account (unfollow); kept, not deleted early. Cleared on follow.
    unfollowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Conversation(Base):
    __tablename__ = "conversation"
    __table_args__ = (
        Index("ix_conversation_tenant_started", "tenant_id", "started_at"),
        Index("ix_conversation_contact_status", "contact_id", "status"),
        Index("ix_conversation_status_last", "status", "last_message_at"),
        Index("ix_conversation_tenant_local_date", "tenant_id", "local_date"),
        Index("ix_conversation_check_in", "tenant_id", "check_in_status"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    contact_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("resident_contact.id"))
    status: Mapped[ConversationStatus] = mapped_column(
        str_enum(ConversationStatus), default=ConversationStatus.OPEN
    )
    mode: Mapped[ConversationMode] = mapped_column(str_enum(ConversationMode), default=ConversationMode.BOT)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    last_message_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Report keys fixed at the start, in Asia/Tokyo: a conversation spanning midnight counts
    # in the day and hour it started (README, counting rules).
    local_date: Mapped[date] = mapped_column(Date)
    local_hour: Mapped[int] = mapped_column(Integer)
    # Started outside the office's opening hours (開庁時間 / 開設時間).
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    # First to last message, in seconds; set when the conversation closes.
    duration_seconds: Mapped[int | None] = mapped_column(Integer)
    # The report category (Setagaya 別紙6 / Kashiwa situation) of the conversation's main topic.
    category: Mapped[str | None] = mapped_column(String(32))
    topic: Mapped[str | None] = mapped_column(String(64))
    # Highest urgency seen; never lowered without a counselor (issue 4).
    urgency: Mapped[str] = mapped_column(String(16), default="none")
    # What the bot asked and waits for (e.g. a callback number); survives restarts and channels.
    awaiting: Mapped[str | None] = mapped_column(String(32))
    # The check-in band (issue 14 §2): pending → settled (いいえ) or raised (はい / risk).
    check_in_status: Mapped[str | None] = mapped_column(String(16))
    check_in_kind: Mapped[str | None] = mapped_column(String(32))
    check_in_subject: Mapped[str | None] = mapped_column(String(16))
    check_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check_in_answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CheckInStatus(StrEnum):
    PENDING = "pending"
    SETTLED = "settled"
    RAISED = "raised"


class ConversationEvent(Base):
    """A state change of a conversation (check-in asked / settled / raised), for the audit."""

    __tablename__ = "conversation_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class Message(Base):
    __tablename__ = "message"
    __table_args__ = (
        # A redelivered update (same channel message id) is stored once.
        UniqueConstraint("channel_id", "channel_message_id", name="uq_message_channel_message"),
        Index("ix_message_conversation_id_id", "conversation_id", "id"),
        Index("ix_message_created_at", "created_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id"))
    channel_id: Mapped[int] = mapped_column(ForeignKey("channel.id"))
    direction: Mapped[Direction] = mapped_column(str_enum(Direction))
    author: Mapped[Author] = mapped_column(str_enum(Author))
    text: Mapped[str] = mapped_column(Text)
    channel_message_id: Mapped[str | None] = mapped_column(String(96))
    counselor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Decision facts for outbound bot turns (topic, confidence, urgency, choices) — never resident text.
    meta: Mapped[dict | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
