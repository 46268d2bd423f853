"""The counselor console: thin routes over handoff services. Every page that shows
conversation text writes an audit entry first; resident text is escaped by Jinja."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from bot import conversations as conv_service
from bot import deliveries
from bot.models import Author, Conversation, ConversationStatus
from frontdoor.clock import JST, to_jst, utc_now
from bot import check_ins
from frontdoor.deps import RuntimeDep, SessionDep
from frontdoor.web_security import install_template_globals
from handoff import accounts, audit, live, login_guard
from knowledge import disaster
from handoff import cases as case_service
from handoff.auth import COOKIE, CaseWorker, cookie_counselor_id, issue_cookie, max_age_s
from handoff.canned import canned_for
from handoff.console_missing import panel_for
from handoff.models import Case, CaseStatus, Counselor, Role, Route
from handoff.history import describe as describe_event
from handoff.queue_view import describe_cases
from handoff.queues import live_queue
from handoff.requests import staff_entry
from handoff.requests.forms import load_forms
from workers.reports import periods as report_periods
from workers.reports import queries as report_queries

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
templates.env.filters["jst"] = lambda value: to_jst(value).strftime("%m/%d %H:%M") if value else ""
install_template_globals(templates.env, lambda request: request.app.state.runtime.settings.secret_key)
router = APIRouter(prefix="/console", include_in_schema=False)

URGENCY_JA = {"emergency": "緊急", "urgent": "至急", "none": "通常"}
STATUS_JA = {"waiting": "待機中", "assigned": "担当決定", "in_progress": "対応中", "scheduled": "予約済み", "closed": "終了"}
ROUTE_JA = {"chat": "チャット", "phone": "電話", "face_to_face": "面談", "email": "メール"}
OUTCOMES = case_service.OUTCOMES
KIND_JA = {
    "overdose": "薬の飲みすぎ", "self_harm": "自傷・死にたい気持ち", "fire": "火事・煙・ガス", "violence": "暴力・危険",
    "medical": "急病・けが", "missing_person": "行方不明", "abuse_dv": "虐待・DV", "basic_needs": "食事・お金・住まい",
    "isolation": "連絡がとれない", "worried_about_other": "周りの方の心配",
}
SUBJECT_JA = {"self": "本人", "other": "家族・周りの方", "unknown": "不明"}
templates.env.globals.update(
    URGENCY_JA=URGENCY_JA, STATUS_JA=STATUS_JA, ROUTE_JA=ROUTE_JA, kind_labels=KIND_JA, subject_labels=SUBJECT_JA
)


def _page(request: Request, name: str, staff: Counselor | None, status_code: int = 200, **context) -> HTMLResponse:  # noqa: ANN003
    # Every console page carries the idle-lock time (Setagaya 別紙1-1 §14) for lock.js.
    settings = request.app.state.runtime.settings
    return templates.TemplateResponse(
        request, name, {"staff": staff, "idle_lock_ms": int(settings.idle_lock_minutes * 60_000), **context}, status_code=status_code
    )


def client_ip(request: Request) -> str | None:
    """Where a request came from, for the audit log. Behind a load balancer uvicorn's
    --proxy-headers (trusted proxies only) puts the real address here; a client-sent
    X-Forwarded-For is never believed on its own."""
    return request.client.host if request.client else None


async def _case_for(session, staff: Counselor, case_id: uuid.UUID) -> Case:  # noqa: ANN001
    case = await session.get(Case, case_id, populate_existing=True)
    if case is None or case.tenant_id != staff.tenant_id:
        raise HTTPException(status_code=404, detail="この案件は見つかりません。")
    return case


def _tenant_name(request: Request, staff: Counselor) -> str:
    return request.app.state.runtime.tenants.get(staff.tenant_id).name


async def _holder_or_supervisor(session, staff: Counselor, case: Case) -> None:  # noqa: ANN001
    """Only the counselor holding a case, or a supervisor, may hand it back or close it (issue 12)."""
    if staff.role == Role.SUPERVISOR or case.assignee_id in (None, staff.id):
        return
    holder = await accounts.get_counselor(session, case.assignee_id)
    name = holder.display_name if holder else "別の相談員"
    raise HTTPException(status_code=403, detail=f"この案件は{name}さんが担当しています。担当者か責任者だけが操作できます。")


def _referral(staff: Counselor, conversation_id: uuid.UUID, case_id: uuid.UUID | None) -> staff_entry.Slot | None:
    """The 多機関協働 form on a case or conversation page (Kashiwa 002 §7(2)), where the tenant has it."""
    return staff_entry.slot(
        load_forms(), kind=staff_entry.REFERRAL, tenant_id=staff.tenant_id, conversation_id=conversation_id, case_id=case_id,
        today=datetime.now(JST).date(),
    )


def _telegram(runtime):  # noqa: ANN001, ANN202
    return runtime.extras.get("telegram")


def _safe_next(value: str | None) -> str:
    """Only a path on this site: `//evil.example/…`, `/\\evil…` and full URLs go to the console (issue 12)."""
    if not value or not value.startswith("/") or value.startswith(("//", "/\\")) or any(c in value for c in "\\\r\n\t\x00"):
        return "/console/"
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else "/console/"


@router.get("/login", response_class=HTMLResponse)
async def login_page(request: Request, next: str = "/console/") -> HTMLResponse:
    """Sign-in with an individual account."""
    return _page(request, "login.html", None, next=_safe_next(next), error=None)


@router.post("/login")
async def login(
    request: Request,
    runtime: RuntimeDep,
    session: SessionDep,
    login: Annotated[str, Form()],
    password: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/console/",
) -> Response:
    """Failures are limited per account and per address, in the database, and audited."""
    next, now = _safe_next(next), utc_now()
    address = request.client.host if request.client else "unknown"
    attempt = login_guard.attempt(runtime.settings.secret_key, login=login, address=address)
    if await login_guard.blocked(session, attempt, now=now):
        return _page(request, "login.html", None, next=next, error="ログインの失敗が続いたため、5分ほど待ってからお試しください。", status_code=429)
    staff = None
    if len(login) <= login_guard.MAX_LOGIN_CHARS and len(password) <= login_guard.MAX_PASSWORD_CHARS and "\x00" not in login + password:
        staff = await accounts.authenticate(session, login=login.strip(), password=password)
    if staff is None:
        await login_guard.failed(session, attempt, login=login, now=now)
        return _page(request, "login.html", None, next=next, error="ログインIDかパスワードが違います。", status_code=401)
    await audit.record(session, staff=staff, action="login", ip=client_ip(request), detail=f"address={address[:64]}")
    if staff.must_change_password:
        target = "/console/password"
    elif staff.role == Role.MANAGER and next == "/console/":
        target = "/dashboard/"
    else:
        target = next
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        COOKIE, issue_cookie(runtime.settings.secret_key, staff), max_age=max_age_s(runtime.settings), httponly=True, samesite="lax",
        secure=runtime.settings.public_base_url.startswith("https://"),
    )
    return response


@router.post("/logout")
async def logout(request: Request, runtime: RuntimeDep, session: SessionDep) -> Response:
    """Ends the session on the server too: the old cookie no longer works (issue 12)."""
    counselor_id = cookie_counselor_id(runtime.settings.secret_key, request.cookies.get(COOKIE, ""), max_age=max_age_s(runtime.settings))
    if counselor_id is not None:
        await accounts.end_sessions(session, counselor_id=counselor_id, now=utc_now())
        await session.commit()
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(COOKIE, httponly=True, samesite="lax", secure=runtime.settings.public_base_url.startswith("https://"))
    return response


@router.get("/static/{name}")
async def static(name: str) -> FileResponse:
    path = HERE / "static" / name
    if not path.is_file() or path.parent != HERE / "static":
        raise HTTPException(status_code=404)
    return FileResponse(path)


@router.get("/", response_class=HTMLResponse)
async def queue_page(request: Request, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    """The live queue: urgency first, then waiting time."""
    rows = await describe_cases(session, await live_queue(session, tenant_id=staff.tenant_id))
    waiting = await check_ins.pending(session, tenant_id=staff.tenant_id)
    return _page(request, "queue.html", staff, rows=rows, check_ins=waiting, now=utc_now(), tenant_name=_tenant_name(request, staff))


@router.get("/queue/rows", response_class=HTMLResponse)
async def queue_rows(request: Request, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    rows = await describe_cases(session, await live_queue(session, tenant_id=staff.tenant_id))
    return _page(request, "_queue_rows.html", staff, rows=rows, now=utc_now(), tenant_name=_tenant_name(request, staff))


@router.get("/check-ins/rows", response_class=HTMLResponse)
async def check_in_rows(request: Request, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    """要確認: conversations whose safety question waits for an answer (no alarm)."""
    waiting = await check_ins.pending(session, tenant_id=staff.tenant_id)
    return _page(request, "_check_in_rows.html", staff, check_ins=waiting)


@router.get("/cases/{case_id}", response_class=HTMLResponse)
async def case_page(request: Request, case_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    """One case with the whole conversation (the view is audited)."""
    case = await _case_for(session, staff, case_id)
    await audit.record(session, staff=staff, action="view_case", conversation_id=case.conversation_id, case_id=case.id, ip=client_ip(request))
    conversation = await session.get(Conversation, case.conversation_id)
    context = {
        "case": case,
        "conversation": conversation,
        "messages": await conv_service.history(session, conversation_id=case.conversation_id),
        "undelivered": await deliveries.undelivered_ids(session, conversation_id=case.conversation_id),
        "notes": await case_service.notes_for(session, case.id),
        "events": await case_service.events_for(session, case.id),
        "describe_event": describe_event,
        "colleagues": [c for c in await accounts.colleagues(session, tenant_id=staff.tenant_id) if c.id != staff.id],
        "canned": canned_for(staff.tenant_id, counselor_name=staff.display_name.split()[0]),
        "outcomes": OUTCOMES,
        "names": {c.id: c.display_name for c in await accounts.list_accounts(session, tenant_id=staff.tenant_id)},
        "holds_chat": case.status == CaseStatus.IN_PROGRESS and case.assignee_id == staff.id,
        "missing_panel": await panel_for(session, case, utc_now()),
        "referral": _referral(staff, case.conversation_id, case.id),
    }
    return _page(request, "case.html", staff, **context)


async def _after(runtime, case: Case, event: str) -> None:  # noqa: ANN001
    await live.notify_consoles(runtime.relay, case.tenant_id, {"type": event, "case_id": str(case.id)})


@router.post("/cases/{case_id}/take-over")
async def take_over(case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    """Accept the case and hold the chat: the bot goes silent and the resident is told."""
    await _case_for(session, staff, case_id)
    try:
        case = await case_service.take_over(session, case_id=case_id, counselor_id=staff.id, now=utc_now())
    except case_service.CaseConflict as exc:
        await session.rollback()
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await session.commit()
    await live.post(session, relay=runtime.relay, telegram=_telegram(runtime), line=runtime.extras.get("line"), conversation_id=case.conversation_id, text=live.JOINED, author=Author.SYSTEM)
    await _after(runtime, case, "taken_over")
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/messages")
async def send_message(
    case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep, text: Annotated[str, Form()]
) -> Response:
    """A counselor's reply, relayed to the resident on their own channel."""
    case = await _case_for(session, staff, case_id)
    if case.status != CaseStatus.IN_PROGRESS or case.assignee_id != staff.id:
        raise HTTPException(status_code=409, detail="先に「対応する」を押して、会話を引き継いでください。")
    body = text.strip()
    if not body or len(body) > runtime.settings.max_message_chars:
        raise HTTPException(status_code=400, detail="メッセージが空か、長すぎます。")
    message = await live.post(
        session, relay=runtime.relay, telegram=_telegram(runtime), line=runtime.extras.get("line"), conversation_id=case.conversation_id,
        text=body, author=Author.COUNSELOR, counselor_id=staff.id,
    )
    return JSONResponse({"id": message.id})


