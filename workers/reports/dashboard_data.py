"""The manager dashboard's figures for one tenant and month: aggregates only, no conversation text."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from knowledge import catalog
from workers.reports import queries
from workers.reports.periods import Month

URGENCY_JA = {"emergency": "緊急", "urgent": "至急", "none": "通常"}
ROUTE_JA = {"chat": "ライブチャット", "phone": "電話", "face_to_face": "面談", "email": "メール"}
CHANNEL_JA = {"web": "ウェブチャット", "line": "LINE", "telegram": "Telegram"}
TREND_MONTHS = 12


@dataclass
class Dashboard:
    tenant_id: str
    month: Month
    conversations: int
    messages: int
    bot_only: int
    outside_hours: int
    handoffs: dict[tuple[str, str], int]  # (urgency, route) → cases
    first_contact: tuple[int, int | None, int | None]  # urgent+emergency: (n, median s, p90 s)
    heat: dict[tuple[int, int], int]  # (weekday, hour) → conversations
    categories: list[tuple[str, int]]
    trend_months: list[str]
    trend: dict[str, list[int]]  # category → per month
    gaps: list[tuple[str, int]]
    channels: list[tuple[str, str, int]]  # (kind, Japanese label, conversations), every channel listed
    satisfaction: float | None = None  # no satisfaction survey is collected in the chat yet

    @staticmethod
    def share(part: int, whole: int) -> str:
        return f"{100 * part / whole:.1f}%" if whole else "—"

    @property
    def handoff_total(self) -> int:
        return sum(self.handoffs.values())


def categories_for(tenant_id: str) -> tuple[str, ...]:
    return catalog.CATEGORIES.get(tenant_id, (queries.UNCATEGORIZED,))


async def collect(session: AsyncSession, *, tenant_id: str, month: Month) -> Dashboard:
    scope = queries.Scope.month(tenant_id, month)
    names = categories_for(tenant_id)
    counts = dict.fromkeys(names, 0)
    for name, n in (await queries.category_counts(session, scope)).items():
        counts[name if name in counts else queries.UNCATEGORIZED] += n
    months = [str(m) for m in month.months_back(TREND_MONTHS)]
    first = Month.parse(months[0])
    trend_raw = await queries.monthly_category_trend(session, queries.Scope(tenant_id, first.first_day, month.last_day))
    trend = {name: [0] * len(months) for name in names}
    for (m, name), n in trend_raw.items():
        trend[name if name in trend else queries.UNCATEGORIZED][months.index(m)] += n
    n, quantiles = await queries.first_contact_quantiles(session, scope)
    by_channel = {str(kind): count for kind, count in (await queries.channel_counts(session, scope)).items()}
    return Dashboard(
        tenant_id=tenant_id,
        month=month,
        conversations=await queries.total(session, scope),
        messages=await queries.message_count(session, scope),
        bot_only=await queries.bot_only_count(session, scope),
        outside_hours=(await queries.outside_hours_counts(session, scope))[True],
        handoffs=await queries.handoffs_by(session, scope),
        first_contact=(n, quantiles[0.5], quantiles[0.9]),
        heat=await queries.weekday_hour_counts(session, scope),
        categories=list(counts.items()),
        trend_months=months,
        trend=trend,
        gaps=await queries.top_gaps(session, tenant_id=tenant_id, month=month),
        channels=[(kind, label, by_channel.get(kind, 0)) for kind, label in CHANNEL_JA.items()],
    )
