"""Missing-person service functions (Setagaya 003 §1(2)⑤). Every step is a compare-and-set on
the request's status (handoff.requests.service.advance) with a request_event row; this module
adds the times 別紙6 §5 reports and the deadlines the timers watch.

callback ─callback_intake→ open ─found→ found ─found mailed→ done
   └─callback_found→ done      └─end_by_ward→ done   (open: ward report due, then daily checks)
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST, to_jst
from frontdoor.tenants import Tenant
from handoff.missing.models import MissingPerson
from handoff.requests import service as request_service
from handoff.requests.models import Request, RequestEvent, RequestStatus

KIND = "missing_person"
ACTIVE = (RequestStatus.CALLBACK, RequestStatus.OPEN, RequestStatus.FOUND)
CHECK_FROM, CHECK_UNTIL = time(10, 0), time(10, 30)  # ⑤イ(キ) 毎日10時から10時30分
CALLBACK_UNTIL = time(9, 0)  # ⑤ウ(エ) 翌開庁日の8時30分から9時
CHECKS_BEFORE_CONSULT = 3  # ⑤イ(キ) 状況確認を3回実施し、発見されていない場合には区と協議
NEAR = timedelta(minutes=10)


def report_deadline(end: datetime, minutes: int = 30) -> datetime:
    """⑤イ(カ): calls ending 8:30–9:00 are reported by 9:30, others within 30 minutes."""
    local = to_jst(end)
    if time(8, 30) <= local.time() < time(9, 0):
        return local.replace(hour=9, minute=30, second=0, microsecond=0)
    return end + timedelta(minutes=minutes)


def callback_deadline(tenant: Tenant, now: datetime) -> datetime:
    """⑤ウ: the next opening day, by 9:00."""
    opening = tenant.ward_office_hours.next_opening(now)
    return datetime.combine(opening.date(), CALLBACK_UNTIL, JST)


def _minutes(tenant: Tenant) -> int:
    return tenant.missing_person_report.minutes if tenant.missing_person_report else 30


def next_check(intake_day: date, now: datetime, *, checked_today: bool = False) -> datetime:
    """The next 10:30 check deadline: from the day after the intake (⑤イ(キ))."""
    local = to_jst(now)
    today_open = local.time() < CHECK_UNTIL and not checked_today
    day = max(intake_day + timedelta(days=1), local.date() if today_open else local.date() + timedelta(days=1))
    return datetime.combine(day, CHECK_UNTIL, JST)


async def get(session: AsyncSession, request_id: uuid.UUID) -> tuple[Request, MissingPerson] | None:
    request = await session.get(Request, request_id, populate_existing=True)
    record = await session.get(MissingPerson, request_id, populate_existing=True)
    return (request, record) if request and record else None


async def created(session: AsyncSession, *, request: Request, contact_id: uuid.UUID | None, tenant: Tenant, now: datetime) -> MissingPerson:
    """The intake was recorded in chat: office hours start the ward-report clock; closed hours
    wait for the next-opening-day call (⑤ウ)."""
    closed = request.status == RequestStatus.CALLBACK
    record = MissingPerson(
        request_id=request.id, tenant_id=request.tenant_id, contact_id=contact_id, checks=0,
        closed_call_at=now if closed else None, intake_at=None if closed else now,
        report_due_at=None if closed else report_deadline(now, _minutes(tenant)),
    )
    session.add(record)
    await session.flush()
    return record


async def _set(session: AsyncSession, record: MissingPerson, **values) -> None:  # noqa: ANN003
    await session.execute(update(MissingPerson).where(MissingPerson.request_id == record.request_id).values(**values))
    await session.refresh(record)


async def callback_intake(
    session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, fields: dict[str, str], tenant: Tenant, now: datetime
) -> bool:
    """At the next-opening-day call the person is still missing: the counselor takes the full
    intake by phone (⑤ウ(オ)); the ward-report clock starts now (翌開庁日に電話後の受付日時)."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    due = report_deadline(now, _minutes(tenant))
    if not await request_service.advance(
        session, request=request, from_=(RequestStatus.CALLBACK,), to=RequestStatus.OPEN, now=now, action="callback_intake",
        due=due, actor_id=counselor_id, fields=fields, detail={"fields": sorted(fields)},
    ):
        return False
    await _set(session, record, intake_at=now, report_due_at=due)
    return True