@router.post("/cases/{case_id}/hand-back")
async def hand_back(case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep) -> Response:
    case = await _case_for(session, staff, case_id)
    await _holder_or_supervisor(session, staff, case)
    case = await case_service.hand_back_to_bot(session, case_id=case.id, counselor_id=staff.id, now=utc_now())
    await session.commit()
    await live.post(session, relay=runtime.relay, telegram=_telegram(runtime), line=runtime.extras.get("line"), conversation_id=case.conversation_id, text=live.HANDED_BACK, author=Author.SYSTEM)
    await _after(runtime, case, "handed_back")
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/transfer")
async def transfer(
    case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, runtime: RuntimeDep, to: Annotated[uuid.UUID, Form()]
) -> Response:
    """Hand the case to a colleague (supervisors reassign the same way)."""
    case = await _case_for(session, staff, case_id)
    target = await accounts.get_counselor(session, to)
    if target is None or target.tenant_id != staff.tenant_id or target.role == Role.MANAGER:
        raise HTTPException(status_code=400, detail="引き継ぎ先が正しくありません。")
    if staff.role != Role.SUPERVISOR and case.assignee_id not in (None, staff.id):
        raise HTTPException(status_code=403, detail="他の相談員の案件は、責任者だけが割り当てを変えられます。")
    await case_service.assign(session, case_id=case.id, counselor_id=target.id, actor_id=staff.id, now=utc_now())
    if case.status == CaseStatus.IN_PROGRESS:
        await case_service.hand_back_to_bot(session, case_id=case.id, counselor_id=staff.id, now=utc_now())
    await session.commit()
    await _after(runtime, case, "transferred")
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/schedule")
async def schedule(
    case_id: uuid.UUID,
    staff: CaseWorker,
    session: SessionDep,
    runtime: RuntimeDep,
    route: Annotated[Route, Form()],
    appointment_at: Annotated[str, Form()],
) -> Response:
    """Book a phone callback or a face-to-face appointment (time entered in JST)."""
    await _case_for(session, staff, case_id)
    try:
        when = datetime.fromisoformat(appointment_at).replace(tzinfo=JST)
    except ValueError:
        raise HTTPException(status_code=400, detail="日時の形式が正しくありません。") from None
    try:
        case = await case_service.schedule(session, case_id=case_id, counselor_id=staff.id, route=route, appointment_at=when, now=utc_now())
    except case_service.CaseConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await session.commit()
    await _after(runtime, case, "scheduled")
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.post("/cases/{case_id}/close")
async def close(
    case_id: uuid.UUID,
    staff: CaseWorker,
    session: SessionDep,
    runtime: RuntimeDep,
    outcome: Annotated[str, Form()] = "",
    note: Annotated[str, Form()] = "",
) -> Response:
    case = await _case_for(session, staff, case_id)
    await _holder_or_supervisor(session, staff, case)
    held = case.status == CaseStatus.IN_PROGRESS
    try:
        case = await case_service.close(session, case_id=case.id, counselor_id=staff.id, outcome=outcome[:64], note=note[:4000], now=utc_now())
    except case_service.CaseInvalid as exc:
        await session.rollback()
        raise HTTPException(status_code=400, detail=str(exc)) from None
    except case_service.CaseConflict as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    await session.commit()
    if held:
        await live.post(session, relay=runtime.relay, telegram=_telegram(runtime), line=runtime.extras.get("line"), conversation_id=case.conversation_id, text=live.CLOSED, author=Author.SYSTEM)
    await _after(runtime, case, "closed")
    return RedirectResponse("/console/", status_code=303)


