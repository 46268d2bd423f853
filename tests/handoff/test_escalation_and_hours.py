"""SLA escalation through a real Celery worker and Redis, with time controlled by the test;
closed-hours replies (issue 4)."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select

from bot.engine import Inbound
from frontdoor.clock import JST, utc_now
from frontdoor.models import ChannelKind
from handoff import cases as case_service
from handoff.models import Case, CaseEvent, Role
from handoff.relay import console_channel
from tests.handoff.staff import make_staff

pytestmark = pytest.mark.asyncio


async def _case(session, conversation_id) -> Case:  # noqa: ANN001
    return await session.scalar(
        select(Case).where(Case.conversation_id == conversation_id).execution_options(populate_existing=True)
    )


async def test_unaccepted_emergency_is_escalated_once_after_its_sla(runtime, session, celery_app):  # noqa: ANN001
    await make_staff(session, tenant_id="setagaya", role=Role.SUPERVISOR, email="boss@example.invalid")
    pubsub = runtime.redis.pubsub()
    await pubsub.subscribe(console_channel("setagaya"))
    three_minutes_ago = utc_now() - timedelta(minutes=3)
    outcome = await runtime.conversation_engine.handle_inbound(
        session,
        Inbound("setagaya", ChannelKind.WEB, "sla-resident-0001", "父が急にたおれて息してないみたい"),
        now=three_minutes_ago,
    )
    assert outcome.urgency == "emergency"
    case = await _case(session, outcome.conversation_id)
    assert case.due_at == three_minutes_ago + timedelta(seconds=120)  # 2 minutes for an emergency

    result = celery_app.send_task("frontdoor.check_sla")
    assert await asyncio.to_thread(result.get, timeout=60) >= 1
    deadline = time.monotonic() + 30
    while (case := await _case(session, outcome.conversation_id)).escalated_at is None:
        assert time.monotonic() < deadline, "case was not escalated"
        await asyncio.sleep(0.2)
    events = [e.action for e in await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert events.count("escalated") == 1

    received = None
    deadline = time.monotonic() + 10
    while received is None and time.monotonic() < deadline:
        item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
        event = json.loads(item["data"]) if item else {}
        if event.get("type") == "escalation" and event.get("case_id") == str(case.id):  # other tests' cases escalate too
            received = event
    assert received and "緊急" in received["message"]

    # The timer fires again: nothing more happens.
    again = celery_app.send_task("frontdoor.escalate_case", args=[str(case.id)])
    assert await asyncio.to_thread(again.get, timeout=60) is False
    events = [e.action for e in await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id))]
    assert events.count("escalated") == 1
    await pubsub.aclose()


async def test_a_transferred_emergency_no_one_has_accepted_is_still_escalated(runtime, session, celery_app):  # noqa: ANN001
    """Issue 12: the SLA covers every case no person has accepted — waiting, assigned, transferred."""
    first = await make_staff(session, tenant_id="kashiwa")
    colleague = await make_staff(session, tenant_id="kashiwa")
    outcome = await runtime.conversation_engine.handle_inbound(
        session,
        Inbound("kashiwa", ChannelKind.WEB, "sla-resident-0003", "もうしにたい。ロープも用意した"),
        now=utc_now() - timedelta(minutes=3),
    )
    assert outcome.urgency == "emergency"
    case = await _case(session, outcome.conversation_id)
    await case_service.assign(session, case_id=case.id, counselor_id=first.id, actor_id=first.id, now=utc_now() - timedelta(minutes=2, seconds=50))
    await case_service.assign(session, case_id=case.id, counselor_id=colleague.id, actor_id=first.id, now=utc_now() - timedelta(minutes=2, seconds=40))
    await session.commit()
    assert (await _case(session, outcome.conversation_id)).status == "assigned"

    await asyncio.to_thread(celery_app.send_task("frontdoor.check_sla").get, timeout=60)
    deadline = time.monotonic() + 30
    while (case := await _case(session, outcome.conversation_id)).escalated_at is None:
        assert time.monotonic() < deadline, "the transferred emergency was not escalated"
        await asyncio.sleep(0.2)
    assert case.escalation_level == 1


async def test_urgent_case_within_its_sla_is_not_escalated(runtime, session, celery_app):  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(
        session, Inbound("kashiwa", ChannelKind.WEB, "sla-resident-0002", "夫に毎日なぐられています。こわいです"), now=utc_now() - timedelta(minutes=5)
    )
    assert outcome.urgency in ("urgent", "emergency")
    case = await _case(session, outcome.conversation_id)
    if case.urgency == "urgent":
        await asyncio.to_thread(celery_app.send_task("frontdoor.check_sla").get, timeout=60)
        await asyncio.sleep(1)
        assert (await _case(session, outcome.conversation_id)).escalated_at is None


async def test_closed_hours_urgent_message_gets_honest_reply_and_on_call_case(runtime, session):  # noqa: ANN001
    # Kashiwa, Sunday 2026-11-29 03:10 JST: the office (Mon–Fri 8:30–17:15, 002 §3(2)) is closed.
    sunday_night = datetime(2026, 11, 29, 3, 10, tzinfo=JST)
    outcome = await runtime.conversation_engine.handle_inbound(
        session,
        Inbound("kashiwa", ChannelKind.WEB, "night-resident-0001", "暖房もつけられなくて寒い。もうお金が一円もない"),
        now=sunday_night,
    )
    assert outcome.urgency == "urgent" and outcome.route != "bot"
    text = outcome.replies[0].text
    assert "時間外" in text and "当番" in text
    assert "11月30日（月）午前8時30分" in text  # the next opening, said honestly
    assert "04-0000-0002" in text  # the 24h line from tenant facts
    case = await _case(session, outcome.conversation_id)
    assert case.opened_outside_hours is True and case.status == "waiting"
