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
