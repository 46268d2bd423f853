"""The staff worklist (issue 13 "Staff side"): thin routes over the request service. Every
view that shows a request's fields or its conversation writes an audit entry first."""

from __future__ import annotations

import asyncio

import uuid
from dataclasses import replace
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot import conversations as conv_service
from bot.models import Author, Conversation
from frontdoor.clock import JST, utc_now
from frontdoor.deps import RuntimeDep, SessionDep
from handoff import accounts, audit, live
from handoff.auth import CaseWorker
from handoff.console import _page, _telegram, client_ip
from handoff.missing import worklist as missing_worklist
from handoff.models import Case
from handoff.requests import service as request_service
from handoff.requests import sheets, staff_entry
from handoff.requests.forms import load_forms
from handoff.requests.models import Request as ServiceRequest
from handoff.requests.models import RequestStatus
from handoff.requests.values import display
from workers.reports.periods import Month

router = APIRouter(prefix="/console/requests", include_in_schema=False)

STATUS_JA = {
    "draft": "入力途中", "incomplete": "未完了（途中でやめた）", "refused": "受付できず", "open": "未対応", "question": "質問中", "done": "対応済",
    "callback": "翌開庁日に折り返し", "found": "発見（区へ報告）",  # missing-person intakes (issue 8)
}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ORDER = {"found": 0, "callback": 0, "open": 0, "question": 1, "draft": 2, "incomplete": 3, "refused": 4, "done": 5}


async def _request_for(session, staff, request_id: uuid.UUID) -> ServiceRequest:  # noqa: ANN001
    request = await session.get(ServiceRequest, request_id, populate_existing=True)
    if request is None or request.tenant_id != staff.tenant_id:
        raise HTTPException(status_code=404, detail="この受付は見つかりません。")
    return request


def _not_missing_person(item: ServiceRequest) -> None:
    """A missing-person intake is worked on its case page (handoff.console_missing): closing or
    editing it here would skip its protocol (ward report, checks, 別紙8-4)."""
    if item.kind == "missing_person":
        raise HTTPException(status_code=409, detail="行方不明の受付は、相談の画面（管理番号から開く）で対応してください。")


def _xlsx(body: bytes, name: str) -> Response:
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


def _rows(forms, requests: list[ServiceRequest], now: datetime) -> list[dict]:  # noqa: ANN001
    """期限切れ first, then new requests by status and due time."""
    rows = []
    for r in requests:
        form = forms.get(r.kind) if r.kind in forms else None
        rows.append({
            "request": r, "title": form.title if form else r.kind, "task": form.staff_task(r.fields or {}) if form else "",
            "status": STATUS_JA[str(r.status)], "overdue": request_service.is_overdue(r, now),
        })
    rows.sort(key=lambda row: (not row["overdue"], ORDER.get(str(row["request"].status), 9), row["request"].due_at or row["request"].created_at, -row["request"].created_at.timestamp()))
    return rows


@router.get("", response_class=HTMLResponse)
async def worklist(request: Request, staff: CaseWorker, session: SessionDep, status: str = "active", kind: str = "") -> HTMLResponse:
    """New requests first, by due time; open ones, then those in progress or given up."""
    statuses = {
        "active": (RequestStatus.OPEN, RequestStatus.QUESTION, RequestStatus.DRAFT, RequestStatus.INCOMPLETE, RequestStatus.CALLBACK, RequestStatus.FOUND),
        "done": (RequestStatus.DONE,),
        "all": None,
    }.get(status, (RequestStatus.OPEN,))
    forms = load_forms()
    found = await request_service.list_requests(session, tenant_id=staff.tenant_id, statuses=statuses)
    if kind:
        found = [r for r in found if r.kind == kind]
    await audit.record(session, staff=staff, action="view_worklist")
    kinds = [(f.kind, f.title) for f in forms.all() if staff.tenant_id in f.tenants]
    now = utc_now()
    names = {c.id: c.display_name for c in await accounts.list_accounts(session, tenant_id=staff.tenant_id)}
    checks = await missing_worklist.daily_checks(session, tenant_id=staff.tenant_id, now=now, names=names) if status == "active" else []
    return _page(
        request, "requests.html", staff, rows=_rows(forms, found, now), status=status, kind=kind, kinds=kinds, now=now, month=f"{datetime.now(JST):%Y-%m}",
        missing_checks=checks,
    )


