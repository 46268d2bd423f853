"""LINE push, shared by the web process (the channel) and the Celery workers (the daily
check question, ⑤イ(キ)): one place that skips unfollowed contacts, retries with back-off
under one X-Line-Retry-Key, and records the outcome in `delivery` (a failure shows 「未送信」).

Every push is awaited here; the channel decides itself whether to run it in the background.
A worker awaits it, so the push is done (or recorded as failed) before its event loop ends.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp
from linebot.v3.messaging import ApiException, AsyncApiClient, AsyncMessagingApi, Configuration, PushMessageRequest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import deliveries
from bot.line import messages as line_messages
from bot.line import service
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from frontdoor.settings import Settings
from handoff.relay import Relay

log = logging.getLogger(__name__)

PERMANENT = {400, 401, 403, 404}  # not worth retrying (409 means LINE already has it)


def build_api(settings: Settings) -> tuple[AsyncApiClient, AsyncMessagingApi]:
    """The real line-bot-sdk v3 async client; the caller closes the client."""
    client = AsyncApiClient(Configuration(access_token=settings.line_channel_access_token))
    api = AsyncMessagingApi(client)
    api.line_base_path = settings.line_api_base_url.rstrip("/")  # the SDK's own switch for its host
    return client, api


class LinePusher:
    def __init__(self, settings: Settings, api: AsyncMessagingApi, sessions: async_sessionmaker[AsyncSession], relay: Relay | None):
        self.settings = settings
        self.api = api
        self.sessions = sessions
        self.relay = relay

    async def start(self, message_ids: list[int], *, retry_key: str | None = None) -> tuple[list[int], str | None]:
        """Pending delivery rows (committed before sending) and the retry key they share."""
        if not message_ids:
            return [], None
        async with self.sessions() as session:
            rows = await deliveries.start(session, message_ids=message_ids, channel=str(ChannelKind.LINE), retry_key=retry_key)
            await session.commit()
            return [r.id for r in rows], rows[0].retry_key

    async def send_text(self, chat_id: str, text: str, *, message_id: int | None = None, retry_key: str | None = None) -> bool:
        """Push one stored message and record it; True once LINE has it. A caller that may run
        twice for the same message (a task retry) passes a stable `retry_key`."""
        delivery_ids, key = await self.start([message_id] if message_id else [], retry_key=retry_key)
        sent = True
        for batch in line_messages.batches(line_messages.text_messages([text], None)):
            sent = await self.push(chat_id, batch, delivery_ids, key or retry_key) and sent
        return sent

    async def push(self, to: str, batch: list, delivery_ids: list[int], retry_key: str | None) -> bool:
        """Push with exponential back-off; 429 (quota, rate) and 5xx and network errors are
        retried, a 409 means LINE already accepted this retry key. The outcome is recorded."""
        async with self.sessions() as session:
            if await service.is_unfollowed(session, channel_kind=ChannelKind.LINE, address=to):
                await self.record_failed(delivery_ids, "unfollowed")
                return False
        error = "unknown"
        for attempt in range(max(1, self.settings.line_push_attempts)):
            try:
                await self.api.push_message(PushMessageRequest(to=to, messages=batch), x_line_retry_key=retry_key)
                await self.record_sent(delivery_ids, "push")
                return True
            except ApiException as exc:
                if exc.status == 409:
                    await self.record_sent(delivery_ids, "push")
                    return True
                error = error_label(exc)
                if exc.status in PERMANENT:
                    break
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                error = error_label(exc)
            log.warning("LINE push failed (%s), attempt %d", error, attempt + 1)
            if delivery_ids:
                async with self.sessions() as session:
                    await deliveries.note_attempt(session, delivery_ids=delivery_ids, error=error)
                    await session.commit()
            if attempt + 1 < self.settings.line_push_attempts:
                await asyncio.sleep(self.settings.line_push_backoff_seconds * 2**attempt)
        await self.record_failed(delivery_ids, error)
        return False

    async def record_sent(self, delivery_ids: list[int], via: str) -> None:
        if delivery_ids:
            async with self.sessions() as session:
                await deliveries.mark_sent(session, delivery_ids=delivery_ids, via=via, now=utc_now())
                await session.commit()

    async def record_failed(self, delivery_ids: list[int], error: str) -> None:
        log.error("LINE delivery failed (%s) for %d stored message(s)", error, len(delivery_ids))
        if not delivery_ids:
            return
        async with self.sessions() as session:
            failed = await deliveries.mark_failed(session, delivery_ids=delivery_ids, error=error, now=utc_now())
            await session.commit()
        if self.relay is None:
            return
        try:  # a counselor watching the case sees 「未送信」 at once (ids only, no text)
            for conversation_id, message_id in failed:
                await self.relay.to_conversation(conversation_id, {"type": "undelivered", "id": message_id})
        except Exception:
            log.warning("relay publish failed for an undelivered LINE message", exc_info=True)


def error_label(exc: BaseException) -> str:
    status = getattr(exc, "status", None)
    return f"http {status}" if status else type(exc).__name__
