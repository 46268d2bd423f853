"""The daily status checks on the staff worklist (Setagaya 003 ⑤イ(キ)): each open intake
already reported to the ward is phoned every day from the day after the intake, 10:00–10:30,
until found. The night or next-day counselor sees them beside the other requests, with the
reporter's phone, the check count and the due time; the check itself is recorded by
handoff.missing.service.record_check (who and when, in its event row)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import to_jst
from handoff.missing.models import MissingPerson
from handoff.requests.models import Request, RequestEvent, RequestStatus


@dataclass(frozen=True)
class CheckRow:
    request: Request
    number: str
    phone: str
    n: int  # the check this call would be (1, 2, 3…)
    due_at: datetime
    today: bool  # due today: the call can be recorded now
    consult: bool  # three checks or a refusal: consult the ward (⑤イ(キ))
    last_at: datetime | None
    last_by: str


async def daily_checks(session: AsyncSession, *, tenant_id: str, now: datetime, names: dict[uuid.UUID, str]) -> list[CheckRow]:
    """Open intakes whose next deadline is a daily check, soonest first."""
    rows = await session.execute(
        select(Request, MissingPerson).join(MissingPerson, MissingPerson.request_id == Request.id)
        .where(
            Request.tenant_id == tenant_id, Request.status == RequestStatus.OPEN, Request.due_at.is_not(None),
            MissingPerson.ward_phoned_at.is_not(None), MissingPerson.form_mailed_at.is_not(None), MissingPerson.checks_refused_at.is_(None),
        )
        .order_by(Request.due_at)
    )
    today = to_jst(now).date()
    found = []
    for request, record in rows.all():
        last = await session.scalar(
            select(RequestEvent).where(RequestEvent.request_id == request.id, RequestEvent.action == "checked").order_by(RequestEvent.id.desc()).limit(1)
        )
        fields = request.fields or {}
        found.append(CheckRow(
            request, fields.get("management_no", ""), fields.get("reporter_phone", ""), record.checks + 1, request.due_at,
            to_jst(request.due_at).date() <= today, record.consult_at is not None,
            last.at if last else None, names.get(last.actor_id, "") if last and last.actor_id else ("チャットで回答" if last else ""),
        ))
    return found
