"""Turn a resident's message into a reply: an answer, a clarifying question, or "no match".

No LLM and no network: the reply is the curated entry text with the tenant's facts filled
in. When retrieval is unsure (weak best score, or two entries close together) we ask
rather than guess; a wrong confident answer about an absence notice or a missing person
costs more than one extra tap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from knowledge.catalog import Entry
from knowledge.render import render
from knowledge.retrieval import KnowledgeIndex, Match

# Measured on the eval set (bench/retrieval_accuracy.py); see knowledge/README.md.
ANSWER_MIN_SCORE = 0.36  # below this the best match is too weak to answer outright
CLARIFY_MIN_SCORE = 0.27  # below this nothing fits: say so and offer a person
CLOSE_MARGIN = 0.03  # top two closer than this: ask which one was meant
MAX_CHOICES = 3
CHOICE_BAND = 0.12  # a clarify offers the entries within this distance of the best one

CLARIFY_REPLY = "ご質問の内容を確かめさせてください。\n次の中に、お知りになりたいことはありますか？"
NO_MATCH_REPLY = (
    "申し訳ありません。ご質問にぴったり合うご案内が見つかりませんでした。\n"
    "言葉を変えて、もう一度お書きいただけますか。\n"
    "相談員と直接お話しすることもできます。"
)


@dataclass(frozen=True)
class Choice:
    entry_id: str
    title: str


@dataclass(frozen=True)
class Answer:
    kind: Literal["answer", "clarify", "no_match"]
    topic: str | None
    reply: str
    confidence: float
    choices: list[Choice] = field(default_factory=list)
    report_category: str | None = None
    follow_up: str = "none"


def _from_entry(entry: Entry, facts: Mapping[str, str], confidence: float) -> Answer:
    return Answer(
        kind="answer",
        topic=entry.id,
        reply=render(entry.answer, facts),
        confidence=confidence,
        report_category=entry.report_category,
        follow_up=entry.follow_up,
    )


NEAR_EXACT_DENSE = 0.97
NEAR_EXACT_LEAD = 0.02


def decide(matches: list[Match]) -> Literal["answer", "clarify", "no_match"]:
    """The confidence rule, separate from I/O so it can be tested on its own."""
    if not matches or matches[0].score < CLARIFY_MIN_SCORE:
        return "no_match"
    best = matches[0].score
    second = matches[1].score if len(matches) > 1 else 0.0
    if best < ANSWER_MIN_SCORE:
        return "clarify"
    if best - second < CLOSE_MARGIN and not _near_exact(matches):
        return "clarify"
    return "answer"


def _near_exact(matches: list[Match]) -> bool:
    """The resident asked (almost word for word) a question an entry lists: answer it, even
    when a sibling entry shares most of its words (見守りステッカー vs その変更)."""
    runner_up = matches[1].dense if len(matches) > 1 else 0.0
    return matches[0].dense >= NEAR_EXACT_DENSE and matches[0].dense - runner_up >= NEAR_EXACT_LEAD


def compose_answer(
    index: KnowledgeIndex, *, tenant: str, text: str, facts: Mapping[str, str], vector: np.ndarray | None = None
) -> Answer:
    """`vector`: the message's embedding when triage already computed it (one per message)."""
    matches = index.search(tenant, text, k=MAX_CHOICES, vector=vector)
    kind = decide(matches)
    confidence = max(0.0, min(1.0, matches[0].score)) if matches else 0.0
    if kind == "answer":
        return _from_entry(matches[0].entry, facts, confidence)
    if kind == "clarify":
        floor = max(CLARIFY_MIN_SCORE, matches[0].score - CHOICE_BAND)
        choices = [Choice(m.entry.id, m.entry.title) for m in matches if m.score >= floor]
        if len(choices) < 2:
            choices = [Choice(m.entry.id, m.entry.title) for m in matches[:2]]
        return Answer(
            kind="clarify",
            topic=None,
            reply=CLARIFY_REPLY,
            confidence=confidence,
            choices=choices,
            follow_up="none",
        )
    return Answer(kind="no_match", topic=None, reply=NO_MATCH_REPLY, confidence=confidence, follow_up="talk_to_human")


def answer_for_entry(index: KnowledgeIndex, tenant: str, entry_id: str, facts: Mapping[str, str]) -> Answer:
    """The answer for a clarify button the resident tapped (confidence 1: they chose it)."""
    entry = index.get(entry_id)
    if not entry.visible_to(tenant):
        raise KeyError(f"{entry_id} is not visible to tenant {tenant}")
    return _from_entry(entry, facts, 1.0)
