"""A bare FastAPI WebSocket app speaking the resident protocol of `bot/web/socket.py`
(hello → welcome, message → ack + one bot message): the baseline for `bench/load.py`, served
by the same uvicorn, so the ratio shows what Frontdoor's own work costs. It measures its
event-loop lag with the same instrument as the app: on a shared machine that is the floor
(time the OS gave to other processes), not work of its own.

Run: uvicorn bench.echo_app:app --port 8100
"""

from __future__ import annotations

import asyncio
import itertools
import json
import secrets
from contextlib import asynccontextmanager

from fastapi import FastAPI, WebSocket, WebSocketDisconnect
from fastapi.responses import PlainTextResponse

from frontdoor.metrics import Metrics, watch_loop_lag

metrics = Metrics()  # this throwaway process's figures
_ids = itertools.count(1)  # and message ids


@asynccontextmanager
async def lifespan(_app: FastAPI):  # noqa: ANN201
    watcher = asyncio.create_task(watch_loop_lag(metrics))
    yield
    watcher.cancel()


app = FastAPI(lifespan=lifespan)


@app.get("/healthz")
async def healthz() -> dict:
    return {"ok": True}


@app.get("/internal/metrics")
async def internal_metrics() -> PlainTextResponse:
    return PlainTextResponse(metrics.render())


@app.websocket("/ws/{tenant_id}")
async def resident_socket(websocket: WebSocket, tenant_id: str) -> None:  # noqa: ARG001
    await websocket.accept()
    try:
        while True:
            payload = json.loads(await websocket.receive_text())
            if payload.get("type") == "hello":
                await websocket.send_json({"type": "welcome", "session": payload.get("session") or secrets.token_hex(16)})
            elif payload.get("type") in ("message", "action"):
                inbound = next(_ids)
                await websocket.send_json({"type": "ack", "client_id": payload.get("client_id"), "id": inbound})
                text = payload.get("text") or payload.get("label") or ""
                await websocket.send_json({"type": "message", "id": next(_ids), "author": "bot", "text": text, "buttons": []})
    except WebSocketDisconnect:
        pass
