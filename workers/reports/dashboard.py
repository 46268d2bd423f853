"""Manager dashboard (/dashboard): statistics and report downloads, never conversation text.

Managers and supervisors (handoff.auth.Manager) see their own tenant. Chart marks link to
the conversations behind them only for roles that may open conversation lists
(supervisors); managers get the figures without links.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from fastapi.templating import Jinja2Templates
from sqlalchemy import select

from frontdoor.clock import to_jst, utc_now
from frontdoor.deps import RuntimeDep, SessionDep
from frontdoor.web_security import install_template_globals
from frontdoor.redact import mask_async
from handoff import audit
from handoff.auth import Manager
from handoff.models import Counselor, Role
from workers.reports import dashboard_data, queries, storage, svg, xlsx
from workers.reports.periods import Month

templates = Jinja2Templates(directory=str(Path(__file__).with_name("templates")))
templates.env.filters["jst"] = lambda value: to_jst(value).strftime("%Y/%m/%d %H:%M") if value else ""
templates.env.filters["minutes"] = lambda s: "—" if s is None else f"{s / 60:.1f} 分"
install_template_globals(templates.env, lambda request: request.app.state.runtime.settings.secret_key)
router = APIRouter(prefix="/dashboard", include_in_schema=False)


def _month(value: str | None) -> Month:
    if not value:
        return Month.of(utc_now()).previous()  # the last complete month, the one being reported
    try:
        return Month.parse(value)
    except ValueError:
        raise HTTPException(status_code=400, detail="月は YYYY-MM の形式で指定してください。") from None


class Drill:
    """Links to /console/conversations filtered to a figure; None for managers (no conversation lists)."""

    def __init__(self, staff: Counselor, month: Month):
        self.allowed = staff.role == Role.SUPERVISOR
        self.base = {"tenant": staff.tenant_id, "month": str(month)}

    def __call__(self, **params) -> str | None:  # noqa: ANN003
        if not self.allowed:
            return None
        query = {**self.base, **{k: v for k, v in params.items() if v is not None}}
        return "/console/conversations?" + urlencode(query)


@router.get("/", response_class=HTMLResponse)
async def dashboard(request: Request, staff: Manager, session: SessionDep, runtime: RuntimeDep, month: str | None = None) -> HTMLResponse:
    """Channel statistics for the signed-in manager's tenant and one month."""
    period = _month(month)
    tenant = runtime.tenants.get(staff.tenant_id)
    data = await dashboard_data.collect(session, tenant_id=tenant.id, month=period)
    # 「答えられなかった質問」: masked again on display (rows recorded before masking existed),
    # and the view is audited (issue 12).
    masker = runtime.conversation_engine.masker
    data.gaps = [(await mask_async(masker, text), n) for text, n in data.gaps]
    await audit.record(session, staff=staff, action="view_dashboard")
    drill = Drill(staff, period)
    charts = {
        "categories": svg.bar_chart([(c, n, drill(category=c)) for c, n in data.categories], label="相談区分別の件数"),
        "heat": svg.heat_map(data.heat, label="曜日×時間帯の会話数", link=lambda w, h: drill(weekday=w, hour=h)),
        "trend": svg.stacked_columns(
            data.trend_months, data.trend, label="相談区分別の月別推移", link=lambda m, c: drill(month=m, category=c)
        ),
        "handoffs": svg.bar_chart(
            [
                (f"{dashboard_data.URGENCY_JA.get(u, u)}・{dashboard_data.ROUTE_JA.get(r, r)}", n, drill(urgency=u, route=r))
                for (u, r), n in sorted(data.handoffs.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            label="引継ぎ（緊急度・ルート別）",
            width=560,
            left=150,
        ),
    }
    reports = await storage.history(session, tenant_id=tenant.id)
    authors = await _author_names(session, [r.generated_by for r in reports])
    return templates.TemplateResponse(
        request,
        "dashboard.html",
        {
            "staff": staff, "tenant": tenant, "data": data, "charts": charts, "drill": drill,
            "months": sorted({str(period), *(str(m) for m in Month.of(utc_now()).months_back(13))}, reverse=True), "formats": storage.formats_for(tenant),
            "reports": reports, "authors": authors, "regenerated": request.query_params.get("regenerated"),
        },
    )


async def _author_names(session, ids: list[str]) -> dict[str, str]:  # noqa: ANN001
    names = {"beat": "自動（毎月1日）", "cli": "コマンド"}
    uuids = []
    for value in set(ids) - set(names):
        try:
            uuids.append(uuid.UUID(value))
        except ValueError:
            continue
    if uuids:
        rows = await session.execute(select(Counselor.id, Counselor.display_name).where(Counselor.id.in_(uuids)))
        names.update({str(i): n for i, n in rows.all()})
    return names


def _file_response(content: bytes, name: str, fmt: str) -> Response:
    return Response(content, media_type=storage.MEDIA_TYPES[fmt], headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/reports/{month}.{fmt}")
async def download_report(month: str, fmt: str, staff: Manager, session: SessionDep, runtime: RuntimeDep) -> Response:
    """The stored monthly report; generated (and stored) on first download."""
    period, tenant = _month(month), runtime.tenants.get(staff.tenant_id)
    if fmt not in storage.formats_for(tenant):
        raise HTTPException(status_code=404, detail="この形式の報告書はありません。")
    await audit.record(session, staff=staff, action="download_report", detail=f"{period}.{fmt}")
    row = await storage.stored(session, tenant=tenant, month=period, fmt=fmt)
    content = storage.read(runtime.settings, row) if row else None
    if content is None:
        content = (
            await storage.generate(
                session, settings=runtime.settings, tenant=tenant, month=period, fmt=fmt, generated_by=str(staff.id), now=utc_now()
            )
        ).content
    return _file_response(content, storage.download_name(tenant, period, fmt), fmt)


@router.post("/reports/{month}/regenerate")
async def regenerate(month: str, staff: Manager, session: SessionDep, runtime: RuntimeDep) -> RedirectResponse:
    """Queue a rebuild of every format of a month's report (a Celery job, never inside the
    request: issue 9); it is recorded with who and when once it is done."""
    period, tenant = _month(month), runtime.tenants.get(staff.tenant_id)
    await audit.record(session, staff=staff, action="regenerate_report", detail=str(period))
    await asyncio.to_thread(
        runtime.celery.send_task, "frontdoor.generate_report", args=[tenant.id, str(period), str(staff.id)]
    )
    return RedirectResponse(f"/dashboard/?month={period}&regenerated={period}", status_code=303)


@router.get("/export/{month}.csv")
async def export_conversations(month: str, staff: Manager, session: SessionDep) -> StreamingResponse:
    """One row per conversation for offline analysis: no text, no personal data."""
    period = _month(month)
    scope = queries.Scope.month(staff.tenant_id, period)
    await audit.record(session, staff=staff, action="export_csv", detail=str(period))

    async def lines() -> AsyncIterator[bytes]:
        yield "\ufeff".encode()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(queries.EXPORT_COLUMNS)
        async for row in queries.export_rows(session, scope):
            writer.writerow(xlsx.safe_row("" if v is None else _plain(v) for v in row))
            if buffer.tell() > 64_000:
                yield buffer.getvalue().encode()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue().encode()

    name = f"{staff.tenant_id}-conversations-{period}.csv"
    return StreamingResponse(lines(), media_type="text/csv; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _plain(value):  # noqa: ANN001, ANN202
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, datetime):
        return to_jst(value).isoformat()
    return str(value)
