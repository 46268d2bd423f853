"""Console routes for the night shift and the ward's privacy rules (issue 11): the alert
feed every page listens to, the idle lock, the password change after a reset, account
management for supervisors, the audit viewer and the erasure records."""

from __future__ import annotations

import secrets
import uuid
from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlalchemy import select

from frontdoor.clock import utc_now
from frontdoor.deps import RuntimeDep, SessionDep
from handoff import accounts, audit
from handoff import auth
from handoff.auth import AnyStaff, Manager, StaffChangingPassword, Supervisor
from handoff.console import _page, client_ip
from handoff.models import Case, CaseStatus, Role
from handoff.requests import service as request_service
from workers import retention

router = APIRouter(prefix="/console", include_in_schema=False)
ALERT_LEVELS = ("emergency", "urgent")


@router.get("/alerts")
async def alerts(staff: AnyStaff, session: SessionDep) -> JSONResponse:
    """Unaccepted emergency and urgent cases of the tenant: ids, level, escalated or past
    their deadline. No resident text, so it keeps working while the console is locked."""
    if staff.role == Role.MANAGER:
        return JSONResponse({"alerts": [], "requests_overdue": 0})
    now = utc_now()
    rows = await session.scalars(
        select(Case)
        .where(Case.tenant_id == staff.tenant_id, Case.status == CaseStatus.WAITING, Case.urgency.in_(ALERT_LEVELS))
        .order_by(Case.created_at)
    )
    items = [
        {
            "case_id": str(c.id),
            "urgency": c.urgency,
            "escalated": c.escalated_at is not None,
            "overdue": bool(c.due_at and c.due_at <= now),
        }
        for c in rows
    ]
    items.sort(key=lambda a: ALERT_LEVELS.index(a["urgency"]))
    # Requests past their due time (issue 13): a count for the worklist link, no sound.
    overdue = await request_service.overdue_count(session, tenant_id=staff.tenant_id, now=now)
    return JSONResponse({"alerts": items, "requests_overdue": overdue})


# --- Idle lock (Setagaya 別紙1-1 §14: 離席時にパスワードロック) ---------------------------


@router.post("/lock")
async def lock(request: Request, staff: AnyStaff, runtime: RuntimeDep) -> JSONResponse:  # noqa: ARG001
    """The browser saw no activity for the idle time: every page of this sign-in is refused
    until the password is given again (a reload does not get round it)."""
    await auth.lock(runtime.redis, auth.session_id(request), ttl_s=auth.max_age_s(runtime.settings))
    return JSONResponse({"locked": True})


@router.post("/unlock")
async def unlock(
    request: Request, staff: AnyStaff, runtime: RuntimeDep, session: SessionDep, password: Annotated[str, Form()] = ""
) -> Response:
    if not await accounts.verify_password(staff, password):
        if "text/html" in request.headers.get("accept", ""):
            return _page(request, "locked.html", staff, next=request.query_params.get("next", "/console/"), error="パスワードが違います。")
        return JSONResponse({"detail": "パスワードが違います。"}, status_code=401)
    await auth.unlock(runtime.redis, auth.session_id(request))
    await audit.record(session, staff=staff, action="unlocked", ip=client_ip(request))
    target = request.query_params.get("next", "")
    if "text/html" in request.headers.get("accept", ""):
        return RedirectResponse(target if target.startswith("/") else "/console/", status_code=303)
    return JSONResponse({"locked": False})


@router.get("/locked", response_class=HTMLResponse)
async def locked_page(request: Request, staff: AnyStaff, next: str = "/console/") -> HTMLResponse:
    return _page(request, "locked.html", staff, next=next if next.startswith("/") else "/console/", error=None)


# --- Password change (after a reset, or at will) ------------------------------------------


@router.get("/password", response_class=HTMLResponse)
async def password_page(request: Request, staff: StaffChangingPassword) -> HTMLResponse:
    return _page(request, "password.html", staff, error=None, forced=staff.must_change_password)


@router.post("/password")
async def change_password(
    request: Request,
    staff: StaffChangingPassword,
    session: SessionDep,
    runtime: RuntimeDep,
    current: Annotated[str, Form()],
    new: Annotated[str, Form()],
    again: Annotated[str, Form()],
) -> Response:
    error = "新しいパスワードが一致しません。" if new != again else None
    if error is None:
        try:
            await accounts.change_password(session, counselor=staff, current=current, new=new, now=utc_now(), demo_mode=runtime.settings.demo_data)
        except accounts.AccountError as exc:
            error = str(exc)
    if error:  # refused before anything changed
        return _page(request, "password.html", staff, error=error, forced=staff.must_change_password)
    await session.commit()
    return RedirectResponse("/dashboard/" if staff.role == Role.MANAGER else "/console/", status_code=303)


# --- Accounts (supervisors; Kashiwa 002 §10(2)オ) -----------------------------------------


async def _account_page(request: Request, staff, session, *, notice: str | None = None, error: str | None = None) -> HTMLResponse:  # noqa: ANN001
    return _page(
        request,
        "accounts.html",
        staff,
        accounts=await accounts.list_accounts(session, tenant_id=staff.tenant_id),
        load=await accounts.live_chats_by_counselor(session, tenant_id=staff.tenant_id),
        notice=notice,
        error=error,
    )


