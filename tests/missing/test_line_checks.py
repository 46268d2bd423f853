"""The daily status check asked on LINE too (⑤イ(キ)): the Celery tick pushes the question
through the real line-bot-sdk to the local fake Messaging API, awaited inside the task and
recorded in `delivery`; the answer comes back through the LINE webhook and is attached to the
check as for Telegram; a reporter who blocked the account is never pushed to."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.deliveries import Delivery
from bot.engine import Inbound
from bot.models import Conversation, Message, ResidentContact
from frontdoor.clock import to_jst, utc_now
from frontdoor.models import ChannelKind
from handoff.missing import chat, timers
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.requests.models import Request, RequestEvent
from tests.bot.conftest import line_settings, post_events
from tests.fakes.line_api import text_event, unfollow_event
from tests.missing.helpers import make_intake

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")


def _user() -> str:
    return "U" + uuid.uuid4().hex


async def _line_reporter(session, runtime, counselor, *, user: str, taken: datetime) -> Request:  # noqa: ANN001
    """A LINE reporter whose intake was taken and reported to the ward (the check is what is left)."""
    hello = await runtime.conversation_engine.handle_inbound(
        session, Inbound("setagaya", ChannelKind.LINE, user, "こんにちは", channel_message_id=uuid.uuid4().hex, address=user), now=taken - timedelta(minutes=40)
    )
    conversation = await session.get(Conversation, hello.conversation_id)
    request = await make_intake(session, runtime, now=taken, contact_id=conversation.contact_id, conversation_id=conversation.id)
    await missing.record_ward_phone(session, request_id=request.id, counselor_id=counselor, to="地域支援課", now=taken + timedelta(minutes=10))
    await missing.mark_mailed(session, request_id=request.id, counselor_id=counselor, now=taken + timedelta(minutes=12), recipients=1)
    await session.commit()
    return request


async def _tick(settings, at: datetime) -> int:  # noqa: ANN001
    """The beat task itself, run by Celery in this process with the LINE settings (its own event loop)."""
    import workers.tasks  # noqa: F401  (registers the shared tasks)
    from workers.celery_app import create_celery

    task = create_celery(settings).tasks["frontdoor.missing_person_tick"]
    return await asyncio.to_thread(lambda: task.apply(kwargs={"at": at.isoformat()}).get(timeout=60))


async def _actions(session, request_id) -> list[str]:  # noqa: ANN001
    session.expire_all()
    return list(await session.scalars(select(RequestEvent.action).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)))


async def test_a_line_reporter_is_asked_by_the_10_00_tick_and_the_webhook_answer_is_attached(line_server, fake_line, runtime, session, counselor):  # noqa: ANN001
    # The webhook's answer is handled on the server's real clock, so the check is today's.
    today = to_jst(utc_now()).date()
    at = lambda hour, minute: datetime.combine(today, time(hour, minute), tzinfo=JST)  # noqa: E731
    user = _user()
    request = await _line_reporter(session, runtime, counselor, user=user, taken=at(14, 0) - timedelta(days=1))
    request_id, conversation_id, number = request.id, request.conversation_id, request.fields["management_no"]
    settings = line_settings(line_server.settings, fake_line)
    await _tick(settings, at(9, 59))
    assert fake_line.delivered(user) == []  # not before 10:00
    await _tick(settings, at(10, 0))

    # Pushed before the task returned (nothing left running in its ended event loop).
    pushed = fake_line.delivered(user)
    assert len(pushed) == 1 and pushed[0]["via"] == "push"
    assert "見つかりましたか" in pushed[0]["text"] and f"管理番号「{number}」" in pushed[0]["text"]
    call = [c for c in fake_line.calls_to("/message/push") if c.body["to"] == user][0]
    question = await session.scalar(select(Message).where(Message.conversation_id == conversation_id, Message.text == pushed[0]["text"]))
    delivery = await session.scalar(select(Delivery).where(Delivery.message_id == question.id))
    assert delivery.status == "sent" and delivery.via == "push" and delivery.retry_key == call.headers["X-Line-Retry-Key"]
    assert (await _actions(session, request_id)).count("check_asked") == 1

    # Once a day: the next beat asks nobody; and should the ask for this check run again (a
    # retried task), LINE refuses the same retry key and the reporter still has one question.
    await _tick(settings, at(10, 1))
    again = timers.CheckDue(request_id, conversation_id, number, today)
    async with chat.line_pusher(settings, session, None) as line:
        await chat.ask_reporters(session, [again], relay=None, telegram=None, line=line, line_tenant="setagaya", now=at(10, 2))
    assert len(fake_line.delivered(user)) == 1
    assert [c.status for c in fake_line.calls_to("/message/push") if c.body["to"] == user] == [200, 409]

    # The answer comes in through the LINE webhook and reaches the same flow as Telegram's.
    answer = text_event(user, "まだです", fake_line.reply_token(user))
    assert (await post_events(line_server, fake_line, answer)).status_code == 200
    reply = (await fake_line.wait_for(user, 2))[1]
    assert "担当者にお伝えします" in reply["text"] and number in reply["text"]
    session.expire_all()
    record = await session.get(MissingPerson, request_id, populate_existing=True)
    assert record.checks == 1
    actions = await _actions(session, request_id)
    assert actions.count("checked") == 1 and actions.index("checked") > max(i for i, a in enumerate(actions) if a == "check_asked")


async def test_a_line_reporter_who_blocked_the_account_is_not_pushed_to(line_server, fake_line, runtime, session, counselor):  # noqa: ANN001
    user = _user()
    request = await _line_reporter(session, runtime, counselor, user=user, taken=datetime(2026, 12, 24, 14, 0, tzinfo=JST))
    request_id, conversation_id = request.id, request.conversation_id
    assert (await post_events(line_server, fake_line, unfollow_event(user))).status_code == 200
    for _ in range(100):
        session.expire_all()
        if await session.scalar(select(ResidentContact.unfollowed_at).where(ResidentContact.address == user)):
            break
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("the unfollow was never recorded")
    await _tick(line_settings(line_server.settings, fake_line), datetime(2026, 12, 25, 10, 0, tzinfo=JST))
    assert [c for c in fake_line.calls_to("/message/push") if c.body.get("to") == user] == []
    actions = await _actions(session, request_id)
    assert "check_due" in actions and "check_asked" not in actions  # the phone check on the worklist stays
    questions = await session.scalars(select(Message.text).where(Message.conversation_id == conversation_id))
    assert not any("見つかりましたか" in t for t in questions)


async def test_a_push_line_refuses_is_recorded_undelivered_and_only_the_line_tenant_is_asked(fake_line, runtime, session, counselor, settings):  # noqa: ANN001
    user = _user()
    request = await _line_reporter(session, runtime, counselor, user=user, taken=datetime(2026, 12, 25, 14, 0, tzinfo=JST))
    request_id, conversation_id = request.id, request.conversation_id
    now = datetime(2026, 12, 26, 10, 0, tzinfo=JST)
    checks = [c for c in await timers.due_checks(session, now=now) if c.request_id == request_id]
    assert len(checks) == 1

    async def ask(**overrides) -> int:  # noqa: ANN003
        with_line = line_settings(settings, fake_line, **overrides)
        async with chat.line_pusher(with_line, session, None) as line:
            return await chat.ask_reporters(session, checks, relay=None, telegram=None, line=line, line_tenant=with_line.line_tenant, now=now)

    assert await ask(line_tenant="kashiwa") == 0  # the account is Kashiwa's: a Setagaya reporter is not its contact
    assert fake_line.calls_to("/message/push") == []
    fake_line.push_failures = [500] * 10
    assert await ask(line_push_attempts=3) == 0
    assert [c.status for c in fake_line.calls_to("/message/push")] == [500, 500, 500]
    question_id = await session.scalar(select(Message.id).where(Message.conversation_id == conversation_id, Message.text.contains("見つかりましたか")))
    session.expire_all()
    delivery = await session.scalar(select(Delivery).where(Delivery.message_id == question_id))
    assert delivery.status == "failed" and delivery.attempts == 3 and delivery.last_error == "http 500"  # the console shows 「未送信」
    assert "check_asked" not in await _actions(session, request_id)  # the history never says it was sent
