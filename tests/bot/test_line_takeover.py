"""Takeover through LINE relays both ways (issue 10, as for Telegram in issue 4): an urgent
LINE message opens a case, the counselor takes over in the console, every counselor message
goes out by push, the bot stays silent meanwhile; a push LINE refuses shows as 未送信."""

from __future__ import annotations

import asyncio
import json

import pytest
import websockets
from sqlalchemy import select

from bot import check_ins
from bot.line.messages import postback_data
from bot.models import CheckInStatus, Conversation, Message
from frontdoor.clock import utc_now
from handoff import check_in, live
from handoff.models import Case
from tests.bot.conftest import post_events
from tests.fakes.line_api import postback_event, text_event
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio


async def _case_of(session, event_id: str) -> Case:  # noqa: ANN001
    for _ in range(100):
        session.expire_all()
        inbound = await session.scalar(select(Message).where(Message.channel_message_id == event_id))
        if inbound is not None:
            case = await session.scalar(select(Case).where(Case.conversation_id == inbound.conversation_id))
            if case is not None:
                return case
        await asyncio.sleep(0.05)
    raise AssertionError("no case was opened")


async def test_urgent_line_message_is_taken_over_and_relayed_by_push(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000b1"
    event = text_event(user, "ははが認知症で朝からかえってこないんです。どこさがしてもいない", fake_line.reply_token(user))
    await post_events(line_server, fake_line, event)
    first = (await fake_line.wait_for(user, 1))[0]
    assert "110" in first["text"]  # a missing person with dementia: has 110 been called (Setagaya 003 ⑤)
    case = await _case_of(session, event["webhookEventId"])
    assert case.urgency == "emergency"
    case_id = case.id

    counselor = await make_staff(session, tenant_id="setagaya")
    console = await console_client(line_server.base_url, counselor)
    assert (await console.post(f"/console/cases/{case_id}/take-over")).status_code == 303
    joined = (await fake_line.wait_for(user, 2))[1]
    assert joined["via"] == "push" and joined["text"] == live.JOINED

    sent = await console.post(f"/console/cases/{case_id}/messages", data={"text": "110番には連絡されましたか？"})
    assert sent.status_code == 200
    relayed = (await fake_line.wait_for(user, 3))[2]
    assert relayed == {"type": "text", "text": "110番には連絡されましたか？", "via": "push"}

    # The resident answers: stored and shown to the counselor, the bot says nothing.
    answer = text_event(user, "はい、さっきけいさつに電話しました", fake_line.reply_token(user))
    await post_events(line_server, fake_line, answer)
    for _ in range(100):
        session.expire_all()
        if await session.scalar(select(Message).where(Message.channel_message_id == answer["webhookEventId"])):
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.5)
    assert len(fake_line.delivered(user)) == 3, "the bot stays silent while the counselor holds the chat"
    page = await console.get(f"/console/cases/{case_id}")
    assert "はい、さっきけいさつに電話しました" in page.text and "未送信" not in page.text

    # LINE refuses every try (quota): the message stays stored and the console says so,
    # live on the case page (an id, no text) and on every later load.
    case_ws = await websockets.connect(
        f"{line_server.ws_url}/console/ws/cases/{case_id}?after=999999999",
        additional_headers={"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"},
    )
    await asyncio.sleep(0.2)
    fake_line.push_failures = [429] * 10
    sent = await console.post(f"/console/cases/{case_id}/messages", data={"text": "これから警察の方と一緒にうかがいます"})
    while True:
        seen = json.loads(await asyncio.wait_for(case_ws.recv(), timeout=15))
        if seen["type"] == "undelivered":
            break
    assert seen == {"type": "undelivered", "id": sent.json()["id"]}
    await case_ws.close()
    for _ in range(100):
        page = await console.get(f"/console/cases/{case_id}")
        if "未送信" in page.text:
            break
        await asyncio.sleep(0.1)
    assert "未送信" in page.text and "これから警察の方と一緒にうかがいます" in page.text
    assert len(fake_line.calls_to("/message/push")) == 2 + line_server.settings.line_push_attempts

    fake_line.push_failures = []
    assert (await console.post(f"/console/cases/{case_id}/hand-back")).status_code == 303
    back = (await fake_line.wait_for(user, 4))[3]
    assert back["text"] == live.HANDED_BACK
    await console.aclose()


async def test_a_route_choice_by_quick_reply_then_a_typed_phone_number(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000b2"
    # Asking for a person gives the tenant's routes. (A lonely night, which this test sent before,
    # was urgent under one risk model and a check-in under the next: it is the model's to decide.)
    event = text_event(user, "相談員さんと話したいです", fake_line.reply_token(user))
    await post_events(line_server, fake_line, event)
    first = (await fake_line.wait_for(user, 1))[0]
    items = {i["action"]["displayText"]: i["action"] for i in first["quickReply"]["items"]}
    assert set(items) == {"チャットで相談員と話す", "電話で折り返し"}  # Setagaya: chat and phone (003 ②イ(ウ))
    await post_events(line_server, fake_line, postback_event(user, items["電話で折り返し"]["data"], fake_line.reply_token(user)))
    asked = (await fake_line.wait_for(user, 2))[1]
    assert "電話番号" in asked["text"]
    await post_events(line_server, fake_line, text_event(user, "０９０ー１２３４ー５６７８です", fake_line.reply_token(user)))
    confirmed = (await fake_line.wait_for(user, 3))[2]["text"]
    assert "お電話のご希望を受け付けました" in confirmed
    case_id = (await _case_of(session, event["webhookEventId"])).id
    session.expire_all()
    case = await session.get(Case, case_id)
    assert case.route == "phone" and case.contact_phone


async def test_a_check_in_answered_by_quick_reply_reaches_the_engine(line_server, fake_line, session):  # noqa: ANN001
    """The engine asked its check-in (issue 14 §2); whether this message lands in the band is
    the model's to decide, so when the engine did not ask, it is set here through its own
    service. いいえ tapped on LINE settles it like on the web widget."""
    user = "U00000000000000000000000000000b3"
    event = text_event(user, "さいきん夜ねむれないんです", fake_line.reply_token(user))
    await post_events(line_server, fake_line, event)
    await fake_line.wait_for(user, 1)
    for _ in range(100):
        session.expire_all()
        inbound = await session.scalar(select(Message).where(Message.channel_message_id == event["webhookEventId"]))
        if inbound is not None:
            break
        await asyncio.sleep(0.05)
    conversation_id = inbound.conversation_id
    conversation = await session.get(Conversation, conversation_id)
    if conversation.check_in_status != CheckInStatus.PENDING:
        assert await check_ins.ask(session, conversation, kind=None, subject="self", now=utc_now())
        await session.commit()
    assert conversation.check_in_status == CheckInStatus.PENDING
    text, buttons = check_in.question("self", None)
    no = dict((label, action) for action, label in buttons)["いいえ"]
    await post_events(line_server, fake_line, postback_event(user, postback_data(no, "いいえ"), fake_line.reply_token(user)))
    settled = (await fake_line.wait_for(user, 2))[1]
    assert settled["text"] == check_in.load_check_in().settled
    session.expire_all()
    conversation = await session.get(Conversation, conversation_id)
    assert conversation.check_in_status == CheckInStatus.SETTLED
