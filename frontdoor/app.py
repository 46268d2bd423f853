"""The FastAPI application factory: one composition root for the web process."""

from __future__ import annotations

import asyncio
import copy
import gc
import logging
from collections.abc import Callable
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, RedirectResponse

from bot import conversations as conv_service
from bot.line.channel import LineChannel
from bot.line.routes import router as line_router
from bot.telegram.setup import TelegramChannel, webhook_router
from bot.web.routes import router as web_router
from frontdoor import health
from frontdoor.clock import utc_now
from frontdoor.metrics import RequestMetrics, is_internal, watch_loop_lag
from frontdoor.runtime import Runtime, build_runtime
from frontdoor.settings import Settings
from frontdoor.web_security import WebSecurity
from handoff.auth import ConsoleLocked, LoginRequired, PasswordChangeRequired
from handoff.console import router as console_router
from handoff.console_admin import router as console_admin_router
from handoff.requests.views import router as requests_router
from handoff.console_missing import router as console_missing_router
from handoff.console_socket import router as console_socket_router
from workers.reports.dashboard import router as dashboard_router

log = logging.getLogger(__name__)

# The public and JSON endpoints published in /openapi.json (and /docs), tested with
# schemathesis; HTML pages and sockets stay out of it.
PUBLISHED = {
    "/healthz": {"GET"},
    "/console/login": {"POST"},
    "/console/conversations": {"GET"},
    "/console/cases/{case_id}/messages": {"POST"},
    "/dashboard/export/{month}.csv": {"GET"},
}


def _openapi(app: FastAPI, routers: list[APIRouter]) -> Callable[[], dict]:
    def build() -> dict:
        if app.openapi_schema is None:
            routes = []
            for route in [*app.routes, *(r for router in routers for r in router.routes)]:
                methods = PUBLISHED.get(getattr(route, "path", ""), set())
                if isinstance(route, APIRoute) and methods & (route.methods or set()):
                    published = copy.copy(route)
                    published.include_in_schema = True
                    routes.append(published)
            app.openapi_schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=routes)
        return app.openapi_schema

    return build


async def prepare(runtime: Runtime) -> None:
    """Idempotent start-up work: tenant and channel rows for the configured tenants."""
    async with runtime.sessions() as session:
        await conv_service.ensure_tenant_rows(session, [(t.id, t.name) for t in runtime.tenants.all()])


