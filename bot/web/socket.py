"""The web chat WebSocket: translate frames to engine calls and stored messages to frames.

Protocol (JSON text frames):
  client → {"type": "hello", "session": str|null, "last_id": int}
  server → {"type": "welcome", "session": str, "greeting": str, "examples": [str...]}
  client → {"type": "message", "client_id": str, "text": str}
           {"type": "action", "client_id": str, "action": str, "label": str}
           {"type": "end"}  (「相談を終える」: server → {"type": "ended"})
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
import re
import secrets
import time
import uuid
from collections import deque

from fastapi import WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketDisconnected
from sqlalchemy import select

from bot import conversations as conv_service
from bot.engine import Inbound, message_event
from bot.models import Conversation, ConversationStatus, ResidentContact
from bot.validation import InvalidMessage, scrub
from frontdoor import ratelimit
from frontdoor.models import ChannelKind
from frontdoor.runtime import Runtime
from frontdoor.tenants import UnknownTenant
from handoff.relay import conversation_channel, follow

log = logging.getLogger(__name__)

MAX_FRAME_BYTES = 64 * 1024
_CLIENT_ID = re.compile(r"[A-Za-z0-9_.:-]{1,64}")
RATE_LIMITED = "短い時間にたくさん送られました。1分ほど待ってから、もう一度送ってください。"


def _error(code: str, message: str) -> dict:
    return {"type": "error", "code": code, "message": message}


class ResidentSocket:
    def __init__(self, websocket: WebSocket, runtime: Runtime, tenant_id: str):
        self.ws = websocket
        self.runtime = runtime
        self.tenant_id = tenant_id
        # The limits count per connection (here, exactly) and per source address as well as per
        # session (Redis), so a new `hello` with a new session resets nothing (issue 12).
        self._recent: deque[float] = deque()  # this connection's message times, a true sliding minute
        self.address = websocket.client.host if websocket.client else "unknown"
        self.session_token: str | None = None
        self.conversation_id: uuid.UUID | None = None
        self.last_sent = 0
        self._forwarder: asyncio.Task | None = None
        self._send_lock = asyncio.Lock()
        self._catch_up_lock = asyncio.Lock()

    async def send(self, event: dict) -> None:
        async with self._send_lock:
            if event.get("type") == "message":
                if event["id"] <= self.last_sent:
                    return
                self.last_sent = event["id"]
            try:
                await self.ws.send_json(event)
            except WebSocketDisconnected:
                # The resident left while a reply or catch-up was on its way. Everything is
                # stored; the next connection catches up from the database.
                return

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
            payload = scrub(json.loads(raw))
        except (json.JSONDecodeError, RecursionError):
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
        elif kind == "end":
            await self._end()
        elif kind == "ping":
            await self.ws.send_json({"type": "pong"})
        else:
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))

    async def _hello(self, payload: dict) -> None:
        token = payload.get("session")
        if not isinstance(token, str) or not (16 <= len(token) <= 64) or not token.isascii() or not token.isalnum():
            token = None
        if token is None or (token != self.session_token and not await self._known_session(token)):
            limit = self.runtime.settings.web_new_sessions_per_address_per_minute
            if not await ratelimit.allow(self.runtime.redis, f"webnew:{self.address}", limit=limit, window_s=60):
                await self.send(_error("rate_limited", RATE_LIMITED))
                return
        self.session_token = token = token or secrets.token_hex(16)
        last_id = payload.get("last_id")
        self.last_sent = last_id if isinstance(last_id, int) and last_id >= 0 else 0
        widget = self.runtime.tenants.get(self.tenant_id).widget
        await self.ws.send_json({"type": "welcome", "session": token, "greeting": widget.greeting, "examples": widget.examples})
        conversation_id = await self._open_conversation_id()
        if conversation_id is not None:
            await self._follow(conversation_id)

    async def _end(self) -> None:
        """「相談を終える」: close the conversation and stop following it on this socket; the
        widget forgets the session on the device."""
        if self.conversation_id is not None:
            async with self.runtime.sessions() as session:
                await conv_service.end_by_resident(session, conversation_id=self.conversation_id)
        if self._forwarder:
            self._forwarder.cancel()
        self.session_token = self.conversation_id = self._forwarder = None
        await self.ws.send_json({"type": "ended"})

    async def _known_session(self, token: str | None) -> bool:
        """A returning resident (their session has written before) is not a new session."""
        if token is None:
            return False
        pseudonym = conv_service.pseudonym(self.runtime.settings.secret_key, ChannelKind.WEB, token)
        async with self.runtime.sessions() as session:
            return await session.scalar(select(ResidentContact.id).where(ResidentContact.pseudonym == pseudonym).limit(1)) is not None

    async def _allowed(self) -> bool:
        settings, redis = self.runtime.settings, self.runtime.redis
        per_session = settings.web_messages_per_minute
        now = time.monotonic()
        while self._recent and now - self._recent[0] > 60:
            self._recent.popleft()
        if len(self._recent) >= per_session:
            return False
        self._recent.append(now)
        return await ratelimit.allow(redis, f"web:{self.session_token}", limit=per_session, window_s=60) and await ratelimit.allow(
            redis, f"webaddr:{self.address}", limit=settings.web_messages_per_address_per_minute, window_s=60
        )

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
        """Subscribe first, then catch up from the database: nothing falls between the two.
        If Redis is down, catch up anyway; the relay catches up again when it comes back."""
        if self.conversation_id == conversation_id and self._forwarder and not self._forwarder.done():
            return
        if self._forwarder:
            self._forwarder.cancel()
        self.conversation_id = conversation_id
        caught_up = asyncio.Event()

        async def catch_up() -> None:
            await self._catch_up(conversation_id)
            caught_up.set()

        async def deliver(data: str) -> None:
            await self.send(json.loads(data))

        self._forwarder = asyncio.create_task(
            follow(self.runtime.redis, conversation_channel(conversation_id), catch_up=catch_up, deliver=deliver)
        )
        try:
            await asyncio.wait_for(caught_up.wait(), timeout=2)
        except TimeoutError:
            await self._catch_up(conversation_id)

    async def _catch_up(self, conversation_id: uuid.UUID) -> None:
        """Every stored message after the last one this socket sent, in id order."""
        async with self._catch_up_lock:
            async with self.runtime.sessions() as session:
                for message in await conv_service.history(session, conversation_id=conversation_id, after_id=self.last_sent):
                    await self.send(message_event(message))

    async def _message(self, payload: dict) -> None:
        if self.session_token is None:
            await self.send(_error("no_hello", "接続の準備ができていません。ページを読み込み直してください。"))
            return
        client_id = payload.get("client_id")
        if not isinstance(client_id, str) or not _CLIENT_ID.fullmatch(client_id):
            client_id = None
        action = payload.get("action") if payload.get("type") == "action" else None
        if action is not None and (not isinstance(action, str) or len(action) > 80):
            await self.send(_error("bad_frame", "送信の形式が正しくありません。ページを読み込み直してください。"))
            return
        if not await self._allowed():
            await self.send({**_error("rate_limited", RATE_LIMITED), "client_id": client_id, "retry": True})
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
        metrics = self.runtime.metrics
        started = time.perf_counter()

        stored: list[int] = []

        async def ack(message_id: int) -> None:
            # Committed: acknowledge now, before the reply is computed (the protocol above).
            stored.append(message_id)
            try:
                await self.send({"type": "ack", "client_id": client_id, "id": message_id})
            except Exception:  # a gone socket: still answer; the reply waits in the history
                log.info("ack not delivered; the socket closed")
                return
            metrics.observe("frontdoor_ack_seconds", time.perf_counter() - started, channel="web")

        try:
            async with self.runtime.sessions() as session:
                outcome = await self.runtime.conversation_engine.handle_inbound(session, inbound, on_stored=ack)
        except InvalidMessage as exc:
            await self.send({**_error(exc.code, exc.user_message), "client_id": client_id})
            return
        except UnknownTenant:
            await self.send(_error("unknown_tenant", "この窓口は見つかりません。"))
            return
        except Exception:  # noqa: BLE001 - one failing message gets its own error; the socket and the others live on
            log.exception("web message failed (tenant %s, stored: %s)", self.tenant_id, bool(stored))
            if not stored:  # not committed: the widget keeps it in its outbox and sends it again
                await self.send(
                    {**_error("not_stored", "メッセージを保存できませんでした。少し時間をおいて自動でもう一度送ります。"), "client_id": client_id, "retry": True}
                )
            return
        await self._follow(outcome.conversation_id)
        for reply in outcome.replies:
            await self.send(reply.event())
        metrics.inc("frontdoor_turns_total", channel="web")
        metrics.observe("frontdoor_turn_seconds", time.perf_counter() - started, channel="web")
