"""The Telegram bot and dispatcher, built from settings; webhook route and polling."""

from __future__ import annotations

import asyncio
import hmac
import logging
from datetime import timedelta

from aiogram import Bot, Dispatcher
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.fsm.storage.redis import RedisStorage
from aiogram.types import Update
from fastapi import APIRouter, HTTPException, Request, Response

from bot.telegram.handlers import build_router
from bot.validation import scrub
from frontdoor.deps import RuntimeDep
from frontdoor.runtime import Runtime

log = logging.getLogger(__name__)

webhook_router = APIRouter()


def build_bot(token: str, api_base: str = "") -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(api_base)) if api_base else AiohttpSession()
    return Bot(token=token, session=session)


def build_dispatcher(runtime: Runtime) -> Dispatcher:
    """Engine, session factory and tenant reach handlers as workflow data (no globals)."""
    storage = RedisStorage(runtime.redis, state_ttl=timedelta(days=1), data_ttl=timedelta(days=1))
    dp = Dispatcher(storage=storage)
    dp["engine"] = runtime.conversation_engine
    dp["sessions"] = runtime.sessions
    dp["tenant_id"] = runtime.settings.telegram_tenant
    dp.include_routers(build_router())
    return dp


class TelegramChannel:
    def __init__(self, runtime: Runtime):
        settings = runtime.settings
        self.bot = build_bot(settings.telegram_bot_token, settings.telegram_api_base)
        self.dp = build_dispatcher(runtime)
        self.mode = settings.telegram_mode
        self.secret = settings.telegram_webhook_secret
        self._polling: asyncio.Task | None = None

    async def start(self) -> None:
        if self.mode == "polling":
            await self.bot.delete_webhook(drop_pending_updates=False)
            self._polling = asyncio.create_task(
                self.dp.start_polling(self.bot, handle_signals=False, close_bot_session=False, polling_timeout=5)
            )

    async def stop(self) -> None:
        if self._polling is not None:
            await self.dp.stop_polling()
            try:
                await asyncio.wait_for(self._polling, timeout=10)
            except (asyncio.TimeoutError, RuntimeError):
                self._polling.cancel()
        await self.bot.session.close()

    async def send_text(self, chat_id: str, text: str, *, message_id: int | None = None) -> None:  # noqa: ARG002
        await self.bot.send_message(chat_id=int(chat_id), text=text)


@webhook_router.post("/telegram/webhook", include_in_schema=False)
async def telegram_webhook(request: Request, runtime: RuntimeDep) -> Response:
    """Telegram's webhook: refuse any request without our secret token (403)."""
    channel: TelegramChannel | None = runtime.extras.get("telegram")
    if channel is None or channel.mode != "webhook":
        raise HTTPException(status_code=404)
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not channel.secret or not hmac.compare_digest(given, channel.secret):
        raise HTTPException(status_code=403, detail="forbidden")
    try:
        # Lone surrogates (half an emoji) made encodable before anything stores them (issue 12).
        update = Update.model_validate(scrub(await request.json()), context={"bot": channel.bot})
    except Exception:
        raise HTTPException(status_code=400, detail="bad update") from None
    await channel.dp.feed_update(channel.bot, update)
    return Response(status_code=200)
