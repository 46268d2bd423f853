"""The daily status check in chat (⑤イ(キ)): a reporter on a channel that can receive
messages (Telegram; later LINE) is also asked by the bot, and the answer is attached to the
check. The phone check on the worklist stays the rule; this only adds the chat question."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Author, Conversation
from frontdoor.models import Channel, ChannelKind
from frontdoor.settings import Settings
from handoff import live
from handoff.missing.timers import CheckDue
from handoff.relay import Relay
from handoff.requests import service as request_service

CHECK_QUESTION = "世田谷区高齢者安心コールです。管理番号「{number}」の件で、その後のご様子をおうかがいします。\n見つかりましたか。見つかったときは「見つかった」、まだのときは「まだ」とお返事ください。"
CHAT_CHANNELS = (ChannelKind.TELEGRAM,)


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


async def ask_reporters(session: AsyncSession, checks: list[CheckDue], *, relay: Relay | None, telegram: live.TextSender | None, now: datetime) -> int:
    asked = 0
    for check in checks:
        if check.conversation_id is None:
            continue
        kind = await session.scalar(
            select(Channel.kind).join(Conversation, Conversation.channel_id == Channel.id).where(Conversation.id == check.conversation_id)
        )
        if kind not in CHAT_CHANNELS:
            continue
        await live.post(session, relay=relay, telegram=telegram, conversation_id=check.conversation_id, text=CHECK_QUESTION.format(number=check.number), author=Author.BOT)
        await request_service.log_event(session, request_id=check.request_id, action="check_asked", now=now)
        await session.commit()
        asked += 1
    return asked