@router.get("/accounts", response_class=HTMLResponse)
async def accounts_page(request: Request, staff: Supervisor, session: SessionDep) -> HTMLResponse:
    """Every account of the tenant, the chats each holds now, and what a supervisor may change."""
    return await _account_page(request, staff, session)


async def _target(session, staff, account_id: uuid.UUID):  # noqa: ANN001, ANN202
    account = await session.get(type(staff), account_id, populate_existing=True)
    if account is None or account.tenant_id != staff.tenant_id:
        raise HTTPException(status_code=404, detail="アカウントが見つかりません。")
    return account


@router.post("/accounts/{account_id}/{action}", response_class=HTMLResponse)
async def account_action(
    request: Request,
    account_id: uuid.UUID,
    action: str,
    staff: Supervisor,
    session: SessionDep,
    runtime: RuntimeDep,
    cap: Annotated[str, Form()] = "",
) -> HTMLResponse:
    account = await _target(session, staff, account_id)
    now = utc_now()
    notice = None
    try:
        if action == "disable":
            if account.id == staff.id:
                raise accounts.AccountError("自分のアカウントは無効にできません。")
            await accounts.disable(session, counselor_id=account.id, actor=staff, now=now)
            notice = f"{account.login} を無効にしました。ログイン中の画面もすぐに使えなくなります。"
        elif action == "enable":
            await accounts.enable(session, counselor_id=account.id, actor=staff, now=now)
            notice = f"{account.login} を有効にしました。"
        elif action == "reset":
            temporary = secrets.token_urlsafe(12)
            await accounts.reset_password(session, counselor_id=account.id, temporary=temporary, actor=staff, now=now)
            notice = f"{account.login} の仮パスワード：{temporary}（本人に直接伝えてください。次のログインで変更が必要です）"
        elif action == "cap":
            value = int(cap) if cap.strip() else None
            await accounts.set_chat_cap(session, counselor_id=account.id, cap=value, actor=staff, now=now)
            notice = f"{account.login} の同時担当数を{value or '無制限'}にしました。"
        else:
            raise HTTPException(status_code=404)
    except (accounts.AccountError, ValueError) as exc:  # refused before anything changed
        message = str(exc) if isinstance(exc, accounts.AccountError) else "数字で入力してください。"
        return await _account_page(request, staff, session, error=message)
    await session.commit()
    return await _account_page(request, staff, session, notice=notice)


# --- Audit viewer and erasure records (supervisors and managers, own tenant only) ---------


def _filter(person: str, date_from: str, date_to: str, subject: str) -> audit.AuditFilter:
    try:
        return audit.AuditFilter(
            person=uuid.UUID(person) if person else None,
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            subject=uuid.UUID(subject.strip()) if subject.strip() else None,
        )
    except ValueError:
        raise HTTPException(status_code=400, detail="絞り込みの条件が正しくありません（日付は 2026-12-05、IDはそのまま貼り付けてください）。") from None


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, staff: Manager, session: SessionDep, person: str = "", date_from: str = "", date_to: str = "", subject: str = ""
) -> HTMLResponse:
    """Who viewed or changed which conversation or case, when, from where."""
    flt = _filter(person, date_from, date_to, subject)
    rows = await audit.search(session, tenant_id=staff.tenant_id, flt=flt, limit=500)
    await audit.record(session, staff=staff, action="view_audit", ip=client_ip(request))
    people = await accounts.list_accounts(session, tenant_id=staff.tenant_id)
    return _page(
        request, "audit.html", staff, rows=rows, people=people, query=request.url.query,
        person=person, date_from=date_from, date_to=date_to, subject=subject,
    )


@router.get("/audit.csv")
async def audit_csv(
    request: Request, staff: Manager, session: SessionDep, person: str = "", date_from: str = "", date_to: str = "", subject: str = ""
) -> Response:
    """The ward's audit export (CSV, UTF-8 with BOM)."""
    rows = await audit.search(session, tenant_id=staff.tenant_id, flt=_filter(person, date_from, date_to, subject), limit=100_000)
    await audit.record(session, staff=staff, action="export_audit", ip=client_ip(request))
    return Response(
        audit.to_csv(rows),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="audit-{staff.tenant_id}.csv"'},
    )


@router.get("/erasures", response_class=HTMLResponse)
async def erasures_page(request: Request, staff: Manager, session: SessionDep) -> HTMLResponse:
    """Every erasure of personal data, for the report to the ward (別紙1-1 §29)."""
    records = await retention.records(session, tenant_id=staff.tenant_id)
    return _page(request, "erasures.html", staff, records=records)


@router.get("/erasures.csv")
async def erasures_csv(request: Request, staff: Manager, session: SessionDep) -> Response:
    records = await retention.records(session, tenant_id=staff.tenant_id)
    await audit.record(session, staff=staff, action="download_erasure_record", ip=client_ip(request))
    return Response(
        retention.records_csv(records),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="erasure-{staff.tenant_id}.csv"'},
    )
