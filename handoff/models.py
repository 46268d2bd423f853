"""Cases, counselors and the record of who did what and who saw what."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime, new_id
from frontdoor.types import str_enum


class Role(StrEnum):
    COUNSELOR = "counselor"
    SUPERVISOR = "supervisor"
    MANAGER = "manager"  # statistics only, never conversation text


class CaseStatus(StrEnum):
    WAITING = "waiting"
    ASSIGNED = "assigned"
    IN_PROGRESS = "in_progress"
    SCHEDULED = "scheduled"
    CLOSED = "closed"


class Route(StrEnum):
    CHAT = "chat"
    PHONE = "phone"
    FACE_TO_FACE = "face_to_face"
    EMAIL = "email"


class Counselor(Base):
    """An individual account (Kashiwa 002 §10(2)オ: no shared IDs)."""

    __tablename__ = "counselor"
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), index=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[Role] = mapped_column(str_enum(Role), default=Role.COUNSELOR)
    password_hash: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    on_call: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # Session cookies issued before this are void: logging out ends the session (issue 12).
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Case(Base):
    __tablename__ = "handoff_case"
    __table_args__ = (
        Index("ix_case_tenant_status", "tenant_id", "status"),
        Index("ix_case_tenant_created", "tenant_id", "created_at"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("conversation.id"), index=True)
    urgency: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str | None] = mapped_column(String(32))
    route: Mapped[Route] = mapped_column(str_enum(Route), default=Route.CHAT)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus), default=CaseStatus.WAITING)
    assignee_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselor.id"))
    opened_outside_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    # The SLA deadline for a counselor to accept the case.
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    in_progress_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_human_contact_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Phone callback / appointment details the resident gave (personal data: console only).
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    contact_email: Mapped[str | None] = mapped_column(String(200))
    preferred_time: Mapped[str | None] = mapped_column(String(200))
    appointment_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(64))
    closing_note: Mapped[str | None] = mapped_column(Text)
    labels: Mapped[list] = mapped_column(JSON, default=list)


class CaseEvent(Base):
    """Full history: who did what to a case, when (escalations included)."""

    __tablename__ = "case_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handoff_case.id"), index=True)
    actor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselor.id"))
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class CaseNote(Base):
    """Private notes: counselors only, never sent to the resident."""

    __tablename__ = "case_note"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handoff_case.id"), index=True)
    author_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("counselor.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class AuditLog(Base):
    """Who saw what (Kashiwa 002 §9(3), Setagaya 別紙1-1): every view of a conversation."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None for a failed login with an unknown login name.
    counselor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselor.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))  # e.g. the source address of a login
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class LoginFailure(Base):
    """Failed sign-ins, counted per account and per source address (keys are keyed hashes,
    fixed length, whatever was typed). The database is the count: it works with Redis down."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_account", "account_key", "at"), Index("ix_login_failure_address", "address_key", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(32))
    address_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
