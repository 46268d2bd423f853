"""Telegram through the real aiogram client and a local fake Bot API server over HTTP (issue 2 §5)."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from sqlalchemy import func, select

from bot.models import Direction, Message
from frontdoor.app import create_app
from frontdoor.runtime import build_runtime
from tests.conftest import TELEGRAM_SECRET, LiveServer
from tests.fakes.telegram_api import callback_update, text_update

pytestmark = pytest.mark.asyncio
SECRET = TELEGRAM_SECRET


async def _post(server: LiveServer, update: dict, secret: str | None = SECRET) -> httpx.Response:
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret is not None else {}
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return await http.post("/telegram/webhook", json=update, headers=headers)


async def _inbound_count(session, chat_message_id: str) -> int:  # noqa: ANN001
    return await session.scalar(
        select(func.count()).select_from(Message).where(
            Message.channel_message_id == chat_message_id, Message.direction == Direction.INBOUND
        )
    )


async def test_update_is_answered_with_send_message(webhook_server, fake_telegram, session):  # noqa: ANN001
    chat = 700001
    response = await _post(webhook_server, text_update(1, chat, 10, "でんわほうもんの曜日をかえたいんだけど"))
    assert response.status_code == 200
    sent = await fake_telegram.wait_for_sent(chat, 1)
    assert "電話訪問" in sent[0]["text"]
    assert await _inbound_count(session, f"{chat}:10") == 1


async def test_redelivered_update_is_stored_once_and_answered_once(webhook_server, fake_telegram, session):  # noqa: ANN001
    chat = 700002
    update = text_update(2, chat, 11, "見守りステッカーのこと教えて")
    assert (await _post(webhook_server, update)).status_code == 200
    assert (await _post(webhook_server, update)).status_code == 200
    await fake_telegram.wait_for_sent(chat, 1)
    await asyncio.sleep(0.3)
    assert len(fake_telegram.sent(chat)) == 1
    assert await _inbound_count(session, f"{chat}:11") == 1


async def test_wrong_or_missing_secret_is_refused_with_403(webhook_server, fake_telegram, session):  # noqa: ANN001
    chat = 700003
    assert (await _post(webhook_server, text_update(3, chat, 12, "こんにちは"), secret="wrong")).status_code == 403
    assert (await _post(webhook_server, text_update(4, chat, 13, "こんにちは"), secret=None)).status_code == 403
    assert fake_telegram.sent(chat) == []
    assert await _inbound_count(session, f"{chat}:12") == 0


async def test_clarify_buttons_arrive_as_inline_keyboard_and_a_tap_answers(webhook_server, fake_telegram):  # noqa: ANN001
    chat = 700004
    await _post(webhook_server, text_update(5, chat, 14, "ははのことで"))
    first = (await fake_telegram.wait_for_sent(chat, 1))[0]
    markup = first.get("reply_markup")
    assert markup and markup["inline_keyboard"], "a vague question gets choices as buttons"
    button = markup["inline_keyboard"][0][0]
    message = {
        "message_id": 5000,
        "date": 0,
        "chat": {"id": chat, "type": "private"},
        "text": first["text"],
        "reply_markup": markup,
    }
    await _post(webhook_server, callback_update(6, chat, message, button["callback_data"]))
    answers = await fake_telegram.wait_for_sent(chat, 2)
    assert answers[1]["text"] != first["text"]
    assert any(c.method == "answerCallbackQuery" for c in fake_telegram.calls)


async def test_sticker_or_photo_gets_a_plain_request_for_text(webhook_server, fake_telegram):  # noqa: ANN001
    chat = 700005
    update = text_update(7, chat, 15, "x")
    del update["message"]["text"]
    update["message"]["sticker"] = {
        "file_id": "f", "file_unique_id": "u", "type": "regular", "width": 1, "height": 1, "is_animated": False, "is_video": False
    }
    assert (await _post(webhook_server, update)).status_code == 200
    sent = await fake_telegram.wait_for_sent(chat, 1)
    assert "文字で" in sent[0]["text"]


async def test_polling_mode_receives_updates_and_replies(settings, decider, redis_handle, fake_telegram):  # noqa: ANN001
    chat = 700006
    fake_telegram.updates.append(text_update(100, chat, 20, "ボランティアさんに電球かえてほしい"))
    tg_settings = settings.model_copy(
        update={
            "telegram_bot_token": fake_telegram.token,
            "telegram_api_base": fake_telegram.base_url,
            "telegram_mode": "polling",
            "telegram_tenant": "setagaya",
        }
    )
    app = create_app(tg_settings, runtime_factory=lambda: build_runtime(tg_settings, decider=decider, redis_handle=redis_handle))
    async with app.router.lifespan_context(app):
        sent = await fake_telegram.wait_for_sent(chat, 1, timeout=20)
    assert "ボランティア" in sent[0]["text"]
