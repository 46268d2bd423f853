"""Takeover through Telegram relays both ways (issue 4): the real aiogram client talks HTTP to
the fake Bot API server; the counselor works in the console over HTTP and WebSocket."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets
from sqlalchemy import select

from bot.models import Message
from handoff.models import Case
from tests.conftest import TELEGRAM_SECRET as SECRET
from tests.fakes.telegram_api import text_update
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio


async def _post(server, update: dict) -> None:  # noqa: ANN001
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        response = await http.post("/telegram/webhook", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": SECRET})
        assert response.status_code == 200


async def test_telegram_takeover_relays_both_ways(webhook_server, fake_telegram, session):  # noqa: ANN001
    chat = 710001
    await _post(webhook_server, text_update(900, chat, 1, "母が認知症で、朝から帰ってこないんです。どこにもいない"))
    first = (await fake_telegram.wait_for_sent(chat, 1))[0]
    assert "110" in first["text"]  # a missing person with dementia: has 110 been called (Setagaya ⑤)

    inbound = await session.scalar(select(Message).where(Message.channel_message_id == f"{chat}:1"))
    case = await session.scalar(select(Case).where(Case.conversation_id == inbound.conversation_id))
    assert case.urgency == "emergency" and case.kind == "missing_person"

    counselor = await make_staff(session, tenant_id="setagaya")
    console = await console_client(webhook_server.base_url, counselor)
    assert (await console.post(f"/console/cases/{case.id}/take-over")).status_code == 303
    joined = (await fake_telegram.wait_for_sent(chat, 2))[1]
    assert "相談員が会話に参加しました" in joined["text"]

    assert (await console.post(f"/console/cases/{case.id}/messages", data={"text": "110番には連絡されましたか？"})).status_code == 200
    relayed = (await fake_telegram.wait_for_sent(chat, 3))[2]
    assert relayed["text"] == "110番には連絡されましたか？"

    case_ws = await websockets.connect(
        f"{webhook_server.ws_url}/console/ws/cases/{case.id}?after=999999999",
        additional_headers={"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"},
    )
    await asyncio.sleep(0.2)
    await _post(webhook_server, text_update(901, chat, 2, "はい、さっき警察に電話しました"))
    seen = json.loads(await asyncio.wait_for(case_ws.recv(), timeout=10))
    assert seen["author"] == "resident" and seen["text"] == "はい、さっき警察に電話しました"
    await asyncio.sleep(0.5)
    assert len(fake_telegram.sent(chat)) == 3, "the bot stays silent while the counselor holds the chat"
    await case_ws.close()
    await console.aclose()
