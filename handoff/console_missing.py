"""Console actions of the missing-person protocol (issue 8): thin routes over
handoff.missing. The case page shows the intake's 管理番号, its next deadline with a
countdown, and one button per step (phone report recorded, 別紙8-3/8-4 mailed, daily check,
the ward's found call), the 別紙8-3 items to complete at the call-back, a found notice taken
by phone (別紙8-4) and the history in Japanese. Every change and every download is audited."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException
from fastapi import Request as HttpRequest
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST, to_jst, utc_now
from frontdoor.deps import RuntimeDep, SessionDep
from handoff import accounts, audit
from handoff.auth import CaseWorker
from handoff.missing import service as missing
from handoff.missing.history import Entry, history
from handoff.missing.mail import MailNotSent, Smtp, build_form, send_to_ward
from handoff.missing.models import MissingPerson
from handoff.missing.timers import deadline_label
from handoff.models import Case
from handoff.requests.forms import FormField, load_forms
from handoff.requests.models import Request, RequestStatus
from handoff.requests.values import parse_answer

router = APIRouter(prefix="/console/missing", include_in_schema=False)
STATUS_JA = {"callback": "翌開庁日に折り返し", "open": "捜索中", "found": "発見（区へ報告）", "done": "対応終了"}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# 別紙8-4 items a counselor takes by phone (⑤イ(ク)): the chat form's fields, and who called.
FOUND_FIELDS = ("found_when", "found_place", "found_state", "notes")


@dataclass(frozen=True)
class Panel:
    request: Request
    record: MissingPerson
    label: str
    countdown: str
    status: str
    fields: tuple[FormField, ...]  # 別紙8-3 items, in the form's order
    found_fields: tuple[FormField, ...]  # 別紙8-4 items
    history: list[Entry]
    check_today: bool  # a daily check is due today (or overdue): it can be recorded now (⑤イ(キ))


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
    forms = load_forms()
    found_form = forms.get("missing_person_found")
    names = {c.id: c.display_name for c in await accounts.list_accounts(session, tenant_id=case.tenant_id)}
    return Panel(
        request, record, deadline_label(request, record), missing.countdown(request.due_at, now), STATUS_JA.get(str(request.status), str(request.status)),
        forms.get(missing.KIND).fields, tuple(f for f in found_form.fields if f.name in FOUND_FIELDS),
        await history(session, request_id=request.id, names=names, labels={f.name: f.label for f in (*forms.get(missing.KIND).fields, *found_form.fields)}),
        request.due_at is not None and record.form_mailed_at is not None and to_jst(request.due_at).date() <= to_jst(now).date(),
    )


async def _owned(session: AsyncSession, staff, request_id: uuid.UUID) -> Request:  # noqa: ANN001
    request = await session.get(Request, request_id)
    if request is None or request.tenant_id != staff.tenant_id or request.kind != missing.KIND:
        raise HTTPException(status_code=404, detail="この受付は見つかりません。")
    return request


def _back(case: str) -> Response:
    """To the case page, or to the worklist when the action was taken there (`case` = "worklist")."""
    if case == "worklist":
        return RedirectResponse("/console/requests", status_code=303)
    return RedirectResponse(f"/console/cases/{uuid.UUID(case)}#missing", status_code=303)


def _changed(fields: tuple[FormField, ...], posted, current: dict) -> dict[str, str]:  # noqa: ANN001
    """The posted values that differ from the record; a multiple choice (メニュー, 配信する項目)
    comes as checkboxes, counted only when the form showed them (`<name>__shown`)."""
    values: dict[str, str] = {}
    for f in fields:
        if f.type == "choices":
            if f"{f.name}__shown" not in posted:
                continue
            value = "、".join(o for o in f.options if o in posted.getlist(f.name))
        elif f.name in posted:
            value = str(posted[f.name]).strip()[:400]
        else:
            continue
        if f.type == "choice" and value and value not in f.options:
            raise HTTPException(status_code=400, detail=f"「{f.label}」は、選択肢から選んでください。")
        if f.type == "phone" and value and (parsed := parse_answer(f, value, utc_now().date())).error:
            raise HTTPException(status_code=400, detail=f"「{f.label}」：{parsed.error}")
        if value != (current.get(f.name) or ""):
            values[f.name] = value
    return values


@router.get("/{request_id}")
async def to_case(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> Response:
    """From the worklist to the case page, where the protocol's steps are."""
    request = await _owned(session, staff, request_id)
    case_id = await session.scalar(select(Case.id).where(Case.conversation_id == request.conversation_id).order_by(Case.created_at.desc()).limit(1))
    if request.conversation_id is None or case_id is None:
        raise HTTPException(status_code=404, detail="この受付の相談が見つかりません。")
    return RedirectResponse(f"/console/cases/{case_id}#missing", status_code=303)


