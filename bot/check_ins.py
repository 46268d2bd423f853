"""Check-in state of a conversation (issue 14 §2), as compare-and-set service functions.

pending (the bot asked) → settled (いいえ) or raised (はい, or risk in the answer: a case is
opened by the caller). Each change stamps its `*_at` column and writes a conversation
event; a second, concurrent answer to the same check-in loses the compare-and-set and
changes nothing. The console lists pending check-ins as 「要確認」 (no alarm)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import CheckInStatus, Conversation, ConversationEvent, ConversationStatus


async def _set(
    session: AsyncSession, conversation: Conversation, *, to: CheckInStatus, from_: tuple[str | None, ...], values: dict, now: datetime, action: str, detail: dict
) -> bool:
    allowed = [s for s in from_ if s is not None]
    where = Conversation.check_in_status.in_(allowed)
    if None in from_:
        where = where | Conversation.check_in_status.is_(None)
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation.id, where)
        .values(check_in_status=str(to), **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    session.add(ConversationEvent(conversation_id=conversation.id, action=action, detail=detail, at=now))
    await session.flush()
    await session.refresh(conversation)
    return True


async def ask(session: AsyncSession, conversation: Conversation, *, kind: str | None, subject: str, now: datetime) -> bool:
    """The bot asked: the conversation goes on the 要確認 list (any earlier check-in is replaced)."""
    return await _set(
        session, conversation, to=CheckInStatus.PENDING,
        from_=(None, CheckInStatus.SETTLED, CheckInStatus.RAISED),
        values={"check_in_kind": kind, "check_in_subject": subject, "check_in_at": now, "check_in_answered_at": None},
        now=now, action="check_in_asked", detail={"kind": kind, "subject": subject},
    )


async def settle(session: AsyncSession, conversation: Conversation, *, now: datetime, by: str = "resident") -> bool:
    return await _set(
        session, conversation, to=CheckInStatus.SETTLED, from_=(CheckInStatus.PENDING,),
        values={"check_in_answered_at": now}, now=now, action="check_in_settled", detail={"by": by},
    )


async def raise_(session: AsyncSession, conversation: Conversation, *, now: datetime, why: str) -> bool:
    return await _set(
        session, conversation, to=CheckInStatus.RAISED, from_=(CheckInStatus.PENDING,),
        values={"check_in_answered_at": now}, now=now, action="check_in_raised", detail={"why": why},
    )


async def pending(session: AsyncSession, *, tenant_id: str, limit: int = 50) -> list[Conversation]:
    """Open conversations whose check-in waits for an answer, oldest question first."""
    rows = await session.scalars(
        select(Conversation)
        .where(
            Conversation.tenant_id == tenant_id,
            Conversation.check_in_status == str(CheckInStatus.PENDING),
            Conversation.status == ConversationStatus.OPEN,
        )
        .order_by(Conversation.check_in_at)
        .limit(limit)
    )
    return list(rows)


async def events(session: AsyncSession, conversation_id: uuid.UUID) -> list[ConversationEvent]:
    rows = await session.scalars(
        select(ConversationEvent).where(ConversationEvent.conversation_id == conversation_id).order_by(ConversationEvent.id)
    )
    return list(rows)