@router.post("/cases/{case_id}/notes")
async def add_note(case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, text: Annotated[str, Form()]) -> Response:
    """A private note: staff only, never sent to the resident."""
    await _case_for(session, staff, case_id)
    if text.strip():
        await case_service.add_note(session, case_id=case_id, counselor_id=staff.id, text=text.strip()[:4000], now=utc_now())
        await session.commit()
    return RedirectResponse(f"/console/cases/{case_id}#notes", status_code=303)


@router.post("/cases/{case_id}/labels")
async def set_labels(case_id: uuid.UUID, staff: CaseWorker, session: SessionDep, labels: Annotated[str, Form()] = "") -> Response:
    await _case_for(session, staff, case_id)
    parts = [p[:30] for p in labels.replace("、", ",").split(",")][:10]
    await case_service.set_labels(session, case_id=case_id, counselor_id=staff.id, labels=parts, now=utc_now())
    await session.commit()
    return RedirectResponse(f"/console/cases/{case_id}", status_code=303)


@router.get("/conversations", response_class=HTMLResponse)
async def conversations(
    request: Request,
    staff: CaseWorker,
    session: SessionDep,
    status: str | None = None,
    month: str | None = None,
    date: str | None = None,
    weekday: Annotated[int | None, Query(ge=0, le=6)] = None,
    hour: Annotated[int | None, Query(ge=0, le=23)] = None,
    category: str | None = None,
    urgency: str | None = None,
    route: str | None = None,
) -> HTMLResponse:
    """Conversation list: the supervisor's view of live conversations and the dashboard's
    drill-down (same filters as its figures). No resident text on this page."""
    stmt = select(Conversation).where(Conversation.tenant_id == staff.tenant_id)
    try:
        if month:
            period = report_periods.Month.parse(month)
            stmt = stmt.where(Conversation.local_date.between(period.first_day, period.last_day))
        if date:
            stmt = stmt.where(Conversation.local_date == datetime.fromisoformat(date).date())
    except ValueError:
        raise HTTPException(status_code=400, detail="日付の形式が正しくありません。") from None
    if status == "open":
        stmt = stmt.where(Conversation.status == ConversationStatus.OPEN)
    if weekday is not None:
        stmt = stmt.where(report_queries.weekday_of(session.bind.dialect.name, Conversation.local_date) == weekday)
    if hour is not None:
        stmt = stmt.where(Conversation.local_hour == hour)
    if category:
        stmt = stmt.where(report_queries.CATEGORY == category)
    if urgency:
        if urgency not in URGENCY_JA:
            raise HTTPException(status_code=400, detail="緊急度の指定が正しくありません。")
        stmt = stmt.where(Conversation.urgency == urgency)
    if route:
        if route not in ROUTE_JA:
            raise HTTPException(status_code=400, detail="対応方法の指定が正しくありません。")
        stmt = stmt.where(Conversation.id.in_(select(Case.conversation_id).where(Case.route == route)))
    rows = list(await session.scalars(stmt.order_by(Conversation.started_at.desc()).limit(500)))
    case_ids = {
        row[0]: row[1]
        for row in await session.execute(select(Case.conversation_id, Case.id).where(Case.conversation_id.in_([c.id for c in rows])))
    }
    return _page(request, "conversations.html", staff, conversations=rows, case_ids=case_ids, live=status == "open")


