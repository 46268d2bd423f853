"""Console actions of the missing-person protocol (issue 8): thin routes over
handoff.missing. The case page shows the intake's 管理番号, its next deadline with a
countdown, and one button per step (phone report recorded, 別紙8-3/8-4 mailed, daily check,
the ward's found call)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST, utc_now
from frontdoor.deps import RuntimeDep, SessionDep
from handoff.auth import CaseWorker
from handoff.missing import service as missing
from handoff.missing.mail import MailNotSent, Smtp, send_to_ward
from handoff.missing.models import MissingPerson
from handoff.missing.timers import deadline_label
from handoff.models import Case
from handoff.requests.models import Request

router = APIRouter(prefix="/console/missing", include_in_schema=False)
STATUS_JA = {"callback": "翌開庁日に折り返し", "open": "捜索中", "found": "発見（区へ報告）", "done": "対応終了"}


@dataclass(frozen=True)
class Panel:
    request: Request
    record: MissingPerson
    label: str
    countdown: str
    status: str


async def panel_for(session: AsyncSession, case: Case, now: datetime) -> Panel | None:
    """The intake recorded in this case's conversation, if any."""
    row = (
        await session.execute(
            select(Request, MissingPerson).join(MissingPerson, MissingPerson.request_id == Request.id)
            .where(Request.conversation_id == case.conversation_id).order_by(Request.created_at.desc()).limit(1)
        )
    ).first()
    if row is None:
        return None
    request, record = row
    return Panel(request, record, deadline_label(request, record), missing.countdown(request.due_at, now), STATUS_JA.get(str(request.status), str(request.status)))


async def _owned(session: AsyncSession, staff, request_id: uuid.UUID) -> Request:  # noqa: ANN001
    request = await session.get(Request, request_id)
    if request is None or request.tenant_id != staff.tenant_id or request.kind != missing.KIND:
        raise HTTPException(status_code=404, detail="この受付は見つかりません。")
    return request


def _back(case: str) -> Response:
    return RedirectResponse(f"/console/cases/{uuid.UUID(case)}", status_code=303)


@router.post("/{request_id}/ward-phone")
async def ward_phone(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, case: Annotated[str, Form()], to: Annotated[str, Form()]) -> Response:
    await _owned(session, staff, request_id)
    if not await missing.record_ward_phone(session, request_id=request_id, counselor_id=staff.id, to=to.strip() or "（未記入）", now=utc_now()):
        raise HTTPException(status_code=409, detail="電話報告は記録済みか、いまは記録できません。")
    await session.commit()
    return _back(case)


@router.post("/{request_id}/mail")
async def mail(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep, case: Annotated[str, Form()]) -> Response:
    request = await _owned(session, staff, request_id)
    settings = runtime.settings
    try:
        await send_to_ward(
            session, request_id=request_id, counselor_id=staff.id, tenant=runtime.tenants.get(request.tenant_id),
            smtp=Smtp(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender), now=utc_now(),
        )
    except MailNotSent as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await session.commit()
    return _back(case)


@router.post("/{request_id}/callback")
async def callback(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep, case: Annotated[str, Form()], result: Annotated[str, Form()]) -> Response:
    """The next-opening-day call (⑤ウ(エ)): still missing → the intake continues; found → closed."""
    request = await _owned(session, staff, request_id)
    now = utc_now()
    if result == "found":
        done = await missing.callback_found(session, request_id=request_id, counselor_id=staff.id, now=now)
    else:
        done = await missing.callback_intake(session, request_id=request_id, counselor_id=staff.id, fields={}, tenant=runtime.tenants.get(request.tenant_id), now=now)
    if not done:
        raise HTTPException(status_code=409, detail="この受付は、すでに折り返し済みです。")
    await session.commit()
    return _back(case)


@router.post("/{request_id}/check")
async def check(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, case: Annotated[str, Form()], outcome: Annotated[str, Form()]) -> Response:
    await _owned(session, staff, request_id)
    if outcome not in ("not_found", "refused") or await missing.record_check(session, request_id=request_id, counselor_id=staff.id, outcome=outcome, now=utc_now()) is None:
        raise HTTPException(status_code=409, detail="状況確認を記録できませんでした。")
    await session.commit()
    return _back(case)


@router.post("/{request_id}/ward-end")
async def ward_end(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, case: Annotated[str, Form()], ward_call_at: Annotated[str, Form()]) -> Response:
    """⑤イ※: the ward phoned that the person was found; the call time is entered in JST."""
    await _owned(session, staff, request_id)
    try:
        when = datetime.fromisoformat(ward_call_at).replace(tzinfo=JST)
    except ValueError:
        raise HTTPException(status_code=400, detail="日時の形式が正しくありません。") from None
    if not await missing.end_by_ward(session, request_id=request_id, counselor_id=staff.id, ward_call_at=when, now=utc_now()):
        raise HTTPException(status_code=409, detail="この受付は、すでに終了しています。")
    await session.commit()
    return _back(case)
