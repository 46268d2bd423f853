"""Accuracy on residents' questions that are not in the entries.

Rule: a question counts as correct when the FIRST entry of the ranking is the expected
one (strict top-1). A clarify whose first choice is right is not counted separately:
the ranking's first entry is the same thing, and nothing looser is claimed.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from knowledge.normalize import normalize

EVAL = Path(__file__).with_name("eval_questions.jsonl")
MIN_TOP1 = 0.90


def _rows():
    return [json.loads(line) for line in EVAL.read_text(encoding="utf-8").splitlines() if line.strip()]


def test_eval_set_is_sound(catalog):
    rows = _rows()
    assert len(rows) >= 200
    for row in rows:
        assert set(row) == {"tenant", "text", "expected"}
        assert row["tenant"] in ("kashiwa", "setagaya")
        entry = catalog.get(row["expected"])
        assert entry.visible_to(row["tenant"]), row
    covered = {row["expected"] for row in rows}
    # The entries issue 15 added are evaluated by the blind set (bench/answers_blind.py) and
    # tests/knowledge/test_rerank.py, not here (this set's author never saw them).
    added = {"setagaya.sticker_lost", "common.panic_anxiety", "common.crisis_line_hours", "common.scam_side_job", "common.disaster_shelter"}
    assert covered == {e.id for e in catalog} - added, "every entry should be evaluated"


def _key(text: str) -> str:
    """Normalized, with punctuation and spaces dropped: 'しにたい…' is a copy of 'しにたい'."""
    return re.sub(r"[\W_]+", "", normalize(text))


def test_eval_questions_are_not_copies_of_examples(catalog):
    examples = {_key(q) for e in catalog for q in [e.title, *e.example_questions]}
    copies = [row["text"] for row in _rows() if _key(row["text"]) in examples]
    assert copies == []


def test_top1_accuracy(index):
    rows = _rows()
    hits = sum(index.search(r["tenant"], r["text"], k=1)[0].entry.id == r["expected"] for r in rows)
    accuracy = hits / len(rows)
    assert accuracy >= MIN_TOP1, f"top-1 accuracy {accuracy:.3f} < {MIN_TOP1}"
