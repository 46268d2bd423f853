"""The bot's decision for one message, without side effects: triage first, then the
knowledge answer. The engine persists around it; `frontdoor ask` calls it directly.

One embedding per message serves triage and retrieval both (issue 14 §1). The answer is
looked up even for a flagged message: its topic goes to the console and the reports
(a missing-person report is `setagaya.missing_person` whatever the reply says)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

import numpy as np

from frontdoor.tenants import Tenant
from handoff import check_in
from handoff.contacts import Contacts
from handoff.intake import flagged_reply
from handoff.replies import route_buttons
from handoff.requests.values import only_data
from handoff.triage import SELF_HARM_KINDS, Assessment, Triage
from handoff.urgency import Urgency
from knowledge.answering import MAX_CHOICES, NO_MATCH_REPLY, Answer, Choice, answer_for_entry, compose_answer
from knowledge.condolences import load_condolences
from knowledge.retrieval import KnowledgeIndex


@dataclass
class Decision:
    assessment: Assessment
    answer: Answer
    reply: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    raised: bool = False  # triage raised the conversation's level: a person answers
    busy: bool = False  # the inference pool was full: rules only, and the busy reply
    # The risk model's topic head's guesses among this tenant's entries, likeliest first
    # (none when the resident chose the topic on a button: a chosen topic stands).
    head_guesses: tuple[tuple[str, float], ...] = ()

    @property
    def flagged(self) -> bool:
        return self.assessment.level != Urgency.NONE

    @property
    def check_in(self) -> bool:
        return self.assessment.check_in and not self.raised

    @property
    def answered_topic(self) -> str | None:
        """The entry the reply is about (or a clarifying question's first choice): what flows
        start from, whatever `topic` reports."""
        if self.answer.topic:
            return self.answer.topic
        return self.answer.choices[0].entry_id if self.answer.choices else None

    @property
    def topic(self) -> str | None:
        """What the message is about, for the console, the reports and `frontdoor ask`: the
        entry that retrieval's re-ranker and the risk model's topic head, weighed together,
        find likeliest. The head was trained on residents' situations and questions (it
        reads 「もう疲れた、消えたい」 as mental health where retrieval finds the crisis-line
        entry); an entry both rank high wins over one only either ranks first. With neither
        opinion (a topic chosen on a button), the answered entry."""
        weighed = weigh(self.head_guesses, self.answer.candidates, head_weight=TOPIC_HEAD_WEIGHT)
        return reported_topic(weighed, flagged=self.flagged) if weighed else self.answered_topic

    @property
    def confidence(self) -> float:
        return round(self.answer.confidence, 4)


# Issue 9: the inference pool is full (a spike). Stored, honest about it, no phone number
# typed here (tenant facts and contacts carry those).
BUSY_REPLY = (
    "ただいま相談が大変混み合っていて、自動の応答が遅れています。\n"
    "メッセージは受け付けました。少し時間をおいて、もう一度送ってください。"
)

# The topic head of the risk model (handoff/triage/model.py) is a second opinion beside
# retrieval: it helps choose a clarifying question's choices, reports a topic when retrieval
# found none, and answers outright only when quite sure. Out of fold over the labelled
# questions, with the head trained on the messages and the other folds' questions
# (bench/RESULTS.md): its first guess is right 99.0% of the time at p >= 0.6, on 58% of them.
# So it answers then even when retrieval offered that entry among a question's choices: on the
# blind questions the clarify rate fell from 4.5% to 2.8% with no more wrong answers.
TOPIC_ANSWER = 0.6
# The reported topic weighs the topic head's probabilities at this share and the re-ranker's at
# the rest. Chosen on the topic-labelled messages of nine writers neither model had trained on
# (bench/topic_rule_loo.py, bench/RESULTS.md "The reported topic leans on the head"): at 0.6 /
# 0.7 / 0.8, 0.904 / 0.906 / 0.910 on four writers (1,494 messages) and 0.896 / 0.899 / 0.901 on
# five more (1,732); the head alone 0.906 and 0.902. The head has learnt the labelled questions
# too, so on residents' messages the re-ranker only breaks its near-ties.
TOPIC_HEAD_WEIGHT = 0.8
# handoff/training/POLICY.md: a flagged message's topic is the service it is about (a missing
# husband is `setagaya.missing_person`); the crisis entries are for a crisis no service is about.
# So a crisis entry on top gives way to the likeliest of the tenant's own entries (kashiwa.*,
# setagaya.*) when that one weighs at least this share of it. Chosen on the held writers' sets
# (bench/RESULTS.md, "The service over a crisis entry"): at 0.5 / 0.7 / 0.85, 2,709 / 2,712 /
# 2,710 of 2,999 right, 2,708 without.
SERVICE_OVER_CRISIS = 0.7
CRISIS_ENTRIES = frozenset({"common.emergency", "common.crisis_lines"})
# A clarifying question's choices weigh the two opinions more evenly: the re-ranker knows the
# questions' wording best, and the choices were measured on them (Decider.weighed_choices).
CHOICE_HEAD_WEIGHT = 0.6


# A clarifying question's third choice only from this weighed probability: a need both opinions
# all but ruled out is not worth a line (「死にたいほどつらいとき」 beside 「ご意見・苦情」).
THIRD_CHOICE_FLOOR = 0.02


def weigh(head_guesses: Sequence[tuple[str, float]], candidates: Sequence[tuple[str, float]], *, head_weight: float) -> list[tuple[str, float]]:
    """Entries by head_weight × the head's p + the rest × the re-ranker's, likeliest first."""
    weighed: dict[str, float] = {}
    for entry_id, p in head_guesses:
        weighed[entry_id] = weighed.get(entry_id, 0.0) + head_weight * p
    for entry_id, p in candidates:
        weighed[entry_id] = weighed.get(entry_id, 0.0) + (1 - head_weight) * p
    return sorted(weighed.items(), key=lambda item: -item[1])


def reported_topic(weighed: Sequence[tuple[str, float]], *, flagged: bool) -> str:
    """The likeliest weighed entry, but a flagged message's crisis entry gives way to the
    tenant's own entry close behind it (SERVICE_OVER_CRISIS)."""
    top, top_weight = weighed[0]
    if flagged and top in CRISIS_ENTRIES:
        service = next(((entry_id, w) for entry_id, w in weighed[1:] if not entry_id.startswith("common.")), None)
        if service and service[1] >= SERVICE_OVER_CRISIS * top_weight:
            return service[0]
    return top


