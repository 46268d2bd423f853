"""The daily status check in chat (⑤イ(キ)): a reporter on a channel that can receive
messages (Telegram, LINE) is also asked by the bot, and the answer is attached to the check
(the engine's missing-person flow, whichever channel the answer comes in on). The phone
check on the worklist stays the rule; this only adds the chat question.

Run from a Celery task: every send is awaited before the task's event loop ends. A LINE
push carries a retry key derived from the check (request and day), so running the ask for
the same check again cannot deliver it twice; a reporter who blocked the account is not
asked at all."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.deliveries import Delivery, DeliveryStatus
from bot.models import Author, Conversation, ResidentContact
from frontdoor.clock import to_jst
from frontdoor.db import session_factory
from frontdoor.models import Channel, ChannelKind
from frontdoor.settings import Settings
from handoff import live
from handoff.missing.timers import CheckDue
from handoff.relay import Relay
from handoff.requests import service as request_service

CHECK_QUESTION = "世田谷区高齢者安心コールです。管理番号「{number}」の件で、その後のご様子をおうかがいします。\n見つかりましたか。見つかったときは「見つかった」、まだのときは「まだ」とお返事ください。"
CHAT_CHANNELS = (ChannelKind.TELEGRAM, ChannelKind.LINE)
RETRY_KEYS = uuid.UUID("6f1d3c1e-8b1a-4c55-9a40-0f6a1b2c3d4e")  # namespace of the check questions' LINE retry keys


def telegram_sender(settings: Settings) -> live.TextSender | None:
    if not settings.telegram_bot_token:
        return None
    from bot.telegram.setup import build_bot

    class _Sender:
        async def send_text(self, chat_id: str, text: str) -> None:
            bot = build_bot(settings.telegram_bot_token, settings.telegram_api_base)
            try:
                await bot.send_message(chat_id=int(chat_id), text=text)
            finally:
                await bot.session.close()

    return _Sender()


@asynccontextmanager
async def line_pusher(settings: Settings, session: AsyncSession, relay: Relay | None) -> AsyncIterator:
    """The LINE channel's pusher for a worker (None when LINE is not configured), on the
    task's own database engine; its HTTP client is closed when the task's work ends."""
    if not settings.line_enabled:
        yield None
        return
    from bot.line.push import LinePusher, build_api

    client, api = build_api(settings)
    try:
        yield LinePusher(settings, api, session_factory(session.bind), relay)
    finally:
        await client.close()


class _Keyed:
    """The pusher with this check's retry key, as `live.post` calls a sender."""

    def __init__(self, pusher, retry_key: str):  # noqa: ANN001
        self.pusher, self.retry_key = pusher, retry_key

    async def send_text(self, chat_id: str, text: str, *, message_id: int | None = None) -> None:
        await self.pusher.send_text(chat_id, text, message_id=message_id, retry_key=self.retry_key)


async def ask_reporters(
    session: AsyncSession, checks: list[CheckDue], *, relay: Relay | None, telegram: live.TextSender | None, now: datetime,
    line=None, line_tenant: str | None = None,  # noqa: ANN001
) -> int:
    """Ask each check's reporter in chat; the number asked. LINE only for `line_tenant`'s
    reporters (the account belongs to one tenant) and only with a pusher; a push LINE
    refused after its retries is not counted nor logged as asked (the console shows 「未送信」)."""
    asked = 0
    for check in checks:
        if check.conversation_id is None:
            continue
        row = (await session.execute(
            select(Channel.kind, Channel.tenant_id, ResidentContact.unfollowed_at)
            .join(Conversation, Conversation.channel_id == Channel.id)
            .join(ResidentContact, ResidentContact.id == Conversation.contact_id)
            .where(Conversation.id == check.conversation_id)
        )).one_or_none()
        if row is None or row.kind not in CHAT_CHANNELS:
            continue
        keyed = None
        if row.kind == ChannelKind.LINE:
            if line is None or row.tenant_id != line_tenant or row.unfollowed_at is not None:
                continue  # never push to someone who blocked the account; the phone check stays
            day = check.day or to_jst(now).date()
            keyed = _Keyed(line, str(uuid.uuid5(RETRY_KEYS, f"{check.request_id}/{day.isoformat()}")))
        message = await live.post(
            session, relay=relay, telegram=telegram, line=keyed, conversation_id=check.conversation_id,
            text=CHECK_QUESTION.format(number=check.number), author=Author.BOT,
        )
        if keyed is not None and await session.scalar(select(Delivery.status).where(Delivery.message_id == message.id)) == DeliveryStatus.FAILED:
            continue
        await request_service.log_event(session, request_id=check.request_id, action="check_asked", now=now)
        await session.commit()
        asked += 1
    return asked
