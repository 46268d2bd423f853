"""The triage decision for one message: the trained model, the rules as a floor, and the
conversation as the unit (issue 14 §1–2).

- the model's probabilities and thresholds give `emergency`, `urgent`, a **check-in band**
  (uncertain risk: the bot answers *and* asks one kind, direct question), or nothing;
- hard rules and escalations (method, plan, time, act) raise the level; nothing lowers them;
- the conversation's risk accumulates over its recent turns (noisy-or of the turns at or
  above the check-in band), so three low-grade sad messages can add up to `urgent`;
- the level is never below `prior` (risk never goes down without a counselor).

Without a model (it failed to load) the rules decide alone, as before issue 14.
`Assessment.signals` holds rule ids and model bands, never the resident's words (audit).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from handoff.triage.kinds import SELF_HARM_KINDS
from handoff.triage.model import Inputs, RiskModel, RiskScores, model_text, topic_analyzer
from handoff.triage.rules import RuleEngine, RuleFindings
from handoff.triage.text import embedding_text, mask_contacts
from handoff.urgency import Urgency
from knowledge.embedding import Embedder


@dataclass(frozen=True, slots=True)
class Assessment:
    level: Urgency  # never below the prior passed in
    kind: str | None  # one of KINDS
    self_harm: bool
    missing_person: bool
    signals: tuple[str, ...]  # rule ids and model bands that decided (audit; never resident text)
    report_category: str  # one of REPORT_CATEGORIES
    suppressed: tuple[str, ...] = ()  # "rule_id:context" for matches dropped by context
    risk: float = 0.0  # P(urgent or emergency) for this message, 0–1
    check_in: bool = False  # uncertain risk: answer and ask whether they (or the person) are safe
    subject: str = "unknown"  # self | other | unknown
    conversation_risk: float = 0.0  # accumulated over the recent turns
    # This message by itself is in the check-in band or above (even when no question is asked):
    # read as risk in the answer to a pending check-in, which raises it. The conversation's
    # earlier turns do not count here, or every reply but いいえ would raise it.
    worrying: bool = False
    # The rules' floor for this message by itself (method, plan, time, act; escalations read with
    # the conversation's kind): 「もう薬はのんだ」 in a self-harm conversation is an overdose taken.
    floor: Urgency = Urgency.NONE
    # The level this message says by itself, rules and model, the prior aside: what a resident
    # tells while the case waits is only acknowledged when it says nothing alarming.
    said: Urgency = Urgency.NONE
    category_cues: tuple[str, ...] = ()  # report categories the text names (子ども・子育て picks 189)
    # The model's topic head: which services the message is about, likeliest first, with
    # probabilities, over both tenants' entries (the caller keeps its tenant's).
    topic_guesses: tuple[tuple[str, float], ...] = ()


class Triage:
    """Rules + model; `assess` is pure and thread-safe (the embedder serialises its own calls)."""

    def __init__(self, rules: RuleEngine, model: RiskModel | None = None, embedder: Embedder | None = None) -> None:
        if model is not None and embedder is None:
            raise ValueError("a risk model needs the embedder it was trained with")
        self.rules = rules
        self.model = model
        self.embedder = embedder
        self.analyzer = topic_analyzer() if model is not None else None  # the topic head's reading of the text

    @property
    def emoji(self) -> dict[str, str]:
        return dict(self.rules.emoji)

    def embedding_input(self, text: str) -> str:
        return embedding_text(self.rules.question(text), self.rules.emoji)

    def embed(self, text: str) -> np.ndarray | None:
        """The message's one embedding (shared with retrieval), or None without a model."""
        vectors = self.embed_many([text])
        return None if vectors is None else vectors[0]

    def embed_many(self, texts: Sequence[str]) -> np.ndarray | None:
        """Several messages' embeddings in one model call (micro-batching, issue 9)."""
        if self.embedder is None:
            return None
        return self.embedder.embed([self.embedding_input(t) for t in texts])

    def assess(
        self,
        text: str,
        *,
        prior: Urgency = Urgency.NONE,
        prior_kind: str | None = None,
        vector: np.ndarray | None = None,
        history: Sequence[float] = (),
        may_check_in: bool = True,
    ) -> Assessment:
        """Score one message. `history` holds the risks of this conversation's recent earlier
        turns (since the last settled check-in); `may_check_in` is False right after a
        check-in, so it is never asked twice in a row."""
        findings = self.rules.evaluate(text, prior_kind=prior_kind)
        if self.model is None:
            return self._rules_only(findings, prior)
        if vector is None:
            vector = self.embed(text)
        question = self.rules.question(text)  # what the model reads; the rules read it all
        x = Inputs(
            [model_text(self.rules, question)],
            np.asarray([vector], dtype=np.float32),
            [self.model.features.row(findings, self.rules.frames(text))],
            [self.analyzer.analyze(mask_contacts(question))],  # type: ignore[union-attr]
        )
        scores = self.model.score(x)[0]
        if self.rules.courtesy_only(text):  # a bare thank-you: no risk of its own (context.yaml)
            scores = replace(scores, proba=(1.0, 0.0, 0.0))
        return self._combine(findings, scores, prior, history, may_check_in, prior_kind=prior_kind)

    def _combine(
        self,
        findings: RuleFindings,
        scores: RiskScores,
        prior: Urgency,
        history: Sequence[float],
        may_check_in: bool,
        *,
        prior_kind: str | None = None,
    ) -> Assessment:
        t = self.model.thresholds  # type: ignore[union-attr]
        risk = scores.risk
        signals: list[str] = list(findings.hard)
        model_level = Urgency.NONE
        if scores.proba[2] >= t.emergency:
            model_level = Urgency.EMERGENCY
            signals.append("model.emergency")
        elif risk >= t.urgent:
            model_level = Urgency.URGENT
            signals.append("model.urgent")
        said_now = Urgency.max(findings.floor, model_level)  # what this message says by itself
        worrying = [r for r in (*history, risk) if r >= t.check_in]
        conversation_risk = 1.0 - float(np.prod([1.0 - r for r in worrying])) if worrying else risk
        if model_level == Urgency.NONE and len(worrying) > 1 and conversation_risk >= t.urgent:
            model_level = Urgency.URGENT
            signals.append("conversation.accumulated")
        level = Urgency.max(prior, findings.floor, model_level)
        if findings.floor >= model_level and findings.floor > Urgency.NONE:
            kind = findings.floor_kind
        elif findings.level == level and findings.kind:
            kind = findings.kind  # the rules name the same level more specifically
        elif prior_kind and prior > Urgency.NONE and said_now == Urgency.NONE:
            # Nothing alarming in this message: the conversation's worry stands. A daughter's
            # 「ありがとうございます」 in a missing-person report is no farewell (the kind head alone
            # read it as self-harm).
            kind = prior_kind
        else:
            kind = scores.kind
        check_in = may_check_in and level == Urgency.NONE and conversation_risk >= t.check_in
        if check_in:
            signals.append("model.check_in")
        if level == Urgency.NONE and not check_in:
            kind = None
        kinds = set(findings.kinds) | ({kind} if kind else set())
        return Assessment(
            level=level,
            kind=kind,
            self_harm=kind in SELF_HARM_KINDS if kind else bool(findings.self_harm),
            missing_person=kind == "missing_person",
            signals=tuple(dict.fromkeys(signals + list(findings.fired))),
            report_category=self.rules.report_category(findings.category_cues, kinds),
            suppressed=findings.suppressed,
            risk=round(max(risk, 1.0 if findings.floor == Urgency.EMERGENCY else 0.0), 4),
            check_in=check_in,
            subject=scores.subject,
            conversation_risk=round(conversation_risk, 4),
            worrying=said_now > Urgency.NONE or risk >= t.check_in,
            floor=findings.floor,
            said=said_now,
            category_cues=tuple(sorted(findings.category_cues)),
            topic_guesses=tuple((entry, round(p, 4)) for entry, p in scores.topics),
        )

    @staticmethod
    def unscored(prior: Urgency) -> Assessment:
        """A tapped button of ours (a route, a topic, a check-in answer): its label is our
        own words, not the resident's, so it carries no new risk."""
        return Assessment(level=prior, kind=None, self_harm=False, missing_person=False, signals=(), report_category="その他")

    @staticmethod
    def _rules_only(findings: RuleFindings, prior: Urgency) -> Assessment:
        level = Urgency.max(prior, findings.level)
        return Assessment(
            level=level,
            kind=findings.kind,
            self_harm=findings.self_harm,
            missing_person="missing_person" in findings.kinds,
            signals=findings.fired,
            report_category=findings.report_category,
            suppressed=findings.suppressed,
            risk={Urgency.NONE: 0.0, Urgency.URGENT: 0.6, Urgency.EMERGENCY: 1.0}[findings.level],
            worrying=level > Urgency.NONE,
            floor=findings.floor,
            category_cues=tuple(sorted(findings.category_cues)),
        )
