"""The web chat WebSocket: translate frames to engine calls and stored messages to frames.

Protocol (JSON text frames):
  client → {"type": "hello", "session": str|null, "last_id": int}
  server → {"type": "welcome", "session": str, "greeting": str, "examples": [str...]}
  client → {"type": "message", "client_id": str, "text": str}
           {"type": "action", "client_id": str, "action": str, "label": str}
  server → {"type": "ack", "client_id": str, "id": int}   (after the message is stored)
           {"type": "message", "id": int, "author": ..., "text": ..., "buttons": [...]}
           {"type": "error", "code": str, "message": str}  (Japanese, for the resident)
Messages carry database ids; the widget drops ids it has seen, so a resumed socket that
replays history never shows a message twice, and none is lost.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import uuid

from fastapi import WebSocket, WebSocketDisconnect
from sqlalchemy import select

from bot import conversations as conv_service
from bot.engine import Inbound, message_event
from bot.models import Conversation, ConversationStatus, ResidentContact
from bot.validation import InvalidMessage
from frontdoor import ratelimit
from frontdoor.models import ChannelKind
from frontdoor.runtime import Runtime
from frontdoor.tenants import UnknownTenant
from handoff.relay import conversation_channel

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
RATE_LIMIT = 30  # messages per minute per resident session


def _error(code: str, message: str) -> dict:
    return {"type": "error", "code": code, "message": message}


class ResidentSocket:
    def __init__(self, websocket: WebSocket, runtime: Runtime, tenant_id: str):
        self.ws = websocket
        self.runtime = runtime
        self.tenant_id = tenant_id
        self.session_token: str | None = None
        self.conversation_id: uuid.UUID | None = None
        self.last_sent = 0
        self._forwarder: asyncio.Task | None = None
        self._send_lock = asyncio.Lock()

    async def send(self, event: dict) -> None:
        async with self._send_lock:
            if event.get("type") == "message":
                if event["id"] <= self.last_sent:
                    return
                self.last_sent = event["id"]
            await self.ws.send_json(event)

    async def run(self) -> None:
        await self.ws.accept()
        if self.tenant_id not in self.runtime.tenants:
            await self.ws.send_json(_error("unknown_tenant", "この窓口は見つかりません。アドレスをご確認ください。"))
            await self.ws.close(code=4404)
            return
        try:
            while True:
                frame = await self.ws.receive()
                if frame["type"] == "websocket.disconnect":
                    break
                await self._on_frame(frame)
        except WebSocketDisconnect:
            pass
        finally:
            if self._forwarder:
                self._forwarder.cancel()

    async def _on_frame(self, frame: dict) -> None:
        raw = frame.get("text")
        if raw is None:
            data = frame.get("bytes") or b""
            try:
                raw = data.decode("utf-8")
            except UnicodeDecodeError:
                await self.send(_error("bad_encoding", "文字を読み取れませんでした。もう一度入力してください。"))
                return
        if len(raw.encode("utf-8", "surrogatepass")) > MAX_FRAME_BYTES:
            await self.send(_error("too_long", "メッセージが長すぎます。いくつかに分けて送ってください。"))
            return
        try:
            payload = json.loads(raw)
        except json.JSONDecodeError:
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))
            return
        if not isinstance(payload, dict):
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))
            return
        kind = payload.get("type")
        if kind == "hello":
            await self._hello(payload)
        elif kind in ("message", "action"):
            await self._message(payload)
        elif kind == "ping":
            await self.ws.send_json({"type": "pong"})
        else:
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))

    async def _hello(self, payload: dict) -> None:
        token = payload.get("session")
        if not isinstance(token, str) or not (16 <= len(token) <= 64) or not token.isalnum():
            token = secrets.token_hex(16)
        self.session_token = token
        last_id = payload.get("last_id")
        self.last_sent = last_id if isinstance(last_id, int) and last_id >= 0 else 0
        widget = self.runtime.tenants.get(self.tenant_id).widget
        await self.ws.send_json({"type": "welcome", "session": token, "greeting": widget.greeting, "examples": widget.examples})
        conversation_id = await self._open_conversation_id()
        if conversation_id is not None:
            await self._follow(conversation_id)

    async def _open_conversation_id(self) -> uuid.UUID | None:
        settings = self.runtime.settings
        async with self.runtime.sessions() as session:
            channel_id = await conv_service.channel_id(session, tenant_id=self.tenant_id, kind=ChannelKind.WEB)
            pseudonym = conv_service.pseudonym(settings.secret_key, ChannelKind.WEB, self.session_token or "")
            return await session.scalar(
                select(Conversation.id)
                .join(ResidentContact, ResidentContact.id == Conversation.contact_id)
                .where(
                    ResidentContact.channel_id == channel_id,
                    ResidentContact.pseudonym == pseudonym,
                    Conversation.status == ConversationStatus.OPEN,
                )
                .order_by(Conversation.started_at.desc())
                .limit(1)
            )

    async def _follow(self, conversation_id: uuid.UUID) -> None:
        """Subscribe first, then catch up from the database: nothing falls between the two."""
        if self.conversation_id == conversation_id and self._forwarder and not self._forwarder.done():
            return
        if self._forwarder:
            self._forwarder.cancel()
        self.conversation_id = conversation_id
        ready, caught_up = asyncio.Event(), asyncio.Event()
        self._forwarder = asyncio.create_task(self._forward(conversation_id, ready, caught_up))
        waiter = asyncio.create_task(ready.wait())
        await asyncio.wait({waiter, self._forwarder}, timeout=2, return_when=asyncio.FIRST_COMPLETED)
        waiter.cancel()
        try:
            async with self.runtime.sessions() as session:
                for message in await conv_service.history(session, conversation_id=conversation_id, after_id=self.last_sent):
                    await self.send(message_event(message))
        finally:
            caught_up.set()

    async def _forward(self, conversation_id: uuid.UUID, ready: asyncio.Event, caught_up: asyncio.Event) -> None:
        """Live events, held back until the history catch-up is sent, so ids only go up."""
        pubsub = self.runtime.redis.pubsub()
        try:
            await pubsub.subscribe(conversation_channel(conversation_id))
            ready.set()
            await caught_up.wait()
            async for item in pubsub.listen():
                if item.get("type") == "message":
                    await self.send(json.loads(item["data"]))
        except asyncio.CancelledError:
            raise
        except Exception:  # Redis gone: replies still arrive directly; counselor lines on reconnect
            log.warning("relay subscription lost for %s", conversation_id, exc_info=True)
            ready.set()
        finally:
            try:
                await pubsub.aclose()
            except Exception:  # noqa: BLE001
                pass

    async def _message(self, payload: dict) -> None:
        if self.session_token is None:
            await self.send(_error("no_hello", "接続の準備ができていません。ページを読み込み直してください。"))
            return
        client_id = payload.get("client_id")
        if not isinstance(client_id, str) or not (1 <= len(client_id) <= 64):
            client_id = None
        action = payload.get("action") if payload.get("type") == "action" else None
        if action is not None and (not isinstance(action, str) or len(action) > 80):
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))
            return
        if not await ratelimit.allow(self.runtime.redis, f"web:{self.session_token}", limit=RATE_LIMIT, window_s=60):
            await self.send(
                {**_error("rate_limited", "短い時間にたくさん送られました。1分ほど待ってから、もう一度送ってください。"), "client_id": client_id}
            )
            return
        text = payload.get("label") if action else payload.get("text")
        inbound = Inbound(
            tenant_id=self.tenant_id,
            channel=ChannelKind.WEB,
            external_id=self.session_token,
            text=text,  # type: ignore[arg-type]  # validated by the engine
            channel_message_id=f"{self.session_token[:16]}:{client_id}" if client_id else None,
            action=action,
        )
        try:
            async with self.runtime.sessions() as session:
                outcome = await self.runtime.conversation_engine.handle_inbound(session, inbound)
        except InvalidMessage as exc:
            await self.send({**_error(exc.code, exc.user_message), "client_id": client_id})
            return
        except UnknownTenant:
            await self.send(_error("unknown_tenant", "この窓口は見つかりません。"))
            return
        await self.ws.send_json({"type": "ack", "client_id": client_id, "id": outcome.inbound_id})
        await self._follow(outcome.conversation_id)
        for reply in outcome.replies:
            await self.send(reply.event())
