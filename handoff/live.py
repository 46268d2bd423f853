"""Live chat between a counselor and a resident: store first, then deliver on the
resident's own channel (web socket via the Redis relay, Telegram via sendMessage, LINE by push)."""

from __future__ import annotations

import logging
import uuid
from typing import Protocol

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from bot import conversations as conv_service
from bot.engine import message_event
from bot.models import Author, Conversation, Message, ResidentContact
from frontdoor.clock import utc_now
from frontdoor.models import Channel, ChannelKind
from handoff.relay import Relay

log = logging.getLogger(__name__)

JOINED = "相談員が会話に参加しました。ここからは相談員がお返事します。"
HANDED_BACK = "相談員との会話を終えました。ここからは自動応答がお答えします。必要なときは、いつでも「相談員と話したい」と送ってください。"
CLOSED = "ご相談ありがとうございました。また困ったときは、いつでもご連絡ください。"


class TextSender(Protocol):
    async def send_text(self, chat_id: str, text: str, *, message_id: int | None = None) -> None: ...


async def _channel_and_address(session: AsyncSession, conversation: Conversation) -> tuple[ChannelKind, str | None]:
    row = (
        await session.execute(
            select(Channel.kind, ResidentContact.address)
            .join(ResidentContact, ResidentContact.channel_id == Channel.id)
            .where(Channel.id == conversation.channel_id, ResidentContact.id == conversation.contact_id)
        )
    ).one()
    return row[0], row[1]


async def post(
    session: AsyncSession,
    *,
    relay: Relay | None,
    telegram: TextSender | None,
    line: TextSender | None = None,
    conversation_id: uuid.UUID,
    text: str,
    author: Author,
    counselor_id: uuid.UUID | None = None,
) -> Message:
    """Store a counselor's (or a system) message, then deliver it. Delivery failures are
    logged and leave the message stored; the web widget catches up on reconnect."""
    conversation = await session.get(Conversation, conversation_id, populate_existing=True)
    if conversation is None:
        raise LookupError(conversation_id)
    message = await conv_service.store_outbound(
        session, conversation=conversation, text=text, author=author, now=utc_now(), counselor_id=counselor_id
    )
    await session.commit()
    kind, address = await _channel_and_address(session, conversation)
    if relay is not None:
        try:
            await relay.to_conversation(conversation.id, message_event(message))
        except Exception:
            log.warning("relay publish failed for %s", conversation.id, exc_info=True)
    if kind == ChannelKind.TELEGRAM and telegram is not None and address:
        try:
            await telegram.send_text(address, text)
        except Exception:
            log.warning("telegram delivery failed for %s", conversation.id, exc_info=True)
    if kind == ChannelKind.LINE and line is not None and address:
        await line.send_text(address, text, message_id=message.id)  # pushed and recorded (in the background on the web)
    return message


async def notify_consoles(relay: Relay, tenant_id: str, event: dict) -> None:
    """Tell the tenant's open consoles; with Redis down the change is committed anyway and
    the consoles reload their rows when their relay comes back (issue 12)."""
    try:
        await relay.to_console(tenant_id, event)
    except Exception:  # noqa: BLE001
        log.warning("console notice %s failed for %s", event.get("type"), event.get("case_id"), exc_info=True)
