"""The bot's decision for one message, without side effects: triage first, then the
knowledge answer. The engine persists around it; `frontdoor ask` calls it directly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from frontdoor.tenants import Tenant
from handoff.contacts import Contacts
from handoff.intake import flagged_reply
from handoff.triage import Assessment, Triage
from handoff.urgency import Urgency
from knowledge.answering import Answer, answer_for_entry, compose_answer
from knowledge.retrieval import KnowledgeIndex


@dataclass
class Decision:
    assessment: Assessment
    answer: Answer | None  # None when the message was flagged: a person answers
    reply: str
    buttons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def flagged(self) -> bool:
        return self.assessment.level != Urgency.NONE

    @property
    def topic(self) -> str | None:
        return self.answer.topic if self.answer else None

    @property
    def confidence(self) -> float:
        return round(self.answer.confidence, 4) if self.answer else 0.0


class Decider:
    def __init__(self, *, triage: Triage, index: KnowledgeIndex, contacts: Contacts):
        self.triage = triage
        self.index = index
        self.contacts = contacts

    def answer(self, tenant: Tenant, text: str, *, topic: str | None = None) -> Answer:
        if topic is not None:
            return answer_for_entry(self.index, tenant.id, topic, tenant.facts)
        return compose_answer(self.index, tenant=tenant.id, text=text, facts=tenant.facts)

    def report_category(self, answer: Answer) -> str | None:
        """The answer's report category; for a clarifying question, the category its choices
        share (見守りステッカー whichever sticker entry it turns out to be), else None."""
        if answer.kind == "answer":
            return answer.report_category
        categories = {self.index.catalog.get(c.entry_id).report_category for c in answer.choices}
        return categories.pop() if len(categories) == 1 else None

    def decide(
        self,
        tenant: Tenant,
        text: str,
        *,
        prior: Urgency,
        now: datetime,
        topic: str | None = None,
        prior_kind: str | None = None,
    ) -> Decision:
        """`prior_kind` lets a follow-up such as 「今夜やる」 raise an earlier self-harm message."""
        assessment = self.triage.assess(text, prior=prior, prior_kind=prior_kind)
        if assessment.level != Urgency.NONE and assessment.level.rank > prior.rank:
            reply, buttons = flagged_reply(assessment, tenant=tenant, contacts=self.contacts, now=now)
            return Decision(assessment, None, reply, buttons)
        answer = self.answer(tenant, text, topic=topic)
        buttons = [(f"topic:{c.entry_id}", c.title) for c in answer.choices]
        if answer.kind == "no_match":
            buttons.append(("talk_to_human", "相談員と話したい"))
        return Decision(assessment, answer, answer.reply, buttons)
