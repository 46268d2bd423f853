"""Every request kind over the real web socket (issue 13 "Done means"): typed turns and
tapped buttons, the read-back, はい, and the record staff see."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from bot.models import Message
from handoff.requests.models import Request, RequestStatus
from tests.bot.wsclient import ChatClient

pytestmark = pytest.mark.asyncio
NAME = "名前は世田谷花子、ふりがなはせたがやはなこ、電話は03-1234-5678です"

# (tenant, kind, turns): a str is typed, a (action, label) pair is a tapped button.
SCRIPTS = [
    ("setagaya", "setagaya.phone_visit_absence", ["12月28日は留守です。世田谷花子（せたがやはなこ）03-1234-5678", ("form:yes", "はい")]),
    ("setagaya", "setagaya.phone_visit_change", ["電話訪問を週1回から週2回にしてほしい", ("form:choose", "週2回"), NAME, ("form:yes", "はい")]),
    ("setagaya", "setagaya.phone_visit_pause", ["母が入院するので12月10日から電話訪問を休みたい。退院日は未定です", NAME, ("form:yes", "はい")]),
    ("setagaya", "setagaya.phone_visit_resume", ["退院したので電話訪問を12月20日から再開したいです", ("form:choose", "家族"), NAME, ("form:yes", "はい")]),
    ("setagaya", "setagaya.phone_visit_cancel", ["父が亡くなりました。電話訪問をやめたいです", "12月4日", NAME, ("form:yes", "はい")]),
    ("setagaya", "setagaya.sticker_application", [("form:start:setagaya.sticker_application", "このチャットで申請書を頼む"), NAME, "世田谷区太子堂1-2-3", ("form:choose", "はい"), ("form:yes", "はい")]),
    ("setagaya", "setagaya.sticker_change", [("form:start:setagaya.sticker_change", "このチャットで変更申請書を頼む"), NAME, "世田谷区太子堂1-2-3", ("form:choose", "はい"), ("form:yes", "はい")]),
    ("setagaya", "setagaya.volunteer_visit", ["電球の交換をボランティアにお願いしたい", ("form:skip", "なし"), "来週の平日の午前", NAME, "世田谷区太子堂1-2-3", ("form:choose", "はい"), ("form:yes", "はい")]),
    ("kashiwa", "complaint", ["相談員の対応がひどかった。苦情を言いたい"]),
]


@pytest.mark.parametrize(("tenant", "kind", "turns"), SCRIPTS, ids=[s[1] for s in SCRIPTS])
async def test_each_request_kind_is_recorded_over_the_web_socket(live_server, session, tenant, kind, turns):  # noqa: ANN001
    client = await ChatClient(f"{live_server.ws_url}/ws/{tenant}").connect()
    try:
        replies = []
        for turn in turns:
            if isinstance(turn, tuple):
                await client.press(*turn)
            else:
                await client.send_text(turn)
            replies.append(await client.bot_reply(timeout=30))
        reply = replies[-1]
    finally:
        await client.close()
    assert "記録しました" in reply["text"]
    conversation_id = (await session.get(Message, reply["id"])).conversation_id
    (request,) = await session.scalars(select(Request).where(Request.conversation_id == conversation_id, Request.status == RequestStatus.OPEN))
    assert request.kind == kind and request.origin == "chat" and request.due_at is not None
    assert isinstance(request.id, uuid.UUID)
