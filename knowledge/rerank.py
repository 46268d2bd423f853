"""Second-stage ranking of the hybrid retrieval's top candidates (issue 15).

The blend (retrieval.py) finds the right family of entries; inside a family (電話訪問 vs its
change / absence / pause / cancel, ステッカー vs change / found / lost) the words are the same
and what differs is what the resident wants to do. A logistic model re-scores each
candidate from: the hybrid scores, its rank and gap to the best, how close the message is to
labelled resident questions of that entry (knowledge/training/*.yaml and the risk model's
ordinary topic-labelled messages), whether the message's intent and person (intents.py)
agree with the entry's own examples, and whether the entry is the tenant's own or common. It
is fitted at the first start on new content (rerank_train.py; cached on disk by content) and
its probabilities drive the answer / clarify decision.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import yaml
from scipy.special import expit
from sklearn.linear_model import LogisticRegression

from knowledge.cachefile import DerivedOnLoad
from knowledge.catalog import TENANTS, Catalog
from knowledge.classify import EntryClassifier
from knowledge.intents import flag_names, flags
from knowledge.normalize import normalize

TRAINING_DIR = Path(__file__).with_name("training")
CANDIDATES = 8  # how many hybrid candidates are re-ranked
NEIGHBOUR_FLOOR = 0.85  # e5 cosine between unrelated resident questions sits below this


@dataclass(frozen=True)
class Labelled:
    tenant: str
    text: str
    expected: str


def load_training(catalog: Catalog, directory: Path = TRAINING_DIR, *, only_known: bool = False) -> list[Labelled]:
    """The labelled questions (load_questions), then the risk model's ordinary topic-labelled
    messages (triage_topic_rows)."""
    return load_questions(catalog, directory, only_known=only_known) + triage_topic_rows(catalog)


def topic_questions(catalog: Catalog) -> list[tuple[str, str]]:
    """The labelled questions as (text, entry id), for the risk model's topic head
    (handoff/triage/model.py): both opinions on a message's topic learn from them."""
    return [(row.text, row.expected) for row in load_questions(catalog)]


def load_questions(catalog: Catalog, directory: Path = TRAINING_DIR, *, only_known: bool = False) -> list[Labelled]:
    """The labelled questions of a directory's files (or of one file), validated: every id
    exists; a common entry's questions are used under both tenants (alternately, so neither
    tenant is favoured). `only_known`: an index over part of the catalog (a test's small
    catalog) trains on that part's questions."""
    rows: list[Labelled] = []
    problems: list[str] = []
    for path in sorted(directory.glob("*.yaml")) if directory.is_dir() else [directory]:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for entry_id, questions in data.items():
            if entry_id not in catalog:
                if not only_known:
                    problems.append(f"{path.name}: unknown entry {entry_id}")
                continue
            entry = catalog.get(entry_id)
            for i, text in enumerate(questions or []):
                tenant = TENANTS[i % 2] if entry.tenant == "common" else entry.tenant
                rows.append(Labelled(tenant, str(text), entry_id))
    if problems:
        raise ValueError("; ".join(problems))
    return rows


def triage_topic_rows(catalog: Catalog) -> list[Labelled]:
    """The risk model's ordinary (`none`) training messages that carry a topic
    (handoff/training/data/), as more labelled questions: some two thousand residents' wordings
    in voices the question files have few of (dialect, long and rambling, alarming words around
    an ordinary need). Flagged messages are left out: they never take the answer path (a person
    answers; their topic comes from the risk model's topic head), and with them the re-ranker
    learned to trust weak matches and grew less sure of plain ones (blind top-1 0.928 either
    way; an absence notice full of personal details went from p 0.64 to 0.51). So is a message
    of the other tenant's entry, or of an entry this catalog lacks."""
    from handoff.triage.training import load_examples

    rows: list[Labelled] = []
    for i, example in enumerate(e for e in load_examples() if e.level == "none" and e.topic in catalog):
        entry = catalog.get(example.topic)
        if entry.tenant == "common":
            tenant = example.tenant if example.tenant != "any" else TENANTS[i % 2]
        elif example.tenant in ("any", entry.tenant):
            tenant = entry.tenant
        else:
            continue
        rows.append(Labelled(tenant, example.text, entry.id))
    return rows


