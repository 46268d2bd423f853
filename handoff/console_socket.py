"""Live updates for the console: the queue (ids and urgency only; the page reloads its rows
over HTTP) and one case's conversation (each live view is audited)."""

from __future__ import annotations

import asyncio
import json
import uuid

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from bot import conversations as conv_service
from bot.engine import message_event
from frontdoor.deps import RuntimeDep
from handoff import audit
from handoff.auth import LoginRequired, current_staff
from handoff.models import Case, Role
from handoff.relay import console_channel, conversation_channel

router = APIRouter(prefix="/console", include_in_schema=False)


async def _staff(websocket: WebSocket, runtime):  # noqa: ANN001, ANN202
    async with runtime.sessions() as session:
        try:
            staff = await current_staff(websocket, runtime, session)
        except LoginRequired:
            return None
    return staff if staff.role in (Role.COUNSELOR, Role.SUPERVISOR) else None


async def _pump(websocket: WebSocket, runtime, channel: str, ready: asyncio.Event | None = None) -> None:  # noqa: ANN001
    pubsub = runtime.redis.pubsub()
    await pubsub.subscribe(channel)
    if ready is not None:
        ready.set()
    try:
        async for item in pubsub.listen():
            if item.get("type") == "message":
                await websocket.send_text(item["data"])
    finally:
        await pubsub.aclose()


async def _serve(websocket: WebSocket, pump: asyncio.Task) -> None:
    """Run until the browser goes away."""
    try:
        while True:
            receive = asyncio.create_task(websocket.receive_text())
            done, _ = await asyncio.wait({receive, pump}, return_when=asyncio.FIRST_COMPLETED)
            if pump in done:
                receive.cancel()
                break
            receive.result()
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()


@router.websocket("/ws")
async def queue_socket(websocket: WebSocket, runtime: RuntimeDep) -> None:
    staff = await _staff(websocket, runtime)
    await websocket.accept()
    if staff is None:
        await websocket.close(code=4401)
        return
    await _serve(websocket, asyncio.create_task(_pump(websocket, runtime, console_channel(staff.tenant_id))))


@router.websocket("/ws/cases/{case_id}")
async def case_socket(websocket: WebSocket, case_id: uuid.UUID, runtime: RuntimeDep) -> None:
    staff = await _staff(websocket, runtime)
    await websocket.accept()
    if staff is None:
        await websocket.close(code=4401)
        return
    async with runtime.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.tenant_id != staff.tenant_id:
            await websocket.close(code=4404)
            return
        await audit.record(session, staff=staff, action="live_view", conversation_id=case.conversation_id, case_id=case.id)
        conversation_id = case.conversation_id
    after = websocket.query_params.get("after", "0") or "0"
    if not after.isascii() or not after.isdigit():
        await websocket.send_json({"type": "error", "message": "接続の指定が正しくありません。ページを読み込み直してください。"})
        await websocket.close(code=4400)
        return
    last_id = int(after)
    ready = asyncio.Event()
    pump = asyncio.create_task(_pump(websocket, runtime, conversation_channel(conversation_id), ready))
    await asyncio.wait_for(ready.wait(), timeout=5)
    async with runtime.sessions() as session:
        for message in await conv_service.history(session, conversation_id=conversation_id, after_id=last_id):
            await websocket.send_text(json.dumps(message_event(message), ensure_ascii=False, default=str))
    await _serve(websocket, pump)
