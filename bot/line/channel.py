"""The LINE channel: the real line-bot-sdk v3 async client, event handling after the 200,
reply while the reply token is fresh, push (with back-off and a delivery record, `push.py`) otherwise.

Thin by design: each event becomes an engine `Inbound` with the same button ids the web
widget and Telegram send; everything else (triage, answers, cases) is the engine's.
"""

from __future__ import annotations

import asyncio
import json
import logging
import weakref
from collections.abc import Awaitable
from datetime import datetime, timedelta

import aiohttp
from linebot.v3.messaging import ApiException, ReplyMessageRequest, ShowLoadingAnimationRequest
from linebot.v3.webhook import WebhookParser
from linebot.v3.webhooks import (
    Event,
    FollowEvent,
    MessageEvent,
    PostbackEvent,
    TextMessageContent,
    UnfollowEvent,
)

from bot.engine import Inbound, Outcome
from bot.line import messages as line_messages
from bot.line import service
from bot.line.push import LinePusher, build_api, error_label
from bot.line.models import LineEvent
from bot.line.texts import load_texts
from bot.validation import InvalidMessage
from frontdoor import ratelimit
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from frontdoor.runtime import Runtime

log = logging.getLogger(__name__)

RATE_LIMIT = 30  # messages per minute per resident, as for the web widget