class Features(DerivedOnLoad):
    """Builds the feature rows; knows each entry's intent profile and labelled questions."""

    def __init__(
        self,
        entries: Sequence,
        entry_flags: np.ndarray,
        train_vectors: np.ndarray | None,
        train_owner: np.ndarray,
        classifier: EntryClassifier | None = None,
    ):
        self.entries = entries
        self.classifier = classifier  # probabilities over all entries (classify.py)
        self.entry_flags = entry_flags  # (n_entries, n_flags): share of the entry's examples with each flag
        self.train_vectors = train_vectors
        self.train_owner = train_owner  # entry row of each labelled question

    @staticmethod
    def names() -> list[str]:
        f = flag_names()
        return [
            "blended", "lexical", "dense", "gap", "inv_rank", "neighbour", "common", "clf_dense", "clf_char",
            *(f"agree.{n}" for n in f), *(f"extra.{n}" for n in f), *(f"missing.{n}" for n in f),
        ]  # fmt: skip

    def neighbour(self, vector: np.ndarray | None, rows: np.ndarray, exclude: int | None, floor: float, ceiling: float) -> np.ndarray:
        """Per candidate: the best cosine to a labelled question of that entry, rescaled like dense.
        Only the candidates' own questions are compared (a few thousand of some twenty
        thousand rows), each entry's as one contiguous block (`blocks`)."""
        if vector is None or self.train_vectors is None or not len(self.train_vectors):
            return np.zeros(len(rows))
        vectors, bounds, position = self.blocks
        skip = -1 if exclude is None else int(position[exclude])
        best = np.full(len(rows), -1.0)
        for j, row in enumerate(rows):
            a, b = bounds[row], bounds[row + 1]
            if a == b:
                continue
            sims = vectors[a:b] @ vector
            if a <= skip < b:
                sims[skip - a] = -1.0
            best[j] = sims.max()
        return np.clip((best - NEIGHBOUR_FLOOR) / (ceiling - NEIGHBOUR_FLOOR), 0.0, 1.0) if floor else np.clip(best, 0.0, 1.0)

    @cached_property
    def blocks(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The labelled questions' vectors sorted by entry, each entry's start and end, and
        where each question went."""
        order = np.argsort(self.train_owner, kind="stable")
        bounds = np.searchsorted(self.train_owner[order], np.arange(len(self.entries) + 1))
        position = np.empty_like(order)
        position[order] = np.arange(len(order))
        return np.ascontiguousarray(self.train_vectors[order]), bounds, position

    def classify(self, text: str, vector: np.ndarray | None) -> np.ndarray:
        """(2, n_entries): the classifier's dense and character probabilities (zeros without one)."""
        if self.classifier is None:
            return np.zeros((2, len(self.entries)))
        return self.classifier.probs([normalize(text)], None if vector is None else vector[None, :])[0]

    def build(
        self, tenant: str, text: str, rows: np.ndarray, blended, lexical, dense, neighbour: np.ndarray, classified: np.ndarray
    ) -> np.ndarray:
        q = flags(text)
        p = self.entry_flags[rows]
        # Rank and gap keep the hybrid order unless the intent cues disagree; without them
        # the blind and eval top-1 fell (0.836 -> 0.825, 0.917 -> 0.881; bench/RESULTS.md).
        top = blended[rows].max()
        base = np.column_stack([
            blended[rows], lexical[rows], dense[rows], top - blended[rows],
            1.0 / (1.0 + np.arange(len(rows))), neighbour,
            [float(self.entries[r].tenant == "common") for r in rows],
            classified[0][rows], classified[1][rows],
        ])  # fmt: skip
        return np.hstack([base, q * p, q * (1 - p), (1 - q) * p])


class Reranker:
    """A fitted model plus what it needs to build features at query time."""

    def __init__(self, features: Features, model: LogisticRegression, trained_on: int):
        self.features = features
        self.model = model
        self.trained_on = trained_on

    def scores(self, x: np.ndarray) -> np.ndarray:
        """Probability that each candidate is the entry the resident meant: scikit-learn's
        binary formula (the logistic of X·coefᵀ + intercept, the same operations in the same
        order), without its per-call input checks, which cost 0.6 ms a message, ten times the
        arithmetic of a dozen candidates (bench/RESULTS.md, "Graph 2 and the everyday writers back")."""
        return expit((x @ self.model.coef_.T + self.model.intercept_).ravel())


RERANK_C = 30.0  # 5-fold CV on the labelled questions: C=1 0.855, 10 0.886, 30-1000 ~0.885 top-1


def fit(x: np.ndarray, y: np.ndarray) -> LogisticRegression:
    model = LogisticRegression(C=RERANK_C, max_iter=3000)
    model.fit(x, y)
    return model
