"""SQL aggregations behind every report and the dashboard.

Everything groups in the database (GROUP BY on the indexed tenant_id/local_date columns);
Python only reshapes the few aggregate rows. Day and hour come from the stored
`local_date`/`local_hour` (Asia/Tokyo, fixed when the conversation started), so no
timezone SQL is needed and a conversation spanning midnight counts where it started.
Only two expressions differ by dialect: seconds between two timestamps, and the weekday
and month of a date. Counting rules: README.md in this package.
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Integer, and_, case, cast, exists, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from bot.models import Conversation, Message
from frontdoor.models import Channel
from handoff.missing.models import MissingPerson
from handoff.models import Case
from handoff.requests.models import Request
from knowledge.gaps import KnowledgeGap
from workers.reports.periods import Month

UNCATEGORIZED = "その他"  # NULL category counts as その他 (README, counting rules)
FLAGGED = ("urgent", "emergency")


@dataclass(frozen=True)
class Scope:
    """One tenant's conversations started on [start, end] (local dates, inclusive)."""

    tenant_id: str
    start: date
    end: date
    # Leave out conversations that opened a case of this kind (別紙6 §1 excludes missing-person reports).
    exclude_case_kind: str | None = None

    @classmethod
    def month(cls, tenant_id: str, month: Month, *, exclude_case_kind: str | None = None) -> Scope:
        return cls(tenant_id, month.first_day, month.last_day, exclude_case_kind)

    @classmethod
    def fiscal_to_date(cls, tenant_id: str, month: Month, *, exclude_case_kind: str | None = None) -> Scope:
        """April of the month's fiscal year through the end of the month (年度累計)."""
        return cls(tenant_id, month.fiscal_start.first_day, month.last_day, exclude_case_kind)

    def where(self) -> ColumnElement[bool]:
        clause = and_(
            Conversation.tenant_id == self.tenant_id,
            Conversation.local_date >= self.start,
            Conversation.local_date <= self.end,
        )
        if self.exclude_case_kind:
            kind = exists().where(Case.conversation_id == Conversation.id, Case.kind == self.exclude_case_kind)
            clause = and_(clause, ~kind)
        return clause


def _dialect(session: AsyncSession) -> str:
    return session.bind.dialect.name if session.bind is not None else "sqlite"


def seconds_between(dialect: str, start, end) -> ColumnElement[int]:  # noqa: ANN001
    if dialect == "postgresql":
        return cast(func.extract("epoch", end - start), Integer)
    return cast((func.julianday(end) - func.julianday(start)) * 86400 + 0.5, Integer)


def handling_seconds(dialect: str) -> ColumnElement[int]:
    """duration_seconds once closed; last minus first message while still open."""
    return func.coalesce(
        Conversation.duration_seconds, seconds_between(dialect, Conversation.started_at, Conversation.last_message_at)
    )


def weekday_of(dialect: str, column) -> ColumnElement[int]:  # noqa: ANN001
    """0 = Monday … 6 = Sunday, on both dialects."""
    if dialect == "postgresql":
        return cast(func.extract("isodow", column), Integer) - 1
    return (cast(func.strftime("%w", column), Integer) + 6) % 7


def month_of(dialect: str, column) -> ColumnElement[str]:  # noqa: ANN001
    if dialect == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


CATEGORY = func.coalesce(Conversation.category, UNCATEGORIZED)


async def total(session: AsyncSession, scope: Scope) -> int:
    return int(await session.scalar(select(func.count()).select_from(Conversation).where(scope.where())) or 0)


async def counts_by(session: AsyncSession, scope: Scope, key: ColumnElement) -> dict:
    stmt = select(key, func.count()).select_from(Conversation).where(scope.where()).group_by(key)
    return {k: int(n) for k, n in (await session.execute(stmt)).all()}


async def category_counts(session: AsyncSession, scope: Scope) -> dict[str, int]:
    return await counts_by(session, scope, CATEGORY)


async def outside_hours_counts(session: AsyncSession, scope: Scope) -> dict[bool, int]:
    found = await counts_by(session, scope, Conversation.outside_hours)
    # SQLite returns 0/1, PostgreSQL False/True (equal keys in Python either way).
    return {False: sum(n for k, n in found.items() if not k), True: sum(n for k, n in found.items() if k)}


async def channel_counts(session: AsyncSession, scope: Scope) -> dict[str, int]:
    stmt = (
        select(Channel.kind, func.count())
        .select_from(Conversation)
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(scope.where())
        .group_by(Channel.kind)
    )
    return {str(kind): int(n) for kind, n in (await session.execute(stmt)).all()}


