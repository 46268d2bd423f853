"""What the risk model sees of one message: its embedding, character n-grams of the rules'
normal form, and what the rules found (fired rules, dropped contexts, frames, the floor).

Character n-grams read kana-only and dialect spellings the embedding model rarely saw
(しにたい, 動かへん); the embedding reads paraphrases no n-gram shares; the rule features let
the model learn where a rule is right and where its context handling is.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from handoff.triage.rules import RuleEngine, RuleFindings
from handoff.urgency import Urgency

CONTEXTS = ("negation", "past", "info", "resolved")
FRAMES = ("past", "info", "resolved", "service")


class RuleFeatures:
    """Rule findings as a fixed-width 0/1 vector (one column per rule id, context and frame)."""

    def __init__(self, rules: RuleEngine) -> None:
        names = [f"rule:{i}" for i in rules.rule_ids]
        names += [f"dropped:{c}" for c in CONTEXTS] + [f"frame:{f}" for f in FRAMES]
        names += ["floor:urgent", "floor:emergency", "rules:urgent", "rules:emergency"]
        self.names = names
        self._col = {n: i for i, n in enumerate(names)}

    def row(self, findings: RuleFindings, frames: Sequence[str]) -> list[int]:
        cols = [self._col[f"rule:{r}"] for r in findings.fired]
        cols += [self._col[f"dropped:{s.rsplit(':', 1)[1]}"] for s in findings.suppressed]
        cols += [self._col[f"frame:{f}"] for f in frames]
        if findings.floor >= Urgency.URGENT:
            cols.append(self._col["floor:urgent"])
        if findings.floor >= Urgency.EMERGENCY:
            cols.append(self._col["floor:emergency"])
        if findings.level >= Urgency.URGENT:
            cols.append(self._col["rules:urgent"])
        if findings.level >= Urgency.EMERGENCY:
            cols.append(self._col["rules:emergency"])
        return sorted(set(cols))

    def matrix(self, rows: Sequence[Sequence[int]]) -> sparse.csr_matrix:
        data, indices, indptr = [], [], [0]
        for cols in rows:
            indices += cols
            data += [1.0] * len(cols)
            indptr.append(len(indices))
        return sparse.csr_matrix((data, indices, indptr), shape=(len(rows), len(self.names)), dtype=np.float32)


def ngram_vectorizer() -> TfidfVectorizer:
    # Character 1–3-grams of the normal form; sublinear tf so a long, rambling message is
    # not drowned by its many harmless n-grams.
    return TfidfVectorizer(analyzer="char", ngram_range=(1, 3), min_df=2, sublinear_tf=True, max_features=60000, dtype=np.float32)
