"""A resident's web chat client for tests: the widget's protocol over a real WebSocket."""

from __future__ import annotations

import asyncio
import json
import uuid

import websockets


class ChatClient:
    def __init__(self, url: str, *, address: str | None = None):
        self.url = url
        # The source address as a trusted proxy reports it (uvicorn trusts 127.0.0.1).
        self.headers = {"X-Forwarded-For": address} if address else {}
        self.ws = None
        self.session: str | None = None
        self.events: list[dict] = []
        self.last_id = 0

    async def connect(self, *, session: str | None = None, last_id: int | None = None) -> ChatClient:
        self.ws = await websockets.connect(self.url, max_size=2**22, additional_headers=self.headers)
        await self.ws.send(json.dumps({"type": "hello", "session": session or self.session, "last_id": self.last_id if last_id is None else last_id}))
        welcome = await self.next_event("welcome")
        self.session = welcome["session"]
        return self

    async def close(self) -> None:
        if self.ws is not None:
            await self.ws.close()

    async def next_event(self, kind: str | None = None, timeout: float = 10) -> dict:
        while True:
            raw = await asyncio.wait_for(self.ws.recv(), timeout=timeout)
            event = json.loads(raw)
            self.events.append(event)
            if event.get("type") == "message":
                self.last_id = max(self.last_id, event["id"])
            if kind is None or event.get("type") == kind:
                return event

    async def send_text(self, text: str, client_id: str | None = None) -> str:
        client_id = client_id or uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
        return client_id

    async def press(self, action: str, label: str) -> str:
        client_id = uuid.uuid4().hex
        await self.ws.send(json.dumps({"type": "action", "client_id": client_id, "action": action, "label": label}))
        return client_id

    async def messages_until(self, predicate, timeout: float = 10) -> list[dict]:  # noqa: ANN001
        """Collect message events until `predicate(event)` holds for one of them."""
        seen = []
        while True:
            event = await self.next_event("message", timeout=timeout)
            seen.append(event)
            if predicate(event):
                return seen

    async def bot_reply(self, timeout: float = 10) -> dict:
        return (await self.messages_until(lambda e: e["author"] == "bot", timeout))[-1]
