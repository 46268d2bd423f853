"""Retrieval on a blind hold-out: 180 questions written by someone who never saw the entries'
example questions (tests/knowledge/holdout_questions.jsonl). Nothing is tuned on this file;
it measures how retrieval generalizes to residents we have not seen."""

from __future__ import annotations

import json
from pathlib import Path

HOLDOUT = Path(__file__).parent / "holdout_questions.jsonl"


def test_holdout_top1_and_top3(index, catalog):  # noqa: ANN001
    rows = [json.loads(line) for line in HOLDOUT.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert len(rows) >= 150
    examples = {q for entry in catalog.entries for q in entry.example_questions}
    # A bare greeting (はじめまして) may coincide; anything longer must not be a copy.
    copies = [r["text"] for r in rows if r["text"] in examples and len(r["text"]) > 8]
    assert not copies, "hold-out questions are not entry examples"
    top1 = top3 = 0
    for row in rows:
        ranked = [m.entry.id for m in index.search(row["tenant"], row["text"], k=3)]
        top1 += ranked[0] == row["expected"]
        top3 += row["expected"] in ranked
    # Measured 0.906 / 0.978 on 2026-11-23; 0.872 / 0.972 on 2026-12-05 after issue 15 added
    # five entries that share words with older ones (panic vs こころ, crisis-line hours vs the
    # lines) and the re-ranker (bench/RESULTS.md, issue 15); 0.906 / 0.978 with the entry
    # classifier features (2026-12-05, second round). A small margin for model noise.
    assert top1 / len(rows) >= 0.88
    assert top3 / len(rows) >= 0.95
