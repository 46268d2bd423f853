"""SLA timers: an emergency not accepted within 2 minutes, an urgent one within 15
(settings), is escalated to the on-call counselors and supervisors, once, and recorded."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import cases as case_service
from handoff.models import Case, CaseStatus, Counselor, Role
from handoff.notify import Escalation, Notifier, notify_all


async def overdue_case_ids(session: AsyncSession, *, now: datetime) -> list:
    return list(
        await session.scalars(
            select(Case.id).where(
                Case.status == CaseStatus.WAITING,
                Case.escalated_at.is_(None),
                Case.due_at.is_not(None),
                Case.due_at <= now,
            )
        )
    )


async def escalation_recipients(session: AsyncSession, *, tenant_id: str) -> tuple[str, ...]:
    """E-mail addresses of the tenant's on-call counselors and supervisors."""
    return tuple(
        email
        for email in await session.scalars(
            select(Counselor.email).where(
                Counselor.tenant_id == tenant_id,
                Counselor.active.is_(True),
                Counselor.email.is_not(None),
                or_(Counselor.on_call.is_(True), Counselor.role == Role.SUPERVISOR),
            )
        )
        if email
    )


async def escalate(session: AsyncSession, *, case_id, now: datetime, notifiers: list[Notifier]) -> bool:  # noqa: ANN001
    """Escalate one case if it is still waiting; False if someone accepted it or it was done already."""
    case = await session.get(Case, case_id)
    if case is None:
        return False
    recipients = await escalation_recipients(session, tenant_id=case.tenant_id)
    waited = int((now - case.created_at).total_seconds() // 60)
    # Claim first (compare-and-set), so two timers firing at once notify once.
    if not await case_service.mark_escalated(session, case_id=case.id, now=now):
        await session.rollback()
        return False
    await session.commit()
    reached = await notify_all(
        notifiers, Escalation(case.tenant_id, str(case.id), case.urgency, waited, recipients)
    )
    await case_service.record_event(session, case_id=case.id, action="escalation_notified", now=now, notified=reached)
    await session.commit()
    return True
