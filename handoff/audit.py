"""The audit log of who saw what (Kashiwa 002 §9(3); Setagaya 別紙1-1)."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import utc_now
from handoff.models import AuditLog, Counselor


async def record(
    session: AsyncSession,
    *,
    staff: Counselor,
    action: str,
    conversation_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    detail: str | None = None,
) -> None:
    session.add(AuditLog(counselor_id=staff.id, action=action, conversation_id=conversation_id, case_id=case_id, detail=detail, at=utc_now()))
    await session.commit()


async def views_of(session: AsyncSession, *, conversation_id: uuid.UUID) -> list[AuditLog]:
    return list(
        await session.scalars(select(AuditLog).where(AuditLog.conversation_id == conversation_id).order_by(AuditLog.id))
    )