class LineChannel:
    def __init__(self, runtime: Runtime):
        settings = runtime.settings
        self.runtime = runtime
        self.settings = settings
        self.tenant_id = settings.line_tenant
        self.tenant = runtime.tenants.get(self.tenant_id)
        self.texts = load_texts()
        self.texts.check_tenants(runtime.tenants.all())
        self.parser = WebhookParser(settings.line_channel_secret)
        self.client, self.api = build_api(settings)
        self.pusher = LinePusher(settings, self.api, runtime.sessions, runtime.relay)
        self._tasks: set[asyncio.Task] = set()
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # --- lifecycle -------------------------------------------------------------------

    async def start(self) -> None:
        """Handle events stored before a restart but never handled (push: their tokens are old)."""
        async with self.runtime.sessions() as session:
            pending = await service.unhandled(session, tenant_id=self.tenant_id)
        if pending:
            self.spawn(self.handle_events(pending))

    async def stop(self) -> None:
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=15)
        for task in list(self._tasks):
            task.cancel()
        await self.client.close()

    def spawn(self, work: Awaitable) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- inbound ---------------------------------------------------------------------

    async def accept(self, body: str, signature: str) -> list[int]:
        """Verify the signature (raises InvalidSignatureError), then store the new events."""
        self.parser.parse(body, signature)
        events = json.loads(body).get("events") or []
        async with self.runtime.sessions() as session:
            return await service.record(session, tenant_id=self.tenant_id, events=events, now=utc_now())

    async def handle_events(self, event_ids: list[int]) -> None:
        for event_id in event_ids:
            try:
                await self._handle_one(event_id)
            except Exception:  # one bad event must not stop the others; it stays unhandled
                log.exception("LINE event %s failed", event_id)

    async def _handle_one(self, event_id: int) -> None:
        async with self.runtime.sessions() as session:
            row = await session.get(LineEvent, event_id)
            if row is None or row.handled_at is not None or row.payload is None:
                return
            payload, kind, received_at = dict(row.payload), row.kind, row.received_at
        source = payload.get("source") or {}
        user_id = source.get("userId") if source.get("type") == "user" else None
        if user_id:  # groups and rooms are not a place for a consultation: ignored
            reply = _ReplyTo(user_id, payload.get("replyToken"), received_at)
            lock = self._locks.setdefault(user_id, asyncio.Lock())
            async with lock:  # one resident's events in order
                if kind.startswith("message:") and kind != "message:text":
                    # Reduced to its type in the inbox (service._kept_payload): never parsed, never stored.
                    await self._send(reply, [self.texts.not_text_reply(kind.removeprefix("message:"))])
                else:
                    await self._dispatch(_parse(payload), reply)
        async with self.runtime.sessions() as session:
            await service.mark_handled(session, event_id=event_id, now=utc_now())

    async def _dispatch(self, event: Event | None, reply: _ReplyTo) -> None:
        """Each kind of event we act on; others (join, unsend, read receipts…) are only marked handled."""
        user_id = reply.user_id
        if isinstance(event, FollowEvent):
            await self._on_follow(user_id, reply)
        elif isinstance(event, UnfollowEvent):
            await self._on_unfollow(user_id)
        elif isinstance(event, PostbackEvent):
            parsed = line_messages.parse_postback(event.postback.data)
            if parsed is not None:
                action, label = parsed
                await self._converse(reply, text=label, action=action, message_id=f"pb:{event.webhook_event_id}")
        elif isinstance(event, MessageEvent) and isinstance(event.message, TextMessageContent):
            await self._converse(reply, text=event.message.text, message_id=event.webhook_event_id)

    async def _on_follow(self, user_id: str, reply: _ReplyTo) -> None:
        async with self.runtime.sessions() as session:
            contact = await service.contact(session, secret_key=self.settings.secret_key, tenant_id=self.tenant_id, user_id=user_id)
            await service.set_followed(session, contact_id=contact.id, following=True, now=utc_now())
        privacy_url = f"{self.settings.public_base_url.rstrip('/')}/privacy/{self.tenant_id}"
        await self._send(reply, [self.texts.greeting(self.tenant, privacy_url=privacy_url)])

    async def _on_unfollow(self, user_id: str) -> None:
        async with self.runtime.sessions() as session:
            contact = await service.contact(session, secret_key=self.settings.secret_key, tenant_id=self.tenant_id, user_id=user_id)
            await service.set_followed(session, contact_id=contact.id, following=False, now=utc_now())

    async def _converse(self, reply: _ReplyTo, *, text: str, message_id: str, action: str | None = None) -> None:
        if not await ratelimit.allow(self.runtime.redis, f"line:{reply.user_id}", limit=RATE_LIMIT, window_s=60):
            await self._send(reply, [self.texts.rate_limited])
            return
        await self._loading(reply.user_id)
        inbound = Inbound(
            tenant_id=self.tenant_id,
            channel=ChannelKind.LINE,
            external_id=reply.user_id,
            text=text,
            channel_message_id=message_id,
            address=reply.user_id,
            action=action,
        )
        try:
            async with self.runtime.sessions() as session:
                outcome: Outcome = await self.runtime.conversation_engine.handle_inbound(session, inbound)
        except InvalidMessage as exc:
            await self._send(reply, [exc.user_message])
            return
        if outcome.duplicate or not outcome.replies:
            return  # answered before, or a counselor holds the chat (the bot stays silent)
        buttons = [b for r in outcome.replies for b in r.buttons]
        await self._send(reply, [r.text for r in outcome.replies], buttons, stored_ids=[r.message_id for r in outcome.replies])

    async def _loading(self, user_id: str) -> None:
        """LINE's 'typing' animation while the engine thinks; it ends when a message arrives."""
        try:
            await self.api.show_loading_animation(ShowLoadingAnimationRequest(chat_id=user_id, loading_seconds=20))
        except Exception:  # cosmetic: never let it delay or stop the answer
            log.info("LINE loading animation failed", exc_info=True)

    # --- outbound --------------------------------------------------------------------

    async def send_text(self, chat_id: str, text: str, *, message_id: int | None = None) -> None:
        """A counselor's (or a system) message from the console: always push, in the
        background, recorded so the console can show it undelivered."""
        self.spawn(self.pusher.send_text(chat_id, text, message_id=message_id))

    async def _send(self, reply: _ReplyTo, texts: list[str], buttons: list | None = None, *, stored_ids: list[int] | None = None) -> None:
        messages = line_messages.text_messages(texts, buttons)
        if not messages:
            return
        delivery_ids, retry_key = await self.pusher.start(stored_ids or [])
        batches = line_messages.batches(messages)
        window = timedelta(seconds=self.settings.line_reply_window_seconds)
        if reply.token is not None and reply.received_at is not None and utc_now() - reply.received_at < window:
            try:
                await self.api.reply_message(ReplyMessageRequest(reply_token=reply.token, messages=batches[0]))
                batches = batches[1:]
                if not batches:
                    await self.pusher.record_sent(delivery_ids, "reply")
            except (ApiException, aiohttp.ClientError, asyncio.TimeoutError) as exc:
                # An expired or used token (400), or LINE unreachable: push instead.
                log.info("LINE reply failed (%s); pushing instead", error_label(exc))
        for batch in batches:
            await self.pusher.push(reply.user_id, batch, delivery_ids, retry_key)


class _ReplyTo:
    """Where an answer goes: the event's reply token if the answer is ready while it is
    fresh (checked when sending, not when the event arrived), else a push to the user id."""

    __slots__ = ("user_id", "token", "received_at")

    def __init__(self, user_id: str, token: str | None = None, received_at: datetime | None = None):
        self.user_id = user_id
        self.token = token
        self.received_at = received_at


def _parse(payload: dict) -> Event | None:
    try:
        return Event.from_dict(payload)
    except (ValueError, TypeError, KeyError):  # a kind this SDK version does not know
        log.info("LINE event of kind %s not understood", payload.get("type"))
        return None
