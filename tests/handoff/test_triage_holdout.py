"""Triage on the blind hold-out (tests/handoff/triage_holdout.yaml), rules + semantic signal.

The hold-out was written by someone who never saw the rules or the exemplars; nothing in
the lexicon or handoff/lexicon/exemplars.yaml is tuned on it. The floors below are the
figures reached (bench/RESULTS.md "## Triage (issue 4)") minus a small margin; they are
BELOW the product targets (emergency recall ≥ 0.85, urgent-or-higher ≥ 0.90, false alarms
≤ 0.10) where the report says so.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from handoff.semantic import SemanticModel
from handoff.triage import Triage, load_triage
from handoff.urgency import Urgency
from knowledge.embedding import load_embedder

HOLDOUT = yaml.safe_load(Path(__file__).with_name("triage_holdout.yaml").read_text(encoding="utf-8"))

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def triage(tmp_path_factory: pytest.TempPathFactory) -> Triage:
    rules = load_triage()
    model = SemanticModel.build(load_embedder("e5"), tmp_path_factory.mktemp("triage-cache"), emoji=rules.emoji)
    return load_triage(semantic=model)


def test_blind_holdout_recall_and_false_alarms(triage: Triage) -> None:
    got = [(Urgency(c["level"]), triage.assess(c["text"]).level) for c in HOLDOUT]
    emergencies = [g for want, g in got if want == Urgency.EMERGENCY]
    positives = [g for want, g in got if want >= Urgency.URGENT]
    negatives = [g for want, g in got if want == Urgency.NONE]
    emergency_recall = sum(g == Urgency.EMERGENCY for g in emergencies) / len(emergencies)
    positive_recall = sum(g >= Urgency.URGENT for g in positives) / len(positives)
    false_alarms = sum(g >= Urgency.URGENT for g in negatives) / len(negatives)
    # Aggregates only: the hold-out's messages are never printed (nobody tunes on them).
    figures = f"emergency {emergency_recall:.3f}, urgent+ {positive_recall:.3f}, false alarms {false_alarms:.3f}"
    assert emergency_recall >= EMERGENCY_FLOOR, figures
    assert positive_recall >= POSITIVE_FLOOR, figures
    assert false_alarms <= FALSE_ALARM_CEILING, figures


EMERGENCY_FLOOR = 0.87  # reached 0.905
POSITIVE_FLOOR = 0.82  # reached 0.849 (target 0.90: not reached)
FALSE_ALARM_CEILING = 0.18  # reached 0.151 (target 0.10: not reached)


# ---------------------------------------------------------------- semantic layer behaviour (own wording)


def test_semantic_only_raises_and_signals_an_id(triage: Triage) -> None:
    rules = load_triage()
    for text in ("今から死にます", "死にたい", "介護保険の申請はどこでできますか", "死ぬほど暇"):
        a, r = triage.assess(text), rules.assess(text)
        assert a.level >= r.level, text
        assert set(r.signals) <= set(a.signals), text
        assert all(s.startswith("semantic.") for s in set(a.signals) - set(r.signals)), text
    assert triage.assess("こんにちは", prior=Urgency.EMERGENCY).level == Urgency.EMERGENCY


def test_rule_identified_idiom_vetoes_a_semantic_raise(triage: Triage) -> None:
    assert triage._semantic_veto("死ぬほど暇") == "idiom"  # noqa: SLF001
    assert triage._semantic_veto("ドラマで人が倒れた") in {"info", "past"}  # noqa: SLF001
    assert triage._semantic_veto("母が倒れて動かない") is None  # noqa: SLF001
    assert triage.assess("死ぬほど暇").level == Urgency.NONE


def test_exemplar_schema_refuses_bad_data(tmp_path: Path) -> None:
    from pydantic import ValidationError

    from handoff.semantic import ExemplarsFile

    good = {"calibration": {"k": 5, "temperature": 0.05, "emergency": 0.6, "urgent": 0.9, "min_similarity": 0.8}}
    with pytest.raises(ValidationError):
        ExemplarsFile.model_validate({**good, "exemplars": [{"text": "x", "level": "high"}]})
    with pytest.raises(ValidationError):
        ExemplarsFile.model_validate({**good, "exemplars": [{"text": "x", "level": "none"}] * 2})
    ExemplarsFile.model_validate({**good, "exemplars": [{"text": "x", "level": "none"}]})
