"""Which topic a message is reported under (issue 14 §2: `topic` for the console, the reports
and `frontdoor ask`) and which entry a flow starts from (issue 13) are two questions: the
entry that retrieval's re-ranker and the risk model's topic head (trained on residents'
situations rather than on questions) find likeliest together. Flows always start from the
answered entry."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.decide import Decision
from frontdoor.clock import utc_now
from handoff.urgency import Urgency
from knowledge.answering import Answer, Choice

pytestmark = pytest.mark.asyncio


async def _decision(runtime, tenant: str, text: str) -> Decision:  # noqa: ANN001
    decider = runtime.conversation_engine.decider
    return decider.decide(runtime.tenants.get(tenant), text, prior=Urgency.NONE, now=utc_now())


async def test_an_absence_notice_full_of_personal_details_is_answered_and_starts_from_its_entry(runtime):  # noqa: ANN001
    # Names, readings and a phone number dilute the words' match, not what the message asks:
    # the name is left out of the words (Sudachi 人名), and a modest match that the re-ranker
    # clearly leads with is answered (knowledge/answering.py CLEAR_PROB), so the form starts.
    decision = await _decision(runtime, "setagaya", "12月10日は留守です。世田谷花子（せたがやはなこ）03-1234-5678")
    assert decision.answer.kind == "answer"
    assert decision.answered_topic == "setagaya.phone_visit_absence"


async def test_the_reported_topic_weighs_the_re_ranker_and_the_topic_head(runtime):  # noqa: ANN001
    decision = await _decision(runtime, "kashiwa", "窓口は何時まで開いていますか")
    assert decision.answer.kind == "answer" and decision.answer.candidates[0] == (decision.answer.topic, decision.answer.confidence)
    sure = replace(decision, head_guesses=(("kashiwa.mental_health", 0.9),))
    assert sure.topic == decision.answer.topic == sure.answered_topic  # a sure answer outweighs a sure head
    office, general, mental = "kashiwa.office_hours", "kashiwa.general_consult", "kashiwa.mental_health"
    unsure = replace(sure, answer=replace(decision.answer, topic=office, candidates=((office, 0.5), (general, 0.3))))
    assert unsure.topic == mental and unsure.answered_topic == office  # the reply, and any flow, stay with the answered entry
    # Retrieval leans to the office hours, the head to mental health; both rank the general
    # consultation second, and together it is the likeliest.
    torn = replace(unsure, answer=replace(unsure.answer, candidates=((office, 0.5), (general, 0.45))), head_guesses=((mental, 0.5), (general, 0.45)))
    assert torn.topic == general
    asked = replace(torn, answer=Answer(kind="clarify", topic=None, reply="", confidence=0.5, choices=[Choice(office, "窓口の時間")]), head_guesses=())
    assert asked.topic == asked.answered_topic == office  # no opinion at all: the first choice


async def test_a_missing_parent_is_reported_as_a_missing_person_while_flagged(runtime):  # noqa: ANN001
    decision = await _decision(runtime, "setagaya", "にんちしょうの　ちちが　ゆうがたから　かえってきません")
    assert decision.flagged and decision.topic == "setagaya.missing_person"


async def test_the_topic_head_guess_is_the_first_entry_the_tenant_has(runtime):  # noqa: ANN001
    # The head is trained on both tenants' messages: a Kashiwa message about a parent's care
    # may score Setagaya's care entry first. Kashiwa reports its own entry, not nothing.
    decider = runtime.conversation_engine.decider
    decision = await _decision(runtime, "kashiwa", "母の介護のことで相談したいです")
    guesses = (("setagaya.care_consult", 0.7), ("kashiwa.elderly_care", 0.2), ("kashiwa.mental_health", 0.05))
    assessment = replace(decision.assessment, topic_guesses=guesses)
    assert decider.head_guess(runtime.tenants.get("kashiwa"), assessment) == ("kashiwa.elderly_care", 0.2)
    assert decider.head_guess(runtime.tenants.get("setagaya"), assessment) == ("setagaya.care_consult", 0.7)
    assert decider.head_guess(runtime.tenants.get("kashiwa"), replace(assessment, topic_guesses=guesses[:1])) == (None, 0.0)
    assert len(decision.assessment.topic_guesses) > 1, "the head gives several guesses, likeliest first"
    probabilities = [p for _, p in decision.assessment.topic_guesses]
    assert probabilities == sorted(probabilities, reverse=True)


async def test_the_topic_head_adds_its_guess_to_a_clarifying_question_that_left_it_out(runtime):  # noqa: ANN001
    # Issue 15 (right entry among the choices): the head read situations, not questions, and
    # sometimes knows what retrieval missed. It takes the last place; sure enough, it answers.
    decider, setagaya = runtime.conversation_engine.decider, runtime.tenants.get("setagaya")
    decision = await _decision(runtime, "setagaya", "母の介護のことで相談したいです")
    asked = Answer(
        kind="clarify", topic=None, reply="", confidence=0.4,
        choices=[Choice("setagaya.care_consult", "介護"), Choice("setagaya.daily_consult", "日々"), Choice("setagaya.welfare_services", "福祉")],
    )

    def head(p: float):  # noqa: ANN202
        return replace(decision.assessment, topic_guesses=(("setagaya.sticker_lost", p),))

    added = decider.second_opinion(setagaya, replace(asked, choices=list(asked.choices)), head(0.35))
    assert [c.entry_id for c in added.choices] == ["setagaya.care_consult", "setagaya.daily_consult", "setagaya.sticker_lost"]
    assert added.choices[-1].title == runtime.conversation_engine.decider.index.get("setagaya.sticker_lost").choice
    unsure = decider.second_opinion(setagaya, replace(asked, choices=list(asked.choices)), head(0.1))
    assert [c.entry_id for c in unsure.choices] == [c.entry_id for c in asked.choices]
    sure = decider.second_opinion(setagaya, replace(asked, choices=list(asked.choices)), head(0.9))
    assert sure.kind == "answer" and sure.topic == "setagaya.sticker_lost"
    nothing = Answer(kind="no_match", topic=None, reply="", confidence=0.1)
    assert decider.second_opinion(setagaya, nothing, head(0.35)).choices == [], "a no-match reply offers no guess"
