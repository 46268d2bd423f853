"""The check-in band through the engine (issue 14 §2): the bot answers *and* asks one kind
question; はい (or risk in the reply) opens a case at once, いいえ settles it; the question
is never asked twice in a row; pending check-ins are listed as 要確認 without an alarm.

The band's thresholds are the model's; to make the band certain here, this test's engine
uses the trained model with its urgent/emergency thresholds out of reach and the check-in
threshold at zero — everything else is the real engine on the real database."""

from __future__ import annotations

import copy
import uuid

import pytest
from sqlalchemy import select

from bot import check_ins
from bot.decide import Decider
from bot.engine import ConversationEngine, Inbound
from bot.models import CheckInStatus, Conversation
from frontdoor.models import ChannelKind
from handoff.models import Case
from handoff.triage import Triage
from handoff.triage.model import Thresholds

pytestmark = pytest.mark.asyncio


@pytest.fixture
def engine(runtime) -> ConversationEngine:  # noqa: ANN001
    real = runtime.decider
    model = copy.copy(real.triage.model)
    model.thresholds = Thresholds(emergency=1.01, urgent=1.01, check_in=0.0)
    decider = Decider(triage=Triage(real.triage.rules, model, real.triage.embedder), index=real.index, contacts=real.contacts)
    return ConversationEngine(
        settings=runtime.settings, tenants=runtime.tenants, decider=decider, relay=None, policy=runtime.conversation_engine.policy
    )


def turn(who: str, text: str, action: str | None = None) -> Inbound:
    return Inbound("kashiwa", ChannelKind.WEB, who, text, channel_message_id=uuid.uuid4().hex, action=action)


async def test_answer_plus_question_then_yes_opens_a_case(engine, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    first = await engine.handle_inbound(session, turn(who, "最近ねむれなくて、仕事もつらいです。相談できるところはありますか"))
    reply = first.replies[0]
    assert "ひとつだけ、お聞かせください" in reply.text
    assert ("checkin:yes", "はい") in reply.buttons and ("checkin:no", "いいえ") in reply.buttons
    assert first.urgency == "none" and first.case_id is None
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.check_in_status == CheckInStatus.PENDING
    assert [c.id for c in await check_ins.pending(session, tenant_id="kashiwa")].count(conversation.id) == 1

    yes = await engine.handle_inbound(session, turn(who, "はい", action="checkin:yes"))
    assert yes.urgency == "urgent" and yes.case_id is not None
    case = await session.get(Case, yes.case_id)
    assert case.urgency == "urgent"
    await session.refresh(conversation)
    assert conversation.check_in_status == CheckInStatus.RAISED and conversation.check_in_answered_at is not None
    assert conversation.id not in [c.id for c in await check_ins.pending(session, tenant_id="kashiwa")]
    actions = [e.action for e in await check_ins.events(session, conversation.id)]
    assert actions == ["check_in_asked", "check_in_raised"]


async def test_typed_no_settles_without_a_case_and_no_second_question_in_a_row(engine, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    first = await engine.handle_inbound(session, turn(who, "子どもが夜泣きして、毎日くたくたです"))
    assert "ひとつだけ" in first.replies[0].text
    no = await engine.handle_inbound(session, turn(who, "いいえ、だいじょうぶです"))
    assert no.case_id is None and no.urgency == "none"
    assert "ありがとうございます" in no.replies[0].text
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.check_in_status == CheckInStatus.SETTLED
    cases = (await session.scalars(select(Case).where(Case.conversation_id == conversation.id))).all()
    assert cases == []

    # A question left unanswered is not asked again on the very next turn.
    other = uuid.uuid4().hex
    await engine.handle_inbound(session, turn(other, "ひとりで子育てしていて余裕がないです"))
    again = await engine.handle_inbound(session, turn(other, "保育園のことも聞きたいです"))
    assert all("ひとつだけ" not in r.text for r in again.replies)


async def test_a_second_click_on_an_answered_check_in_changes_nothing(engine, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    first = await engine.handle_inbound(session, turn(who, "なんだか毎日さびしいです"))
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert await check_ins.settle(session, conversation, now=conversation.check_in_at)
    assert not await check_ins.raise_(session, conversation, now=conversation.check_in_at, why="yes")
    assert conversation.check_in_status == CheckInStatus.SETTLED


async def test_console_lists_pending_check_ins_as_needing_a_look_without_an_alarm(engine, live_server, session):  # noqa: ANN001
    from tests.handoff.staff import console_client, make_staff

    who = uuid.uuid4().hex
    first = await engine.handle_inbound(session, turn(who, "さいきん食欲がなくて、何もする気がおきません"))
    me = await make_staff(session, tenant_id="kashiwa")
    client = await console_client(live_server.base_url, me)
    page = (await client.get("/console/")).text
    assert "要確認" in page and f'data-conversation="{first.conversation_id}"' in page
    rows = (await client.get("/console/check-ins/rows")).text
    assert f"/console/conversations/{first.conversation_id}" in rows
    assert "<script" not in rows  # resident text is never in this list, only the kind and who
    other = await make_staff(session, tenant_id="setagaya")
    other_client = await console_client(live_server.base_url, other)
    assert str(first.conversation_id) not in (await other_client.get("/console/check-ins/rows")).text  # tenant isolation


async def test_a_forged_no_with_long_words_is_read_as_words_and_does_not_settle(engine, session):  # noqa: ANN001
    """A いいえ id sent with a resident's long text (a forged or replayed frame) is not a tap:
    the check-in is not settled unread; the words are answered as typed text."""
    who = uuid.uuid4().hex
    first = await engine.handle_inbound(session, turn(who, "最近ねむれなくて、仕事もつらいです。相談できるところはありますか"))
    assert "ひとつだけ" in first.replies[0].text
    words = "いいえじゃないです。ほんとうはもう限界で、今夜どうなるかわからないです。だれかと話したい"
    reply = await engine.handle_inbound(session, turn(who, words, action="checkin:no"))
    conversation = await session.get(Conversation, first.conversation_id, populate_existing=True)
    assert conversation.check_in_status != CheckInStatus.SETTLED
    assert all("お答えくださって" not in r.text for r in reply.replies)
