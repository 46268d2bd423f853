"""Report counts taken from the request records (issue 13 "Reports"): what residents asked
for in chat and staff recorded — never from the conversation's first message, and never
invented. A draft or a request given up halfway is not counted."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import as_utc, to_jst
from handoff.requests import service as request_service
from handoff.requests.models import Request, RequestStatus
from workers.reports.periods import Month

# Setagaya 003 別紙6 2-3: the volunteer tasks, in the form's order.
VOLUNTEER_TASKS: tuple[str, ...] = ("電球の交換", "掃除・ゴミだし", "付き添い", "買い物", "荷物の移動", "その他")
VOLUNTEER = "setagaya.volunteer_visit"
STICKER = ("setagaya.sticker_application", "setagaya.sticker_change")


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    @classmethod
    def month(cls, month: Month) -> Period:
        return cls(*month.utc_bounds())

    @classmethod
    def fiscal_to_date(cls, month: Month) -> Period:
        return cls(month.fiscal_start.utc_bounds()[0], month.utc_bounds()[1])

    def holds(self, moment: datetime | None) -> bool:
        return moment is not None and self.start <= as_utc(moment) < self.end


async def _recorded(session: AsyncSession, tenant_id: str, kinds: tuple[str, ...], period: Period) -> list[Request]:
    return await request_service.recorded_between(session, tenant_id=tenant_id, kinds=kinds, start=period.start, end=period.end)


@dataclass(frozen=True)
class TaskCounts:
    task: str
    requested_fy: int
    requested_month: int
    done_fy: int
    done_month: int


async def volunteer_tasks(session: AsyncSession, *, tenant_id: str, month: Month) -> list[TaskCounts]:
    """別紙6 2-3: 依頼件数 = requests recorded, 対応件数 = those marked 対応済, each by month and 年度累計."""
    fy, m = Period.fiscal_to_date(month), Period.month(month)
    rows = await _recorded(session, tenant_id, (VOLUNTEER,), fy)

    def count(period: Period, *, done: bool) -> Counter:
        return Counter(
            (r.fields or {}).get("task", "その他") for r in rows
            if (period.holds(r.done_at) and r.status == RequestStatus.DONE if done else period.holds(r.recorded_at))
        )

    req_fy, req_m, done_fy, done_m = count(fy, done=False), count(m, done=False), count(fy, done=True), count(m, done=True)
    return [TaskCounts(t, req_fy[t], req_m[t], done_fy[t], done_m[t]) for t in VOLUNTEER_TASKS]


async def sticker_requests(session: AsyncSession, *, tenant_id: str, month: Month) -> tuple[int, int]:
    """別紙6 4-2 対応実績: sticker forms requested in chat (this month, 年度累計)."""
    rows = await _recorded(session, tenant_id, STICKER, Period.fiscal_to_date(month))
    return sum(Period.month(month).holds(r.recorded_at) for r in rows), len(rows)


async def complaints(session: AsyncSession, *, tenant_id: str, month: Month) -> tuple[list[tuple[str, str, str]], int]:
    """The month's complaints (受付日時, the complaint's own content, the response staff
    recorded) and the 年度累計 count. The content is the resident's words: callers that show
    it to managers mask it first (workers.reports.summary.describe)."""
    rows = await _recorded(session, tenant_id, ("complaint",), Period.fiscal_to_date(month))
    in_month = [r for r in rows if Period.month(month).holds(r.recorded_at)]
    listed = [
        (to_jst(r.recorded_at).strftime("%m/%d %H:%M"), (r.fields or {}).get("content", ""),
         (r.fields or {}).get("response") or ("対応済" if r.status == RequestStatus.DONE else "対応中"))
        for r in in_month
    ]
    return listed, len(rows)


async def referrals(session: AsyncSession, *, tenant_id: str, month: Month) -> tuple[int, int]:
    """Kashiwa 002 §7(2) 多機関協働: referrals recorded (this month, 年度累計)."""
    rows = await _recorded(session, tenant_id, ("kashiwa.referral",), Period.fiscal_to_date(month))
    return sum(Period.month(month).holds(r.recorded_at) for r in rows), len(rows)
