"""The disaster notice (issue 15; seed 003 §1(2)⑥ケ(イ)): staff switch it on from the
console for their tenant only; while on, bot replies start with the ward's current
information and say so; switching off removes it; bad input gets a Japanese error."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.engine import Inbound
from frontdoor.models import ChannelKind
from knowledge.disaster import DisasterNoticeEvent
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio

NOTICE = "震度5強の地震がありました。区内の避難所を開設しています。"
LINK = "https://www.city.setagaya.lg.jp/mokuji/kurashi/bousai/"


async def _ask(runtime, session, tenant: str, text: str) -> str:  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(session, Inbound(tenant, ChannelKind.WEB, uuid.uuid4().hex, text))
    return outcome.replies[0].text


async def test_staff_switch_on_and_off_from_the_console(live_server, runtime, session):  # noqa: ANN001
    staff = await make_staff(session, tenant_id="setagaya")
    client = await console_client(live_server.base_url, staff)

    bad = await client.post("/console/disaster", data={"action": "on", "text": "  ", "url": LINK})
    assert "お知らせの文を入力してください" in bad.text
    bad = await client.post("/console/disaster", data={"action": "on", "text": NOTICE, "url": "javascript:alert(1)"})
    assert "https://" in bad.text

    assert (await client.post("/console/disaster", data={"action": "on", "text": NOTICE, "url": LINK})).status_code == 303
    reply = await _ask(runtime, session, "setagaya", "ひなんじょ　どこに　あるの")
    assert reply.startswith("【災害時のお知らせ】") and NOTICE in reply and LINK in reply
    assert "最新の情報" in reply
    # Another tenant is untouched.
    assert "災害時のお知らせ" not in await _ask(runtime, session, "kashiwa", "受付時間をおしえて")
    page = (await client.get("/console/disaster")).text
    assert "表示中" in page

    assert (await client.post("/console/disaster", data={"action": "off"})).status_code == 303
    assert "災害時のお知らせ" not in await _ask(runtime, session, "setagaya", "ひなんじょ　どこに　あるの")
    events = [e.action for e in await session.scalars(select(DisasterNoticeEvent).where(DisasterNoticeEvent.tenant_id == "setagaya"))]
    assert events == ["on", "off"]
    # Switching off twice is a no-op, not a second event.
    await client.post("/console/disaster", data={"action": "off"})
    assert len(list(await session.scalars(select(DisasterNoticeEvent).where(DisasterNoticeEvent.tenant_id == "setagaya")))) == 2
    await client.aclose()
