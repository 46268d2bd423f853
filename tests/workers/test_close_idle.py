"""Idle conversations are closed by a real Celery worker over real Redis (issue 2 §3, §6)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from bot.engine import Inbound
from bot.models import Conversation, ConversationStatus
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind

pytestmark = pytest.mark.asyncio


async def test_idle_conversation_is_closed_with_its_duration(runtime, session, celery_app):  # noqa: ANN001
    started = utc_now() - timedelta(hours=3)
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(
        session, Inbound("kashiwa", ChannelKind.WEB, "idle-resident-0001", "こんにちは"), now=started
    )
    await engine.handle_inbound(
        session, Inbound("kashiwa", ChannelKind.WEB, "idle-resident-0001", "相談の受付時間は？"), now=started + timedelta(minutes=4)
    )
    result = celery_app.send_task("frontdoor.close_idle_conversations")
    closed = await asyncio.to_thread(result.get, timeout=60)
    assert closed >= 1
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.status == ConversationStatus.CLOSED
    assert conversation.duration_seconds == 240
    # Running it again changes nothing (idempotent).
    again = celery_app.send_task("frontdoor.close_idle_conversations")
    await asyncio.to_thread(again.get, timeout=60)
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.duration_seconds == 240


async def test_a_message_after_the_idle_limit_starts_a_new_conversation(runtime, session):  # noqa: ANN001
    t0 = utc_now() - timedelta(hours=2)
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(session, Inbound("setagaya", ChannelKind.WEB, "idle-resident-0002", "こんにちは"), now=t0)
    later = await engine.handle_inbound(
        session, Inbound("setagaya", ChannelKind.WEB, "idle-resident-0002", "すみません、また質問です"), now=t0 + timedelta(hours=1)
    )
    assert later.conversation_id != first.conversation_id
    old = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert old.status == ConversationStatus.CLOSED and old.duration_seconds == 0
