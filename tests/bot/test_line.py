"""LINE through the real line-bot-sdk v3 async client and a local fake Messaging API server
over HTTP (issue 10); webhook bodies are signed with real HMAC-SHA256."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from linebot.v3.webhook import SignatureValidator
from sqlalchemy import func, select

from bot.deliveries import Delivery
from bot.line.models import LineEvent
from bot.line.service import event_kind
from bot.models import Direction, Message, ResidentContact
from frontdoor.clock import utc_now
from tests.bot.conftest import line_settings, post_events
from tests.conftest import LiveServer
from tests.fakes.line_api import content_event, follow_event, postback_event, sign, text_event, unfollow_event

pytestmark = pytest.mark.asyncio


async def _inbound(session, event_id: str) -> list[Message]:  # noqa: ANN001
    session.expire_all()
    rows = await session.scalars(select(Message).where(Message.channel_message_id == event_id, Message.direction == Direction.INBOUND))
    return list(rows)


async def _events(session, event_id: str) -> list[LineEvent]:  # noqa: ANN001
    session.expire_all()
    return list(await session.scalars(select(LineEvent).where(LineEvent.webhook_event_id == event_id)))


async def _handled(session, event_id: str) -> LineEvent:  # noqa: ANN001
    """The inbox row once the channel has finished with it (handling runs after the 200)."""
    for _ in range(100):
        rows = await _events(session, event_id)
        if rows and rows[0].handled_at is not None:
            return rows[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"event {event_id} was never handled")


async def _settled_delivery(session) -> Delivery:  # noqa: ANN001
    """The newest delivery once it is no longer pending (recorded after LINE answers)."""
    for _ in range(100):
        session.expire_all()
        delivery = await session.scalar(select(Delivery).order_by(Delivery.id.desc()).limit(1))
        if delivery is not None and delivery.status != "pending":
            return delivery
        await asyncio.sleep(0.05)
    raise AssertionError("no settled delivery")


async def test_signature_matches_the_sdk_test_vector_and_our_own_hmac():
    # The vector published in line-bot-sdk-python's tests (tests/test_signature.py).
    assert SignatureValidator("channel_secret").validate("bodybodybodybody", "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k=")
    assert sign("channel_secret", b"bodybodybodybody") == "/gg9a+LvFevTH1sd7XCQycD7tsWclCsInj7MhBHxN7k="
    body = '{"events":[{"message":{"text":"ひとりぐらしの母がしんぱいです"}}]}'
    assert SignatureValidator("s3cret").validate(body, sign("s3cret", body.encode()))
    assert not SignatureValidator("s3cret").validate(body, sign("other", body.encode()))


async def test_a_bad_or_missing_signature_is_refused_with_400_and_nothing_is_stored(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a1"
    event = text_event(user, "見守りステッカーがほしいです", fake_line.reply_token(user))
    wrong = sign("not-the-channel-secret", b"{}")
    assert (await post_events(line_server, fake_line, event, signature=wrong)).status_code == 400
    assert (await post_events(line_server, fake_line, event, signature="")).status_code == 400
    await asyncio.sleep(0.3)
    assert await _events(session, event["webhookEventId"]) == []
    assert await _inbound(session, event["webhookEventId"]) == []
    assert fake_line.calls == []


async def test_text_in_reply_out_after_an_immediate_200(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a2"
    fake_line.hold_replies = asyncio.Event()  # LINE's 200 must not wait for the answer
    event = text_event(user, "でんわほうもんの曜日をかえたいんだけど", fake_line.reply_token(user))
    response = await post_events(line_server, fake_line, event)
    assert response.status_code == 200
    stored = await _events(session, event["webhookEventId"])
    assert len(stored) == 1, "the event is stored before LINE gets its 200"
    assert fake_line.delivered(user) == []
    fake_line.hold_replies.set()
    sent = await fake_line.wait_for(user, 1)
    assert sent[0]["via"] == "reply" and "電話訪問" in sent[0]["text"]
    loading = fake_line.calls_to("/chat/loading/start")
    assert loading and loading[0].body["chatId"] == user
    inbound = await _inbound(session, event["webhookEventId"])
    assert len(inbound) == 1 and inbound[0].text == "でんわほうもんの曜日をかえたいんだけど"
    assert inbound[0].id < max(m.id for m in await session.scalars(select(Message).where(Message.conversation_id == inbound[0].conversation_id)))
    handled = await _handled(session, event["webhookEventId"])
    assert handled.payload is None, "the inbox keeps no resident text once handled"


async def test_clarify_choices_are_quick_replies_and_a_postback_answers(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a3"
    await post_events(line_server, fake_line, text_event(user, "ははのことで", fake_line.reply_token(user)))
    first = (await fake_line.wait_for(user, 1))[0]
    items = first["quickReply"]["items"]
    assert 1 <= len(items) <= 13
    assert all(len(i["action"]["label"]) <= 20 and i["action"]["type"] == "postback" for i in items)
    tapped = items[0]["action"]
    event = postback_event(user, tapped["data"], fake_line.reply_token(user))
    assert (await post_events(line_server, fake_line, event)).status_code == 200
    answer = (await fake_line.wait_for(user, 2))[1]
    assert answer["text"] != first["text"] and answer["via"] == "reply"
    inbound = (await _inbound(session, f"pb:{event['webhookEventId']}"))[0]
    assert inbound.text == tapped["displayText"]
    assert inbound.meta["action"].startswith("topic:"), "the same button ids as the web widget and Telegram"


async def test_a_redelivered_event_is_stored_once_and_answered_once(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a4"
    event = text_event(user, "ボランティアさんに電球かえてほしいです", fake_line.reply_token(user))
    assert (await post_events(line_server, fake_line, event)).status_code == 200
    await fake_line.wait_for(user, 1)
    again = {**event, "deliveryContext": {"isRedelivery": True}}
    assert (await post_events(line_server, fake_line, again)).status_code == 200
    await asyncio.sleep(0.5)
    assert len(fake_line.delivered(user)) == 1
    assert len(await _inbound(session, event["webhookEventId"])) == 1
    assert (await _handled(session, event["webhookEventId"])).redelivered == 1


async def test_follow_greets_with_hours_emergency_numbers_and_privacy_and_unfollow_marks(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a5"
    await post_events(line_server, fake_line, follow_event(user, fake_line.reply_token(user)))
    greeting = (await fake_line.wait_for(user, 1))[0]["text"]
    assert "世田谷区高齢者安心コール" in greeting and "24時間" in greeting
    assert "119番" in greeting and "110番" in greeting
    privacy_url = greeting.rsplit("：", 1)[1].strip()
    assert privacy_url == f"{line_server.settings.public_base_url}/privacy/setagaya"
    async with httpx.AsyncClient(base_url=line_server.base_url) as http:
        page = await http.get("/privacy/setagaya")
    assert page.status_code == 200 and "個人情報" in page.text

    await post_events(line_server, fake_line, text_event(user, "こんにちは", fake_line.reply_token(user)))
    await fake_line.wait_for(user, 2)
    await post_events(line_server, fake_line, unfollow_event(user))
    for _ in range(50):
        session.expire_all()
        contact = await session.scalar(select(ResidentContact).where(ResidentContact.address == user))
        if contact is not None and contact.unfollowed_at is not None:
            break
        await asyncio.sleep(0.1)
    assert contact.unfollowed_at is not None
    kept = await session.scalar(select(func.count()).select_from(Message).join(ResidentContact, ResidentContact.address == user))
    assert kept, "nothing is deleted early"


async def test_sticker_image_audio_and_location_get_a_text_only_reply_and_are_not_stored(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a6"
    events = [
        content_event(user, "sticker", fake_line.reply_token(user), packageId="446", stickerId="1988"),
        content_event(user, "image", fake_line.reply_token(user), contentProvider={"type": "line"}),
        content_event(user, "audio", fake_line.reply_token(user), duration=3000, contentProvider={"type": "line"}),
        content_event(user, "location", fake_line.reply_token(user), title="自宅", address="東京都世田谷区世田谷4-21-27", latitude=35.6, longitude=139.6),
    ]
    assert (await post_events(line_server, fake_line, *events)).status_code == 200
    replies = [m["text"] for m in await fake_line.wait_for(user, 4)]
    assert "スタンプ" in replies[0] and all("文字" in r for r in replies)
    assert "写真は保存していません" in replies[1] and "音声" in replies[2] and "119番" in replies[3]
    for event in events:
        row = await _handled(session, event["webhookEventId"])
        assert row.payload is None
        assert await _inbound(session, event["webhookEventId"]) == []


async def test_an_expired_reply_token_falls_back_to_push(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a7"
    fake_line.expire_tokens = True
    await post_events(line_server, fake_line, text_event(user, "みまもりステッカーってどこでもらえますか", fake_line.reply_token(user)))
    sent = await fake_line.wait_for(user, 1)
    assert sent[0]["via"] == "push" and "ステッカー" in sent[0]["text"]
    assert [c.status for c in fake_line.calls_to("/message/reply")] == [400]
    delivery = await _settled_delivery(session)
    assert delivery.status == "sent" and delivery.via == "push"


async def test_an_answer_ready_after_the_reply_window_is_pushed(settings, decider, redis_handle, fake_line):  # noqa: ANN001
    user = "U00000000000000000000000000000a8"
    server = LiveServer(line_settings(settings, fake_line, line_reply_window_seconds=0), decider, redis_handle).start()
    try:
        await post_events(server, fake_line, text_event(user, "あんしんコールってなんですか", fake_line.reply_token(user)))
        sent = await fake_line.wait_for(user, 1)
    finally:
        server.stop()
    assert sent[0]["via"] == "push"
    assert fake_line.calls_to("/message/reply") == [], "a stale token is not even tried"


async def test_a_failed_push_is_retried_with_back_off_under_one_retry_key(line_server, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000a9"
    fake_line.expire_tokens = True
    fake_line.push_failures = [429, 500]
    await post_events(line_server, fake_line, text_event(user, "電話訪問をお休みしたいです。入院するので", fake_line.reply_token(user)))
    sent = await fake_line.wait_for(user, 1)
    assert len(sent) == 1
    pushes = fake_line.calls_to("/message/push")
    assert [c.status for c in pushes] == [429, 500, 200]
    assert len({c.headers["X-Line-Retry-Key"] for c in pushes}) == 1
    delivery = await _settled_delivery(session)
    assert delivery.status == "sent" and delivery.attempts == 3 and delivery.last_error == "http 500"


async def test_events_stored_before_a_restart_are_answered_by_push_on_start(settings, decider, redis_handle, fake_line, session):  # noqa: ANN001
    user = "U00000000000000000000000000000aa"
    event = text_event(user, "安心コールの電話、あしたはお休みにしてください", fake_line.reply_token(user))
    unknown = {**text_event(user, "x", "t"), "type": "somethingNew", "webhookEventId": "01SOMETHINGNEW0000000000AA"}
    async with session.begin():
        for e in (event, unknown):
            session.add(LineEvent(webhook_event_id=e["webhookEventId"], tenant_id="setagaya", kind=event_kind(e), payload=e, received_at=utc_now() - timedelta(minutes=10)))
    server = LiveServer(line_settings(settings, fake_line), decider, redis_handle).start()
    try:
        sent = await fake_line.wait_for(user, 1)
        assert sent[0]["via"] == "push", "the reply token of a stored event is too old by now"
        assert len(await _inbound(session, event["webhookEventId"])) == 1
        assert (await _handled(session, unknown["webhookEventId"])).payload is None
    finally:
        server.stop()