@dataclass(frozen=True)
class CategoryHour:
    category: str
    hour: int
    count: int
    seconds: int


async def category_hour_stats(session: AsyncSession, scope: Scope) -> list[CategoryHour]:
    """別紙6 1-2: count and total handling time per (category, start hour)."""
    secs = handling_seconds(_dialect(session))
    stmt = (
        select(CATEGORY, Conversation.local_hour, func.count(), func.coalesce(func.sum(secs), 0))
        .where(scope.where())
        .group_by(CATEGORY, Conversation.local_hour)
    )
    return [CategoryHour(c, int(h), int(n), int(s)) for c, h, n, s in (await session.execute(stmt)).all()]


async def message_count(session: AsyncSession, scope: Scope) -> int:
    stmt = select(func.count(Message.id)).join(Conversation, Conversation.id == Message.conversation_id).where(scope.where())
    return int(await session.scalar(stmt) or 0)


async def bot_only_count(session: AsyncSession, scope: Scope) -> int:
    """Conversations that never opened a case (no handoff of any kind)."""
    has_case = exists().where(Case.conversation_id == Conversation.id)
    stmt = select(func.count()).select_from(Conversation).where(scope.where(), ~has_case)
    return int(await session.scalar(stmt) or 0)


async def weekday_hour_counts(session: AsyncSession, scope: Scope) -> dict[tuple[int, int], int]:
    weekday = weekday_of(_dialect(session), Conversation.local_date)
    stmt = select(weekday, Conversation.local_hour, func.count()).where(scope.where()).group_by(weekday, Conversation.local_hour)
    return {(int(w), int(h)): int(n) for w, h, n in (await session.execute(stmt)).all()}


async def monthly_category_trend(session: AsyncSession, scope: Scope) -> dict[tuple[str, str], int]:
    """(YYYY-MM, category) → conversations."""
    key = month_of(_dialect(session), Conversation.local_date)
    stmt = select(key, CATEGORY, func.count()).where(scope.where()).group_by(key, CATEGORY)
    return {(str(m), c): int(n) for m, c, n in (await session.execute(stmt)).all()}


def _cases_in(scope: Scope):  # noqa: ANN202
    return select().select_from(Case).join(Conversation, Conversation.id == Case.conversation_id).where(scope.where())


async def handoffs_by(session: AsyncSession, scope: Scope) -> dict[tuple[str, str], int]:
    """(urgency, route) → cases opened for conversations in scope."""
    stmt = _cases_in(scope).add_columns(Case.urgency, Case.route, func.count()).group_by(Case.urgency, Case.route)
    return {(str(u), str(r)): int(n) for u, r, n in (await session.execute(stmt)).all()}


async def first_contact_quantiles(
    session: AsyncSession, scope: Scope, *, urgencies: tuple[str, ...] = FLAGGED, quantiles: tuple[float, ...] = (0.5, 0.9)
) -> tuple[int, dict[float, int | None]]:
    """Nearest-rank quantiles of seconds from case opened to first human contact.

    Same rule on SQLite and PostgreSQL: count, then ORDER BY … LIMIT 1 OFFSET ceil(q·n)−1.
    Returns (cases with a first contact, {q: seconds}).
    """
    secs = seconds_between(_dialect(session), Case.created_at, Case.first_human_contact_at)
    base = _cases_in(scope).where(Case.urgency.in_(urgencies), Case.first_human_contact_at.is_not(None))
    n = int(await session.scalar(base.add_columns(func.count())) or 0)
    result: dict[float, int | None] = {}
    for q in quantiles:
        if n == 0:
            result[q] = None
            continue
        offset = max(0, math.ceil(q * n) - 1)
        result[q] = int(await session.scalar(base.add_columns(secs).order_by(secs).limit(1).offset(offset)))
    return n, result


def _latest_case(column):  # noqa: ANN001, ANN202
    return select(column).where(Case.conversation_id == Conversation.id).order_by(Case.created_at.desc()).limit(1).scalar_subquery()


async def consultation_rows(session: AsyncSession, scope: Scope, *, topics: tuple[str, ...] | None = None) -> list[tuple]:
    """(started_at, category, case kind, case status, case outcome, case closing note, conversation status).

    No resident text: reports describe a conversation by what was decided (summary.describe).
    """
    stmt = select(
        Conversation.started_at,
        CATEGORY,
        _latest_case(Case.kind),
        _latest_case(Case.status),
        _latest_case(Case.outcome),
        _latest_case(Case.closing_note),
        Conversation.status,
    ).where(scope.where())
    if topics is not None:
        stmt = stmt.where(Conversation.topic.in_(topics))
    return list((await session.execute(stmt.order_by(Conversation.started_at))).all())


