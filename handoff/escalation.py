"""SLA timers: an emergency not accepted within 2 minutes, an urgent one within 15
(settings), is escalated to the on-call counselors; while no one accepts it, it is escalated
again every SLA period, supervisors included (issue 12).

Each escalation level is claimed by compare-and-set and, in the same transaction, writes one
outbox row per notifier (`EscalationDelivery`). Delivery happens after the commit and is
retried with back-off until the notifier reaches someone, a later level supersedes it, or a
counselor accepts the case; so a worker or notifier failing after the claim loses nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff import cases as case_service
from handoff.models import Case, Counselor, DeliveryStatus, EscalationDelivery, Role
from handoff.notify import Escalation, NotReached, Notifier


@dataclass(frozen=True)
class Backoff:
    """Delay before retry n (1-based): base, 2×base, 4×base … capped."""

    base: timedelta = timedelta(seconds=20)
    cap: timedelta = timedelta(minutes=5)

    def after(self, attempts: int) -> timedelta:
        return min(self.cap, self.base * (2 ** max(0, attempts - 1)))


async def overdue_case_ids(session: AsyncSession, *, now: datetime) -> list[uuid.UUID]:
    """Unaccepted cases past their SLA whose next escalation level is due."""
    return list(
        await session.scalars(
            select(Case.id).where(
                case_service.unaccepted_clause(),
                Case.due_at.is_not(None),
                Case.due_at <= now,
                or_(Case.next_escalation_at.is_(None), Case.next_escalation_at <= now),
            )
        )
    )


async def escalate(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    now: datetime,
    notifier_names: list[str],
    repeat_after: Mapping[str, timedelta],
) -> bool:
    """Claim the case's next escalation level and queue its notifications; False if someone
    accepted the case, or this level was claimed already."""
    case = await session.get(Case, case_id, populate_existing=True)
    if case is None:
        return False
    level = case.escalation_level + 1
    again = repeat_after.get(case.urgency) or repeat_after["urgent"]
    if not await case_service.claim_escalation(
        session, case_id=case.id, seen_level=case.escalation_level, now=now, next_at=now + again
    ):
        await session.rollback()
        return False
    await session.execute(
        update(EscalationDelivery)
        .where(EscalationDelivery.case_id == case.id, EscalationDelivery.status == DeliveryStatus.PENDING)
        .values(status=DeliveryStatus.SUPERSEDED)
    )
    for name in notifier_names:
        session.add(EscalationDelivery(case_id=case.id, level=level, notifier=name, attempts=0, next_attempt_at=now, created_at=now))
    await session.commit()
    return True


async def escalation_recipients(session: AsyncSession, *, tenant_id: str) -> list[Counselor]:
    """The tenant's active on-call counselors and supervisors: who escalations and one-shot
    deadline alerts (e.g. the missing-person ward report, handoff.missing.timers) are for."""
    return list(
        await session.scalars(
            select(Counselor).where(
                Counselor.tenant_id == tenant_id,
                Counselor.active.is_(True),
                or_(Counselor.on_call.is_(True), Counselor.role == Role.SUPERVISOR),
            )
        )
    )


async def _recipients(session: AsyncSession, case: Case, level: int) -> list[Counselor]:
    """Level 1: the on-call staff (supervisors if no one is on call); later levels: supervisors too."""
    staff = await escalation_recipients(session, tenant_id=case.tenant_id)
    on_call = [s for s in staff if s.on_call]
    return on_call if level == 1 and on_call else staff


async def _escalation(session: AsyncSession, case: Case, level: int, now: datetime) -> Escalation:
    staff = await _recipients(session, case, level)
    return Escalation(
        case.tenant_id,
        str(case.id),
        case.urgency,
        int((now - case.created_at).total_seconds() // 60),
        tuple(s.email for s in staff if s.email),
        level=level,
        staff_ids=tuple(str(s.id) for s in staff),
    )


async def deliver_due(
    session: AsyncSession,
    *,
    now: datetime,
    notifiers: list[Notifier],
    backoff: Backoff,
    case_id: uuid.UUID | None = None,
    limit: int = 50,
) -> dict[str, int]:
    """Try every outbox row that is due (of one case, or all); returns counts by outcome.

    Each row is claimed by compare-and-set on its attempt count, which also sets its next
    try: if this process dies while sending, the row is simply tried again later."""
    by_name = {n.name: n for n in notifiers}
    query = select(EscalationDelivery).where(
        EscalationDelivery.status == DeliveryStatus.PENDING, EscalationDelivery.next_attempt_at <= now
    )
    if case_id is not None:
        query = query.where(EscalationDelivery.case_id == case_id)
    rows = list(await session.scalars(query.order_by(EscalationDelivery.id).limit(limit)))
    counts = {"sent": 0, "retry": 0, "cancelled": 0}
    for row in rows:
        row_id, attempts, notifier_name, level, row_case_id = row.id, row.attempts, row.notifier, row.level, row.case_id
        claimed = await session.execute(
            update(EscalationDelivery)
            .where(
                EscalationDelivery.id == row_id,
                EscalationDelivery.status == DeliveryStatus.PENDING,
                EscalationDelivery.attempts == attempts,
            )
            .values(attempts=attempts + 1, next_attempt_at=now + backoff.after(attempts + 1))
        )
        if claimed.rowcount != 1:
            await session.rollback()
            continue
        case = await session.get(Case, row_case_id, populate_existing=True)
        notifier = by_name.get(notifier_name)
        if case is None or case.status not in case_service.UNACCEPTED_STATUSES or case.first_human_contact_at is not None:
            outcome, error = DeliveryStatus.CANCELLED, None
        elif notifier is None:  # configuration changed since the row was written
            outcome, error = DeliveryStatus.CANCELLED, "not_configured"
        else:
            escalation = await _escalation(session, case, level, now)
            await session.commit()  # the claim holds while we talk to the outside
            try:
                await notifier.notify(escalation)
                outcome, error = DeliveryStatus.SENT, None
            except NotReached as exc:
                outcome, error = DeliveryStatus.PENDING, str(exc)[:64]
            except Exception as exc:  # noqa: BLE001  # any failure: retried with back-off
                outcome, error = DeliveryStatus.PENDING, type(exc).__name__[:64]
        await session.execute(
            update(EscalationDelivery)
            .where(EscalationDelivery.id == row_id, EscalationDelivery.status == DeliveryStatus.PENDING)
            .values(status=outcome, last_error=error, sent_at=now if outcome == DeliveryStatus.SENT else None)
        )
        await case_service.record_event(
            session, case_id=row_case_id, action=f"notify_{'retry' if outcome == DeliveryStatus.PENDING else outcome}", now=now,
            notifier=notifier_name, level=level, attempt=attempts + 1, error=error,
        )
        await session.commit()
        counts["retry" if outcome == DeliveryStatus.PENDING else str(outcome)] += 1
    return counts


async def has_due_deliveries(session: AsyncSession, *, now: datetime) -> bool:
    return (
        await session.scalar(
            select(EscalationDelivery.id)
            .where(EscalationDelivery.status == DeliveryStatus.PENDING, EscalationDelivery.next_attempt_at <= now)
            .limit(1)
        )
    ) is not None


async def deliveries_of(session: AsyncSession, case_id: uuid.UUID) -> list[EscalationDelivery]:
    return list(
        await session.scalars(
            select(EscalationDelivery)
            .where(EscalationDelivery.case_id == case_id)
            .order_by(EscalationDelivery.id)
            .execution_options(populate_existing=True)
        )
    )
