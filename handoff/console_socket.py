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
from handoff.auth import ConsoleLocked, LoginRequired, PasswordChangeRequired, current_staff, staff_even_if_locked
from handoff.models import Case, Role
from handoff.relay import console_channel, conversation_channel, follow

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
    online = asyncio.create_task(_stay_online(runtime, staff))
    try:
        await _serve(
            websocket,
            asyncio.create_task(_pump_queue(websocket, runtime, staff.tenant_id)),
            asyncio.create_task(_guard(websocket, runtime, even_if_locked=True)),
        )
    finally:
        online.cancel()


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
        # An `after` beyond the newest message means "everything so far": live ones still come.
        newest = await conv_service.last_message_id(session, conversation_id=conversation_id)
    after = websocket.query_params.get("after", "0") or "0"
    if not after.isascii() or not after.isdigit():
        await websocket.send_json({"type": "error", "message": "接続の指定が正しくありません。ページを読み込み直してください。"})
        await websocket.close(code=4400)
        return
    last_id = int(after)
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

    pump = asyncio.create_task(follow(runtime.redis, conversation_channel(conversation_id), catch_up=catch_up, deliver=deliver))
    await _serve(websocket, pump, asyncio.create_task(_guard(websocket, runtime)))
