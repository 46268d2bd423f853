"""Console actions over HTTP: notes, labels, transfer, schedule, hand back; supervisor
reassignment; every change in the case history (issue 4)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from bot.engine import Inbound
from bot.models import Conversation, ConversationMode
from frontdoor.models import ChannelKind
from handoff.models import Case, CaseEvent, CaseNote, CaseStatus, Role
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio


async def _urgent_case(runtime, session, who: str) -> Case:  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(
        session, Inbound("kashiwa", ChannelKind.WEB, who, "もう三日なにも食べてない。お金も一円もない")
    )
    assert outcome.urgency != "none"
    return await session.scalar(select(Case).where(Case.conversation_id == outcome.conversation_id))


async def _reload(session, case_id) -> Case:  # noqa: ANN001
    return await session.get(Case, case_id, populate_existing=True)


async def test_notes_labels_schedule_and_history(live_server, runtime, session):  # noqa: ANN001
    me = await make_staff(session, tenant_id="kashiwa")
    case = await _urgent_case(runtime, session, "actions-resident-0001")
    client = await console_client(live_server.base_url, me)
    assert (await client.post(f"/console/cases/{case.id}/notes", data={"text": "住居確保給付金を検討"})).status_code == 303
    assert (await client.post(f"/console/cases/{case.id}/labels", data={"labels": "生活困窮、住まい, 生活困窮"})).status_code == 303
    bad = await client.post(f"/console/cases/{case.id}/schedule", data={"route": "phone", "appointment_at": "あした"})
    assert bad.status_code == 400
    ok = await client.post(f"/console/cases/{case.id}/schedule", data={"route": "phone", "appointment_at": "2026-12-01T10:30"})
    assert ok.status_code == 303
    case = await _reload(session, case.id)
    assert case.status == CaseStatus.SCHEDULED and case.route == "phone" and case.assignee_id == me.id
    assert case.appointment_at.isoformat() == "2026-12-01T01:30:00+00:00"  # 10:30 JST
    assert case.labels == ["住まい", "生活困窮"]
    notes = list(await session.scalars(select(CaseNote).where(CaseNote.case_id == case.id)))
    assert [n.text for n in notes] == ["住居確保給付金を検討"]
    actions = [e.action for e in await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id).order_by(CaseEvent.id))]
    assert actions == ["opened", "note_added", "labels_set", "scheduled"]
    page = (await client.get(f"/console/cases/{case.id}")).text
    assert "住居確保給付金を検討" in page and "予約済み" in page
    await client.aclose()


async def test_transfer_and_hand_back(live_server, runtime, session):  # noqa: ANN001
    me = await make_staff(session, tenant_id="kashiwa")
    colleague = await make_staff(session, tenant_id="kashiwa")
    stranger = await make_staff(session, tenant_id="setagaya")
    case = await _urgent_case(runtime, session, "actions-resident-0002")
    client = await console_client(live_server.base_url, me)
    assert (await client.post(f"/console/cases/{case.id}/take-over")).status_code == 303
    conversation = await session.get(Conversation, case.conversation_id, populate_existing=True)
    assert conversation.mode == ConversationMode.HUMAN
    assert (await client.post(f"/console/cases/{case.id}/hand-back")).status_code == 303
    conversation = await session.get(Conversation, case.conversation_id, populate_existing=True)
    assert conversation.mode == ConversationMode.BOT
    assert (await client.post(f"/console/cases/{case.id}/transfer", data={"to": str(stranger.id)})).status_code == 400
    assert (await client.post(f"/console/cases/{case.id}/transfer", data={"to": str(colleague.id)})).status_code == 303
    assert (await _reload(session, case.id)).assignee_id == colleague.id
    # I no longer hold it: only a supervisor may move a colleague's case.
    assert (await client.post(f"/console/cases/{case.id}/transfer", data={"to": str(me.id)})).status_code == 403
    boss = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa", role=Role.SUPERVISOR))
    assert (await boss.post(f"/console/cases/{case.id}/transfer", data={"to": str(me.id)})).status_code == 303
    assert (await _reload(session, case.id)).assignee_id == me.id
    other_tenant = await console_client(live_server.base_url, stranger)
    assert (await other_tenant.get(f"/console/cases/{case.id}")).status_code == 404
    for c in (client, boss, other_tenant):
        await c.aclose()


async def test_login_attempts_are_limited_per_account(live_server, session):  # noqa: ANN001
    import httpx

    staff = await make_staff(session, tenant_id="setagaya")
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        for _ in range(10):
            wrong = await http.post("/console/login", data={"login": staff.login, "password": "wrong-password"})
            assert "違います" in wrong.text
        blocked = await http.post("/console/login", data={"login": staff.login, "password": "correct-horse-battery"})
        assert blocked.status_code == 429 and "5分ほど待って" in blocked.text
