"""The counselor's side of the missing-person protocol over real HTTP (issue 8): the 別紙8-3
items completed at the call-back (⑤ウ(オ), ⑤イ(イ)) and mailed as edited through a real local
SMTP server, a found notice taken by phone (⑤イ(ク), 別紙8-4), and the daily status checks
(⑤イ(キ)) on the shared worklist. Console actions use the real clock."""

from __future__ import annotations

import io
import re
from datetime import time, timedelta
from email import message_from_bytes
from email.policy import default as email_policy

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models import Conversation
from frontdoor.clock import to_jst, utc_now
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.models import AuditLog
from handoff.requests.models import Request, RequestEvent, RequestStatus
from tests.conftest import LiveServer
from tests.handoff.staff import console_client, make_staff
from tests.missing.helpers import Reporter, make_intake

pytestmark = pytest.mark.asyncio


@pytest.fixture
def mail_server(settings, decider, redis_handle, inbox):  # noqa: ANN001, ANN201
    update = {"notify_smtp_host": "127.0.0.1", "notify_smtp_port": inbox.port, "notify_smtp_sender": "anshin@example.invalid"}
    server = LiveServer(settings.model_copy(update=update), decider, redis_handle).start()
    yield server
    server.stop()


def cells(body: bytes) -> set[str]:
    return {str(c.value) for row in load_workbook(io.BytesIO(body)).active.iter_rows() for c in row if c.value is not None}


async def _case_with_intake(runtime, session, *, at, closed: bool = False):  # noqa: ANN001, ANN202
    """A reporter's emergency case (as the chat opens it) with its intake recorded at `at`."""
    reporter = Reporter(runtime, session, now=at - timedelta(minutes=3))
    alarm = await reporter.says("認知症の父が朝から帰ってきません")
    assert alarm.case_id is not None
    conversation = await session.get(Conversation, alarm.conversation_id)
    request = await make_intake(session, runtime, now=at, contact_id=conversation.contact_id, conversation_id=conversation.id, closed=closed)
    return alarm.case_id, request


async def _events(session, request_id) -> list[RequestEvent]:  # noqa: ANN001
    return list(await session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id).order_by(RequestEvent.id)))


def _seen(page: str) -> str:
    return re.search(r'name="seen" value="([^"]+)"', page).group(1)


