"""The conversation engine, called directly (plain async Python over the real database)."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from redis.asyncio import Redis
from sqlalchemy import select

from bot.decide import follow_up_button
from bot.engine import FALLBACK_REPLY, ConversationEngine, Inbound
from bot.models import Conversation, Message
from frontdoor.models import ChannelKind
from handoff.models import Case, CaseStatus
from handoff.relay import Relay

pytestmark = pytest.mark.asyncio


def inbound(tenant: str, text: str, *, who: str | None = None, action: str | None = None) -> Inbound:
    return Inbound(tenant, ChannelKind.WEB, who or uuid.uuid4().hex, text, channel_message_id=uuid.uuid4().hex, action=action)


async def test_knowledge_answer_sets_topic_and_report_category(runtime, session):  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(session, inbound("setagaya", "来週の電話、病院で留守にするのでお休みしたい"))
    assert outcome.urgency == "none" and outcome.route == "bot"
    assert outcome.topic == "setagaya.phone_visit_absence"
    conversation = await session.get(Conversation, outcome.conversation_id, populate_existing=True)
    assert conversation.category == "電話訪問関連"  # Setagaya 別紙6 1-1


async def test_redis_down_still_answers_and_stores(runtime, session):  # noqa: ANN001
    dead = Relay(Redis.from_url("unix:///nonexistent/redis.sock"))
    engine = ConversationEngine(
        settings=runtime.settings, tenants=runtime.tenants, decider=runtime.decider, relay=dead, policy=runtime.conversation_engine.policy
    )
    outcome = await engine.handle_inbound(session, inbound("kashiwa", "障害者手帳のことで相談したい"))
    assert outcome.replies and outcome.replies[0].text
    stored = await session.get(Message, outcome.inbound_id)
    assert stored.text == "障害者手帳のことで相談したい"


class BrokenDecider:
    contacts: list = []

    def decide(self, *args, **kwargs):  # noqa: ANN002, ANN003, ANN201
        raise RuntimeError("index unavailable")


async def test_failing_decision_degrades_to_a_fallback_and_keeps_the_words(runtime, session):  # noqa: ANN001
    engine = ConversationEngine(
        settings=runtime.settings, tenants=runtime.tenants, decider=BrokenDecider(), relay=runtime.relay, policy=runtime.conversation_engine.policy
    )
    outcome = await engine.handle_inbound(session, inbound("kashiwa", "生活が苦しくて家賃が払えない"))
    assert [r.text for r in outcome.replies] == [FALLBACK_REPLY]
    assert (await session.get(Message, outcome.inbound_id)).text == "生活が苦しくて家賃が払えない"


async def test_risk_never_goes_down_within_a_conversation(runtime, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(session, inbound("kashiwa", "夫に毎日なぐられてます", who=who))
    assert first.urgency in ("urgent", "emergency")
    later = await engine.handle_inbound(session, inbound("kashiwa", "窓口は何時までですか", who=who))
    assert later.conversation_id == first.conversation_id
    assert later.urgency == first.urgency
    cases = list(await session.scalars(select(Case).where(Case.conversation_id == first.conversation_id)))
    assert len(cases) == 1  # the same case, not a new one per message


async def test_phone_callback_details_are_recorded_before_the_reply_confirms(runtime, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(session, inbound("kashiwa", "もうお金がなくて今日食べるものもない", who=who))
    assert first.urgency == "urgent"
    asked = await engine.handle_inbound(session, inbound("kashiwa", "電話で折り返してほしい", who=who, action="route:phone"))
    assert "お電話番号" in asked.replies[0].text
    unclear = await engine.handle_inbound(session, inbound("kashiwa", "夕方なら", who=who))
    assert "読み取れません" in unclear.replies[0].text
    done = await engine.handle_inbound(session, inbound("kashiwa", "０９０−１１１１−２２２２　夕方がいいです", who=who))
    case = await session.scalar(select(Case).where(Case.conversation_id == first.conversation_id).execution_options(populate_existing=True))
    assert case.route == "phone" and case.contact_phone == "090-1111-2222" and "夕方" in case.preferred_time
    assert case.status == CaseStatus.WAITING
    assert "受け付けました" in done.replies[0].text


async def test_a_bare_time_answering_the_callback_question_is_not_read_as_a_plan(runtime, session):  # noqa: ANN001
    """Asked for a number and a time, an older resident sends only the time. 「明日の朝なら」
    answers our question (the model alone rated it an emergency: a plan with a time); a plan
    sent at the same step is still read (issue 14 §1: the rules are a floor)."""
    who, engine = uuid.uuid4().hex, runtime.conversation_engine
    first = await engine.handle_inbound(session, inbound("setagaya", "お金がなくて　きょう　たべるものが　ありません", who=who))
    assert first.urgency == "urgent"
    await engine.handle_inbound(session, inbound("setagaya", "電話で折り返してほしい", who=who, action="route:phone"))
    for time_only in ("あしたの あさなら", "明日の朝なら", "平日の夕方以降でお願いします"):
        answered = await engine.handle_inbound(session, inbound("setagaya", time_only, who=who))
        assert answered.urgency == "urgent", time_only
        assert "お電話番号が読み取れませんでした" in answered.replies[0].text
    plan = await engine.handle_inbound(session, inbound("setagaya", "明日の朝、駅から飛び込んで終わりにします", who=who))
    assert plan.urgency == "emergency" and "お電話番号" not in plan.replies[0].text


async def test_a_night_callback_request_reads_back_the_residents_times_and_names_the_24_hour_line(runtime, session):  # noqa: ANN001
    """Saturday 23:40: the callback comes after the counter opens, so the resident's own times are
    read back as recorded and the 24-hour line (tenant settings) is named for what cannot wait."""
    night = datetime(2026, 12, 5, 23, 40, tzinfo=ZoneInfo("Asia/Tokyo"))
    who, engine = uuid.uuid4().hex, runtime.conversation_engine
    await engine.handle_inbound(session, inbound("kashiwa", "電話で折り返してほしい", who=who, action="route:phone"), now=night)
    done = await engine.handle_inbound(session, inbound("kashiwa", "080-1234-5678 です。夜9時以降ならでられます", who=who), now=night)
    text = done.replies[0].text
    case = await session.scalar(select(Case).where(Case.conversation_id == done.conversation_id).execution_options(populate_existing=True))
    assert case.contact_phone == "080-1234-5678" and case.preferred_time == "夜9時以降ならでられます"
    assert "12月7日（月）午前8時30分以降" in text and "ご都合「夜9時以降ならでられます」" in text
    assert f"24時間の相談電話（{runtime.tenants.get('kashiwa').facts['night_line_phone']}）" in text


async def test_an_answer_that_offers_a_callback_offers_it_as_a_button_that_works(runtime, session):  # noqa: ANN001
    """kashiwa.phone_consult says a counselor can call back; the resident taps, not types, and the
    tap asks for the number. A route the tenant lacks falls back to a person in the chat."""
    who, engine = uuid.uuid4().hex, runtime.conversation_engine
    answered = await engine.handle_inbound(session, inbound("kashiwa", "でんわで そうだん したいです", who=who))
    assert answered.topic == "kashiwa.phone_consult" and ("route:phone", "電話で折り返し") in answered.replies[0].buttons
    tapped = await engine.handle_inbound(session, inbound("kashiwa", "電話で折り返し", who=who, action="route:phone"))
    assert "お電話番号" in tapped.replies[0].text and tapped.route == "phone"
    setagaya = runtime.tenants.get("setagaya")
    assert follow_up_button(setagaya, "face_to_face") == follow_up_button(setagaya, "talk_to_human") == ("talk_to_human", "相談員と話したい")
    assert follow_up_button(setagaya, "none") is None


async def test_asking_for_a_person_offers_the_tenants_routes(runtime, session):  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(session, inbound("kashiwa", "人と話したいです。相談員さんにつないで"))
    assert outcome.route == "chat"
    assert {b[0] for b in outcome.replies[0].buttons} == {"route:chat", "route:phone", "route:face_to_face", "route:email"}
    # Setagaya answers by phone and FAX (seed 003 ②イ(ウ)): no face-to-face or e-mail route.
    setagaya = await runtime.conversation_engine.handle_inbound(session, inbound("setagaya", "人と話したいです。相談員さんにつないで"))
    assert [b[0] for b in setagaya.replies[0].buttons] == ["route:chat", "route:phone"]


async def test_route_button_without_a_case_opens_a_request_and_forged_routes_are_ignored(runtime, session):  # noqa: ANN001
    who = uuid.uuid4().hex
    engine = runtime.conversation_engine
    chosen = await engine.handle_inbound(session, inbound("kashiwa", "電話で折り返し", who=who, action="route:phone"))
    assert "お電話番号" in chosen.replies[0].text and chosen.route == "phone"
    case = await session.scalar(select(Case).where(Case.conversation_id == chosen.conversation_id))
    assert case.urgency == "none" and case.kind == "request"
    forged = await engine.handle_inbound(session, inbound("kashiwa", "はい", who=uuid.uuid4().hex, action="route:helicopter"))
    assert forged.replies and forged.replies[0].text != FALLBACK_REPLY


async def test_a_redelivered_message_that_was_never_answered_is_answered_once(runtime, session):  # noqa: ANN001
    from bot import conversations as conv_service
    from frontdoor.clock import utc_now

    who, mid = uuid.uuid4().hex, uuid.uuid4().hex
    engine = runtime.conversation_engine
    first = await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, who, "こんにちは", channel_message_id=mid))
    # Simulate a crash after storing the next message but before replying to it.
    conversation = await session.get(Conversation, first.conversation_id)
    mid2 = uuid.uuid4().hex
    await conv_service.store_inbound(session, conversation=conversation, text="面談はできますか", channel_message_id=mid2, now=utc_now())
    await session.commit()
    retried = await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, who, "面談はできますか", channel_message_id=mid2))
    assert retried.replies and not retried.duplicate
    again = await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, who, "面談はできますか", channel_message_id=mid2))
    assert again.duplicate and [r.message_id for r in again.replies] == [r.message_id for r in retried.replies]


async def test_a_reported_death_gets_condolences_and_the_cancellation_answer_not_the_emergency_text(runtime, session):  # noqa: ANN001
    # issue 14 §3: a relative cancelling phone visits after a death
    outcome = await runtime.conversation_engine.handle_inbound(
        session, inbound("setagaya", "母が先月亡くなりました。電話訪問を止めてもらえますか")
    )
    assert outcome.urgency == "none" and outcome.route == "bot"
    text = outcome.replies[0].text
    assert text.startswith("ご家族を亡くされたとのこと、心よりお悔やみ申し上げます。")
    assert "119" not in text and "安全" not in text
    assert outcome.topic == "setagaya.phone_visit_cancel"
