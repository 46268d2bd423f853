"""Turn a resident's message into a reply: an answer, a clarifying question, or "no match".

No LLM and no network: the reply is the curated entry text with the tenant's facts filled
in. When retrieval is unsure (weak best score, or two entries close together) we ask
rather than guess; a wrong confident answer about an absence notice or a missing person
costs more than one extra tap.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from knowledge.catalog import Entry
from knowledge.render import render
from knowledge.rerank import CANDIDATES
from knowledge.retrieval import KnowledgeIndex, Match

# Measured on the eval set (bench/retrieval_accuracy.py); see knowledge/README.md.
ANSWER_MIN_SCORE = 0.36  # below this the best match is too weak to answer outright
# Below this nothing fits: say so and offer a person. 5-fold CV over the question files, with
# the labelled set grown to ~2,600 questions (issue 15): 0.27 left 4.5% of answerable questions
# unanswered, 0.25 2.8% (0.24: 2.2%), rejecting 93% / 90% / 87% of off-topic ones. A weak match
# such as 「区の粗大ごみの出し方」 is still asked about, not answered (WEAK_SCORE below).
# (With 2,600 questions, a floor on the re-ranker's probability alone let through far more
# off-topic messages than this floor on the words.)
CLARIFY_MIN_SCORE = 0.25
# ... unless the re-ranker is sure anyway: then the resident is asked (never answered) with
# choices. Out-of-fold over 9,719 labelled questions (issue 15), 4.3% of the written ones fell
# below the floor; at p >= 0.6 the re-ranker picked 187 of them, 173 with the right entry first
# and 180 with it among three, while 1 of 27 off-topic questions below the floor got through
# (p >= 0.5: 199 and 2 of 27; p >= 0.7: 164 and 1).
RESCUE_PROB = 0.6
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
    # The re-ranker's candidates with their probabilities, best first, whatever the reply: one
    # of the two opinions the reported topic weighs (bot/decide.py, Decision.topic).
    candidates: tuple[tuple[str, float], ...] = ()


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

# The re-ranked rule (issue 15), on the re-ranker's probabilities: ask only when the best
# is not sure, the runner-up is close, and the two serve different needs.
# 5-fold CV (bench --cv) with the classifier features: 0.6 / 0.3 asks 6.8% of questions and
# answers 7.7% wrongly; 0.7 / 0.4 asked 10.9% for 6.4% wrong. Asking whenever the hybrid score
# is below ANSWER_MIN_SCORE, however sure the re-ranker is, would ask 12.9% (10.4% if it answered
# at p >= 0.9 there); only the weakest band (< WEAK_SCORE) is always asked about, so that a
# weak match such as 粗大ごみ is not answered (tests/knowledge/test_gaps.py).
SURE_PROB = 0.6  # at or above this the best candidate is answered
WEAK_SCORE = 0.30  # a best match this weak is asked about, never answered (CV: 1.5% of questions)
CLOSE_PROB = 0.3  # a runner-up within this of the best makes a clarify worth a tap
# A resident's own details (a name, a reading, a phone number, a date) dilute the words' match
# but not the re-ranker's: 「12月10日は留守です。世田谷花子（せたがやはなこ）03-…」 scores 0.298 at
# p 0.997, while 粗大ごみ's weak match has p 0.84. Near-certain is answered even when weak.
NEAR_CERTAIN_PROB = 0.95
# A clear lead: p at least CLEAR_PROB and that far ahead of the next other need, for a match
# between WEAK_SCORE and ANSWER_MIN_SCORE (below WEAK_SCORE a lead proves nothing: 「区の粗大ごみの
# 出し方」 leads the volunteers' ごみ出し at p 0.89). 5-fold CV over the question files (issue 15,
# ~4,800 questions): 12.0% of questions asked about and 4.0% answered wrongly without it, 11.5%
# and 4.1% with 0.4 / 0.4. It answers an absence notice full of personal details (p 0.44
# against 0.00), so its form starts.
CLEAR_PROB = 0.4
CLEAR_LEAD = 0.4
# Choices: a third one only within this of the best, one per need. CV: a band of 0.2 put the
# right entry among the choices 89.8% of the time, 0.4 90.4%, no band (always three) 90.7%;
# 0.4 still leaves out a third need the re-ranker all but ruled out.
CHOICE_PROB_BAND = 0.4


def decide(matches: list[Match]) -> Literal["answer", "clarify", "no_match"]:
    """The confidence rule, separate from I/O so it can be tested on its own."""
    if not matches:
        return "no_match"
    if max(m.score for m in matches) < CLARIFY_MIN_SCORE:
        rescued = matches[0].prob is not None and matches[0].prob >= RESCUE_PROB
        return "clarify" if rescued else "no_match"
    if matches[0].prob is not None:
        return _decide_reranked(matches)
    best = matches[0].score
    second = matches[1].score if len(matches) > 1 else 0.0
    if best < ANSWER_MIN_SCORE:
        return "clarify"
    if best - second < CLOSE_MARGIN and not _near_exact(matches):
        return "clarify"
    return "answer"


def _decide_reranked(matches: list[Match]) -> Literal["answer", "clarify"]:
    best = matches[0]
    if best.entry.urgent:
        return "answer"
    rivals = [m for m in matches[1:] if m.entry.need_key != best.entry.need_key]
    lead = best.prob - (rivals[0].prob or 0.0) if rivals else best.prob
    if best.score < WEAK_SCORE and best.prob < NEAR_CERTAIN_PROB:
        # The words barely fit (the best is a lone candidate only because nothing else fits
        # either: 「粗大ごみの出し方」 vs ボランティアのごみ出し): ask, never answer outright on a
        # modest probability (it is relative, and weak candidates look surer).
        return "clarify"
    if best.prob >= SURE_PROB:
        return "answer"
    # A modest match is answered when the re-ranker leans to it with no rival near: a question
    # with one plausible need is not worth a tap.
    clear = best.prob >= CLEAR_PROB and lead >= CLEAR_LEAD
    if best.score < ANSWER_MIN_SCORE and not clear:
        return "clarify"  # not sure, and a weak match
    if rivals and lead < CLOSE_PROB:
        return "clarify"
    return "answer"


def clarify_choices(matches: list[Match]) -> list[Choice]:
    """2–3 choices phrased as what the resident may want, one per need, best first."""
    if matches[0].prob is None:
        floor = max(CLARIFY_MIN_SCORE, matches[0].score - CHOICE_BAND)
        picked = [m for m in matches if m.score >= floor] or matches[:2]
        picked = picked if len(picked) >= 2 else matches[:2]
    else:
        picked, needs = [], set()
        for m in matches:
            if m.entry.need_key in needs or (picked and matches[0].prob - m.prob > CHOICE_PROB_BAND and len(picked) >= 2):
                continue
            needs.add(m.entry.need_key)
            picked.append(m)
    return [Choice(m.entry.id, m.entry.choice) for m in picked[:MAX_CHOICES]]


def _near_exact(matches: list[Match]) -> bool:
    """The resident asked (almost word for word) a question an entry lists: answer it, even
    when a sibling entry shares most of its words (見守りステッカー vs その変更)."""
    runner_up = matches[1].dense if len(matches) > 1 else 0.0
    return matches[0].dense >= NEAR_EXACT_DENSE and matches[0].dense - runner_up >= NEAR_EXACT_LEAD


def compose_answer(
    index: KnowledgeIndex, *, tenant: str, text: str, facts: Mapping[str, str], vector: np.ndarray | None = None
) -> Answer:
    """`vector`: the message's embedding when triage already computed it (one per message).
    The rule reads the first few matches; every re-ranked candidate goes out as `candidates`."""
    ranked = index.search(tenant, text, k=CANDIDATES, vector=vector)
    candidates = tuple((m.entry.id, float(m.prob)) for m in ranked if m.prob is not None)
    matches = ranked[: MAX_CHOICES + 1]
    kind = decide(matches)
    confidence = _confidence(matches)
    if kind == "answer":
        return replace(_from_entry(matches[0].entry, facts, confidence), candidates=candidates)
    if kind == "clarify":
        return Answer(
            kind="clarify",
            topic=None,
            reply=CLARIFY_REPLY,
            confidence=confidence,
            choices=clarify_choices(matches),
            follow_up="none",
            candidates=candidates,
        )
    return Answer(
        kind="no_match", topic=None, reply=NO_MATCH_REPLY, confidence=confidence, follow_up="talk_to_human", candidates=candidates
    )


def _confidence(matches: list[Match]) -> float:
    """The re-ranker's probability of the best match, else its hybrid score, within 0..1."""
    if not matches:
        return 0.0
    value = matches[0].prob if matches[0].prob is not None else matches[0].score
    return max(0.0, min(1.0, value))


def answer_for_entry(index: KnowledgeIndex, tenant: str, entry_id: str, facts: Mapping[str, str]) -> Answer:
    """The answer for a clarify button the resident tapped (confidence 1: they chose it)."""
    entry = index.get(entry_id)
    if not entry.visible_to(tenant):
        raise KeyError(f"{entry_id} is not visible to tenant {tenant}")
    return _from_entry(entry, facts, 1.0)
