"""Daily status checks (⑤イ(キ)), the found report (⑤イ(ク)(ケ), 別紙8-4) and the ward-notified
end (⑤イ※), with the clock controlled."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from email import message_from_bytes
from email.policy import default as email_policy
from io import BytesIO
from openpyxl import load_workbook

from bot.engine import Inbound
from bot.models import Conversation
from frontdoor.models import ChannelKind
from handoff import cases as case_service
from handoff.missing import chat, timers
from handoff.missing import service as missing
from handoff.missing.mail import Smtp, send_to_ward
from handoff.missing.models import MissingPerson
from handoff.requests import service as request_service
from handoff.requests.models import Request, RequestStatus
from tests.missing.helpers import Reporter, make_intake, text_of

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")


async def _reported(session, runtime, counselor, *, taken: datetime, **kw) -> Request:  # noqa: ANN001, ANN003
    request = await make_intake(session, runtime, now=taken, **kw)
    record = await session.get(MissingPerson, request.id)
    await missing.record_ward_phone(session, request_id=request.id, counselor_id=counselor, to="地域支援課", now=taken + timedelta(minutes=10))
    await missing.mark_mailed(session, request_id=request.id, counselor_id=counselor, now=taken + timedelta(minutes=12), recipients=1)
    await session.commit()
    assert record is not None
    return request


async def test_three_daily_checks_not_found_then_the_case_asks_to_consult_the_ward(runtime, session, counselor):  # noqa: ANN001
    taken = datetime(2026, 12, 14, 15, 0, tzinfo=JST)  # Monday
    request = await _reported(session, runtime, counselor, taken=taken)
    ids = lambda checks: [c.request_id for c in checks]  # noqa: E731
    assert request.id not in ids(await timers.due_checks(session, now=taken + timedelta(hours=1)))  # not on the intake day
    for n, day in enumerate((15, 16, 17), start=1):
        assert request.id not in ids(await timers.due_checks(session, now=datetime(2026, 12, day, 9, 50, tzinfo=JST)))  # from 10:00
        assert request.id in ids(await timers.due_checks(session, now=datetime(2026, 12, day, 10, 1, tzinfo=JST)))
        assert request.id not in ids(await timers.due_checks(session, now=datetime(2026, 12, day, 10, 6, tzinfo=JST)))  # once a day
        result = await missing.record_check(session, request_id=request.id, counselor_id=counselor, outcome="not_found", now=datetime(2026, 12, day, 10, 10, tzinfo=JST))
        await session.commit()
        assert result is not None and result.consult == (n == 3)
        request = await session.get(Request, request.id, populate_existing=True)
        assert request.due_at == datetime(2026, 12, day + 1, 10, 30, tzinfo=JST)  # the next check
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert record.checks == 3 and record.consult_at == datetime(2026, 12, 17, 10, 10, tzinfo=JST)


async def test_a_refusal_of_checks_asks_to_consult_at_once_and_stops_the_check_tasks(runtime, session, counselor):  # noqa: ANN001
    taken = datetime(2026, 12, 14, 16, 0, tzinfo=JST)
    request = await _reported(session, runtime, counselor, taken=taken)
    result = await missing.record_check(session, request_id=request.id, counselor_id=counselor, outcome="refused", now=datetime(2026, 12, 15, 10, 5, tzinfo=JST))
    await session.commit()
    assert result and result.consult
    assert request.id not in [c.request_id for c in await timers.due_checks(session, now=datetime(2026, 12, 16, 10, 1, tzinfo=JST))]


async def test_a_telegram_reporter_is_asked_in_chat_and_the_answer_is_attached(runtime, session, counselor, settings, fake_telegram):  # noqa: ANN001
    taken = datetime(2026, 12, 21, 14, 0, tzinfo=JST)
    chat_id = 880_000 + uuid.uuid4().int % 10_000
    engine = runtime.conversation_engine
    inbound = lambda text, at: engine.handle_inbound(  # noqa: E731
        session, Inbound("setagaya", ChannelKind.TELEGRAM, str(chat_id), text, channel_message_id=uuid.uuid4().hex, address=str(chat_id)), now=at
    )
    hello = await inbound("こんにちは", taken - timedelta(minutes=40))
    conversation = await session.get(Conversation, hello.conversation_id)
    request = await _reported(session, runtime, counselor, taken=taken, contact_id=conversation.contact_id, conversation_id=conversation.id)
    checks = [c for c in await timers.due_checks(session, now=datetime(2026, 12, 22, 10, 0, tzinfo=JST)) if c.request_id == request.id]
    sender = chat.telegram_sender(settings.model_copy(update={"telegram_bot_token": fake_telegram.token, "telegram_api_base": fake_telegram.base_url}))
    assert await chat.ask_reporters(session, checks, relay=None, telegram=sender, now=datetime(2026, 12, 22, 10, 0, tzinfo=JST)) == 1
    sent = await fake_telegram.wait_for_sent(chat_id, 1)
    assert "見つかりましたか" in sent[-1]["text"] and request.fields["management_no"] in sent[-1]["text"]
    # The answer the question asks for. (Triage runs first: the model reads 「まだみつかってません」
    # in a conversation at level none as an emergency and raises it, which wins over the check.)
    answer = await inbound("まだです", datetime(2026, 12, 22, 10, 12, tzinfo=JST))
    assert "担当者にお伝えします" in text_of(answer) and answer.urgency == "none"
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert record.checks == 1


async def test_found_in_a_new_conversation_from_the_same_contact_then_reported_and_mailed(runtime, session, inbox, counselor):  # noqa: ANN001
    taken = datetime(2026, 12, 22, 14, 0, tzinfo=JST)
    reporter = Reporter(runtime, session, now=taken - timedelta(minutes=30))
    hello = await reporter.says("こんにちは")
    conversation = await session.get(Conversation, hello.conversation_id)
    request = await _reported(session, runtime, counselor, taken=taken, contact_id=conversation.contact_id, conversation_id=conversation.id)
    reporter.now = datetime(2026, 12, 23, 16, 0, tzinfo=JST)  # the next day: a new conversation
    first = await reporter.says("父が見つかりました！きょうの午後3時ごろ、北沢公園で保護されました。けがはなく元気です")
    assert first.conversation_id != hello.conversation_id
    assert first.urgency == "none" and "119" not in text_of(first)  # not read as a new emergency
    assert "よかった" in text_of(first) and "伝えておきたいこと" in text_of(first)  # only what is missing
    confirm = await reporter.says("なし")
    assert "よろしいですか" in text_of(confirm) and "北沢公園" in text_of(confirm) and "けがはなく元気です" in text_of(confirm)
    done = await reporter.says("はい")
    assert "区へ" in text_of(done) and request.fields["management_no"] in text_of(done)
    request = await session.get(Request, request.id, populate_existing=True)
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert request.status == RequestStatus.FOUND and record.found["found_place"] == "北沢公園"
    assert request.due_at == record.found_due_at == record.found_at + timedelta(minutes=30)  # ⑤イ(ケ)

    port = inbox.port
    assert await missing.record_ward_phone(session, request_id=request.id, counselor_id=counselor, to="地域支援課", now=record.found_at + timedelta(minutes=10))
    await send_to_ward(session, request_id=request.id, counselor_id=counselor, tenant=runtime.tenants.get("setagaya"), smtp=Smtp("127.0.0.1", port, "anshin@example.invalid"), now=record.found_at + timedelta(minutes=14))
    await session.commit()
    mail = message_from_bytes(inbox.messages[0], policy=email_policy)
    attachment = [p for p in mail.walk() if p.get_filename()][0]
    cells = {str(c.value) for row in load_workbook(BytesIO(attachment.get_payload(decode=True))).active.iter_rows() for c in row if c.value}
    assert "行方不明者発見報告票" in cells and "世田谷太郎" in cells
    request = await session.get(Request, request.id, populate_existing=True)
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert request.status == RequestStatus.DONE and record.found_phoned_at and record.found_mailed_at and request.due_at is None


@pytest.mark.parametrize("text", ["見つかったけど倒れている", "母が見つかりました。でも息をしていないみたいです"])
async def test_a_found_notice_telling_of_a_danger_is_escalated_by_triage_not_taken_as_found(runtime, session, counselor, text):  # noqa: ANN001
    """Triage runs first: the found flow (別紙8-4) proceeds only when triage does not raise the level."""
    taken = datetime(2026, 12, 22, 14, 0, tzinfo=JST)
    reporter = Reporter(runtime, session, now=taken - timedelta(minutes=30))
    hello = await reporter.says("こんにちは")
    conversation = await session.get(Conversation, hello.conversation_id)
    request = await _reported(session, runtime, counselor, taken=taken, contact_id=conversation.contact_id, conversation_id=conversation.id)
    reporter.now = datetime(2026, 12, 23, 16, 0, tzinfo=JST)  # the next day: a new conversation
    first = await reporter.says(text)
    assert first.urgency == "emergency" and first.case_id is not None  # escalated: a case in the queue at once
    assert "よかった" not in text_of(first) and "119" in text_of(first)
    case = await case_service.open_case_of(session, conversation_id=first.conversation_id)
    assert case is not None and case.urgency == "emergency"
    request = await session.get(Request, request.id, populate_existing=True)
    assert request.status == RequestStatus.OPEN  # not marked found
    assert await request_service.draft_of(session, conversation_id=first.conversation_id) is None  # no 別紙8-4 form started


async def test_a_danger_in_the_intakes_own_conversation_already_at_emergency_does_not_start_the_found_form(runtime, session, counselor):  # noqa: ANN001
    """There triage cannot raise the level any more; the message's own danger signal still keeps
    the found flow away (the case is already an emergency in the queue)."""
    taken = datetime(2026, 12, 22, 14, 0, tzinfo=JST)
    reporter = Reporter(runtime, session, now=taken - timedelta(minutes=2))
    alarm = await reporter.says("認知症の父が朝から帰ってきません")
    assert alarm.urgency == "emergency"
    await reporter.taps("missing110:yes", "はい、連絡しました")
    await reporter.says("やめる")  # the chat form stopped; the intake is taken by phone instead
    conversation = await session.get(Conversation, alarm.conversation_id)
    request = await _reported(session, runtime, counselor, taken=taken, contact_id=conversation.contact_id, conversation_id=conversation.id)
    reporter.now = taken + timedelta(minutes=1)  # the same conversation, still open
    danger = await reporter.says("見つかったけど息をしていない")
    assert danger.conversation_id == alarm.conversation_id and danger.urgency == "emergency"
    assert "よかった" not in text_of(danger)
    assert await request_service.draft_of(session, conversation_id=danger.conversation_id) is None
    request = await session.get(Request, request.id, populate_existing=True)
    assert request.status == RequestStatus.OPEN


async def test_a_found_notice_from_the_ward_ends_the_case_with_its_call_time(runtime, session, counselor):  # noqa: ANN001
    taken = datetime(2026, 12, 22, 15, 0, tzinfo=JST)
    request = await _reported(session, runtime, counselor, taken=taken)
    call = datetime(2026, 12, 23, 11, 20, tzinfo=JST)
    assert await missing.end_by_ward(session, request_id=request.id, counselor_id=counselor, ward_call_at=call, now=call + timedelta(minutes=3))
    assert not await missing.end_by_ward(session, request_id=request.id, counselor_id=counselor, ward_call_at=call, now=call + timedelta(minutes=4))
    await session.commit()
    request = await session.get(Request, request.id, populate_existing=True)
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert request.status == RequestStatus.DONE and record.ward_call_at == call and request.due_at is None
