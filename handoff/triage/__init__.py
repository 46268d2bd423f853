"""Safety triage: every inbound message is scored before any answer (issues 4 and 14).

Modules, one job each: `kinds` (closed vocabularies), `lexicon` (rule schemas and loader),
`text` (normal forms), `rules` (the rule engine: floor and features), `training` (the
labelled data's schema), `features` and `model` (the trained, calibrated risk model),
`topic_head` (which knowledge entry a message is about),
`combine` (the decision), `evaluate` (figures on a labelled set). See handoff/README.md.

Sources: Kashiwa 002 §7(1) — urgent cases caught by the chat are connected to face-to-face,
phone or e-mail support; Setagaya 003 §1(2)②キ / ③ケ — emergencies are reported at once;
Setagaya 003 §1(2)⑤ — missing-person intake.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from handoff.triage.combine import Assessment, Triage
from handoff.triage.kinds import KINDS, REPORT_CATEGORIES, SELF_HARM_KINDS, SUBJECTS, Kind, Subject
from handoff.triage.lexicon import LEXICON_DIR, load_lexicon, read_yaml
from handoff.triage.rules import RuleEngine, default_rules

__all__ = [
    "KINDS", "LEXICON_DIR", "REPORT_CATEGORIES", "SELF_HARM_KINDS", "SUBJECTS", "Assessment", "Kind",
    "RuleEngine", "Subject", "Triage", "default_rules", "load_triage", "read_yaml",
]


def load_triage(directory: Path | None = None) -> Triage:
    """Triage on the rules alone (validated lexicon; fast unit tests, and the fallback when
    the model cannot load). `frontdoor.runtime.build_decider` attaches the trained model."""
    return _default_triage() if directory is None else Triage(RuleEngine(load_lexicon(directory)))


@lru_cache(maxsize=1)
def _default_triage() -> Triage:
    return Triage(default_rules())
