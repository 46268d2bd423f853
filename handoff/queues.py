"""The counselors' queue: urgency first, then waiting time; and the honest wait estimate a
waiting resident is shown."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import case as sql_case
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Case, CaseStatus

URGENCY_ORDER = sql_case({"emergency": 0, "urgent": 1}, value=Case.urgency, else_=2)
LIVE_STATUSES = (CaseStatus.WAITING, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.SCHEDULED)


async def live_queue(session: AsyncSession, *, tenant_id: str | None, statuses=LIVE_STATUSES) -> list[Case]:  # noqa: ANN001
    stmt = select(Case).where(Case.status.in_(statuses)).order_by(URGENCY_ORDER, Case.created_at)
    if tenant_id is not None:
        stmt = stmt.where(Case.tenant_id == tenant_id)
    return list(await session.scalars(stmt))


async def position(session: AsyncSession, *, case: Case) -> int:
    """1-based place among waiting cases of the tenant (more urgent ones go first)."""
    rank = {"emergency": 0, "urgent": 1}.get(case.urgency, 2)
    ahead = await session.scalar(
        select(func.count())
        .select_from(Case)
        .where(
            Case.tenant_id == case.tenant_id,
            Case.status == CaseStatus.WAITING,
            Case.id != case.id,
            or_(URGENCY_ORDER < rank, (URGENCY_ORDER == rank) & (Case.created_at < case.created_at)),
        )
    )
    return int(ahead or 0) + 1


@dataclass(frozen=True)
class WaitEstimate:
    minutes: int | None  # None when there is not enough recent history to say

    def text(self) -> str:
        if self.minutes is None:
            return "待ち時間の目安は、いまはお示しできません。"
        if self.minutes <= 1:
            return "まもなく相談員がつながる見込みです。"
        return f"待ち時間の目安は、およそ{self.minutes}分です。"


async def expected_wait(session: AsyncSession, *, case: Case, now: datetime, place: int) -> WaitEstimate:
    """Median of recent accept times for this tenant, scaled by the place in the queue.

    With fewer than three accepted cases in the last 30 days we do not guess.
    """
    rows = (
        await session.execute(
            select(Case.created_at, Case.in_progress_at)
            .where(
                Case.tenant_id == case.tenant_id,
                Case.in_progress_at.is_not(None),
                Case.created_at > now - timedelta(days=30),
            )
            .order_by(Case.created_at.desc())
            .limit(50)
        )
    ).all()
    waits = [(accepted - created).total_seconds() / 60 for created, accepted in rows]
    if len(waits) < 3:
        return WaitEstimate(None)
    return WaitEstimate(max(1, round(statistics.median(waits) * place)))
