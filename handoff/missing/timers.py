"""The missing-person timers (issue 8), run by a Celery beat task every minute: deadlines near
(10 minutes left) and missed alert the console and the escalation notifiers once each; every
morning from 10:00 the daily status check falls due (⑤イ(キ)). Idempotent: each alert and each
day's check is claimed by a compare-and-set before anything is sent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import to_jst
from handoff.escalation import escalation_recipients
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.models import Case
from handoff.notify import DeadlineAlert, Notifier, notify_all
from handoff.requests import service as request_service
from handoff.requests.models import Request, RequestStatus


def deadline_label(request: Request, record: MissingPerson) -> str:
    if request.status == RequestStatus.CALLBACK:
        return "翌開庁日の折り返し電話"
    if request.status == RequestStatus.FOUND:
        return "区への発見報告"
    if record.form_mailed_at is None or record.ward_phoned_at is None:
        return "区への受付報告"
    return "状況確認の電話"


async def _claim(session: AsyncSession, record: MissingPerson, column, due: datetime) -> bool:  # noqa: ANN001
    result = await session.execute(
        update(MissingPerson).where(MissingPerson.request_id == record.request_id, or_(column.is_(None), column != due)).values({column: due})
    )
    return result.rowcount == 1


async def due_alerts(session: AsyncSession, *, now: datetime) -> list[DeadlineAlert]:
    """Claim every alert due now: near (≤10 minutes left) and missed, once per deadline."""
    rows = await session.execute(
        select(Request, MissingPerson).join(MissingPerson, MissingPerson.request_id == Request.id)
        .where(Request.status.in_([str(s) for s in missing.ACTIVE]), Request.due_at.is_not(None), Request.due_at <= now + missing.NEAR)
    )
    alerts = []
    for request, record in rows.all():
        missed = now > request.due_at
        column = MissingPerson.missed_alert_for if missed else MissingPerson.near_alert_for
        if not await _claim(session, record, column, request.due_at):
            continue
        case_id = await session.scalar(select(Case.id).where(Case.conversation_id == request.conversation_id).order_by(Case.created_at.desc()).limit(1))
        number = (request.fields or {}).get("management_no", "")
        local = to_jst(request.due_at)
        label = deadline_label(request, record)
        text = f"【期限{'超過' if missed else 'まもなく'}】行方不明 管理番号{number}：{label}の期限（{local.hour}時{local.minute:02d}分）{'を過ぎています' if missed else 'まであと' + missing.countdown(request.due_at, now).removeprefix('あと')}"
        await request_service.log_event(session, request_id=request.id, action="deadline_missed" if missed else "deadline_near", now=now, detail={"due": request.due_at.isoformat()})
        staff = await escalation_recipients(session, tenant_id=request.tenant_id)
        alerts.append(DeadlineAlert(
            request.tenant_id, str(case_id or request.id), "emergency", 0, tuple(s.email for s in staff if s.email),
            staff_ids=tuple(str(s.id) for s in staff), text=text,
        ))
    await session.commit()
    return alerts


@dataclass(frozen=True)
class CheckDue:
    request_id: uuid.UUID
    conversation_id: uuid.UUID | None
    number: str
    day: date | None = None  # the day (JST) this check is for: one question per day


async def due_checks(session: AsyncSession, *, now: datetime) -> list[CheckDue]:
    """From 10:00 each day after the intake until found: today's check goes on the worklist
    (the request's deadline becomes 10:30; ⑤イ(キ)), once a day."""
    local = to_jst(now)
    if local.time() < missing.CHECK_FROM:
        return []
    today = local.date()
    rows = await session.execute(
        select(Request, MissingPerson).join(MissingPerson, MissingPerson.request_id == Request.id)
        .where(Request.status == RequestStatus.OPEN, MissingPerson.checks_refused_at.is_(None), MissingPerson.intake_at.is_not(None),
               or_(MissingPerson.check_day.is_(None), MissingPerson.check_day < today))
    )
    due = []
    for request, record in rows.all():
        if to_jst(record.intake_at).date() >= today:
            continue
        claimed = await session.execute(
            update(MissingPerson).where(MissingPerson.request_id == record.request_id, or_(MissingPerson.check_day.is_(None), MissingPerson.check_day < today))
            .values(check_day=today)
        )
        if claimed.rowcount != 1:
            continue
        await request_service.log_event(session, request_id=request.id, action="check_due", now=now, detail={"n": record.checks + 1})
        due.append(CheckDue(request.id, request.conversation_id, (request.fields or {}).get("management_no", ""), today))
    await session.commit()
    return due


async def tick(session: AsyncSession, *, now: datetime, notifiers: list[Notifier]) -> tuple[int, list[CheckDue]]:
    """One beat: alerts sent (count) and today's new checks (the caller asks chat reporters)."""
    sent = 0
    for alert in await due_alerts(session, now=now):
        await notify_all(notifiers, alert)
        sent += 1
    return sent, await due_checks(session, now=now)
