"""What the bot says while a flagged conversation's case waits for a counselor in the chat
(issue 14 §3: say who answers now and how; never a goodbye, never a request to rephrase what
the counselor is about to read)."""

from __future__ import annotations

import uuid
from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.engine import Inbound
from bot.flows.route import typed_route
from frontdoor.clock import JST
from frontdoor.models import ChannelKind
from handoff.models import Case, Route
from handoff.replies import load_first_replies
from knowledge.gaps import KnowledgeGap

SUNDAY_2AM = datetime(2026, 12, 6, 2, 0, tzinfo=JST)  # Kashiwa's office is closed; the on-call counselor reads the chat


class Neighbour:
    def __init__(self, runtime, session, tenant: str = "kashiwa") -> None:  # noqa: ANN001
        self.engine, self.session, self.tenant, self.who = runtime.conversation_engine, session, tenant, uuid.uuid4().hex

    async def says(self, text: str):  # noqa: ANN201
        inbound = Inbound(self.tenant, ChannelKind.WEB, self.who, text, channel_message_id=uuid.uuid4().hex)
        return await self.engine.handle_inbound(self.session, inbound, now=SUNDAY_2AM)


def text_of(outcome) -> str:  # noqa: ANN001
    return "\n".join(r.text for r in outcome.replies)


async def test_an_answer_to_the_first_replys_question_is_for_the_counselor_not_a_question_to_rephrase(runtime, session):  # noqa: ANN001
    neighbour = Neighbour(runtime, session)
    first = await neighbour.says("となりの家から子どもの泣き叫ぶ声と怒鳴り声がずっと聞こえます")
    assert first.urgency == "emergency" and first.case_id is not None
    assert "いまどこにいますか" in text_of(first)

    update = await neighbour.says("いまも聞こえます")
    said = text_of(update)
    assert "相談員が読みます" in said and "当番の相談員" in said and "このままお待ちください" in said
    assert "言葉を変えて" not in said and "確かめさせてください" not in said
    assert update.case_id == first.case_id and not any(r.buttons for r in update.replies)
    gaps = await session.scalar(select(func.count()).select_from(KnowledgeGap).where(KnowledgeGap.conversation_id == first.conversation_id))
    assert gaps == 0  # the neighbour's answer is not a gap in the knowledge base

    # Told once who answers now: the next piece of news is only acknowledged.
    more = await neighbour.says("となりの家の二階です")
    assert text_of(more) == load_first_replies().waiting.again

    thanks = await neighbour.says("ありがとうございます")
    assert "当番の相談員" in text_of(thanks) and "ご利用ありがとうございました" not in text_of(thanks)


async def test_a_risk_denied_while_waiting_is_for_the_counselor_not_the_crisis_page(runtime, session):  # noqa: ANN001
    """A teenager at night, after the urgent reply: 「べつに死にたいとかじゃない」 got the crisis-lines
    entry again, with 「すでに何かをしてしまったときは、すぐに119番へ」."""
    teen = Neighbour(runtime, session)
    first = await teen.says("もう死にたい")
    assert first.urgency == "urgent" and first.case_id is not None
    denied = await teen.says("べつに死にたいとかじゃない")
    said = text_of(denied)
    assert "相談員が読みます" in said and "119" not in said and "0570-783-556" not in said
    assert denied.urgency == "urgent" and denied.case_id == first.case_id  # nothing lowered without a counselor
    asked = await teen.says("いのちの電話の番号をもう一度教えて")
    assert "0570-783-556" in text_of(asked)  # a request for the numbers still gets them


async def test_a_question_while_waiting_is_still_answered(runtime, session):  # noqa: ANN001
    neighbour = Neighbour(runtime, session)
    await neighbour.says("となりの家から子どもの泣き叫ぶ声と怒鳴り声がずっと聞こえます")
    asked = await neighbour.says("110番と189番、どっちにかければいいですか")
    assert "110番" in text_of(asked) and "相談員が読みます" not in text_of(asked)


