"""Request service functions: every state change is a compare-and-set on `status` with its
`*_at` column and a `request_event` row, so two workers (or two counselors) can never both
record, close or finish the same request.

draft ─record→ open ─mark_done→ done        draft ─give_up→ incomplete
   └─refuse→ refused                        open ─ask_back→ question ─mark_done→ done
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST, as_utc, to_jst
from frontdoor.tenants import RequestTiming, Tenant
from handoff.requests.forms import FormDefinition
from handoff.requests.models import Request, RequestEvent, RequestStatus
from handoff.requests.values import first_day

CHAT_ORIGIN_LABEL = "チャットで受付"  # identity is never assumed from a chat (issue 13)
STAFF_ORIGIN = "console"  # recorded by a counselor in the console


async def _event(session: AsyncSession, request_id: uuid.UUID, action: str, now: datetime, *, actor_id: uuid.UUID | None = None, detail: dict | None = None) -> None:
    session.add(RequestEvent(request_id=request_id, action=action, actor_id=actor_id, detail=detail, at=now))
    await session.flush()


async def log_event(session: AsyncSession, *, request_id: uuid.UUID, action: str, now: datetime, actor_id: uuid.UUID | None = None, detail: dict | None = None) -> None:
    """An event of a domain workflow that changes no status (e.g. the ward was phoned)."""
    await _event(session, request_id, action, now, actor_id=actor_id, detail=detail)


async def _cas(
    session: AsyncSession, request: Request, *, from_: tuple[RequestStatus, ...], values: dict, now: datetime, action: str,
    actor_id: uuid.UUID | None = None, detail: dict | None = None,
) -> bool:
    result = await session.execute(
        update(Request)
        .where(Request.id == request.id, Request.status.in_([str(s) for s in from_]))
        .values(updated_at=now, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:
        return False
    await _event(session, request.id, action, now, actor_id=actor_id, detail=detail)
    await session.refresh(request)
    return True


async def start(
    session: AsyncSession, *, tenant_id: str, conversation_id: uuid.UUID | None, kind: str, fields: dict[str, str], step: str | None,
    now: datetime, outside_hours: bool, origin: str = "chat", actor_id: uuid.UUID | None = None,
) -> Request:
    """A draft the bot fills in with the resident; staff see it as 入力途中 until recorded."""
    request = Request(
        tenant_id=tenant_id, conversation_id=conversation_id, kind=kind, status=RequestStatus.DRAFT, fields=dict(fields),
        step=step, created_at=now, updated_at=now, outside_hours=outside_hours, origin=origin,
    )
    session.add(request)
    await session.flush()
    await _event(session, request.id, "started", now, actor_id=actor_id, detail={"fields": sorted(fields)})
    return request


async def update_draft(session: AsyncSession, *, request: Request, fields: dict[str, str], step: str | None, now: datetime) -> bool:
    """New field values (never logged: only their names) and the next step of a draft."""
    merged = {**(request.fields or {}), **fields}
    changed = await _cas(
        session, request, from_=(RequestStatus.DRAFT,), values={"fields": merged, "step": step}, now=now,
        action="fields", detail={"fields": sorted(fields), "step": step},
    )
    return changed


def due_at(timing: RequestTiming, *, fields: dict[str, str], now: datetime) -> datetime:
    """Due `due_hours` after recording, and no later than `days_before` the date the request
    is about at `at` local time — but never before it was recorded."""
    due = now + timedelta(hours=timing.due_hours)
    if timing.before_field and (day := first_day(fields.get(timing.before_field) or "")):
        hour, minute = (int(x) for x in timing.at.split(":"))
        latest = datetime.combine(day - timedelta(days=timing.days_before), time(hour, minute), tzinfo=JST)
        due = min(due, max(latest, now))
    return due


def timing_for(tenant: Tenant, kind: str) -> RequestTiming:
    return tenant.requests.get(kind) or tenant.requests.get("default") or RequestTiming()


async def _next_number(session: AsyncSession, *, request: Request, form: FormDefinition, now: datetime) -> tuple[str, str]:
    """The form's number for the next request of its kind in the period (年度 runs April to
    March), and the same number as staff say it (`number_said`, e.g. 月-受付順 10-3)."""
    local = to_jst(now)
    fy = local.year if local.month >= 4 else local.year - 1
    if form.number_per == "month":
        start = datetime(local.year, local.month, 1, tzinfo=JST)
        end = datetime(local.year + local.month // 12, local.month % 12 + 1, 1, tzinfo=JST)
    else:
        start, end = datetime(fy, 4, 1, tzinfo=JST), datetime(fy + 1, 4, 1, tzinfo=JST)
    count = await session.scalar(
        select(func.count()).select_from(Request).where(
            Request.tenant_id == request.tenant_id, Request.kind == request.kind, Request.number.is_not(None),
            Request.recorded_at >= start, Request.recorded_at < end,
        )
    )
    values = {"seq": (count or 0) + 1, "fy": fy, "month": local.month, "year": local.year}
    number = form.number_format.format(**values)  # type: ignore[union-attr]
    return number, form.number_said.format(**values) if form.number_said else number


async def record(
    session: AsyncSession, *, request: Request, form: FormDefinition, tenant: Tenant, now: datetime,
    status: RequestStatus = RequestStatus.OPEN, due: datetime | None = None, actor_id: uuid.UUID | None = None,
) -> bool:
    """The resident said はい: the request goes on the staff worklist, with its due time
    (`due`, when the form's workflow sets it) and (when the form asks for one) a management number."""
    due = due or due_at(timing_for(tenant, request.kind), fields=request.fields or {}, now=now)
    for _attempt in range(3):
        number, said = await _next_number(session, request=request, form=form, now=now) if form.number_format else (None, None)
        fields = {**(request.fields or {}), form.number_field: said} if form.number_field and said else request.fields
        try:
            async with session.begin_nested():
                return await _cas(
                    session, request, from_=(RequestStatus.DRAFT,), now=now, action="recorded", actor_id=actor_id,
                    values={"status": status, "recorded_at": now, "due_at": due, "step": None, "number": number, "fields": fields},
                )
        except IntegrityError:  # another request took the number: count again
            continue
    raise RuntimeError("could not assign a management number")


async def record_by_staff(
    session: AsyncSession, *, tenant: Tenant, form: FormDefinition, conversation_id: uuid.UUID | None, counselor_id: uuid.UUID,
    fields: dict[str, str], now: datetime,
) -> Request:
    """A request a counselor records in the console (a 多機関協働 referral, Kashiwa 002 §7(2)):
    recorded at once, with the counselor on both events; its origin says staff, not chat."""
    request = await start(
        session, tenant_id=tenant.id, conversation_id=conversation_id, kind=form.kind, fields=fields, step=None, now=now,
        outside_hours=False, origin=STAFF_ORIGIN, actor_id=counselor_id,
    )
    if not await record(session, request=request, form=form, tenant=tenant, now=now, actor_id=counselor_id):
        raise RuntimeError("a request just started could not be recorded")
    return request


async def advance(
    session: AsyncSession, *, request: Request, from_: tuple[RequestStatus, ...], to: RequestStatus, now: datetime, action: str,
    due: datetime | None, actor_id: uuid.UUID | None = None, detail: dict | None = None, fields: dict[str, str] | None = None,
) -> bool:
    """A workflow step of a recorded request (e.g. a missing person found): its status, its
    next deadline and new field values, compare-and-set."""
    values: dict = {"status": to, "due_at": due}
    if fields:
        values["fields"] = {**(request.fields or {}), **fields}
    if to == RequestStatus.DONE:
        values |= {"done_at": now, "done_by": actor_id}
    return await _cas(session, request, from_=from_, values=values, now=now, action=action, actor_id=actor_id, detail=detail)


async def give_up(session: AsyncSession, *, request: Request, now: datetime, why: str) -> bool:
    """The resident stopped (or triage took over): kept for staff as incomplete, never as done."""
    return await _cas(
        session, request, from_=(RequestStatus.DRAFT,), values={"status": RequestStatus.INCOMPLETE, "closed_at": now},
        now=now, action="incomplete", detail={"why": why},
    )


async def refuse(session: AsyncSession, *, request: Request, now: datetime, field: str) -> bool:
    """A field the form cannot do without was declined (e.g. an anonymous report)."""
    return await _cas(
        session, request, from_=(RequestStatus.DRAFT,), values={"status": RequestStatus.REFUSED, "closed_at": now, "step": None},
        now=now, action="refused", detail={"field": field},
    )


async def mark_done(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime) -> bool:
    """対応済, with who and when; a second click (or a second counselor) changes nothing."""
    request = await session.get(Request, request_id)
    if request is None:
        return False
    return await _cas(
        session, request, from_=(RequestStatus.OPEN, RequestStatus.QUESTION), values={"status": RequestStatus.DONE, "done_at": now, "done_by": counselor_id},
        now=now, action="done", actor_id=counselor_id,
    )


async def edit_fields(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, fields: dict[str, str], now: datetime) -> bool:
    """A counselor corrects fields of a recorded request (after confirming by phone)."""
    request = await session.get(Request, request_id)
    if request is None:
        return False
    merged = {**(request.fields or {}), **fields}
    return await _cas(
        session, request, from_=(RequestStatus.OPEN, RequestStatus.QUESTION, RequestStatus.INCOMPLETE), values={"fields": merged},
        now=now, action="edited", actor_id=counselor_id, detail={"fields": sorted(fields)},
    )


async def ask_back(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime) -> bool:
    """Staff sent a question back to the resident (the message itself goes through the conversation)."""
    request = await session.get(Request, request_id)
    if request is None:
        return False
    return await _cas(
        session, request, from_=(RequestStatus.OPEN, RequestStatus.QUESTION), values={"status": RequestStatus.QUESTION, "question_at": now},
        now=now, action="question", actor_id=counselor_id,
    )


# Missing-person requests keep their own deadlines and alerts (handoff.missing.timers): their
# `due_at` moves with each step, so one overdue mark per request would be wrong for them.
OWN_TIMERS = ("missing_person", "missing_person_found")
WAITING_ON_STAFF = (RequestStatus.OPEN, RequestStatus.QUESTION)


def _past_due(now: datetime):  # noqa: ANN202
    return (
        Request.status.in_([str(s) for s in WAITING_ON_STAFF]), Request.kind.not_in(OWN_TIMERS),
        Request.due_at.is_not(None), Request.due_at <= now,
    )


async def mark_overdue(session: AsyncSession, *, now: datetime, batch: int = 200) -> list[uuid.UUID]:
    """Requests past their due time and not done get `overdue_at` and an `overdue` event, once
    each (compare-and-set on `overdue_at IS NULL`: two sweeps never both mark one). At most
    `batch` per call; the next beat takes the rest."""
    ids = list(await session.scalars(select(Request.id).where(*_past_due(now), Request.overdue_at.is_(None)).order_by(Request.due_at).limit(batch)))
    marked = []
    for request_id in ids:
        result = await session.execute(
            update(Request).where(Request.id == request_id, Request.overdue_at.is_(None), *_past_due(now))
            .values(overdue_at=now, updated_at=now).execution_options(synchronize_session=False)
        )
        if result.rowcount == 1:
            await _event(session, request_id, "overdue", now)
            marked.append(request_id)
    await session.commit()
    return marked


async def overdue_count(session: AsyncSession, *, tenant_id: str, now: datetime) -> int:
    """Requests of the tenant waiting on staff past their due time (marked or not yet swept)."""
    return await session.scalar(select(func.count()).select_from(Request).where(Request.tenant_id == tenant_id, *_past_due(now))) or 0


def is_overdue(request: Request, now: datetime) -> bool:
    """期限切れ as the worklist shows it: the sweep's mark, or a due time already past (the
    list is right even while the worker is down)."""
    if request.status not in WAITING_ON_STAFF or request.kind in OWN_TIMERS:
        return False
    return request.overdue_at is not None or (request.due_at is not None and as_utc(request.due_at) <= now)


async def draft_of(session: AsyncSession, *, conversation_id: uuid.UUID) -> Request | None:
    """The conversation's request being filled in, if any (at most one: one active flow)."""
    return await session.scalar(
        select(Request).where(Request.conversation_id == conversation_id, Request.status == RequestStatus.DRAFT).order_by(Request.created_at.desc()).limit(1)
    )


async def callback_of(session: AsyncSession, *, conversation_id: uuid.UUID) -> Request | None:
    """The conversation's newest request recorded outside hours whose call back (003 ⑤ウ) is
    still to come."""
    return await session.scalar(
        select(Request).where(Request.conversation_id == conversation_id, Request.status == RequestStatus.CALLBACK).order_by(Request.recorded_at.desc()).limit(1)
    )


async def recorded_in(session: AsyncSession, *, conversation_id: uuid.UUID, kind: str) -> bool:
    found = await session.scalar(
        select(Request.id).where(Request.conversation_id == conversation_id, Request.kind == kind, Request.status != RequestStatus.DRAFT).limit(1)
    )
    return found is not None


async def list_requests(session: AsyncSession, *, tenant_id: str, statuses: tuple[RequestStatus, ...] | None = None, limit: int = 500) -> list[Request]:
    """Newest first; the worklist orders them itself."""
    stmt = select(Request).where(Request.tenant_id == tenant_id)
    if statuses:
        stmt = stmt.where(Request.status.in_([str(s) for s in statuses]))
    return list(await session.scalars(stmt.order_by(Request.created_at.desc(), Request.id).limit(limit)))


async def events(session: AsyncSession, *, request_id: uuid.UUID) -> list[RequestEvent]:
    return list(await session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)))