async def callback_found(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime) -> bool:
    """At the next-opening-day call the person has been found: the case closes, no ward report."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    if not await request_service.advance(
        session, request=request, from_=(RequestStatus.CALLBACK,), to=RequestStatus.DONE, now=now, action="callback_found", due=None, actor_id=counselor_id,
    ):
        return False
    await _set(session, record, found_at=now, ended_at=now)
    return True


async def _after_report(session: AsyncSession, request: Request, record: MissingPerson, now: datetime, action: str, actor_id: uuid.UUID) -> None:
    """Once the ward has the intake (phone and mail), the next deadline is the daily check."""
    if record.ward_phoned_at and record.form_mailed_at:
        due = next_check(to_jst(record.intake_at or now).date(), now)
        await request_service.advance(session, request=request, from_=(RequestStatus.OPEN,), to=RequestStatus.OPEN, now=now, action=action, due=due, actor_id=actor_id)


async def record_ward_phone(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, to: str, now: datetime) -> bool:
    """The counselor phoned the ward (⑤イ(カ)/(ケ)): who took it and when; once per report."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    column = MissingPerson.found_phoned_at if request.status == RequestStatus.FOUND else MissingPerson.ward_phoned_at
    if request.status not in (RequestStatus.OPEN, RequestStatus.FOUND):
        return False
    result = await session.execute(
        update(MissingPerson).where(MissingPerson.request_id == request_id, column.is_(None))
        .values({column: now, MissingPerson.ward_phoned_by: counselor_id, MissingPerson.ward_phoned_to: to[:80]})
    )
    if result.rowcount != 1:
        return False
    await session.refresh(record)
    await request_service.log_event(session, request_id=request_id, action="ward_phoned", now=now, actor_id=counselor_id, detail={"found": request.status == RequestStatus.FOUND})
    if request.status == RequestStatus.OPEN:
        await _after_report(session, request, record, now, "ward_reported", counselor_id)
    return True


