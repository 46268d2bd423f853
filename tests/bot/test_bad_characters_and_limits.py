"""Issue 12: one malformed character never loses a resident's later messages, and the web
chat's limits hold per connection and per source address, not only per session."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest

from bot.models import Message
from tests.bot.wsclient import ChatClient
from tests.conftest import TELEGRAM_SECRET, LiveServer
from tests.fakes.telegram_api import text_update

pytestmark = pytest.mark.asyncio

HALF_EMOJI = "\ud83d"  # the first half of 😀, as a phone keyboard sometimes sends it


@pytest.fixture(scope="module")
def strict_server(settings, decider, redis_handle):  # noqa: ANN001, ANN201
    """Low limits, so the tests stay short; each test talks from its own address."""
    server = LiveServer(
        settings.model_copy(
            update={"web_messages_per_minute": 4, "web_messages_per_address_per_minute": 6, "web_new_sessions_per_address_per_minute": 3}
        ),
        decider,
        redis_handle,
    ).start()
    yield server
    server.stop()


def _address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def test_lone_surrogate_is_stored_cleaned_and_later_messages_follow(live_server, session):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    try:
        # json.dumps escapes the lone surrogate as \\ud83d, exactly as a browser's JSON.stringify does.
        bad = await client.send_text(f"ありがとう{HALF_EMOJI}")
        later = [await client.send_text("ごみの出し方をおしえて"), await client.send_text("もうひとつききたい")]
        acks = {}
        while len(acks) < 3:
            event = await client.next_event()
            assert event["type"] != "error", event
            if event["type"] == "ack":
                acks[event["client_id"]] = event["id"]
    finally:
        await client.close()
    assert set(acks) == {bad, *later}
    stored = await session.get(Message, acks[bad])
    assert stored.text == "ありがとう\ufffd"


async def test_nul_in_client_id_is_not_a_server_error(live_server):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    try:
        await client.ws.send(json.dumps({"type": "message", "client_id": "a\x00b", "text": "こんにちは"}))
        assert (await client.next_event("ack"))["id"] > 0
        await client.send_text("まだつながってますか")
        assert (await client.next_event("ack"))["id"] > 0
    finally:
        await client.close()


async def test_telegram_webhook_accepts_a_lone_surrogate(webhook_server, fake_telegram, session):  # noqa: ANN001
    chat = 700912
    # ensure_ascii JSON carries the lone surrogate as an escape, as Telegram would relay it.
    body = json.dumps(text_update(912, chat, 91, f"みまもりステッカーほしい{HALF_EMOJI}"))
    async with httpx.AsyncClient(base_url=webhook_server.base_url, timeout=30) as http:
        response = await http.post(
            "/telegram/webhook", content=body,
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "content-type": "application/json"},
        )
    assert response.status_code == 200
    assert await fake_telegram.wait_for_sent(chat, 1)


async def test_a_new_session_on_the_same_socket_does_not_reset_the_limit(strict_server):  # noqa: ANN001
    client = await ChatClient(f"{strict_server.ws_url}/ws/kashiwa", address=_address()).connect()
    try:
        for _ in range(4):
            await client.send_text("あ")
            await client.next_event("ack")
        await client.ws.send(json.dumps({"type": "hello", "session": None, "last_id": 0}))
        await client.next_event("welcome")
        await client.send_text("い")
        error = await client.next_event("error")
        assert error["code"] == "rate_limited" and error["retry"] is True
    finally:
        await client.close()


async def test_limits_hold_per_address(strict_server):  # noqa: ANN001
    address = _address()
    first = await ChatClient(f"{strict_server.ws_url}/ws/setagaya", address=address).connect()
    second = await ChatClient(f"{strict_server.ws_url}/ws/setagaya", address=address).connect()
    try:
        for client in (first, second, first):
            for _ in range(2):
                await client.send_text("こんにちは")
                await client.next_event("ack")
        await second.send_text("こんにちは")
        assert (await second.next_event("error"))["code"] == "rate_limited"
    finally:
        await first.close()
        await second.close()


async def test_new_sessions_per_address_are_limited(strict_server):  # noqa: ANN001
    address = _address()
    clients = [await ChatClient(f"{strict_server.ws_url}/ws/kashiwa", address=address).connect() for _ in range(3)]
    refused = ChatClient(f"{strict_server.ws_url}/ws/kashiwa", address=address)
    try:
        import websockets

        refused.ws = await websockets.connect(refused.url, additional_headers=refused.headers)
        await refused.ws.send(json.dumps({"type": "hello", "session": uuid.uuid4().hex, "last_id": 0}))
        error = await refused.next_event()
        assert error["type"] == "error" and error["code"] == "rate_limited" and not error["message"].isascii()
    finally:
        for client in [*clients, refused]:
            await client.close()
