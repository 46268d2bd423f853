"""A reporter in chat, with the clock in the test's hand (issue 8)."""

from __future__ import annotations

import uuid
from datetime import datetime

from handoff.requests.models import Request
from tests.requests.test_absence_flow import Resident, button_ids, text_of

__all__ = ["FIELDS", "Reporter", "button_ids", "intake_of", "make_intake", "text_of"]


class Reporter(Resident):
    """The same contact across conversations (a found notice may come the next day)."""

    def __init__(self, runtime, session, *, now: datetime, tenant: str = "setagaya", who: str | None = None):  # noqa: ANN001
        super().__init__(runtime, session, now=now, tenant=tenant)
        self.who = who or uuid.uuid4().hex


async def intake_of(session, outcome) -> Request:  # noqa: ANN001
    return await session.get(Request, uuid.UUID(outcome.request.id), populate_existing=True)


FIELDS = {
    "called_110": "有", "reporter_name": "世田谷花子", "reporter_kana": "せたがやはなこ", "relationship": "娘", "reporter_phone": "090-1111-2222",
    "wants_ward": "希望する", "menu": "災害・防犯情報メール、安全安心パトロール", "mail_items": "性別、年齢、服装", "person_name": "世田谷太郎",
    "person_kana": "せたがやたろう", "sex": "男性", "birth": "78歳", "address": "世田谷区北沢1-2-3", "last_seen_at": "けさ8時ごろ",
    "last_seen_place": "自宅から散歩に出たまま", "places": "", "features": "白髪、めがね", "clothes": "紺のジャンパー",
    "belongings": "", "dementia": "有", "says_name": "可", "says_address": "否", "police_report": "まだ", "notes": "",
}


async def make_intake(session, runtime, *, now: datetime, contact_id=None, conversation_id=None, closed: bool = False) -> Request:  # noqa: ANN001
    """An intake recorded as the chat form records it (the chat itself is tested in test_intake)."""
    from handoff.missing import service as missing
    from handoff.requests import service as request_service
    from handoff.requests.forms import load_forms
    from handoff.requests.models import RequestStatus

    tenant = runtime.tenants.get("setagaya")
    request = await request_service.start(
        session, tenant_id="setagaya", conversation_id=conversation_id, kind="missing_person", fields=dict(FIELDS), step="confirm", now=now, outside_hours=closed
    )
    status, due = (RequestStatus.CALLBACK, missing.callback_deadline(tenant, now)) if closed else (RequestStatus.OPEN, missing.report_deadline(now))
    await request_service.record(session, request=request, form=load_forms().get("missing_person"), tenant=tenant, now=now, status=status, due=due)
    await missing.created(session, request=request, contact_id=contact_id, tenant=tenant, now=now)
    await session.commit()
    return request