async def flagged_cases(session: AsyncSession, scope: Scope) -> list[tuple]:
    """Urgent/emergency cases: (created_at, urgency, kind, route, status, seconds to first human contact, outcome)."""
    secs = seconds_between(_dialect(session), Case.created_at, Case.first_human_contact_at)
    stmt = (
        _cases_in(scope)
        .add_columns(Case.created_at, Case.urgency, Case.kind, Case.route, Case.status, secs, Case.outcome)
        .where(Case.urgency.in_(FLAGGED))
        .order_by(Case.created_at)
    )
    return list((await session.execute(stmt)).all())


async def missing_person_cases(session: AsyncSession, scope: Scope) -> list[tuple]:
    """Missing-person cases with no intake form recorded (the reporter stopped before the
    read-back): (created_at, outside office hours, closed_at)."""
    intake = exists().where(Request.conversation_id == Case.conversation_id, Request.kind == "missing_person", Request.recorded_at.is_not(None))
    stmt = (
        _cases_in(scope)
        .add_columns(Case.created_at, Conversation.outside_hours, Case.closed_at)
        .where(Case.kind == "missing_person", ~intake)
        .order_by(Case.created_at)
    )
    return list((await session.execute(stmt)).all())


async def missing_person_intakes(session: AsyncSession, *, tenant_id: str, month: Month) -> list[tuple[Request, MissingPerson]]:
    """Recorded intakes (issue 8) first taken in the month: 閉庁時間受電 or 受付 (別紙6 §5)."""
    start, end = month.utc_bounds()
    first = func.coalesce(MissingPerson.closed_call_at, MissingPerson.intake_at)
    stmt = (
        select(Request, MissingPerson).join(MissingPerson, MissingPerson.request_id == Request.id)
        .where(MissingPerson.tenant_id == tenant_id, first >= start, first < end)
        .order_by(first)
    )
    return [(r, m) for r, m in (await session.execute(stmt)).all()]


async def top_gaps(session: AsyncSession, *, tenant_id: str, month: Month, limit: int = 10, min_count: int = 2) -> list[tuple[str, int]]:
    """Most frequent unanswered questions (already normalized and redacted when recorded)."""
    start, end = month.utc_bounds()
    n = func.count()
    stmt = (
        select(KnowledgeGap.normalized, n)
        .where(KnowledgeGap.tenant_id == tenant_id, KnowledgeGap.created_at >= start, KnowledgeGap.created_at < end)
        .group_by(KnowledgeGap.normalized)
        .having(n >= min_count)
        .order_by(n.desc(), KnowledgeGap.normalized)
        .limit(limit)
    )
    return [(text, int(count)) for text, count in (await session.execute(stmt)).all()]


EXPORT_COLUMNS = (
    "conversation_id", "local_date", "local_hour", "weekday", "channel", "category", "topic", "urgency",
    "outside_office_hours", "status", "handling_seconds", "messages", "handed_off", "case_route", "case_status",
    "seconds_to_first_human_contact",
)


async def export_rows(session: AsyncSession, scope: Scope, *, batch: int = 2000) -> AsyncIterator[tuple]:
    """One row per conversation, no text and no personal data (the CSV export)."""
    dialect = _dialect(session)
    messages = select(func.count(Message.id)).where(Message.conversation_id == Conversation.id).scalar_subquery()
    first_contact = _latest_case(seconds_between(dialect, Case.created_at, Case.first_human_contact_at))
    stmt = (
        select(
            Conversation.id, Conversation.local_date, Conversation.local_hour, weekday_of(dialect, Conversation.local_date),
            Channel.kind, CATEGORY, Conversation.topic, Conversation.urgency, Conversation.outside_hours,
            Conversation.status, handling_seconds(dialect), messages,
            case((exists().where(Case.conversation_id == Conversation.id), 1), else_=0),
            _latest_case(Case.route), _latest_case(Case.status), first_contact,
        )
        .join(Channel, Channel.id == Conversation.channel_id)
        .where(scope.where())
        .order_by(Conversation.started_at)
        .execution_options(yield_per=batch)
    )
    result = await session.stream(stmt)
    async for row in result:
        yield tuple(row)