@dataclass(frozen=True)
class RequestView:
    """The stable JSON shape of a request (`frontdoor requests list --json`, `ask --conversation`)."""

    id: str
    kind: str
    status: str
    created_at: str
    due_at: str | None
    fields: dict[str, str]

    @classmethod
    def of(cls, request: Request) -> RequestView:
        return cls(
            str(request.id), request.kind, str(request.status), as_utc(request.created_at).isoformat(),
            as_utc(request.due_at).isoformat() if request.due_at else None, dict(request.fields or {}),
        )


async def recorded_between(session: AsyncSession, *, tenant_id: str, kinds: tuple[str, ...], start: datetime, end: datetime) -> list[Request]:
    """Requests recorded in [start, end) (reports and monthly forms); drafts never count."""
    rows = await session.scalars(
        select(Request)
        .where(Request.tenant_id == tenant_id, Request.kind.in_(kinds), Request.recorded_at >= start, Request.recorded_at < end)
        .order_by(Request.recorded_at)
    )
    return list(rows)


def _who(request: Request) -> str:
    fields = request.fields or {}
    return (fields.get("kana") or fields.get("name") or "").replace(" ", "").replace("　", "")


async def open_pauses(session: AsyncSession, *, tenant_id: str, on: date) -> list[Request]:
    """Pauses still running on the day `on` (Setagaya 003 ③コ 休止者リスト 「…現在」): until 未定
    or a later day, and no resume recorded for the same person after them.

    The list is as of a Tokyo calendar day, never an instant: everything recorded by the end of
    that day counts. Cutting at "now" dropped a pause whose `recorded_at` came from a clock a
    few seconds ahead of the reader's (another API process, a worker, the database server) —
    the list then silently missed a person who is not being called."""
    end = datetime.combine(on + timedelta(days=1), time(0), tzinfo=JST)
    start = datetime(2000, 1, 1, tzinfo=JST)
    pauses = await recorded_between(session, tenant_id=tenant_id, kinds=("setagaya.phone_visit_pause",), start=start, end=end)
    resumes = await recorded_between(session, tenant_id=tenant_id, kinds=("setagaya.phone_visit_resume",), start=start, end=end)
    running = []
    for pause in pauses:
        until = (pause.fields or {}).get("until", "未定")
        ended = until != "未定" and (first_day(until) or on) < on
        # A resume with no name or reading says nothing about whose pause ends.
        resumed = bool(_who(pause)) and any(_who(r) == _who(pause) and r.recorded_at > pause.recorded_at for r in resumes)
        if not ended and not resumed:
            running.append(pause)
    return running
