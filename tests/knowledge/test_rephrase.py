"""Optional LLM rephrasing: used when it behaves, the curated text otherwise."""

from __future__ import annotations

import time

from langchain_core.language_models.fake_chat_models import FakeListChatModel, GenericFakeChatModel
from langchain_core.messages import AIMessage

from knowledge.answering import Answer
from knowledge.rephrase import rephrase

CURATED = Answer(
    kind="answer",
    topic="setagaya.phone_visit_absence",
    reply="お電話で不在連絡をしてください。\n電話：03-0000-0001（24時間）",
    confidence=0.8,
    report_category="電話訪問関連",
    follow_up="talk_to_human",
)


async def test_no_model_returns_curated():
    assert await rephrase(CURATED, model=None, timeout_s=1) == CURATED.reply


async def test_good_rephrasing_is_used():
    text = "留守になる日は、お電話でお知らせください。\n電話：03-0000-0001（24時間）"
    model = GenericFakeChatModel(messages=iter([AIMessage(content=text)]))
    assert await rephrase(CURATED, model=model, timeout_s=2) == text


async def test_fake_list_model_is_used():
    text = "不在のときは電話でご連絡ください。03-0000-0001（24時間）"
    assert await rephrase(CURATED, model=FakeListChatModel(responses=[text]), timeout_s=2) == text


async def test_failing_model_falls_back():
    broken = GenericFakeChatModel(messages=iter([]))  # raises on the first call
    assert await rephrase(CURATED, model=broken, timeout_s=2) == CURATED.reply


async def test_slow_model_times_out_and_falls_back():
    slow = FakeListChatModel(responses=["遅すぎる返事 03-0000-0001 24"], sleep=0.5)
    started = time.perf_counter()
    assert await rephrase(CURATED, model=slow, timeout_s=0.05) == CURATED.reply
    assert time.perf_counter() - started < 0.4


async def test_rephrasing_that_changes_a_number_is_rejected():
    wrong = GenericFakeChatModel(messages=iter([AIMessage(content="電話：03-9999-9999（24時間）へどうぞ。")]))
    assert await rephrase(CURATED, model=wrong, timeout_s=2) == CURATED.reply


async def test_rephrasing_that_adds_a_number_is_rejected():
    extra = GenericFakeChatModel(
        messages=iter([AIMessage(content="電話：03-0000-0001（24時間）。または 0120-111-222 へ。")])
    )
    assert await rephrase(CURATED, model=extra, timeout_s=2) == CURATED.reply


async def test_empty_rephrasing_is_rejected():
    empty = GenericFakeChatModel(messages=iter([AIMessage(content="  ")]))
    assert await rephrase(CURATED, model=empty, timeout_s=2) == CURATED.reply


async def test_clarify_is_never_rephrased():
    clarify = Answer(kind="clarify", topic=None, reply="どれですか？", confidence=0.3)
    model = GenericFakeChatModel(messages=iter([AIMessage(content="別の文")]))
    assert await rephrase(clarify, model=model, timeout_s=2) == "どれですか？"
