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
from handoff.auth import ConsoleLocked, LoginRequired, PasswordChangeRequired, current_staff, staff_even_if_locked
from handoff.models import Case, Role
from handoff.relay import console_channel, conversation_channel

router = APIRouter(prefix="/console", include_in_schema=False)


SIGN_IN_AGAIN = 4401  # the browser goes to the sign-in page
LOCKED = 4423  # the browser keeps the page and reconnects after unlocking
RECHECK_S = 10.0


async def _staff(websocket: WebSocket, runtime, *, even_if_locked: bool = False):  # noqa: ANN001, ANN202
    """The alert feed keeps running while the console is locked (ids and urgency only, so a
    counselor away from the desk still hears an emergency); conversation text does not.
    Returns the account, or the close code that says why not."""
    check = staff_even_if_locked if even_if_locked else current_staff
    async with runtime.sessions() as session:
        try:
            staff = await check(websocket, runtime, session)
        except ConsoleLocked:
            return LOCKED
        except (LoginRequired, PasswordChangeRequired):
            return SIGN_IN_AGAIN
    return staff if staff.role in (Role.COUNSELOR, Role.SUPERVISOR) else SIGN_IN_AGAIN


async def _guard(websocket: WebSocket, runtime, *, even_if_locked: bool = False) -> None:  # noqa: ANN001
    """An open socket is checked again every few seconds: a disabled or reset account, an
    expired shift or a locked console stops receiving within RECHECK_S."""
    while True:
        await asyncio.sleep(RECHECK_S)
        staff = await _staff(websocket, runtime, even_if_locked=even_if_locked)
        if isinstance(staff, int):
            await websocket.close(code=staff)
            return


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


async def _serve(websocket: WebSocket, pump: asyncio.Task, guard: asyncio.Task) -> None:
    """Run until the browser goes away or the account may no longer see this."""
    try:
        while True:
            receive = asyncio.create_task(websocket.receive_text())
            done, _ = await asyncio.wait({receive, pump, guard}, return_when=asyncio.FIRST_COMPLETED)
            if pump in done or guard in done:
                receive.cancel()
                break
            receive.result()
    except WebSocketDisconnect:
        pass
    finally:
        pump.cancel()
        guard.cancel()


@router.websocket("/ws")
async def queue_socket(websocket: WebSocket, runtime: RuntimeDep) -> None:
    staff = await _staff(websocket, runtime, even_if_locked=True)
    await websocket.accept()
    if isinstance(staff, int):
        await websocket.close(code=staff)
        return
    pump = asyncio.create_task(_pump(websocket, runtime, console_channel(staff.tenant_id)))
    await _serve(websocket, pump, asyncio.create_task(_guard(websocket, runtime, even_if_locked=True)))


@router.websocket("/ws/cases/{case_id}")
async def case_socket(websocket: WebSocket, case_id: uuid.UUID, runtime: RuntimeDep) -> None:
    staff = await _staff(websocket, runtime)
    await websocket.accept()
    if isinstance(staff, int):
        await websocket.close(code=staff)
        return
    async with runtime.sessions() as session:
        case = await session.get(Case, case_id)
        if case is None or case.tenant_id != staff.tenant_id:
            await websocket.close(code=4404)
            return
        await audit.record(session, staff=staff, action="live_view", conversation_id=case.conversation_id, case_id=case.id)
        conversation_id = case.conversation_id
    last_id = int(websocket.query_params.get("after", "0") or 0)
    ready = asyncio.Event()
    pump = asyncio.create_task(_pump(websocket, runtime, conversation_channel(conversation_id), ready))
    await asyncio.wait_for(ready.wait(), timeout=5)
    async with runtime.sessions() as session:
        for message in await conv_service.history(session, conversation_id=conversation_id, after_id=last_id):
            await websocket.send_text(json.dumps(message_event(message), ensure_ascii=False, default=str))
    await _serve(websocket, pump, asyncio.create_task(_guard(websocket, runtime)))