def create_app(settings: Settings, *, runtime_factory: Callable[[], Runtime] | None = None) -> FastAPI:
    """`runtime_factory` lets tests share expensive parts (the knowledge index) between apps;
    the runtime itself is always built inside the server's own event loop."""

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # noqa: ANN202
        rt = runtime_factory() if runtime_factory else build_runtime(settings)
        await rt.inference.start()  # every worker has its models before traffic arrives
        app.state.runtime = rt
        await prepare(rt)
        # The models and indexes loaded above are long-lived objects by the million: out of the
        # collector's way, so that a full collection under load does not walk them all on the
        # event loop (a 0.26 s stall at the first burst of 50 residents, bench/RESULTS.md).
        gc.collect()
        gc.freeze()
        lag_watch = asyncio.create_task(watch_loop_lag(rt.metrics))
        telegram = None
        if rt.settings.telegram_bot_token and rt.settings.telegram_mode != "off":
            telegram = TelegramChannel(rt)
            rt.extras["telegram"] = telegram
            await telegram.start()
        line = None
        if rt.settings.line_enabled:  # off unless the channel secret and access token are set
            line = LineChannel(rt)
            rt.extras["line"] = line
            await line.start()
        try:
            yield
        finally:
            lag_watch.cancel()
            if line is not None:
                await line.stop()
                rt.extras.pop("line", None)
            if telegram is not None:
                await telegram.stop()
                rt.extras.pop("telegram", None)
            await rt.aclose()

    app = FastAPI(title="Frontdoor", version="0.1.0", lifespan=lifespan, description="福祉相談チャットの窓口 API")
    app.add_middleware(WebSecurity, secret_key=settings.secret_key, public_base_url=settings.public_base_url)
    app.add_middleware(RequestMetrics, metrics_of=lambda: getattr(getattr(app.state, "runtime", None), "metrics", None))
    app.include_router(web_router)
    app.include_router(webhook_router)
    app.include_router(line_router)
    app.include_router(requests_router)
    app.include_router(console_router)
    app.include_router(console_admin_router)
    app.include_router(console_missing_router)
    app.include_router(console_socket_router)
    app.include_router(dashboard_router)

    app.openapi = _openapi(app, [web_router, console_router, dashboard_router])  # type: ignore[method-assign]

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):  # noqa: ANN202, ARG001
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "ログインしてください。"}, status_code=401)

    @app.exception_handler(PasswordChangeRequired)
    async def to_password(request: Request, exc: PasswordChangeRequired):  # noqa: ANN202, ARG001
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse("/console/password", status_code=303)
        return JSONResponse({"detail": "新しいパスワードを設定してください。"}, status_code=403)

    @app.exception_handler(ConsoleLocked)
    async def to_unlock(request: Request, exc: ConsoleLocked):  # noqa: ANN202, ARG001
        # Setagaya 別紙1-1 §14: a locked console shows nothing until the password is given again.
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"/console/locked?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "離席ロック中です。パスワードを入力してください。"}, status_code=423)

    @app.get("/healthz", include_in_schema=False)
    async def healthz(request: Request) -> JSONResponse:
        """Each part reported; 503 when one is down (SLA timers need Redis and the worker)."""
        rt: Runtime = request.app.state.runtime
        stale = timedelta(seconds=rt.settings.worker_heartbeat_stale_seconds)
        report = await health.check(rt.sessions, rt.redis, now=utc_now(), stale_after=stale)
        if not report["ok"]:
            report["message"] = "システムの一部が停止しています。"
        return JSONResponse(report, status_code=200 if report["ok"] else 503, headers={"Cache-Control": "no-store"})

    @app.get("/internal/metrics", include_in_schema=False)
    async def metrics(request: Request) -> PlainTextResponse:
        """This process's figures (Prometheus text); loopback and private networks only."""
        if not is_internal(request.client.host if request.client else None):
            raise HTTPException(status_code=404)
        rt: Runtime = request.app.state.runtime
        return PlainTextResponse(rt.metrics.render(), media_type="text/plain; version=0.0.4; charset=utf-8")

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def index(request: Request) -> HTMLResponse:
        rt: Runtime = request.app.state.runtime
        links = "".join(
            f'<li><a href="/demo/{t.id}">{t.name}（相談チャットのデモページ）</a></li>' for t in rt.tenants.all()
        )
        return HTMLResponse(
            '<!doctype html><html lang="ja"><meta charset="utf-8"><title>Frontdoor</title>'
            f'<body style="font-family:sans-serif;line-height:1.8;font-size:1.1rem"><h1>Frontdoor</h1><ul>{links}'
            '<li><a href="/console/">相談員コンソール</a></li><li><a href="/dashboard/">管理者ダッシュボード</a></li>'
            '<li><a href="/docs">API ドキュメント</a></li></ul></body></html>'
        )

    @app.exception_handler(HTTPException)
    async def japanese_errors(request: Request, exc: HTTPException):  # noqa: ANN202
        messages = {404: "ページが見つかりません。", 403: "この操作は許可されていません。", 400: "送信の内容が正しくありません。"}
        text = exc.detail if isinstance(exc.detail, str) and not exc.detail.isascii() else messages.get(exc.status_code, "エラーが発生しました。")
        if "text/html" in request.headers.get("accept", ""):
            return HTMLResponse(f'<!doctype html><html lang="ja"><meta charset="utf-8"><p>{text}</p></html>', status_code=exc.status_code, headers=exc.headers)
        return JSONResponse({"detail": text}, status_code=exc.status_code, headers=exc.headers)

    return app
