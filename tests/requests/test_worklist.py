"""The staff worklist over real HTTP: audited views, edit, 対応済 with who/when, a question
sent back, and the forms out as .xlsx (issue 13 "Staff side")."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from bot.models import Message
from frontdoor.clock import JST, utc_now
from handoff.models import AuditLog, Role
from handoff.requests import service as request_service
from handoff.requests.forms import load_forms
from handoff.requests.models import RequestStatus
from tests.handoff.staff import console_client, make_staff
from tests.requests.test_absence_flow import Resident, stored

pytestmark = pytest.mark.asyncio


def cells(body: bytes) -> list[str]:
    wb = load_workbook(io.BytesIO(body))
    return [str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None]


async def test_a_counselor_works_a_request_from_the_list_to_done(live_server, runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session, now=datetime.now().astimezone())
    await resident.says("12月10日は留守です。世田谷花子（せたがやはなこ）03-1234-5678")
    done = await resident.says("はい")
    request = await stored(session, done)
    me = await make_staff(session, tenant_id="setagaya")
    client = await console_client(live_server.base_url, me)

    page = await client.get("/console/requests")
    assert page.status_code == 200 and f"/console/requests/{request.id}" in page.text and "電話訪問の不在連絡" in page.text
    detail = await client.get(f"/console/requests/{request.id}")
    assert "世田谷花子" in detail.text and "12月10日（木）" in detail.text and "チャットで受付" in detail.text
    views = list(await session.scalars(select(AuditLog).where(AuditLog.counselor_id == me.id)))
    assert {"view_worklist", "view_request"} <= {v.action for v in views}

    edited = await client.post(f"/console/requests/{request.id}/edit", data={"phone": "03-9999-0000", "status": "done"})
    assert edited.status_code == 303
    assert (await stored(session, done)).fields["phone"] == "03-9999-0000"  # a field, not the status

    asked = await client.post(f"/console/requests/{request.id}/question", data={"text": "12月11日もお留守ですか？"})
    assert asked.status_code == 303
    assert (await stored(session, done)).status == RequestStatus.QUESTION
    sent = await session.scalar(select(Message).where(Message.conversation_id == done.conversation_id).order_by(Message.id.desc()).limit(1))
    assert sent.text == "12月11日もお留守ですか？" and sent.author == "counselor"

    assert (await client.post(f"/console/requests/{request.id}/done")).status_code == 303
    finished = await stored(session, done)
    assert finished.status == RequestStatus.DONE and finished.done_by == me.id and finished.done_at is not None
    assert (await client.post(f"/console/requests/{request.id}/done")).status_code == 409  # once
    assert "対応済" in (await client.get(f"/console/requests/{request.id}")).text


async def test_a_request_given_up_halfway_is_shown_to_staff_as_incomplete_never_done(live_server, runtime, session):  # noqa: ANN001
    stopped = Resident(runtime, session)
    first = await stopped.says("あさってはデイサービスで留守です")
    await stopped.says("せたがや はなこ")
    await stopped.says("やっぱりやめます")
    interrupted = Resident(runtime, session)
    other = await interrupted.says("明日は留守にします")
    await interrupted.says("もう生きていたくない。死にたい")  # triage takes over: kept, not recorded
    client = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya"))

    worklist = (await client.get("/console/requests")).text
    for outcome in (first, other):
        start = worklist.index(f'data-id="{outcome.request.id}"')
        row = worklist[worklist.rindex("<tr", 0, start) : worklist.index("</tr>", start)]
        assert "status-incomplete" in row and "未完了（途中でやめた）" in row
    detail = (await client.get(f"/console/requests/{first.request.id}")).text
    assert "せたがや はなこ" in detail and "未完了（途中でやめた）" in detail and 'id="mark-done"' not in detail
    assert (await client.post(f"/console/requests/{first.request.id}/done")).status_code == 409
    assert (await stored(session, first)).status == RequestStatus.INCOMPLETE
    await client.aclose()


async def test_other_tenants_and_managers_never_see_a_request(live_server, runtime, session):  # noqa: ANN001
    resident = Resident(runtime, session)
    first = await resident.says("相談員の対応がひどかった。苦情を言いたい")
    other = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa"))
    assert (await other.get(f"/console/requests/{first.request.id}")).status_code == 404
    manager = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya", role=Role.MANAGER))
    assert (await manager.get(f"/console/requests/{first.request.id}")).status_code in (302, 303, 403)


async def test_forms_out_besshi3_besshi9_besshi4_and_the_pause_list(live_server, runtime, session):  # noqa: ANN001
    now = datetime.now().astimezone()
    change = Resident(runtime, session, now=now)
    await change.says("電話訪問を週1回から週2回にしてほしい")
    await change.taps("form:choose", "週2回")
    await change.says("名前は世田谷花子、ふりがなはせたがやはなこ、電話は03-1234-5678です")
    change_request = await stored(session, await change.taps("form:yes", "はい"))

    complaint = await Resident(runtime, session, now=now).says("相談員の対応がひどかった。苦情を言いたい")

    cancel = Resident(runtime, session, now=now)
    await cancel.says("父が亡くなりました。電話訪問をやめたいです")
    await cancel.says("12月4日")
    await cancel.says("名前は世田谷一郎、ふりがなはせたがやいちろう、電話は03-1234-5678です")
    await cancel.taps("form:yes", "はい")

    pause = Resident(runtime, session, now=now)
    await pause.says("母が入院するので12月10日から電話訪問を休みたい。退院日は未定です")
    # A name no other test uses: a resume recorded for the same person elsewhere in the shared
    # database would (rightly) take this pause off the list.
    await pause.says("名前は砧春江、ふりがなはきぬたはるえ、電話は03-1234-5678です")
    await pause.taps("form:yes", "はい")

    client = await console_client(live_server.base_url, await make_staff(session, tenant_id="setagaya"))
    besshi3 = cells((await client.get(f"/console/requests/{change_request.id}/sheet.xlsx")).content)
    assert "電話訪問利用内容変更報告書（別紙3）" in besshi3 and "週2回" in besshi3 and "変更後の回数" in besshi3
    assert "変更後の時間帯" not in besshi3  # only the changed items
    besshi9 = cells((await client.get(f"/console/requests/{complaint.request.id}/sheet.xlsx")).content)
    assert "高齢者サービス 苦情報告書（別紙9）" in besshi9 and "相談員の対応がひどかった。苦情を言いたい" in besshi9
    besshi4 = cells((await client.get(f"/console/requests/export/besshi4.xlsx?month={now:%Y-%m}")).content)
    assert "世田谷一郎" in besshi4 and "死亡" in besshi4 and any("ご家族あて" in c for c in besshi4)
    pauses = cells((await client.get("/console/requests/export/pause-list.xlsx")).content)
    assert "休止開始日" in pauses and "未定" in pauses and "砧春江" in pauses


async def _pause(session, runtime, *, now: datetime, kind: str = "setagaya.phone_visit_pause", **fields: str):  # noqa: ANN001, ANN202
    """A pause (or resume) recorded through the service, as phone-visit staff or another process would."""
    request = await request_service.start(session, tenant_id="setagaya", conversation_id=None, kind=kind, fields=fields, step=None, now=now, outside_hours=False)
    assert await request_service.record(session, request=request, form=load_forms().get(kind), tenant=runtime.tenants.get("setagaya"), now=now)
    return request


async def test_the_pause_list_is_as_of_a_day_not_of_the_readers_clock(runtime, session):  # noqa: ANN001
    """Setagaya 003 ③コ: the 休止者リスト holds every pause still running on the day. A pause whose
    recorded_at came from a clock a minute ahead of the reader's (another process) was missing."""
    now = utc_now()
    today = now.astimezone(JST).date()
    tag = uuid.uuid4().hex[:8]
    ahead = await _pause(session, runtime, now=now + timedelta(minutes=1), start=today.isoformat(), until="未定", name=f"先行{tag}", kana=f"せんこう{tag}")
    ended = await _pause(session, runtime, now=now, start=(today - timedelta(days=9)).isoformat(), until=(today - timedelta(days=1)).isoformat(), name=f"終了{tag}", kana=f"しゅうりょう{tag}")
    resumed = await _pause(session, runtime, now=now - timedelta(hours=2), start=today.isoformat(), until="未定", name=f"再開{tag}", kana=f"さいかい{tag}")
    await _pause(session, runtime, now=now - timedelta(hours=1), kind="setagaya.phone_visit_resume", start=today.isoformat(), name=f"再開{tag}", kana=f"さいかい{tag}")
    nameless = await _pause(session, runtime, now=now - timedelta(hours=2), start=today.isoformat(), until="未定")
    await _pause(session, runtime, now=now - timedelta(hours=1), kind="setagaya.phone_visit_resume", start=today.isoformat())

    listed = {r.id for r in await request_service.open_pauses(session, tenant_id="setagaya", on=today)}
    assert ahead.id in listed and nameless.id in listed  # a resume without a name ends no one's pause
    assert ended.id not in listed and resumed.id not in listed
    assert ahead.id not in {r.id for r in await request_service.open_pauses(session, tenant_id="setagaya", on=today - timedelta(days=1))}
    await session.rollback()