@router.post("/referral")
async def record_referral(request: Request, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    """多機関協働 (Kashiwa 002 §7(2)): a counselor records a referral from a case or a conversation."""
    posted = await request.form()
    try:
        conversation_id = uuid.UUID(str(posted.get("conversation_id", "")))
        case_id = uuid.UUID(str(posted["case_id"])) if posted.get("case_id") else None
    except ValueError:
        raise HTTPException(status_code=404, detail="この会話は見つかりません。") from None
    conversation = await session.get(Conversation, conversation_id)
    case = await session.get(Case, case_id) if case_id else None
    today = datetime.now(JST).date()
    slot = staff_entry.slot(load_forms(), kind=staff_entry.REFERRAL, tenant_id=staff.tenant_id, conversation_id=conversation_id, case_id=case_id, today=today)
    if slot is None or conversation is None or conversation.tenant_id != staff.tenant_id or (case_id and (case is None or case.conversation_id != conversation_id)):
        raise HTTPException(status_code=404, detail="この会話は見つかりません。")
    entry = staff_entry.read(slot.form, {k: posted.getlist(k) for k in posted.keys()}, today=today)
    if entry.errors:
        back = f"/console/cases/{case_id}" if case_id else f"/console/conversations/{conversation_id}"
        return _page(request, "referral.html", staff, status_code=400, referral=replace(slot, entry=entry), back=back)
    item = await request_service.record_by_staff(
        session, tenant=runtime.tenants.get(staff.tenant_id), form=slot.form, conversation_id=conversation_id, counselor_id=staff.id,
        fields=entry.fields, now=utc_now(),
    )
    await audit.record(session, staff=staff, action="record_referral", conversation_id=conversation_id, case_id=case_id, target=str(item.id), ip=client_ip(request))
    await session.commit()
    return RedirectResponse(f"/console/requests/{item.id}", status_code=303)


@router.get("/{request_id}", response_class=HTMLResponse)
async def request_page(request: Request, request_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    """One request with its fields, what staff do with it and the conversation (audited)."""
    item = await _request_for(session, staff, request_id)
    if item.kind == "missing_person":
        return RedirectResponse(f"/console/missing/{request_id}", status_code=303)  # type: ignore[return-value]
    await audit.record(session, staff=staff, action="view_request", conversation_id=item.conversation_id)
    forms = load_forms()
    form = forms.get(item.kind)
    fields = item.fields or {}
    shown = [(f.name, f.label, display(f, fields.get(f.name)), f.options) for f in form.fields if form.asked(f, fields)]
    staff_fields = [(f.name, f.label, fields.get(f.name, ""), f.options) for f in form.staff_fields]
    names = {c.id: c.display_name for c in await accounts.colleagues(session, tenant_id=staff.tenant_id)}
    messages = await conv_service.history(session, conversation_id=item.conversation_id) if item.conversation_id else []
    return _page(
        request, "request.html", staff, item=item, form=form, shown=shown, staff_fields=staff_fields, task=form.staff_task(fields),
        status_ja=STATUS_JA[str(item.status)], overdue=request_service.is_overdue(item, utc_now()), events=await request_service.events(session, request_id=item.id), names=names, messages=messages,
    )


@router.post("/{request_id}/done")
async def mark_done(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> Response:
    """対応済, with who and when."""
    _not_missing_person(await _request_for(session, staff, request_id))
    if not await request_service.mark_done(session, request_id=request_id, counselor_id=staff.id, now=utc_now()):
        await session.rollback()
        raise HTTPException(status_code=409, detail="この受付は、すでに対応済か、まだ記録されていません。")
    await session.commit()
    return RedirectResponse(f"/console/requests/{request_id}", status_code=303)


@router.post("/{request_id}/edit")
async def edit(request: Request, request_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> Response:
    """Fields corrected by staff (after a phone call); only the form's own field names are taken."""
    item = await _request_for(session, staff, request_id)
    _not_missing_person(item)
    form = load_forms().get(item.kind)
    allowed = {f.name for f in form.fields} | {f.name for f in form.staff_fields}
    posted = await request.form()
    values = {k: str(v).strip()[:2000] for k, v in posted.items() if k in allowed and str(v).strip() != (item.fields or {}).get(k, "")}
    if values and not await request_service.edit_fields(session, request_id=request_id, counselor_id=staff.id, fields=values, now=utc_now()):
        await session.rollback()
        raise HTTPException(status_code=409, detail="入力途中の受付は編集できません。")
    await session.commit()
    return RedirectResponse(f"/console/requests/{request_id}", status_code=303)


@router.post("/{request_id}/question")
async def send_question(request: Request, request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A question back to the resident, on their own channel, from the request."""
    item = await _request_for(session, staff, request_id)
    text = str((await request.form()).get("text", "")).strip()
    if not text or len(text) > runtime.settings.max_message_chars or item.conversation_id is None:
        raise HTTPException(status_code=400, detail="質問が空か、長すぎます。")
    if not await request_service.ask_back(session, request_id=request_id, counselor_id=staff.id, now=utc_now()):
        await session.rollback()
        raise HTTPException(status_code=409, detail="記録済みの受付にだけ質問を送れます。")
    await session.commit()
    await live.post(session, relay=runtime.relay, telegram=_telegram(runtime), conversation_id=item.conversation_id, text=text, author=Author.COUNSELOR, counselor_id=staff.id)
    return RedirectResponse(f"/console/requests/{request_id}", status_code=303)


@router.get("/{request_id}/sheet.xlsx")
async def sheet(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> Response:
    """別紙3 (a schedule change) or 別紙9 (a complaint) for one request."""
    item = await _request_for(session, staff, request_id)
    await audit.record(session, staff=staff, action="export_request", conversation_id=item.conversation_id)
    form = load_forms().get(item.kind)
    if item.kind == "setagaya.phone_visit_change":
        return _xlsx(await asyncio.to_thread(sheets.besshi3, form, item, stamp=utc_now()), "besshi3.xlsx")
    if item.kind == "complaint":
        return _xlsx(await asyncio.to_thread(sheets.besshi9, form, item, stamp=utc_now()), "besshi9.xlsx")
    raise HTTPException(status_code=404, detail="この受付の様式はありません。")


@router.get("/export/besshi4.xlsx")
async def besshi4(staff: CaseWorker, session: SessionDep, month: Annotated[str, Query(pattern=r"^\d{4}-\d{2}$")]) -> Response:
    """別紙4: the month's cancellations."""
    period = Month.parse(month)
    start, end = period.utc_bounds()
    found = await request_service.recorded_between(session, tenant_id=staff.tenant_id, kinds=("setagaya.phone_visit_cancel",), start=start, end=end)
    await audit.record(session, staff=staff, action="export_besshi4")
    body = await asyncio.to_thread(sheets.besshi4, load_forms().get("setagaya.phone_visit_cancel"), found, month=month, stamp=utc_now())
    return _xlsx(body, f"besshi4-{month}.xlsx")


@router.get("/export/pause-list.xlsx")
async def pause_list(staff: CaseWorker, session: SessionDep) -> Response:
    """The quarterly 休止者リスト: pauses still running today."""
    now = utc_now()
    local = now.astimezone(JST)
    quarter = f"{local.year if local.month >= 4 else local.year - 1}年度 第{((local.month - 4) % 12) // 3 + 1}四半期"
    found = await request_service.open_pauses(session, tenant_id=staff.tenant_id, on=local.date())
    await audit.record(session, staff=staff, action="export_pause_list")
    body = await asyncio.to_thread(sheets.pause_list, load_forms().get("setagaya.phone_visit_pause"), found, quarter=quarter, as_of=local.date(), stamp=now)
    return _xlsx(body, "pause-list.xlsx")