async def test_the_call_back_completes_the_intake_form_and_the_mailed_form_carries_the_edits(mail_server, runtime, session, inbox):  # noqa: ANN001
    """⑤ウ: a Sunday-night report; at the next-opening-day call the counselor corrects and
    completes 別紙8-3, continues the intake, reports by phone and mails the edited form."""
    case_id, request = await _case_with_intake(runtime, session, at=utc_now() - timedelta(hours=10), closed=True)
    me = await make_staff(session, tenant_id="setagaya")
    client = await console_client(mail_server.base_url, me)
    page = (await client.get(f"/console/cases/{case_id}")).text
    assert 'id="intake-fields"' in page and "受付票（別紙8-3）の項目を電話で確認・修正する" in page
    seen = _seen(page)

    edit = {
        "case": str(case_id), "seen": seen, "clothes": "上：紺のジャンパー　下：灰色のズボン　靴：白いスニーカー", "features": "身長165センチくらい、白髪、めがね",
        "police_report": "北沢警察署に提出済み", "sex": "男性", "menu__shown": "1", "menu": ["災害・防犯情報メール", "一人歩きSOSネットワークメール"],
    }
    assert (await client.post(f"/console/missing/{request.id}/fields", data=edit)).status_code == 303
    request = await session.get(Request, request.id, populate_existing=True)
    assert request.fields["clothes"].startswith("上：紺のジャンパー") and request.fields["police_report"] == "北沢警察署に提出済み"
    assert request.fields["menu"] == "災害・防犯情報メール、一人歩きSOSネットワークメール"
    assert request.fields["reporter_phone"] == "090-1111-2222" and request.status == RequestStatus.CALLBACK  # nothing else touched
    edited = [e for e in await _events(session, request.id) if e.action == "edited"]
    assert len(edited) == 1 and edited[0].actor_id == me.id and edited[0].detail == {"fields": ["clothes", "features", "menu", "police_report"]}
    assert "紺" not in str(edited[0].detail)  # names, never values
    assert await session.scalar(select(AuditLog).where(AuditLog.counselor_id == me.id, AuditLog.action == "edit_missing_intake"))

    stale = await client.post(f"/console/missing/{request.id}/fields", data={"case": str(case_id), "seen": seen, "clothes": "赤いセーター"})
    assert stale.status_code == 409 and "ほかの担当者" in stale.text  # the version seen is gone: nothing overwritten
    bad = await client.post(f"/console/missing/{request.id}/fields", data={"case": str(case_id), "seen": _seen((await client.get(f"/console/cases/{case_id}")).text), "reporter_phone": "でんわ"})
    assert bad.status_code == 400 and "お電話番号" in bad.text
    request = await session.get(Request, request.id, populate_existing=True)
    assert request.fields["clothes"].startswith("上：紺") and request.fields["reporter_phone"] == "090-1111-2222"

    page = (await client.get(f"/console/cases/{case_id}")).text
    assert f"別紙8-3を修正：服装、特徴、希望する対応、警察署への届（{me.display_name}）" in page
    download = await client.get(f"/console/missing/{request.id}/form.xlsx")
    assert download.status_code == 200 and "上：紺のジャンパー　下：灰色のズボン　靴：白いスニーカー" in cells(download.content)

    assert (await client.post(f"/console/missing/{request.id}/callback", data={"case": str(case_id), "result": "continue"})).status_code == 303
    assert (await client.post(f"/console/missing/{request.id}/ward-phone", data={"case": str(case_id), "to": "地域支援課 佐藤"})).status_code == 303
    assert (await client.post(f"/console/missing/{request.id}/mail", data={"case": str(case_id)})).status_code == 303
    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0], policy=email_policy)
    attachment = next(p for p in mail.walk() if p.get_filename())
    sent = cells(attachment.get_payload(decode=True))
    assert "身長165センチくらい、白髪、めがね" in sent and "北沢警察署に提出済み" in sent and "白髪、めがね" not in sent
    assert "身長165センチくらい、白髪、めがね" not in mail.get_body(("plain",)).get_content()
    page = (await client.get(f"/console/cases/{case_id}")).text
    assert "翌開庁日の折り返し電話：まだ見つかっていない" in page and "別紙8-3を区へメールで送信" in page
    await client.aclose()


async def test_a_found_notice_taken_by_phone_ends_the_checks_like_one_in_chat_and_makes_the_found_report(live_server, runtime, session):  # noqa: ANN001
    taken = utc_now() - timedelta(hours=30)
    case_id, request = await _case_with_intake(runtime, session, at=taken)
    me = await make_staff(session, tenant_id="setagaya")
    assert await missing.record_ward_phone(session, request_id=request.id, counselor_id=me.id, to="地域支援課", now=taken + timedelta(minutes=10))
    assert await missing.mark_mailed(session, request_id=request.id, counselor_id=me.id, now=taken + timedelta(minutes=12), recipients=1)
    await session.commit()
    client = await console_client(live_server.base_url, me)
    assert f"/console/missing/{request.id}/check" in (await client.get("/console/requests")).text  # today's check is on the worklist

    missing_place = await client.post(f"/console/missing/{request.id}/found", data={"case": str(case_id), "found_when": "きょうの午前9時ごろ"})
    assert missing_place.status_code == 400 and "場所" in missing_place.text
    found = {
        "case": str(case_id), "found_when": "きょうの午前9時ごろ", "found_place": "下北沢駅の交番", "found_state": "けがはなく元気",
        "notes": "", "informant": "通報者（娘）",
    }
    assert (await client.post(f"/console/missing/{request.id}/found", data=found)).status_code == 303
    request = await session.get(Request, request.id, populate_existing=True)
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert request.status == RequestStatus.FOUND and record.found["found_place"] == "下北沢駅の交番"
    # ⑤イ(ケ), as for a found notice in chat: 30 minutes, or 9:30 for one taken 8:30–9:00 (⑤イ(カ))
    assert request.due_at == record.found_due_at == missing.report_deadline(record.found_at)
    event = [e for e in await _events(session, request.id) if e.action == "found"][0]
    assert event.actor_id == me.id and event.detail["via"] == "phone"
    assert (await client.post(f"/console/missing/{request.id}/found", data=found)).status_code == 409  # once
    assert f"/console/missing/{request.id}/check" not in (await client.get("/console/requests")).text  # no more daily checks

    page = (await client.get(f"/console/cases/{case_id}")).text
    assert f"発見の連絡を電話で受付（別紙8-4）（{me.display_name}）" in page and "別紙8-4を区へメールで送る" in page
    report = cells((await client.get(f"/console/missing/{request.id}/form.xlsx")).content)
    assert "行方不明者発見報告票" in report and "【場所】下北沢駅の交番 【発見者の状況】けがはなく元気" in report
    assert "連絡者：通報者（娘）" in report and request.fields["management_no"] in report
    assert await session.scalar(select(AuditLog).where(AuditLog.counselor_id == me.id, AuditLog.action == "export_missing_form"))
    await client.aclose()


