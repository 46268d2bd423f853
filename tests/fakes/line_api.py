"""A small local fake of the LINE Messaging API, served over real HTTP.

The real line-bot-sdk v3 async client (AsyncApiClient + AsyncMessagingApi) talks to it
through FRONTDOOR_LINE_API_BASE_URL, so requests cross the same client code and wire format
as production. It records every call, mints reply tokens that work once (and can expire
them), honours X-Line-Retry-Key (409 for a key it already accepted) and can be told to fail
pushes (429 quota, 5xx) a number of times. Also: webhook bodies and their real signatures.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.common import serve, wait_for_count


@dataclass
class Call:
    path: str
    body: dict[str, Any]
    headers: dict[str, str]
    status: int


@dataclass
class FakeLine:
    access_token: str = "line-access-token-for-tests"
    channel_secret: str = "line-channel-secret-for-tests"
    calls: list[Call] = field(default_factory=list)
    expire_tokens: bool = False  # every reply token is already too old
    push_failures: list[int] = field(default_factory=list)  # statuses for the next pushes
    hold_replies: asyncio.Event | None = None  # replies wait for this (proves the 200 came first)
    base_url: str = ""
    _tokens: dict[str, str] = field(default_factory=dict)  # reply token -> user id
    _retry_keys: set[str] = field(default_factory=set)
    _runner: web.AppRunner | None = None
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def reply_token(self, user_id: str) -> str:
        token = uuid.uuid4().hex
        self._tokens[token] = user_id
        return token

    def delivered(self, user_id: str) -> list[dict]:
        """Messages that reached the user, in order, each with how it came ("reply"/"push")."""
        out = []
        for call in self.calls:
            if call.status != 200:
                continue
            if call.path.endswith("/message/reply"):
                to, via = self._tokens.get(call.body.get("replyToken", ""), ""), "reply"
            elif call.path.endswith("/message/push"):
                to, via = call.body.get("to"), "push"
            else:
                continue
            if to == user_id:
                out.extend({**m, "via": via} for m in call.body.get("messages", []))
        return out

    def calls_to(self, suffix: str) -> list[Call]:
        return [c for c in self.calls if c.path.endswith(suffix)]

    async def wait_for(self, user_id: str, count: int, timeout: float = 15) -> list[dict]:
        return await wait_for_count(self._changed, lambda: self.delivered(user_id), count, timeout, user_id)

    async def _handle(self, request: web.Request) -> web.Response:
        body = await request.json() if request.can_read_body else {}
        headers = {k: v for k, v in request.headers.items()}
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            return self._record(request.path, body, headers, 401, {"message": "Authentication failed"})
        path = request.path
        if path == "/v2/bot/message/reply":
            if self.hold_replies is not None:
                await self.hold_replies.wait()
            token = body.get("replyToken", "")
            if self.expire_tokens or token not in self._tokens:
                return self._record(path, body, headers, 400, {"message": "Invalid reply token"})
            if any(c.status == 200 and c.body.get("replyToken") == token for c in self.calls_to("/message/reply")):
                return self._record(path, body, headers, 400, {"message": "Invalid reply token"})  # used once
            return self._record(path, body, headers, 200, self._sent(body))
        if path == "/v2/bot/message/push":
            key = request.headers.get("X-Line-Retry-Key")
            if key and key in self._retry_keys:
                return self._record(path, body, headers, 409, {"message": "The retry key is already accepted"})
            if self.push_failures:
                status = self.push_failures.pop(0)
                message = "You have reached your monthly limit." if status == 429 else "Internal server error"
                return self._record(path, body, headers, status, {"message": message})
            if key:
                self._retry_keys.add(key)
            return self._record(path, body, headers, 200, self._sent(body))
        if path == "/v2/bot/chat/loading/start":
            return self._record(path, body, headers, 202, {})
        return self._record(path, body, headers, 404, {"message": "Not found"})

    def _sent(self, body: dict) -> dict:
        return {"sentMessages": [{"id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex} for _ in body.get("messages", [])]}

    def _record(self, path: str, body: dict, headers: dict, status: int, payload: dict) -> web.Response:
        self.calls.append(Call(path, body, headers, status))
        self._changed.set()
        return web.json_response(payload, status=status)

    async def start(self) -> str:
        self._runner, self.base_url = await serve("/{tail:.*}", self._handle)
        return self.base_url

    async def stop(self) -> None:
        if self.hold_replies is not None:
            self.hold_replies.set()
        if self._runner is not None:
            await self._runner.cleanup()


# --- webhook bodies, signed as LINE signs them ------------------------------------------


def sign(channel_secret: str, body: bytes) -> str:
    """X-Line-Signature: base64 of HMAC-SHA256 over the exact body, keyed by the channel secret."""
    return base64.b64encode(hmac.new(channel_secret.encode(), body, hashlib.sha256).digest()).decode()


def body_of(*events: dict) -> bytes:
    return json.dumps({"destination": "Ufrontdoor0000000000000000000000", "events": list(events)}, ensure_ascii=False).encode()


def _base(kind: str, user_id: str, *, event_id: str | None = None, redelivery: bool = False) -> dict:
    return {
        "type": kind,
        "mode": "active",
        "timestamp": int(time.time() * 1000),
        "source": {"type": "user", "userId": user_id},
        "webhookEventId": event_id or uuid.uuid4().hex[:26].upper(),
        "deliveryContext": {"isRedelivery": redelivery},
    }


def text_event(user_id: str, text: str, token: str, **kw: Any) -> dict:
    message = {"type": "text", "id": str(uuid.uuid4().int)[:18], "quoteToken": uuid.uuid4().hex, "text": text}
    return {**_base("message", user_id, **kw), "replyToken": token, "message": message}


def content_event(user_id: str, kind: str, token: str, **extra: Any) -> dict:
    """A sticker, image, audio or location message."""
    message = {"type": kind, "id": str(uuid.uuid4().int)[:18], **extra}
    return {**_base("message", user_id), "replyToken": token, "message": message}


def postback_event(user_id: str, data: str, token: str) -> dict:
    return {**_base("postback", user_id), "replyToken": token, "postback": {"data": data}}


def follow_event(user_id: str, token: str) -> dict:
    return {**_base("follow", user_id), "replyToken": token, "follow": {"isUnblocked": False}}


def unfollow_event(user_id: str) -> dict:
    return _base("unfollow", user_id)