async def test_the_answer_to_is_the_person_breathing_is_told_to_the_counselor(runtime, session):  # noqa: ANN001
    """Setagaya at night, an elderly wife in kana: her 「いきは してる」 answers the bot's own
    question, so it is not matched to an entry (it was given the general emergency page)."""
    wife = Neighbour(runtime, session, tenant="setagaya")
    first = await wife.says("おとうさんが たおれて うごかない")
    assert first.urgency == "emergency" and "息をしていますか" in text_of(first)
    answer = await wife.says("いきは してる")
    said = text_of(answer)
    assert "相談員が読みます" in said and "24時間" in said and "119番へ電話してください（救急車・火事）" not in said
    assert answer.case_id == first.case_id
    # Her news in the emergency is for the counselor too: she is not told to call 119 again.
    called = await wife.says("きゅうきゅうしゃ よびました")
    assert "相談員が読みます" in text_of(called) and "119番へ電話してください（救急車・火事）" not in text_of(called)
    # What she does for the ambulance is not a new emergency (the model's kind for it was self-harm).
    door = await wife.says("ドアの かぎは あけて おきました")
    assert "命が大切" not in text_of(door) and "よりそいホットライン" not in text_of(door)
    # A question is answered as usual.
    asked = await wife.says("きゅうきゅうしゃは どこに でんわ するのですか")
    assert "相談員が読みます" not in text_of(asked) and "119" in text_of(asked)


async def test_an_elder_who_types_her_choice_instead_of_tapping_it_is_asked_for_her_number(runtime, session):  # noqa: ANN001
    """On LINE the route buttons are gone once she writes: 「でんわで はなしたい」 is the phone route."""
    elder = Neighbour(runtime, session, tenant="setagaya")
    first = await elder.says("ひとりで さびしくて もう いきていたくない")
    assert first.urgency in ("urgent", "emergency") and first.case_id is not None
    chosen = await elder.says("でんわで はなしたい")
    assert "お電話番号" in text_of(chosen) and chosen.route == "phone"
    case = await session.get(Case, first.case_id, populate_existing=True)
    assert case.route == Route.PHONE


@pytest.mark.parametrize(
    ("typed", "routes", "chosen"),
    [
        ("でんわで はなしたい", ("chat", "phone"), "phone"),
        ("電話がいいです", ("chat", "phone"), "phone"),
        ("おりかえし おねがいします", ("chat", "phone"), "phone"),
        ("このまま待ちます", ("chat", "phone"), "chat"),
        ("チャットでおねがい", ("chat", "phone", "face_to_face", "email"), "chat"),
        ("めんだんを希望します", ("chat", "phone", "face_to_face", "email"), "face_to_face"),
        ("めんだんを希望します", ("chat", "phone"), None),  # Setagaya has no 面談 (seed 003 ②イ(ウ))
        ("電話かメールで", ("chat", "phone", "face_to_face", "email"), None),  # two named: she chooses on the buttons
        ("電話は何時までですか", ("chat", "phone"), None),  # a question about the phone line
        ("母に電話しても出ません", ("chat", "phone"), None),
        ("電話番号を教えてください", ("chat", "phone"), None),
    ],
)
def test_a_route_is_chosen_in_words_only_when_one_offered_route_is_named_as_a_choice(typed: str, routes: tuple[str, ...], chosen: str | None) -> None:
    got = typed_route(typed, routes)
    assert (str(got) if got else None) == chosen


async def test_a_new_emergency_in_an_open_emergency_gets_its_own_first_reply(runtime, session):  # noqa: ANN001
    """After a farewell, 「もう薬はのんだ」 was answered with the crisis-lines page and a button
    to reach a person: an overdose taken needs 119 now, whatever was said before."""
    writer = Neighbour(runtime, session)
    first = await writer.says("今日で最後にします。みんな今までありがとう")
    assert first.urgency == "emergency" and "今、どこにいますか" in text_of(first)
    taken = await writer.says("もう薬はのんだ")
    said = text_of(taken)
    assert "薬をたくさん飲んだときは、すぐに119番" in said and "今おつなぎしています" in said
    assert taken.case_id == first.case_id and taken.assessment.kind == "overdose"
    # The same emergency going on is not a new one: her answer to the question is for the counselor.
    alone = await writer.says("ひとりです")
    assert "相談員が読みます" in text_of(alone) and "119" not in text_of(alone)
    # News alarming by itself is not only acknowledged: the crisis lines and 119 again.
    platform = await writer.says("駅のホームにいます")
    assert "相談員が読みます" not in text_of(platform) and "119" in text_of(platform)