async def test_daily_checks_are_on_the_worklist_and_marking_one_records_who_and_when(live_server, runtime, session):  # noqa: ANN001
    """⑤イ(キ): the night or next-day counselor sees today's check with the reporter's phone
    and the count beside the other requests; the call-back of a closed-hours report too (⑤ウ)."""
    taken = utc_now() - timedelta(hours=30)
    case_id, request = await _case_with_intake(runtime, session, at=taken)
    _night_case, night = await _case_with_intake(runtime, session, at=utc_now() - timedelta(hours=2), closed=True)
    me = await make_staff(session, tenant_id="setagaya")
    await missing.record_ward_phone(session, request_id=request.id, counselor_id=me.id, to="地域支援課", now=taken + timedelta(minutes=10))
    await missing.mark_mailed(session, request_id=request.id, counselor_id=me.id, now=taken + timedelta(minutes=12), recipients=1)
    await session.commit()
    client = await console_client(live_server.base_url, me)

    page = (await client.get("/console/requests")).text
    row = re.search(rf'<tr class="missing-check"[^>]*>(?:(?!</tr>).)*/console/missing/{request.id}/check(?:(?!</tr>).)*</tr>', page, re.S).group(0)
    due = (await session.get(Request, request.id, populate_existing=True)).due_at
    assert to_jst(due).date() <= to_jst(utc_now()).date() and to_jst(due).time() == time(10, 30)  # ⑤イ(キ) by 10:30, from the day after
    assert "090-1111-2222" in row and "1回目" in row and ("期限切れ" in row) == (due < utc_now())
    assert f"/console/missing/{night.id}" in page and "翌開庁日に折り返し" in page  # the call-back is on the list
    assert (await client.get("/console/requests?status=all")).status_code == 200

    assert f"/console/missing/{request.id}/check" in (await client.get(f"/console/cases/{case_id}")).text  # and on the case page
    done = await client.post(f"/console/missing/{request.id}/check", data={"case": "worklist", "outcome": "not_found"})
    assert done.status_code == 303 and done.headers["location"] == "/console/requests"
    checked = [e for e in await _events(session, request.id) if e.action == "checked"]
    assert len(checked) == 1 and checked[0].actor_id == me.id and utc_now() - checked[0].at < timedelta(minutes=1)
    again = await client.post(f"/console/missing/{request.id}/check", data={"case": "worklist", "outcome": "not_found"})
    assert again.status_code == 409  # one check a day: a second click records nothing
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert record.checks == 1

    page = (await client.get("/console/requests")).text
    row = re.search(rf'<tr class="missing-check"[^>]*>(?:(?!</tr>).)*href="/console/missing/{request.id}"(?:(?!</tr>).)*</tr>', page, re.S).group(0)
    assert "2回目" in row and f"（{me.display_name}）" in row and "明日以降" in row
    case_page = (await client.get(f"/console/cases/{case_id}")).text
    assert f"/console/missing/{request.id}/check" not in case_page and f"状況確認（1回目）：まだ見つかっていない（{me.display_name}）" in case_page
    opened = await client.get(f"/console/missing/{request.id}")
    assert opened.status_code == 303 and opened.headers["location"] == f"/console/cases/{case_id}#missing"
    # The generic request page sends it to the case; closing or editing it there would skip the protocol.
    assert (await client.get(f"/console/requests/{request.id}")).headers["location"] == f"/console/missing/{request.id}"
    assert (await client.post(f"/console/requests/{request.id}/done")).status_code == 409
    assert (await client.post(f"/console/requests/{request.id}/edit", data={"clothes": "赤"})).status_code == 409
    assert (await session.get(Request, request.id, populate_existing=True)).status == RequestStatus.OPEN
    await client.aclose()
