"""Web chat over a real WebSocket against a real uvicorn server (issue 2 §4)."""

from __future__ import annotations

import asyncio
import json
import logging
import uuid

import pytest
from sqlalchemy import func, select

from bot.models import Author, Direction, Message
from tests.bot.wsclient import ChatClient

pytestmark = pytest.mark.asyncio


async def _messages(session, conversation_ids) -> list[Message]:  # noqa: ANN001
    return list(
        await session.scalars(select(Message).where(Message.conversation_id.in_(conversation_ids)).order_by(Message.id))
    )


async def test_message_is_answered_and_both_turns_are_stored(live_server, session):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/setagaya").connect()
    try:
        client_id = await client.send_text("見守りステッカーってどうやって申し込むの？")
        ack = await client.next_event("ack")
        assert ack["client_id"] == client_id
        reply = await client.bot_reply()
        assert "ステッカー" in reply["text"]
    finally:
        await client.close()
    inbound = await session.get(Message, ack["id"])
    assert inbound.direction == Direction.INBOUND and inbound.text.startswith("見守りステッカー")
    stored = await _messages(session, [inbound.conversation_id])
    assert [m.author for m in stored] == [Author.RESIDENT, Author.BOT]
    assert stored[1].text == reply["text"]


async def test_dropped_socket_resumes_without_losing_or_repeating(live_server, session):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    await client.send_text("窓口は何時まであいてますか")
    first_reply = await client.bot_reply()
    token = client.session
    await client.close()  # the connection drops

    # While away, the resident's other tab (same session) sends a message and gets a reply.
    other = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect(session=token, last_id=first_reply["id"])
    await other.send_text("土日もやってる？")
    away_reply = await other.bot_reply()
    await other.close()

    resumed = ChatClient(f"{live_server.ws_url}/ws/kashiwa")
    resumed.last_id = first_reply["id"]
    await resumed.connect(session=token)
    caught_up = await resumed.messages_until(lambda e: e["id"] == away_reply["id"])
    ids = [e["id"] for e in caught_up]
    assert ids == sorted(set(ids)), "no repeats, in order"
    assert all(i > first_reply["id"] for i in ids)
    assert [e["text"] for e in caught_up] == ["土日もやってる？", away_reply["text"]]
    await resumed.close()


async def test_resident_who_leaves_before_the_reply_loses_nothing_and_breaks_nothing(live_server, session):  # noqa: ANN001
    """The widget closed (a tab shut on a phone) while the reply was being written: the
    message and the reply are stored, the server logs no crash, and the next visit catches up."""
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(level=logging.ERROR)
    handler.emit = errors.append
    logging.getLogger("uvicorn.error").addHandler(handler)
    try:
        client = await ChatClient(f"{live_server.ws_url}/ws/setagaya").connect()
        token = client.session
        await client.send_text("ゆうびんで　ステッカーを　おくってもらえますか")
        await client.next_event("ack")
        await client.close()
        back = await ChatClient(f"{live_server.ws_url}/ws/setagaya").connect(session=token, last_id=0)
        seen = await back.messages_until(lambda e: e["author"] == "bot", timeout=30)
        await back.close()
        await asyncio.sleep(2.5)  # past the server's catch-up wait for the socket that left
    finally:
        logging.getLogger("uvicorn.error").removeHandler(handler)
    assert seen[0]["text"] == "ゆうびんで　ステッカーを　おくってもらえますか"
    assert not errors, [r.getMessage() for r in errors]


async def test_resent_message_with_same_client_id_is_stored_once(live_server, session):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    client_id = uuid.uuid4().hex
    await client.send_text("こんにちは", client_id=client_id)
    first = await client.next_event("ack")
    await client.send_text("こんにちは", client_id=client_id)  # the widget resends after a reconnect
    second = await client.next_event("ack")
    await client.close()
    assert first["id"] == second["id"]
    inbound = await session.get(Message, first["id"])
    count = await session.scalar(
        select(func.count()).select_from(Message).where(
            Message.conversation_id == inbound.conversation_id, Message.direction == Direction.INBOUND
        )
    )
    assert count == 1


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        ({"type": "message", "client_id": "a", "text": ""}, "empty"),
        ({"type": "message", "client_id": "b", "text": " \u3000\n\t "}, "empty"),
        ({"type": "message", "client_id": "c", "text": "\x00\x07\x1b"}, "empty"),
        ({"type": "message", "client_id": "d", "text": "あ" * 30_000}, "too_long"),
        ({"type": "message", "client_id": "e", "text": 12345}, "not_text"),
        ({"type": "dance"}, "bad_frame"),
    ],
)
async def test_bad_input_gets_a_clear_japanese_error(live_server, payload, code):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    try:
        await client.ws.send(json.dumps(payload))
        error = await client.next_event("error")
        assert error["code"] == code
        assert not error["message"].isascii()
        # The socket still works afterwards.
        await client.send_text("ありがとう")
        assert (await client.next_event("ack"))["id"] > 0
    finally:
        await client.close()


async def test_100kb_frame_and_invalid_utf8_are_refused_clearly(live_server):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/setagaya").connect()
    try:
        await client.ws.send(json.dumps({"type": "message", "client_id": "x", "text": "長" * 40_000}))
        assert (await client.next_event("error"))["code"] == "too_long"
        await client.ws.send(b"\xff\xfe\xfa not utf-8")
        assert (await client.next_event("error"))["code"] == "bad_encoding"
        await client.ws.send("{not json")
        assert (await client.next_event("error"))["code"] == "bad_frame"
        await client.send_text("こんにちは")
        assert (await client.next_event("ack"))["id"] > 0
    finally:
        await client.close()


async def test_message_with_control_characters_is_cleaned_and_stored(live_server, session):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/setagaya").connect()
    await client.send_text("電話訪問の\x00日にちを\x1bかえたい")
    ack = await client.next_event("ack")
    await client.close()
    stored = await session.get(Message, ack["id"])
    assert stored.text == "電話訪問の日にちをかえたい"


async def test_unknown_tenant_is_refused(live_server):  # noqa: ANN001
    import websockets

    async with websockets.connect(f"{live_server.ws_url}/ws/osaka") as ws:
        event = json.loads(await ws.recv())
        assert event["type"] == "error" and event["code"] == "unknown_tenant"
        assert "見つかりません" in event["message"]
    import httpx

    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        page = await http.get("/demo/osaka", headers={"accept": "text/html"})
        assert page.status_code == 404 and "見つかりません" in page.text
        ok = await http.get("/demo/kashiwa")
        assert ok.status_code == 200 and 'data-tenant="kashiwa"' in ok.text


async def test_a_flood_is_refused_clearly_and_the_socket_keeps_working(live_server):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect()
    try:
        for _ in range(live_server.settings.web_messages_per_minute + 2):
            await client.ws.send(json.dumps({"type": "action", "client_id": uuid.uuid4().hex, "action": "noop", "label": "あ"}))
        error = await client.next_event("error", timeout=60)
        assert error["code"] == "rate_limited" and "待って" in error["message"]
    finally:
        await client.close()