@router.get("/conversations/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(request: Request, conversation_id: uuid.UUID, staff: CaseWorker, session: SessionDep) -> HTMLResponse:
    conversation = await session.get(Conversation, conversation_id)
    if conversation is None or conversation.tenant_id != staff.tenant_id:
        raise HTTPException(status_code=404, detail="この会話は見つかりません。")
    await audit.record(session, staff=staff, action="view_conversation", conversation_id=conversation_id, ip=client_ip(request))
    messages = await conv_service.history(session, conversation_id=conversation_id)
    undelivered = await deliveries.undelivered_ids(session, conversation_id=conversation_id)
    return _page(
        request, "conversation.html", staff, conversation=conversation, messages=messages, undelivered=undelivered,
        referral=_referral(staff, conversation_id, None),
    )


@router.get("/disaster", response_class=HTMLResponse)
async def disaster_page(request: Request, staff: CaseWorker, session: SessionDep, error: str | None = None) -> HTMLResponse:
    """The tenant's disaster notice (issue 15; seed 003 §1(2)⑥ケ(イ)): on/off, text, link."""
    notice = await session.get(disaster.DisasterNotice, staff.tenant_id)
    return _page(request, "disaster.html", staff, notice=notice, error=error, max_text=disaster.MAX_TEXT)


@router.post("/disaster")
async def disaster_switch(
    request: Request,
    staff: CaseWorker,
    session: SessionDep,
    action: Annotated[str, Form()],
    text: Annotated[str, Form()] = "",
    url: Annotated[str, Form()] = "",
) -> Response:
    try:
        if action == "on":
            await disaster.switch_on(session, tenant_id=staff.tenant_id, staff_id=staff.id, text=text, url=url, now=utc_now())
        else:
            await disaster.switch_off(session, tenant_id=staff.tenant_id, staff_id=staff.id, now=utc_now())
    except disaster.NoticeError as exc:
        notice = await session.get(disaster.DisasterNotice, staff.tenant_id)
        return _page(request, "disaster.html", staff, notice=notice, error=str(exc), max_text=disaster.MAX_TEXT)
    await audit.record(session, staff=staff, action=f"disaster_notice_{'on' if action == 'on' else 'off'}", ip=client_ip(request))
    await session.commit()
    return RedirectResponse("/console/disaster", status_code=303)