@router.post("/{request_id}/fields")
async def edit_fields(request_id: uuid.UUID, http: HttpRequest, staff: CaseWorker, session: SessionDep) -> Response:
    """別紙8-3 items completed or corrected by phone (the call-back); `seen` is the version shown."""
    request = await _owned(session, staff, request_id)
    posted = await http.form()
    try:
        seen = datetime.fromisoformat(str(posted.get("seen", "")))
    except ValueError:
        raise HTTPException(status_code=400, detail="画面を読み込み直してから、もう一度入力してください。") from None
    values = _changed(load_forms().get(missing.KIND).fields, posted, request.fields or {})
    if values:
        if not await missing.edit_intake(session, request_id=request_id, counselor_id=staff.id, fields=values, seen=seen, now=utc_now()):
            await session.rollback()
            raise HTTPException(status_code=409, detail="ほかの担当者が先に更新したか、受付が終わっています。画面を読み込み直してから、もう一度入力してください。")
        await audit.record(session, staff=staff, action="edit_missing_intake", conversation_id=request.conversation_id, target=str(request_id), detail=",".join(sorted(values)))
    await session.commit()
    return _back(str(posted.get("case", "")))


@router.post("/{request_id}/found")
async def found_by_phone(request_id: uuid.UUID, http: HttpRequest, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    """A found notice taken by phone (⑤イ(ク), 別紙8-4): the same step as a found notice in chat."""
    request = await _owned(session, staff, request_id)
    posted = await http.form()
    details = {name: str(posted.get(name, "")).strip()[:400] for name in (*FOUND_FIELDS, "informant")}
    if not details["found_when"] or not details["found_place"]:
        raise HTTPException(status_code=400, detail="見つかった日時と場所を入力してください（わかる範囲で結構です）。")
    details = {k: v for k, v in details.items() if v}
    if not await missing.mark_found(session, request_id=request_id, details=details, tenant=runtime.tenants.get(request.tenant_id), now=utc_now(), actor_id=staff.id):
        await session.rollback()
        raise HTTPException(status_code=409, detail="この受付は、すでに発見済みか、終了しています。")
    await audit.record(session, staff=staff, action="missing_found_by_phone", conversation_id=request.conversation_id, target=str(request_id))
    await session.commit()
    return _back(str(posted.get("case", "")))


@router.get("/{request_id}/form.xlsx")
async def download(request_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    """別紙8-3 as it stands (別紙8-4 once found), the same file the mail carries (audited)."""
    request = await _owned(session, staff, request_id)
    _request, record = await missing.get(session, request_id)  # type: ignore[misc]
    await audit.record(session, staff=staff, action="export_missing_form", conversation_id=request.conversation_id, target=str(request_id))
    found = request.status == RequestStatus.FOUND or (request.status == RequestStatus.DONE and record.found is not None)
    form = await build_form(session, request=request, record=record, counselor_id=staff.id, tenant=runtime.tenants.get(request.tenant_id), now=utc_now(), found=found)
    await session.commit()
    name = "besshi8-4.xlsx" if found else "besshi8-3.xlsx"
    return Response(form.data, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename={name}"})


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
