"""Figures of triage on a labelled set, as the issue 14 §4 targets state them.

Used by `frontdoor triage eval`, the bench and the tests, so that all three count alike."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

from handoff.triage.training import Example

TARGETS = {
    "emergency_recall": (">=", 0.97),
    "urgent_recall": (">=", 0.95),
    "false_alarms": ("<=", 0.04),
    "missed": ("<=", 0.01),
    "topic_top1": (">=", 0.90),
}


@dataclass(frozen=True)
class Outcome:
    """What the system did with one message (from an Assessment, or from `frontdoor ask`)."""

    level: str
    check_in: bool = False
    kind: str | None = None
    subject: str | None = None
    topic: str | None = None


@dataclass(frozen=True)
class Figures:
    n: int
    emergency_recall: float  # emergencies rated emergency
    urgent_recall: float  # urgent-or-higher rated urgent-or-higher
    false_alarms: float  # `none` rated urgent or emergency
    missed: float  # urgent-or-higher neither flagged nor checked in
    check_in_rate: float  # `none` messages that got a check-in question
    kind_accuracy: float  # flagged urgent-or-higher messages with the labelled kind
    subject_accuracy: float | None  # urgent-or-higher messages with the labelled subject (None: not given)
    topic_top1: float | None  # messages labelled with a topic that got it (None: not measured)
    topic_n: int

    def as_dict(self) -> dict:
        return asdict(self)

    def misses_target(self) -> list[str]:
        out = []
        for name, (op, target) in TARGETS.items():
            value = getattr(self, name)
            if value is None:
                continue
            if (op == ">=" and value < target) or (op == "<=" and value > target):
                out.append(f"{name} {value:.3f} (target {op} {target})")
        return out


def _share(hits: Sequence[bool]) -> float:
    return round(sum(hits) / len(hits), 4) if hits else 1.0


def figures(examples: Sequence[Example], outcomes: Sequence[Outcome], *, with_topics: bool = False) -> Figures:
    rank = {"none": 0, "urgent": 1, "emergency": 2}
    pairs = list(zip(examples, outcomes, strict=True))
    em = [rank[o.level] == 2 for e, o in pairs if e.level == "emergency"]
    pos = [(e, o) for e, o in pairs if e.level != "none"]
    neg = [o for e, o in pairs if e.level == "none"]
    flagged = [(e, o) for e, o in pos if rank[o.level] >= 1]
    topical = [(e, o) for e, o in pairs if e.topic]
    return Figures(
        n=len(pairs),
        emergency_recall=_share(em),
        urgent_recall=_share([rank[o.level] >= 1 for _, o in pos]),
        false_alarms=round(1 - _share([rank[o.level] == 0 for o in neg]), 4),
        missed=round(1 - _share([rank[o.level] >= 1 or o.check_in for _, o in pos]), 4),
        check_in_rate=round(1 - _share([not (o.check_in and rank[o.level] == 0) for o in neg]), 4),
        kind_accuracy=_share([o.kind == e.kind for e, o in flagged]),
        subject_accuracy=_share([o.subject == e.subject for e, o in pos if o.subject]) if any(o.subject for _, o in pos) else None,
        topic_top1=_share([o.topic == e.topic for e, o in topical]) if with_topics and topical else None,
        topic_n=len(topical),
    )
