"""Retention and erasure (issue 11; Setagaya 別紙1-1 §29, Kashiwa 002 §9(7)): with the clock
moved past each tenant period the personal data goes, the rows the reports count stay, an
erasure record (日時、担当者、対象、件数、処理内容) is written and can be downloaded, and a
second run erases nothing twice. The conversations here are dated years back, so other
tests' data (dated now) is never inside a cut-off."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from datetime import datetime, timedelta

import pytest
from sqlalchemy import func, select

from bot.engine import Inbound
from bot.models import Conversation, Message, ResidentContact
from frontdoor.clock import JST
from frontdoor.models import ChannelKind
from handoff import cases as case_service
from handoff.models import AuditLog, Case, CaseNote, Role
from knowledge.gaps import KnowledgeGap
from tests.handoff.staff import console_client, make_staff
from workers import retention
from workers.models import ErasureRecord
from workers.reports import queries
from workers.reports.periods import Month

pytestmark = pytest.mark.asyncio
T0 = datetime(2011, 1, 10, 22, 30, tzinfo=JST)


async def _old_case(runtime, session, who: str) -> Case:  # noqa: ANN001
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.TELEGRAM, who, "母がもう生きていけないって。佐藤ハナ様、柏市柏五丁目8番12号に住んでます", address="7001"), now=T0)
    await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.TELEGRAM, who, "電話は090-1111-2222です", address="7001"), now=T0 + timedelta(minutes=1))
    case = await session.scalar(select(Case).where(Case.conversation_id == first.conversation_id))
    await case_service.record_contact_details(session, case=case, now=T0, phone="090-1111-2222", preferred_time="夜9時以降")
    staff = await make_staff(session, tenant_id="kashiwa")
    await case_service.add_note(session, case_id=case.id, counselor_id=staff.id, text="娘さんから。母の佐藤ハナさん", now=T0)
    case.closing_note = "地域包括につないだ"
    message_id = await session.scalar(select(func.min(Message.id)).where(Message.conversation_id == first.conversation_id))
    session.add(KnowledgeGap(tenant_id="kashiwa", message_id=message_id, conversation_id=first.conversation_id, normalized="〔氏名〕のこと", kind="no_match", created_at=T0))
    session.add(AuditLog(counselor_id=staff.id, tenant_id="kashiwa", action="view_case", case_id=case.id, conversation_id=case.conversation_id, at=T0))
    await session.commit()
    return case


async def _figures(session) -> tuple[int, int]:  # noqa: ANN001
    scope = queries.Scope.month("kashiwa", Month.parse("2011-01"))
    return await queries.total(session, scope), await queries.message_count(session, scope)


async def test_each_period_erases_its_own_kind_and_keeps_the_counts(runtime, session):  # noqa: ANN001
    kashiwa = runtime.tenants.get("kashiwa")
    case = await _old_case(runtime, session, "retention-old-0001")
    figures = await _figures(session)
    assert figures[0] >= 1 and figures[1] >= 4

    # Past the message period only: text is blanked, rows stay, the gap log entry goes.
    now = T0 + timedelta(days=kashiwa.retention.messages + 1)
    made = await retention.erase_expired(session, tenants=[kashiwa], now=now)
    assert {(r.target, r.actor) for r in made} == {("messages", "system")}
    texts = list(await session.scalars(select(Message.text).where(Message.conversation_id == case.conversation_id).execution_options(populate_existing=True)))
    assert texts and set(texts) == {""}
    assert await session.scalar(select(func.count()).select_from(KnowledgeGap).where(KnowledgeGap.conversation_id == case.conversation_id)) == 0
    case = await session.get(Case, case.id, populate_existing=True)
    assert case.contact_phone == "090-1111-2222"  # the case period has not passed yet
    assert await _figures(session) == figures  # the monthly figures stay
    assert await retention.erase_expired(session, tenants=[kashiwa], now=now) == []  # nothing twice

    # Past the conversation and case periods: the channel identity and the case's personal details go.
    now = T0 + timedelta(days=max(kashiwa.retention.cases, kashiwa.retention.conversations) + 1)
    made = await retention.erase_expired(session, tenants=[kashiwa], now=now)
    assert {"cases", "conversations"} <= {r.target for r in made} and {r.actor for r in made} == {"system"}
    case = await session.get(Case, case.id, populate_existing=True)
    assert (case.contact_phone, case.preferred_time, case.closing_note, case.labels) == (None, None, None, [])
    assert (case.urgency, case.route) != (None, None) and case.created_at is not None  # kept for 別紙6 / Kashiwa counts
    assert await session.scalar(select(func.count()).select_from(CaseNote).where(CaseNote.case_id == case.id)) == 0
    conversation = await session.get(Conversation, case.conversation_id, populate_existing=True)
    contact = await session.get(ResidentContact, conversation.contact_id, populate_existing=True)
    assert contact.address is None and contact.pseudonym.startswith("erased:")
    assert await _figures(session) == figures

    # Past the audit period: the audit rows are deleted (the only delete the database allows).
    now = T0 + timedelta(days=kashiwa.retention.audit + 1)
    made = await retention.erase_expired(session, tenants=[kashiwa], now=now)
    assert [r.target for r in made if r.target == "audit"] == ["audit"]
    assert await session.scalar(select(func.count()).select_from(AuditLog).where(AuditLog.case_id == case.id)) == 0

    records = await retention.records(session, tenant_id="kashiwa")
    table = list(csv.reader(io.StringIO(retention.records_csv(records).lstrip("\ufeff"))))
    assert table[0] == ["日時", "担当者", "対象", "件数", "処理内容", "対象期間（この日時より前）"]
    assert {row[2] for row in table[1:]} >= {"メッセージ", "会話", "案件", "監査ログ"}
    assert all(row[1] == "system" and int(row[3]) >= 1 and row[4] for row in table[1:])


async def test_supervisor_downloads_the_erasure_record_and_counselors_cannot(live_server, session):  # noqa: ANN001
    session.add(ErasureRecord(tenant_id="setagaya", at=T0, actor="system", target="messages", count=12, action=retention.ACTION_JA["messages"], before=T0))
    await session.commit()
    boss = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya", role=Role.SUPERVISOR))
    page = await boss.get("/console/erasures")
    assert "メッセージ" in page.text and "本文を消去" in page.text
    download = await boss.get("/console/erasures.csv")
    assert download.headers["content-disposition"].endswith('erasure-setagaya.csv"')
    assert "2011-01-10 22:30,system,メッセージ,12," in download.text
    counselor = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya"))
    assert (await counselor.get("/console/erasures.csv")).status_code == 403
    kashiwa_boss = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa", role=Role.SUPERVISOR))
    assert ",12," not in (await kashiwa_boss.get("/console/erasures.csv")).text
    for c in (boss, counselor, kashiwa_boss):
        await c.aclose()


async def test_the_daily_celery_task_erases_and_records(celery_app, runtime, session):  # noqa: ANN001
    from workers.tasks import erase_expired

    case = await _old_case(runtime, session, "retention-celery-0001")
    # The clock two years and a day on from these messages (other tests' data is newer).
    now = T0 + timedelta(days=runtime.tenants.get("kashiwa").retention.messages + 1)
    assert erase_expired.delay(now.isoformat()).get(timeout=120) >= 1
    texts = set(await session.scalars(select(Message.text).where(Message.conversation_id == case.conversation_id).execution_options(populate_existing=True)))
    assert texts == {""}


def _cli(args: list[str], *, data_dir, stdin: str = "") -> subprocess.CompletedProcess:  # noqa: ANN001
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env |= {"FRONTDOOR_DATA_DIR": str(data_dir), "FRONTDOOR_NEW_USER_PASSWORD": "kashiwa-night-shift-2026"}
    return subprocess.run([sys.executable, "-m", "frontdoor.cli", *args], input=stdin, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_erase_command_asks_first_then_erases_and_prints_the_record(tmp_path):  # noqa: ANN001
    made = _cli(["create-user", "--tenant", "kashiwa", "--login", "k.kimura", "--name", "木村 一郎"], data_dir=tmp_path)
    assert made.returncode == 0, made.stdout + made.stderr
    login = _cli(["users", "list"], data_dir=tmp_path)  # an audit row to erase comes from the next command
    assert "k.kimura" in login.stdout
    assert _cli(["users", "disable", "--login", "k.kimura"], data_dir=tmp_path).returncode == 0
    refused = _cli(["erase", "--tenant", "kashiwa", "--before", "2099-04-01"], data_dir=tmp_path, stdin="no\n")
    assert refused.returncode == 1 and "何も消去していません" in refused.stdout
    done = _cli(["erase", "--tenant", "kashiwa", "--before", "2099-04-01", "--by", "委託先 田中"], data_dir=tmp_path, stdin="yes\n")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "消去記録" in done.stdout and "委託先 田中\t監査ログ\t1\t監査ログの行を削除" in done.stdout
    again = _cli(["erase", "--tenant", "kashiwa", "--before", "2099-04-01", "--yes"], data_dir=tmp_path)
    assert "消去の対象はありませんでした" in again.stdout
    assert _cli(["erase", "--tenant", "osaka", "--before", "2099-04-01", "--yes"], data_dir=tmp_path).returncode == 2


async def test_requests_past_their_period_lose_personal_fields_but_keep_what_reports_count(runtime, session):  # noqa: ANN001
    """別紙1-1 §29: a volunteer request from a resident keeps its kind, status and type of help
    (別紙6 2-3 counts it) once its period is over; the name, reading, address, phone and free text go."""
    from handoff.requests.models import Request, RequestEvent, RequestStatus

    setagaya = runtime.tenants.get("setagaya")
    fields = {
        "task": "電球の交換", "detail": "台所の電球がきれた", "dates": "来週の火曜", "name": "世田谷 花子",
        "kana": "せたがや はなこ", "address": "世田谷区世田谷4-21-27", "phone": "03-0000-1234", "consent": "はい",
    }
    request = Request(tenant_id="setagaya", kind="setagaya.volunteer_visit", status=RequestStatus.DONE, fields=fields, created_at=T0, updated_at=T0, recorded_at=T0)
    session.add(request)
    await session.flush()
    session.add(RequestEvent(request_id=request.id, action="edited", detail={"phone": "03-0000-1234"}, at=T0))
    await session.commit()

    now = T0 + timedelta(days=setagaya.retention.requests + 1)
    made = await retention.erase(session, tenant_id="setagaya", cutoffs=retention.Cutoffs(requests=now - timedelta(days=setagaya.retention.requests)), actor="system", now=now)
    assert [(r.target, r.count) for r in made] == [("requests", 1)]
    request = await session.get(Request, request.id, populate_existing=True)
    assert request.fields == {"task": "電球の交換", "consent": "はい"}
    assert (request.kind, request.status) == ("setagaya.volunteer_visit", RequestStatus.DONE)
    details = list(await session.scalars(select(RequestEvent.detail).where(RequestEvent.request_id == request.id).execution_options(populate_existing=True)))
    assert details == [None]
    assert await retention.erase(session, tenant_id="setagaya", cutoffs=retention.Cutoffs(requests=now), actor="system", now=now) == []
