"""多機関協働 (Kashiwa 002 §7(2)): a counselor records a referral from a case or a conversation
page; it is a request like the others (events, audit, worklist, `requests list --json`) and is
counted in Kashiwa's monthly report from the records (issue 13)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import Inbound
from frontdoor.clock import JST
from frontdoor.models import ChannelKind
from handoff.models import AuditLog, Case
from handoff.requests import service as request_service
from handoff.requests import staff_entry
from handoff.requests.forms import load_forms
from handoff.requests.models import Request, RequestStatus
from tests.handoff.staff import console_client, make_staff
from tests.test_cli import _run
from workers.reports import kashiwa_monthly
from workers.reports.periods import Month

KIND = "kashiwa.referral"


async def _case(runtime, session, tenant: str, text: str) -> Case:  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(session, Inbound(tenant, ChannelKind.WEB, f"referral-{tenant}-{datetime.now().timestamp()}", text))
    assert outcome.urgency != "none"
    return await session.scalar(select(Case).where(Case.conversation_id == outcome.conversation_id))


async def _referrals_in(session, conversation_id) -> int:  # noqa: ANN001
    return await session.scalar(select(func.count()).select_from(Request).where(Request.kind == KIND, Request.conversation_id == conversation_id))


@pytest.mark.asyncio
async def test_a_counselor_records_a_referral_from_a_case_and_it_is_listed_and_counted(live_server, runtime, session, settings, tmp_path):  # noqa: ANN001
    month = Month.parse(f"{datetime.now(JST):%Y-%m}")
    before = (await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=month)).referrals
    case = await _case(runtime, session, "kashiwa", "母の介護と息子の借金で、もう三日なにも食べてない。お金も一円もない")
    me = await make_staff(session, tenant_id="kashiwa")
    client = await console_client(live_server.base_url, me)
    page = (await client.get(f"/console/cases/{case.id}")).text
    assert 'id="referral-form"' in page and 'name="csrf_token"' in page and "ヤングケアラー" in page  # options from the form file

    today = datetime.now(JST).date()
    good = {
        "conversation_id": str(case.conversation_id), "case_id": str(case.id), "agency": "柏市 地域包括支援センター",
        "consent": "同意あり", "consent_by": "本人", "consent_on": today.isoformat(),
        "issues": ["住まい", "生活困窮"], "issues_note": "<img src=x onerror=alert(1)>家賃を３か月滞納",
    }
    # CSRF as every console form (issue 12): without the session's token nothing is recorded.
    forged = await client.post("/console/requests/referral", data=good, headers={"X-CSRF-Token": "0" * 40})
    assert forged.status_code == 403 and await _referrals_in(session, case.conversation_id) == 0

    bad = await client.post("/console/requests/referral", data={**good, "consent": "", "issues": ["住まい", "宇宙人"], "consent_on": (today + timedelta(days=1)).isoformat()})
    assert bad.status_code == 400
    assert "「情報共有の同意」を選んでください。" in bad.text and "「世帯の課題」は一覧から選んでください。" in bad.text
    assert "先の日付は入力できません" in bad.text
    assert "柏市 地域包括支援センター" in bad.text and "家賃を３か月滞納" in bad.text  # nothing typed is lost
    assert "<img src=x" not in bad.text
    assert await _referrals_in(session, case.conversation_id) == 0

    done = await client.post("/console/requests/referral", data=good)
    assert done.status_code == 303
    request_id = done.headers["location"].rsplit("/", 1)[-1]
    stored = await session.scalar(select(Request).where(Request.kind == KIND, Request.conversation_id == case.conversation_id).execution_options(populate_existing=True))
    assert str(stored.id) == request_id and stored.status == RequestStatus.OPEN and stored.origin == "console"
    assert stored.fields == {
        "agency": "柏市 地域包括支援センター", "consent": "同意あり", "consent_by": "本人", "consent_on": today.isoformat(),
        "issues": "生活困窮、住まい", "issues_note": "<img src=x onerror=alert(1)>家賃を３か月滞納",
    }
    events = await request_service.events(session, request_id=stored.id)
    assert [(e.action, e.actor_id) for e in events] == [("started", me.id), ("recorded", me.id)]
    audit = await session.scalar(select(AuditLog).where(AuditLog.counselor_id == me.id, AuditLog.action == "record_referral"))
    assert audit.target == request_id and audit.case_id == case.id

    worklist = (await client.get("/console/requests")).text
    assert f"/console/requests/{request_id}" in worklist and "多機関協働（つなぎ先の記録）" in worklist
    detail = (await client.get(f"/console/requests/{request_id}")).text
    assert "相談員が記録" in detail and "チャットで受付" not in detail and "生活困窮、住まい" in detail
    assert "&lt;img src=x onerror=alert(1)&gt;" in detail and "<img src=x" not in detail  # shown as text
    await client.aclose()

    listed = _run(["requests", "list", "--tenant", "kashiwa", "--json"], data_dir=tmp_path, extra={"FRONTDOOR_DATABASE_URL": settings.database_url})
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines()]
    (row,) = [r for r in rows if r["id"] == request_id]
    assert row["kind"] == KIND and row["status"] == "open" and row["due_at"] and row["fields"]["consent_by"] == "本人"

    after = (await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=month)).referrals
    assert after == (before[0] + 1, before[1] + 1)


@pytest.mark.asyncio
async def test_a_referral_is_recorded_from_a_conversation_page_but_never_across_tenants(live_server, runtime, session):  # noqa: ANN001
    kashiwa = await _case(runtime, session, "kashiwa", "もう三日なにも食べてない。お金も一円もない")
    setagaya = await _case(runtime, session, "setagaya", "父が家の中で倒れて、息をしていないみたい")
    mine = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa"))
    page = (await mine.get(f"/console/conversations/{kashiwa.conversation_id}")).text
    assert 'id="referral-form"' in page and 'name="case_id"' not in page
    entry = {"agency": "生活支援課", "consent": "同意なし", "consent_by": "家族", "consent_on": datetime.now(JST).date().isoformat(), "issues": "その他"}
    assert (await mine.post("/console/requests/referral", data={**entry, "conversation_id": str(setagaya.conversation_id)})).status_code == 404
    # A case of another conversation (another tenant's) is never named in the record or the audit.
    assert (await mine.post("/console/requests/referral", data={**entry, "conversation_id": str(kashiwa.conversation_id), "case_id": str(setagaya.id)})).status_code == 404
    recorded = await mine.post("/console/requests/referral", data={**entry, "conversation_id": str(kashiwa.conversation_id)})
    assert recorded.status_code == 303
    detail = (await mine.get(recorded.headers["location"])).text
    assert "世帯の情報は伝えない" in detail  # without consent, staff are told not to share

    ward = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya"))
    assert 'id="referral-form"' not in (await ward.get(f"/console/cases/{setagaya.id}")).text  # Kashiwa's form only
    assert (await ward.post("/console/requests/referral", data={**entry, "conversation_id": str(setagaya.conversation_id)})).status_code == 404
    await mine.aclose()
    await ward.aclose()


def test_the_entry_takes_only_the_forms_options_and_no_future_day():
    form = load_forms().get(KIND)
    today = date(2026, 12, 5)
    entry = staff_entry.read(form, {"agency": [" 柏市社会福祉協議会 "], "consent": ["同意あり", "同意なし"], "consent_by": ["本人"], "consent_on": ["12/1"], "issues": ["就労"]}, today=today)
    assert entry.fields == {"agency": "柏市社会福祉協議会", "consent_by": "本人", "issues": "就労"}
    assert set(entry.errors) == {"consent", "consent_on"}  # one choice only; a date as the date input sends it
    assert staff_entry.read(form, {"consent_on": ["2026-12-05"]}, today=today).fields == {"consent_on": "2026-12-05"}
