"""Web chat channel: the demo homepage per tenant, the embeddable widget, the WebSocket."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, HTTPException, Request, WebSocket
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.templating import Jinja2Templates

from bot.web.socket import ResidentSocket
from frontdoor.deps import RuntimeDep

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
router = APIRouter()


@router.get("/widget.js", include_in_schema=False)
async def widget_js() -> FileResponse:
    """The embeddable chat widget: `<script src=".../widget.js" data-tenant="kashiwa">`."""
    return FileResponse(HERE / "static" / "widget.js", media_type="text/javascript; charset=utf-8")


@router.get("/widget/chat.js", include_in_schema=False)
async def chat_js() -> FileResponse:
    """The chat itself, run inside the widget's frame."""
    return FileResponse(HERE / "static" / "chat.js", media_type="text/javascript; charset=utf-8")


@router.get("/widget/{tenant_id}/frame", response_class=HTMLResponse, include_in_schema=False)
async def widget_frame(request: Request, tenant_id: str, runtime: RuntimeDep) -> HTMLResponse:
    """The chat's own page, framed by the host page: the session token stays on this origin.
    Only this site and the tenant's homepages (`widget_embed_origins`) may frame it."""
    if tenant_id not in runtime.tenants:
        raise HTTPException(status_code=404, detail="この窓口は見つかりません。")
    tenant = runtime.tenants.get(tenant_id)
    ancestors = " ".join(["'self'", *tenant.widget_embed_origins])
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; "
        f"frame-ancestors {ancestors}; base-uri 'none'; form-action 'none'; object-src 'none'"
    )
    return templates.TemplateResponse(
        request, "frame.html", {"tenant": tenant, "idle_minutes": runtime.settings.widget_forget_after_minutes},
        headers={"Content-Security-Policy": policy},
    )


@router.get("/widget.css", include_in_schema=False)
async def widget_css() -> FileResponse:
    return FileResponse(HERE / "static" / "widget.css", media_type="text/css; charset=utf-8")


@router.get("/demo/{tenant_id}", response_class=HTMLResponse, include_in_schema=False)
async def demo_page(request: Request, tenant_id: str, runtime: RuntimeDep) -> HTMLResponse:
    """A stand-in for the municipality's homepage with the widget embedded."""
    if tenant_id not in runtime.tenants:
        raise HTTPException(status_code=404, detail="この窓口は見つかりません。")
    tenant = runtime.tenants.get(tenant_id)
    return templates.TemplateResponse(request, "demo.html", {"tenant": tenant})


@router.websocket("/ws/{tenant_id}")
async def resident_socket(websocket: WebSocket, tenant_id: str, runtime: RuntimeDep) -> None:
    await ResidentSocket(websocket, runtime, tenant_id).run()