async def mark_mailed(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime, recipients: int) -> bool:
    """The form reached the SMTP server: 受付時 (別紙8-3) or 発見時 (別紙8-4) 報告完了日時."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    if request.status == RequestStatus.FOUND:
        if not await request_service.advance(
            session, request=request, from_=(RequestStatus.FOUND,), to=RequestStatus.DONE, now=now, action="found_mailed", due=None,
            actor_id=counselor_id, detail={"recipients": recipients},
        ):
            return False
        await _set(session, record, found_mailed_at=now, ended_at=record.ended_at or now)
        return True
    if request.status != RequestStatus.OPEN or record.form_mailed_at:
        return False
    await _set(session, record, form_mailed_at=now)
    await request_service.log_event(session, request_id=request_id, action="form_mailed", now=now, actor_id=counselor_id, detail={"recipients": recipients})
    await _after_report(session, request, record, now, "ward_reported", counselor_id)
    return True


@dataclass(frozen=True)
class CheckResult:
    consult: bool  # the counselor should now consult the ward (⑤イ(キ))


async def record_check(
    session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID | None, outcome: str, now: datetime, note: str = ""
) -> CheckResult | None:
    """One daily status check (⑤イ(キ)): `not_found`, or `refused` (the reporter declines checks).
    After three checks not found, or a refusal, the case asks the counselor to consult the ward.
    Only a check due today (or overdue) counts: a second click, from the worklist and the case
    page at once, records nothing."""
    found = await get(session, request_id)
    if found is None or found[0].status != RequestStatus.OPEN or found[0].due_at is None or to_jst(found[0].due_at).date() > to_jst(now).date():
        return None
    request, record = found
    checks = record.checks + 1
    result = await session.execute(
        update(MissingPerson).where(MissingPerson.request_id == request_id, MissingPerson.checks == record.checks).values(checks=checks)
    )
    if result.rowcount != 1:
        return None
    await session.refresh(record)
    consult = outcome == "refused" or checks >= CHECKS_BEFORE_CONSULT
    await request_service.log_event(
        session, request_id=request_id, action="checked", now=now, actor_id=counselor_id, detail={"n": checks, "outcome": outcome, "note": bool(note)}
    )
    if outcome == "refused" and record.checks_refused_at is None:
        await _set(session, record, checks_refused_at=now)
    if consult and record.consult_at is None:
        await _set(session, record, consult_at=now)
        await request_service.log_event(session, request_id=request_id, action="consult_ward", now=now, actor_id=counselor_id)
    due = None if outcome == "refused" else next_check(to_jst(record.intake_at or now).date(), now, checked_today=True)
    await request_service.advance(session, request=request, from_=(RequestStatus.OPEN,), to=RequestStatus.OPEN, now=now, action="next_check", due=due)
    return CheckResult(consult)


async def edit_intake(
    session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, fields: dict[str, str], seen: datetime, now: datetime
) -> bool:
    """The counselor corrects or completes 別紙8-3 items by phone (the call-back, ⑤イ(イ), ⑤ウ(オ)):
    compare-and-set on the version the counselor saw (`seen`, the request's `updated_at`), so a
    correction made meanwhile by a colleague (or a timer) is never overwritten unseen. The event
    keeps the field names, never the values (they are personal data)."""
    found = await get(session, request_id)
    if found is None or not fields:
        return False
    request, _record = found
    result = await session.execute(
        update(Request)
        .where(Request.id == request_id, Request.status.in_([str(s) for s in ACTIVE]), Request.updated_at == seen)
        .values(fields={**(request.fields or {}), **fields}, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    await request_service.log_event(session, request_id=request_id, action="edited", now=now, actor_id=counselor_id, detail={"fields": sorted(fields)})
    await session.refresh(request)
    return True


async def mark_found(
    session: AsyncSession, *, request_id: uuid.UUID, details: dict[str, str], tenant: Tenant, now: datetime, actor_id: uuid.UUID | None = None
) -> bool:
    """別紙8-4 items taken (⑤イ(ク)), from the reporter in chat or by a counselor on the phone
    (`actor_id`): the daily checks end and the found report to the ward is due in 30 minutes (ケ)."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    due = report_deadline(now, _minutes(tenant))
    if not await request_service.advance(
        session, request=request, from_=(RequestStatus.OPEN,), to=RequestStatus.FOUND, now=now, action="found", due=due, actor_id=actor_id,
        detail={"fields": sorted(details), "via": "phone" if actor_id else "chat"},
    ):
        return False
    await _set(session, record, found_at=now, found=dict(details), found_due_at=due, near_alert_for=None, missed_alert_for=None)
    return True


async def end_by_ward(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, ward_call_at: datetime, now: datetime) -> bool:
    """⑤イ※: the ward phoned that the person was found (police); the checks end with that call."""
    found = await get(session, request_id)
    if found is None:
        return False
    request, record = found
    if not await request_service.advance(
        session, request=request, from_=(RequestStatus.OPEN, RequestStatus.FOUND), to=RequestStatus.DONE, now=now, action="ended_by_ward",
        due=None, actor_id=counselor_id,
    ):
        return False
    await _set(session, record, ward_call_at=ward_call_at, ended_at=now)
    return True


async def active_of_contact(session: AsyncSession, *, contact_id: uuid.UUID) -> Request | None:
    """The reporter's intake still searching (a found notice may come from a new conversation)."""
    return await session.scalar(
        select(Request).join(MissingPerson, MissingPerson.request_id == Request.id)
        .where(MissingPerson.contact_id == contact_id, Request.status.in_([str(RequestStatus.OPEN), str(RequestStatus.CALLBACK)]))
        .order_by(Request.created_at.desc()).limit(1)
    )


async def awaiting_chat_answer(session: AsyncSession, request: Request) -> bool:
    """The bot asked the reporter in chat (daily check) and no check was recorded since."""
    last = await session.scalar(
        select(RequestEvent.action).where(RequestEvent.request_id == request.id, RequestEvent.action.in_(["check_asked", "checked"]))
        .order_by(RequestEvent.id.desc()).limit(1)
    )
    return last == "check_asked"


def countdown(due: datetime | None, now: datetime) -> str:
    """「あと12分」 / 「8分超過」: what the case shows beside its deadline."""
    if due is None:
        return ""
    minutes = int((due - now).total_seconds() // 60)
    return f"あと{minutes}分" if minutes >= 0 else f"{-minutes}分超過"
