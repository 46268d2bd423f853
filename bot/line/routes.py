"""LINE's webhook and the privacy notice the follow greeting links to."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from linebot.v3.exceptions import InvalidSignatureError
from markupsafe import escape

from bot.line.channel import LineChannel
from frontdoor.deps import RuntimeDep
from knowledge.render import render

router = APIRouter()


@router.post("/line/webhook", include_in_schema=False)
async def line_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Signature first (400, nothing stored); store the events; 200 at once; answer after."""
    channel: LineChannel | None = runtime.extras.get("line")
    if channel is None:
        raise HTTPException(status_code=404)
    signature = request.headers.get("X-Line-Signature", "")
    try:
        body = (await request.body()).decode("utf-8")
        if not signature:
            raise InvalidSignatureError("missing signature")
        new_ids = await channel.accept(body, signature)
    except (InvalidSignatureError, UnicodeDecodeError, ValueError, AttributeError):
        raise HTTPException(status_code=400, detail="bad signature or body") from None
    if new_ids:
        channel.spawn(channel.handle_events(new_ids))
    return Response(status_code=200)


@router.get("/privacy/{tenant_id}", response_class=HTMLResponse, include_in_schema=False)
async def privacy_notice(tenant_id: str, runtime: RuntimeDep) -> HTMLResponse:
    """The tenant's curated privacy entry as a page (linked from the LINE greeting)."""
    if tenant_id not in runtime.tenants:
        raise HTTPException(status_code=404, detail="この窓口は見つかりません。")
    tenant = runtime.tenants.get(tenant_id)
    try:
        entry = runtime.decider.index.get(f"{tenant_id}.privacy")
    except KeyError:
        raise HTTPException(status_code=404, detail="このページは見つかりません。") from None
    paragraphs = "".join(f"<p>{escape(p)}</p>" for p in render(entry.answer, tenant.facts).split("\n\n"))
    return HTMLResponse(
        f'<!doctype html><html lang="ja"><meta charset="utf-8"><meta name="viewport" content="width=device-width">'
        f"<title>{escape(entry.title)}｜{escape(tenant.service_name)}</title>"
        f'<body style="font-family:sans-serif;line-height:1.8;font-size:1.1rem;max-width:40em;margin:auto;padding:1em">'
        f"<h1>{escape(entry.title)}</h1><p>{escape(tenant.service_name)}</p>{paragraphs}</body></html>"
    )
