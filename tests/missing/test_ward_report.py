"""The ward report (⑤イ(カ)): 30 minutes after the intake, a Celery timer alerting the console
when near and when missed, the phone report recorded and 別紙8-3 mailed as .xlsx through a real
local SMTP server (aiosmtpd) with one action. The clock is the test's."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from email import message_from_bytes
from email.policy import default as email_policy
from email.header import decode_header, make_header
from io import BytesIO
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from pydantic import ValidationError
from sqlalchemy import select

from frontdoor.tenants import WardReport
from handoff.missing import service as missing
from handoff.missing.mail import MailNotSent, Smtp, send_to_ward
from handoff.missing.models import MissingPerson
from handoff.relay import console_channel
from handoff.requests.models import Request, RequestEvent, RequestStatus
from tests.missing.helpers import make_intake

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")


async def _events(session, request_id) -> list[str]:  # noqa: ANN001
    return [e.action for e in await session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id))]


async def _console_messages(pubsub, seconds: float = 8) -> list[dict]:  # noqa: ANN001
    found, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        item = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.5)
        if item:
            found.append(json.loads(item["data"]))
        elif found:
            break
    return found


async def test_report_deadline_is_30_minutes_or_9_30_for_calls_ending_8_30_to_9():
    assert missing.report_deadline(datetime(2026, 12, 8, 14, 10, tzinfo=JST)) == datetime(2026, 12, 8, 14, 40, tzinfo=JST)
    assert missing.report_deadline(datetime(2026, 12, 8, 8, 40, tzinfo=JST)) == datetime(2026, 12, 8, 9, 30, tzinfo=JST)
    assert missing.report_deadline(datetime(2026, 12, 8, 9, 0, tzinfo=JST)) == datetime(2026, 12, 8, 9, 30, tzinfo=JST)
    with pytest.raises(ValidationError):  # 003 ⑤イ(カ): at most two places
        WardReport(phones=["03-1"], emails=["a@x.invalid", "b@x.invalid", "c@x.invalid"])


async def test_a_missed_30_minute_deadline_alerts_the_console_once_through_the_celery_timer(runtime, session, celery_app):  # noqa: ANN001
    taken = datetime(2026, 12, 9, 11, 0, tzinfo=JST)
    request = await make_intake(session, runtime, now=taken)
    assert request.due_at == taken + timedelta(minutes=30)
    assert missing.countdown(request.due_at, taken + timedelta(minutes=18)) == "あと12分"
    pubsub = runtime.redis.pubsub()
    await pubsub.subscribe(console_channel("setagaya"))

    async def tick(at: datetime) -> list[dict]:
        result = celery_app.send_task("frontdoor.missing_person_tick", kwargs={"at": at.isoformat()})
        await asyncio.to_thread(result.get, timeout=60)
        return [m for m in await _console_messages(pubsub) if m.get("type") == "escalation" and request.fields["management_no"] in m["message"]]

    assert await tick(taken + timedelta(minutes=10)) == []  # 20 minutes left: quiet
    near = await tick(taken + timedelta(minutes=22))
    assert len(near) == 1 and "期限まもなく" in near[0]["message"] and "区への受付報告" in near[0]["message"]
    missed = await tick(taken + timedelta(minutes=31))
    assert len(missed) == 1 and "期限超過" in missed[0]["message"] and "11時30分" in missed[0]["message"]
    assert await tick(taken + timedelta(minutes=33)) == []  # once per deadline
    events = await _events(session, request.id)
    assert events.count("deadline_near") == 1 and events.count("deadline_missed") == 1
    await pubsub.aclose()


async def test_phone_report_and_one_action_mail_of_the_xlsx_form_record_both_times(runtime, session, inbox, counselor):  # noqa: ANN001
    taken = datetime(2026, 12, 10, 14, 0, tzinfo=JST)
    request = await make_intake(session, runtime, now=taken)
    tenant = runtime.tenants.get("setagaya")
    port = inbox.port
    phoned = taken + timedelta(minutes=12)
    assert await missing.record_ward_phone(session, request_id=request.id, counselor_id=counselor, to="地域支援課 佐藤", now=phoned)
    assert not await missing.record_ward_phone(session, request_id=request.id, counselor_id=counselor, to="again", now=phoned)  # once
    sent = await send_to_ward(session, request_id=request.id, counselor_id=counselor, tenant=tenant, smtp=Smtp("127.0.0.1", port, "anshin@example.invalid"), now=taken + timedelta(minutes=15))
    await session.commit()
    with pytest.raises(MailNotSent):  # a second click sends nothing twice
        await send_to_ward(session, request_id=request.id, counselor_id=counselor, tenant=tenant, smtp=Smtp("127.0.0.1", port, "anshin@example.invalid"), now=taken + timedelta(minutes=16))
    assert sent == 1 and len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0], policy=email_policy)
    assert mail["To"] == "chiikishien@example.invalid"
    assert "行方不明者受付票" in str(make_header(decode_header(mail["Subject"]))) and request.fields["management_no"] in str(make_header(decode_header(mail["Subject"])))
    body, attachment = [part for part in mail.walk() if not part.is_multipart()]
    assert "世田谷太郎" not in body.get_content()  # the body names no one
    assert attachment.get_filename().endswith(".xlsx")
    sheet = load_workbook(BytesIO(attachment.get_payload(decode=True))).active
    cells = {str(c.value) for row in sheet.iter_rows() for c in row if c.value}
    assert "行方不明者受付票" in cells and request.fields["management_no"] in cells and "世田谷太郎（せたがやたろう）" in cells
    assert "対象外" in cells and "紺のジャンパー" in cells
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert record.ward_phoned_at == taken + timedelta(minutes=12) and record.ward_phoned_to == "地域支援課 佐藤"
    assert record.form_mailed_at == taken + timedelta(minutes=15)
    request = await session.get(Request, request.id, populate_existing=True)
    # Reported: the next deadline is the first daily check, the next day by 10:30 (⑤イ(キ)).
    assert request.status == RequestStatus.OPEN and request.due_at == datetime(2026, 12, 11, 10, 30, tzinfo=JST)


async def test_mail_without_an_smtp_server_is_refused_in_japanese_and_records_nothing(runtime, session, counselor):  # noqa: ANN001
    request = await make_intake(session, runtime, now=datetime(2026, 12, 10, 15, 0, tzinfo=JST))
    with pytest.raises(MailNotSent, match="メールサーバー"):
        await send_to_ward(session, request_id=request.id, counselor_id=counselor, tenant=runtime.tenants.get("setagaya"), smtp=Smtp("", 25, "x@example.invalid"), now=datetime(2026, 12, 10, 15, 5, tzinfo=JST))
    assert (await session.get(MissingPerson, request.id, populate_existing=True)).form_mailed_at is None


async def test_a_missed_deadline_also_mails_the_on_call_staff_without_personal_data(runtime, session, inbox):  # noqa: ANN001
    """⑤イ(カ): the console and the escalation notifiers; the mail names no one."""
    from handoff.missing import timers
    from handoff.notify import SmtpNotifier
    from tests.handoff.staff import make_staff

    address = f"oncall-{time.monotonic_ns()}@example.invalid"
    await make_staff(session, tenant_id="setagaya", email=address, on_call=True)
    taken = datetime(2026, 12, 8, 11, 0, tzinfo=JST)
    request = await make_intake(session, runtime, now=taken)
    port = inbox.port
    notifier = SmtpNotifier("127.0.0.1", port, "anshin@example.invalid", "http://console.example.invalid")
    await timers.tick(session, now=taken + timedelta(minutes=31), notifiers=[notifier])
    mails = [message_from_bytes(m, policy=email_policy) for m in inbox.messages]
    ours = [m for m in mails if address in m["To"] and f'管理番号{request.fields["management_no"]}：' in str(make_header(decode_header(m["Subject"])))]
    assert len(ours) == 1 and "期限超過" in str(make_header(decode_header(ours[0]["Subject"])))
    raw = b"".join(inbox.messages).decode("utf-8", "replace") + "".join(m.get_body(("plain",)).get_content() for m in ours)
    assert "世田谷太郎" not in raw and "090-1111-2222" not in raw
