"""Telegram handlers: translate updates into engine calls and replies into sendMessage."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup, Message

from bot.engine import ConversationEngine, Inbound, Outcome
from bot.validation import InvalidMessage
from frontdoor.models import ChannelKind

def keyboard(buttons: list[tuple[str, str]]) -> InlineKeyboardMarkup | None:
    """Clarify choices and handoff routes as an inline keyboard, one button a row (large tap targets)."""
    rows = [[InlineKeyboardButton(text=label, callback_data=action[:64])] for action, label in buttons]
    return InlineKeyboardMarkup(inline_keyboard=rows) if rows else None


async def _reply(message: Message, outcome: Outcome) -> None:
    if outcome.duplicate:
        return  # a redelivered update: it was answered the first time
    for reply in outcome.replies:
        await message.answer(reply.text, reply_markup=keyboard(reply.buttons))


def _inbound(tenant_id: str, message: Message, text: str, *, action: str | None = None, msg_id: str | None = None) -> Inbound:
    chat_id = str(message.chat.id)
    return Inbound(
        tenant_id=tenant_id,
        channel=ChannelKind.TELEGRAM,
        external_id=chat_id,
        text=text,
        channel_message_id=msg_id or f"{chat_id}:{message.message_id}",
        address=chat_id,
        action=action,
    )


async def _handle(engine: ConversationEngine, sessions, inbound: Inbound) -> Outcome:  # noqa: ANN001
    async with sessions() as session:
        return await engine.handle_inbound(session, inbound)


async def on_start(message: Message, engine: ConversationEngine, sessions, tenant_id: str) -> None:  # noqa: ANN001
    inbound = _inbound(tenant_id, message, message.text or "/start", action="topic:common.greeting")
    await _reply(message, await _handle(engine, sessions, inbound))


async def on_text(message: Message, engine: ConversationEngine, sessions, tenant_id: str) -> None:  # noqa: ANN001
    try:
        outcome = await _handle(engine, sessions, _inbound(tenant_id, message, message.text or ""))
    except InvalidMessage as exc:
        await message.answer(exc.user_message)
        return
    await _reply(message, outcome)


async def on_other(message: Message) -> None:
    await message.answer("ごめんなさい。写真やスタンプは読み取れません。文字でお送りください。")


async def on_button(query: CallbackQuery, engine: ConversationEngine, sessions, tenant_id: str) -> None:  # noqa: ANN001
    await query.answer()
    message = query.message
    if not isinstance(message, Message):
        return
    label = query.data or ""
    markup = message.reply_markup
    if markup is not None:
        for row in markup.inline_keyboard:
            for button in row:
                if button.callback_data == query.data:
                    label = button.text
    inbound = _inbound(tenant_id, message, label, action=query.data, msg_id=f"cb:{query.id}")
    await _reply(message, await _handle(engine, sessions, inbound))


def build_router() -> Router:
    """A fresh router per dispatcher (an aiogram router attaches to one dispatcher only)."""
    router = Router(name="resident")
    router.message.register(on_start, CommandStart())
    router.message.register(on_text, F.text)
    router.message.register(on_other)
    router.callback_query.register(on_button, F.data)
    return router