# A message that only announces a question (handoff/lexicon/context.yaml `openers`) gets this
# entry's answer, 「困っていることや知りたいことを、短い文でお書きください」: before, an elderly
# resident's 「きいてみたいことがある」 got a question about which of three services she meant.
OPENER_TOPIC = "common.greeting"

TALK_TO_HUMAN_BUTTON = ("talk_to_human", "相談員と話したい")
# An entry whose answer offers a person (「このチャットで担当者におつなぎします」) offers it as a
# button too: a resident should not have to type the request the reply just suggested.
FOLLOW_UP_ROUTES = {"phone_callback": "route:phone", "face_to_face": "route:face_to_face", "email": "route:email"}


def new_emergency(assessment: Assessment, prior: Urgency, prior_kind: str | None) -> bool:
    """An act of another kind told in a conversation at emergency already (「もう薬はのんだ」 after
    a farewell, 「刺された」 after a quarrel): its own first reply (119 now), not the knowledge
    base's answer. Only the rules' floor counts: the model's kind for a short follow-up is a
    guess (「ドアの かぎは あけて おきました」, told by a woman with chest pain who waits for the
    ambulance, read as self-harm). The same kind again is the same emergency going on."""
    return prior == Urgency.EMERGENCY and assessment.floor == Urgency.EMERGENCY and assessment.kind not in (None, prior_kind)


def follow_up_button(tenant: Tenant, follow_up: str) -> tuple[str, str] | None:
    """The button for an answer's follow-up: the tenant's route when it has that one (Setagaya
    has no face-to-face or e-mail route, seed 003 ②イ(ウ)), else a person in the chat."""
    if follow_up in FOLLOW_UP_ROUTES:
        return next((b for b in route_buttons(tenant) if b[0] == FOLLOW_UP_ROUTES[follow_up]), TALK_TO_HUMAN_BUTTON)
    return TALK_TO_HUMAN_BUTTON if follow_up == "talk_to_human" else None


