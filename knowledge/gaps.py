"""Questions the bot could not answer, kept for the knowledge editors (`frontdoor kb gaps`)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Uuid, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime
from frontdoor.redact import Masker, mask_async


class KnowledgeGap(Base):
    __tablename__ = "knowledge_gap"
    __table_args__ = (Index("ix_knowledge_gap_tenant_normalized", "tenant_id", "normalized"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"))
    message_id: Mapped[int] = mapped_column(ForeignKey("message.id"))
    conversation_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    # Normalized and masked (names, places, addresses, phone numbers, e-mail: frontdoor.redact)
    # so editors can group repeats; counselors read the full text in the conversation, audited.
    normalized: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # no_match | clarify
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


async def record_gap(
    session: AsyncSession, *, masker: Masker, tenant_id: str, message_id: int, conversation_id: uuid.UUID, text: str, kind: str
) -> None:
    normalized = " ".join((await mask_async(masker, text)).lower().split())[:200]
    session.add(
        KnowledgeGap(
            tenant_id=tenant_id,
            message_id=message_id,
            conversation_id=conversation_id,
            normalized=normalized,
            kind=kind,
        )
    )


async def top_gaps(session: AsyncSession, *, tenant_id: str | None, limit: int = 30) -> list[tuple[str, str, int]]:
    """(tenant, normalized question, count), most frequent first."""
    stmt = (
        select(KnowledgeGap.tenant_id, KnowledgeGap.normalized, func.count().label("n"))
        .group_by(KnowledgeGap.tenant_id, KnowledgeGap.normalized)
        .order_by(func.count().desc(), KnowledgeGap.normalized)
        .limit(limit)
    )
    if tenant_id:
        stmt = stmt.where(KnowledgeGap.tenant_id == tenant_id)
    rows = (await session.execute(stmt)).all()
    return [(r[0], r[1], int(r[2])) for r in rows]
