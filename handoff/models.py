"""Cases, counselors and the record of who did what and who saw what."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint, Uuid
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
    # Kashiwa 002 §10(2)オ: unneeded IDs are disabled; sessions issued before this moment are refused.
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sessions_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # After a reset by a supervisor the next sign-in must choose a new password.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False)
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Concurrent live chats this counselor may hold; None means no cap (issue 11).
    max_live_chats: Mapped[int | None] = mapped_column(Integer)


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
    # Who is at risk, from triage: self | other | unknown (the queue's 「自傷・本人」).
    subject: Mapped[str | None] = mapped_column(String(16))
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
    # First escalation; `escalation_level` counts them (1 = on call, 2+ = supervisors too) and
    # `next_escalation_at` is when an still-unaccepted case is escalated again.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalation_level: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_escalation_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
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
    """Who saw or changed what, when, from where (Kashiwa 002 §9(3), Setagaya 別紙1-1).
    Append-only: database triggers refuse UPDATE, and DELETE outside a retention permit."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_tenant_at", "tenant_id", "at"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # None for actions from the command line (the target says "cli") and for a failed login
    # with an unknown login name.
    counselor_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselor.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    detail: Mapped[str | None] = mapped_column(String(200))  # e.g. the source address of a login
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    case_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    tenant_id: Mapped[str | None] = mapped_column(String(32))
    # What else was seen or changed (a request id, an account login), never resident text.
    target: Mapped[str | None] = mapped_column(String(100))
    ip: Mapped[str | None] = mapped_column(String(64))


class AuditPurgePermit(Base):
    """The one way audit rows may be deleted: the retention job writes a permit (tenant, the
    cut-off) in the same transaction as its DELETE and removes it afterwards; the trigger
    refuses any other delete (Setagaya 別紙1-1 §29: erasure is recorded, never ad hoc)."""

    __tablename__ = "audit_purge_permit"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(String(32))
    before: Mapped[datetime] = mapped_column(UTCDateTime)


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SUPERSEDED = "superseded"  # a later escalation level took over
    CANCELLED = "cancelled"  # a counselor accepted the case first


class EscalationDelivery(Base):
    """The escalation outbox: one row per (case, level, notifier), written in the same
    transaction that claims the escalation, so a worker dying after the claim cannot lose
    the notification; retried with back-off until sent, superseded or the case is accepted."""

    __tablename__ = "escalation_delivery"
    __table_args__ = (
        UniqueConstraint("case_id", "level", "notifier", name="uq_escalation_delivery_key"),
        Index("ix_escalation_delivery_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("handoff_case.id"), index=True)
    level: Mapped[int] = mapped_column(Integer)
    notifier: Mapped[str] = mapped_column(String(16))
    status: Mapped[DeliveryStatus] = mapped_column(str_enum(DeliveryStatus), default=DeliveryStatus.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The failure's kind only (exception class or "no_one_online"): never a message text.
    last_error: Mapped[str | None] = mapped_column(String(64))


class LoginFailure(Base):
    """Failed sign-ins, counted per account and per source address (keys are keyed hashes,
    fixed length, whatever was typed). The database is the count: it works with Redis down."""

    __tablename__ = "login_failure"
    __table_args__ = (Index("ix_login_failure_account", "account_key", "at"), Index("ix_login_failure_address", "address_key", "at"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_key: Mapped[str] = mapped_column(String(32))
    address_key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
