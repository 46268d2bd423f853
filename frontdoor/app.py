"""The FastAPI application factory: one composition root for the web process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import HTTPException
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from bot import conversations as conv_service
from bot.telegram.setup import TelegramChannel, webhook_router
from bot.web.routes import router as web_router
from frontdoor.runtime import Runtime, build_runtime
from frontdoor.settings import Settings
from handoff.auth import LoginRequired
from handoff.console import router as console_router
from handoff.console_missing import router as console_missing_router
from handoff.console_socket import router as console_socket_router
from workers.reports.dashboard import router as dashboard_router

log = logging.getLogger(__name__)


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
        app.state.runtime = rt
        await prepare(rt)
        telegram = None
        if rt.settings.telegram_bot_token and rt.settings.telegram_mode != "off":
            telegram = TelegramChannel(rt)
            rt.extras["telegram"] = telegram
            await telegram.start()
        try:
            yield
        finally:
            if telegram is not None:
                await telegram.stop()
                rt.extras.pop("telegram", None)
            await rt.aclose()

    app = FastAPI(title="Frontdoor", version="0.1.0", lifespan=lifespan, description="福祉相談チャットの窓口 API")
    app.include_router(web_router)
    app.include_router(webhook_router)
    app.include_router(console_router)
    app.include_router(console_missing_router)
    app.include_router(console_socket_router)
    app.include_router(dashboard_router)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, exc: LoginRequired):  # noqa: ANN202, ARG001
        if "text/html" in request.headers.get("accept", ""):
            return RedirectResponse(f"/console/login?next={request.url.path}", status_code=303)
        return JSONResponse({"detail": "ログインしてください。"}, status_code=401)

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict:
        return {"ok": True}

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
