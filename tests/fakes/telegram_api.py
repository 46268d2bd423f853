"""A small local fake of the Telegram Bot API, served over real HTTP.

The real aiogram Bot talks to it through TelegramAPIServer, so requests cross the same
client code and wire format as production. It records every call and serves queued
updates to getUpdates (polling mode).
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.common import serve, wait_for_count

BOT_USER = {"id": 4242, "is_bot": True, "first_name": "Frontdoor", "username": "frontdoor_test_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]


@dataclass
class FakeTelegram:
    token: str = "4242:TEST-token"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    _next_message_id: int = 1000
    _runner: web.AppRunner | None = None
    base_url: str = ""
    _changed: asyncio.Event = field(default_factory=asyncio.Event)

    def sent(self, chat_id: int | None = None) -> list[dict]:
        """sendMessage calls, optionally for one chat."""
        return [
            c.params
            for c in self.calls
            if c.method == "sendMessage" and (chat_id is None or int(c.params["chat_id"]) == chat_id)
        ]

    async def wait_for_sent(self, chat_id: int, count: int, timeout: float = 10) -> list[dict]:
        return await wait_for_count(self._changed, lambda: self.sent(chat_id), count, timeout, f"chat {chat_id}")

    async def _handle(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.json_response({"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401)
        method = request.match_info["method"]
        if request.content_type.startswith("application/json"):
            params = await request.json()
        else:
            form = await request.post()
            params = {}
            for key, value in form.items():
                try:
                    params[key] = json.loads(value) if isinstance(value, str) and value[:1] in "[{" else value
                except json.JSONDecodeError:
                    params[key] = value
        self.calls.append(Call(method, params))
        self._changed.set()
        return web.json_response({"ok": True, "result": await self._result(method, params)})

    async def _result(self, method: str, params: dict) -> Any:
        if method == "getMe":
            return BOT_USER
        if method == "sendMessage":
            self._next_message_id += 1
            chat_id = int(params["chat_id"])
            result = {
                "message_id": self._next_message_id,
                "date": int(time.time()),
                "chat": {"id": chat_id, "type": "private"},
                "from": BOT_USER,
                "text": params.get("text", ""),
            }
            if params.get("reply_markup"):
                markup = params["reply_markup"]
                result["reply_markup"] = json.loads(markup) if isinstance(markup, str) else markup
            return result
        if method == "getUpdates":
            offset = int(params.get("offset") or 0)
            timeout = float(params.get("timeout") or 0)
            deadline = time.monotonic() + min(timeout, 1.0)
            while time.monotonic() < deadline:
                pending = [u for u in self.updates if u["update_id"] >= offset]
                if pending:
                    return pending
                await asyncio.sleep(0.05)
            return [u for u in self.updates if u["update_id"] >= offset]
        return True  # answerCallbackQuery, deleteWebhook, setWebhook, ...

    async def start(self) -> str:
        self._runner, self.base_url = await serve("/bot{token}/{method}", self._handle)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


def text_update(update_id: int, chat_id: int, message_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": {"id": chat_id, "type": "private", "first_name": "住民"},
            "from": {"id": chat_id, "is_bot": False, "first_name": "住民"},
            "text": text,
        },
    }


def callback_update(update_id: int, chat_id: int, message: dict, data: str) -> dict:
    return {
        "update_id": update_id,
        "callback_query": {
            "id": f"cb{update_id}",
            "from": {"id": chat_id, "is_bot": False, "first_name": "住民"},
            "chat_instance": "ci",
            "message": message,
            "data": data,
        },
    }
