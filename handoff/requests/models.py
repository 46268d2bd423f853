"""Requests residents make in chat (issue 13): a phone-visit absence notice, a schedule
change, a sticker form… One row per request, the fields as the form defines them, and an
event row for every state change (who did what, when)."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime, new_id
from frontdoor.types import str_enum


class RequestStatus(StrEnum):
    DRAFT = "draft"  # the bot is still collecting or reading back the fields
    INCOMPLETE = "incomplete"  # the resident gave up (or triage took over): staff see it, nothing is claimed
    REFUSED = "refused"  # a field the form cannot do without was declined (e.g. an anonymous report)
    OPEN = "open"  # recorded: on the staff worklist
    QUESTION = "question"  # staff sent a question back to the resident
    CALLBACK = "callback"  # taken outside office hours: staff call back on the next opening day (003 ⑤ウ)
    FOUND = "found"  # a missing person was found: the found report to the ward is due (003 ⑤イ(ク)(ケ))
    DONE = "done"  # 対応済


class Request(Base):
    __tablename__ = "request"
    __table_args__ = (
        Index("ix_request_tenant_status", "tenant_id", "status"),
        Index("ix_request_tenant_created", "tenant_id", "created_at"),
        UniqueConstraint("tenant_id", "number", name="uq_request_tenant_number"),
    )
    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=new_id)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"))
    conversation_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("conversation.id"), index=True)
    kind: Mapped[str] = mapped_column(String(48))
    status: Mapped[RequestStatus] = mapped_column(str_enum(RequestStatus), default=RequestStatus.DRAFT)
    # Field values by the form's field names; plain JSON strings (dates as ISO 8601).
    fields: Mapped[dict] = mapped_column(JSON, default=dict)
    # What the flow waits for: a field name, "confirm", "fix"; None once recorded.
    step: Mapped[str | None] = mapped_column(String(48))
    # 「チャットで受付」: identity is never assumed from a chat; staff confirm it.
    origin: Mapped[str] = mapped_column(String(16), default="chat")
    # A management number assigned at recording when the form asks for one (e.g. 受付番号).
    number: Mapped[str | None] = mapped_column(String(32))
    # Recorded outside the ward's office hours (開庁時間).
    outside_hours: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
    recorded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # incomplete / refused
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("counselor.id"))
    question_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Past `due_at` and not done: marked once by the beat sweep (期限切れ on the worklist).
    overdue_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RequestEvent(Base):
    """One state change of a request; `actor_id` is the counselor (None: the resident or the bot)."""

    __tablename__ = "request_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id"), index=True)
    action: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    detail: Mapped[dict | None] = mapped_column(JSON)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)