class Decider:
    def __init__(self, *, triage: Triage, index: KnowledgeIndex, contacts: Contacts):
        self.triage = triage
        self.index = index
        self.contacts = contacts

    def answer(self, tenant: Tenant, text: str, *, topic: str | None = None, vector: np.ndarray | None = None) -> Answer:
        if topic is not None:
            return answer_for_entry(self.index, tenant.id, topic, tenant.facts)
        return compose_answer(self.index, tenant=tenant.id, text=text, facts=tenant.facts, vector=vector)

    def second_opinion(self, tenant: Tenant, answer: Answer, assessment: Assessment) -> Answer:
        """The topic head on an answer retrieval was unsure of: the answer when it is quite
        sure of an entry (offered among the choices or not), else a clarifying question's
        choices are the likeliest needs by both opinions weighed (CHOICE_HEAD_WEIGHT)."""
        guesses = self.head_guesses(tenant, assessment)
        if answer.kind == "answer" or not guesses:
            return answer
        guess, p = guesses[0]
        if p >= TOPIC_ANSWER:
            return replace(answer_for_entry(self.index, tenant.id, guess, tenant.facts), confidence=p, candidates=answer.candidates)
        if answer.kind == "clarify" and len(choices := self.weighed_choices(guesses, answer.candidates)) >= 2:
            return replace(answer, choices=choices)
        return answer

    def weighed_choices(self, guesses: Sequence[tuple[str, float]], candidates: Sequence[tuple[str, float]]) -> list[Choice]:
        """Up to MAX_CHOICES entries, one per need, likeliest first by both opinions weighed.
        Out of fold over the 7,534 labelled questions (bench/RESULTS.md), the right entry was
        among the choices of 88.4% of clarifying questions with the re-ranker's choices and the
        head's guess in the last place, 92.3% with these."""
        picked: list[Choice] = []
        needs: set[str] = set()
        for entry_id, weight in weigh(guesses, candidates, head_weight=CHOICE_HEAD_WEIGHT):
            entry = self.index.get(entry_id)
            if entry.need_key in needs or (len(picked) >= 2 and weight < THIRD_CHOICE_FLOOR):
                continue
            needs.add(entry.need_key)
            picked.append(Choice(entry_id, entry.choice))
            if len(picked) == MAX_CHOICES:
                break
        return picked

    def _no_question_when_urgent(self, tenant: Tenant, answer: Answer, assessment: Assessment, prior: Urgency) -> Answer:
        """Issue 15: an urgent or emergency message is never answered with a question.

        Newly flagged, the likeliest entry is given: the flagged reply goes first anyway. In a
        conversation flagged earlier, a message retrieval is unsure of gets no guess either: a
        guessed entry's form could start, and 「いいえ」 after an urgent reply once recorded a
        complaint. It gets the plain "not found" reply with the way to a counselor."""
        if answer.kind != "clarify" or assessment.level == Urgency.NONE:
            return answer
        if assessment.level.rank > prior.rank:
            return replace(
                answer_for_entry(self.index, tenant.id, answer.choices[0].entry_id, tenant.facts), confidence=answer.confidence, candidates=answer.candidates
            )
        return Answer(kind="no_match", topic=None, reply=NO_MATCH_REPLY, confidence=answer.confidence, follow_up="talk_to_human", candidates=answer.candidates)

    def report_category(self, answer: Answer) -> str | None:
        """The answer's report category; for a clarifying question, the category its choices
        share (見守りステッカー whichever sticker entry it turns out to be), else None."""
        if answer.kind == "answer":
            return answer.report_category
        categories = {self.index.catalog.get(c.entry_id).report_category for c in answer.choices}
        return categories.pop() if len(categories) == 1 else None

    def raise_check_in(self, decision: Decision, tenant: Tenant, kind: str | None, subject: str | None, *, now: datetime) -> Decision:
        """A check-in answered はい (or with risk): at least urgent, about the worry asked."""
        assessment = replace(
            decision.assessment,
            level=Urgency.max(Urgency.URGENT, decision.assessment.level),
            kind=decision.assessment.kind if decision.assessment.level > Urgency.NONE else (kind or decision.assessment.kind),
            subject=subject or decision.assessment.subject,
            check_in=False,
            self_harm=decision.assessment.self_harm or kind in SELF_HARM_KINDS,
            missing_person=decision.assessment.missing_person or kind == "missing_person",
            signals=(*decision.assessment.signals, "check_in.raised"),
        )
        reply, buttons = flagged_reply(assessment, tenant=tenant, contacts=self.contacts, now=now)
        return Decision(assessment, decision.answer, reply, buttons, raised=True, head_guesses=decision.head_guesses)

    def when_busy(self, tenant: Tenant, text: str, *, prior: Urgency, now: datetime, prior_kind: str | None = None, button: bool = False) -> Decision:
        """The pool is full: the rules alone (no embedding, cheap enough for the event loop),
        so a message in danger is still raised (a person answers) while the rest get BUSY_REPLY."""
        if button:
            assessment = self.triage.unscored(prior)
        else:
            assessment = Triage(self.triage.rules).assess(text, prior=prior, prior_kind=prior_kind)
        nothing = Answer(kind="no_match", topic=None, reply="", confidence=0.0)
        if assessment.level != Urgency.NONE and (assessment.level.rank > prior.rank or new_emergency(assessment, prior, prior_kind)):
            reply, buttons = flagged_reply(assessment, tenant=tenant, contacts=self.contacts, now=now)
            return Decision(assessment, nothing, reply, buttons, raised=True, busy=True)
        return Decision(assessment, nothing, BUSY_REPLY, busy=True)

    def decide(
        self,
        tenant: Tenant,
        text: str,
        *,
        prior: Urgency,
        now: datetime,
        topic: str | None = None,
        prior_kind: str | None = None,
        history: Sequence[float] = (),
        may_check_in: bool = True,
        button: bool = False,
        data_answer: bool = False,
        vector: np.ndarray | None = None,
    ) -> Decision:
        """`prior_kind` lets a follow-up such as 「今夜やる」 raise an earlier self-harm message;
        `history` and `may_check_in` carry the conversation (see handoff.triage.combine);
        `button`: the text is the label of a button of ours, not the resident's words;
        `data_answer`: the text answers a question of ours that asks for data (a form's, the
        callback's number and time): the model is not asked about a bare date, time or number
        there; it read 「12がつ14にちから 20にちまで」 and 「夕方なら」 as plans with a time;
        `vector`: the message's embedding when `decide_batch` computed it already."""
        if button:
            vector, assessment = None, self.triage.unscored(prior)
        elif data_answer and only_data(text):
            assessment = Triage(self.triage.rules).assess(text, prior=prior, prior_kind=prior_kind)  # the rules still run
        else:
            if vector is None:
                vector = self.triage.embed(text)
            assessment = self.triage.assess(
                text, prior=prior, prior_kind=prior_kind, vector=vector, history=history, may_check_in=may_check_in
            )
        if topic is None and not button and prior == Urgency.NONE and self.triage.rules.opener_only(text) and OPENER_TOPIC in self.index.catalog:
            # 「ききたいことがあるんですが」: the greeting invites the question itself. Not in a
            # conversation already flagged: a person is on the way there, not a greeting.
            topic = OPENER_TOPIC
        # Retrieval reads what the models read: an opener's 「相談」 is not a wish for consultation.
        answer = self.answer(tenant, self.triage.rules.question(text), topic=topic, vector=vector)
        guesses = () if topic is not None else self.head_guesses(tenant, assessment)  # a chosen topic stands
        if topic is None:
            answer = self.second_opinion(tenant, answer, assessment)
            answer = self._no_question_when_urgent(tenant, answer, assessment, prior)
        if assessment.level != Urgency.NONE and (assessment.level.rank > prior.rank or new_emergency(assessment, prior, prior_kind)):
            reply, buttons = flagged_reply(assessment, tenant=tenant, contacts=self.contacts, now=now)
            return Decision(assessment, answer, reply, buttons, raised=True, head_guesses=guesses)
        buttons = [(f"topic:{c.entry_id}", c.title) for c in answer.choices]
        reply = answer.reply
        condolences = load_condolences()
        if not button and condolences.reports_a_death(text):
            reply = f"{condolences.text}\n{reply}"
        if answer.kind == "no_match":
            buttons.append(TALK_TO_HUMAN_BUTTON)
        elif answer.kind == "answer" and (offered := follow_up_button(tenant, answer.follow_up)):
            buttons.append(offered)
        if assessment.check_in and assessment.level == Urgency.NONE:
            question, yes_no = check_in.question(assessment.subject, assessment.kind)
            reply = f"{reply}\n\n{question}"
            buttons = [*yes_no, *buttons]  # the question's answers first, the way to a person kept
        return Decision(assessment, answer, reply, buttons, head_guesses=guesses)

    def head_guesses(self, tenant: Tenant, assessment: Assessment) -> tuple[tuple[str, float], ...]:
        """The topic head's guesses that are this tenant's entries, likeliest first (it is
        trained on both tenants' messages)."""
        return tuple((entry_id, p) for entry_id, p in assessment.topic_guesses if entry_id in self.index.catalog and self.index.get(entry_id).visible_to(tenant.id))

    def decide_batch(self, requests: Sequence[tuple[Tenant, str, dict]]) -> list[Decision | Exception]:
        """Several residents' messages decided together (issue 9: "concurrent messages may be
        micro-batched into one embedding call"): every typed message is embedded in ONE call
        (the vectors are bit-identical to one call each), then each is decided on its own.
        A message that fails gets its exception in its place; the others are unaffected."""
        typed = [i for i, (_, _, kwargs) in enumerate(requests) if not kwargs.get("button")]
        vectors = self.triage.embed_many([requests[i][1] for i in typed]) if typed else None
        by_index = dict(zip(typed, vectors if vectors is not None else [None] * len(typed), strict=True))
        out: list[Decision | Exception] = []
        for i, (tenant, text, kwargs) in enumerate(requests):
            try:
                out.append(self.decide(tenant, text, **kwargs, vector=by_index.get(i)))
            except Exception as exc:  # noqa: BLE001 - handed to that message's waiter
                out.append(exc)
        return out
