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
from handoff import audit, presence
from handoff.auth import LoginRequired, current_staff
from handoff.models import Case, Role
from handoff.relay import console_channel, conversation_channel, follow

router = APIRouter(prefix="/console", include_in_schema=False)


async def _staff(websocket: WebSocket, runtime):  # noqa: ANN001, ANN202
    async with runtime.sessions() as session:
        try:
            staff = await current_staff(websocket, runtime, session)
        except LoginRequired:
            return None
    return staff if staff.role in (Role.COUNSELOR, Role.SUPERVISOR) else None


async def _pump_queue(websocket: WebSocket, runtime, tenant_id: str) -> None:  # noqa: ANN001
    """Forward the tenant's queue events; each time the subscription comes back after Redis
    went away, tell the page to reload its rows, which come from the database."""
    started = False

    async def resync() -> None:
        nonlocal started
        if started:
            await websocket.send_text(json.dumps({"type": "resync"}))
        started = True

    await follow(runtime.redis, console_channel(tenant_id), catch_up=resync, deliver=websocket.send_text)


async def _stay_online(runtime, staff) -> None:  # noqa: ANN001
    """Presence while the queue page is open: escalations count as reached only then."""
    member = presence.connection_member(staff.id)
    try:
        while True:
            try:
                await presence.mark_online(runtime.redis, staff.tenant_id, member)
            except Exception:  # noqa: BLE001  # Redis down: no presence, escalations keep retrying
                pass
            await asyncio.sleep(presence.TTL_SECONDS / 3)
    finally:
        try:
            await presence.mark_offline(runtime.redis, staff.tenant_id, member)
        except Exception:  # noqa: BLE001
            pass


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
    online = asyncio.create_task(_stay_online(runtime, staff))
    try:
        await _serve(websocket, asyncio.create_task(_pump_queue(websocket, runtime, staff.tenant_id)))
    finally:
        online.cancel()


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
        # An `after` beyond the newest message means "everything so far": live ones still come.
        newest = await conv_service.last_message_id(session, conversation_id=conversation_id)
    last_id = int(websocket.query_params.get("after", "0") or 0)
    sent = {"last": min(last_id, newest)}
    lock = asyncio.Lock()

    async def send(event: dict) -> None:
        """Ids only go up: a message caught up from the database is never sent twice."""
        async with lock:
            if event.get("type") == "message":
                if event["id"] <= sent["last"]:
                    return
                sent["last"] = event["id"]
            await websocket.send_text(json.dumps(event, ensure_ascii=False, default=str))

    async def catch_up() -> None:
        async with runtime.sessions() as session:
            for message in await conv_service.history(session, conversation_id=conversation_id, after_id=sent["last"]):
                await send(message_event(message))

    async def deliver(data: str) -> None:
        await send(json.loads(data))

    await _serve(websocket, asyncio.create_task(follow(runtime.redis, conversation_channel(conversation_id), catch_up=catch_up, deliver=deliver)))
