"""Which entry a message is about, as a classifier over all entries (a re-ranker feature).

The hybrid score and the neighbour feature compare a message with single texts (its best
cosine); a linear model learns from *all* of an entry's texts at once which directions
and which character n-grams tell it apart from its siblings, so an unseen wording that
resembles none of the examples closely can still land on the right entry. Two models, kept
as separate features: one on the e5 vector (meaning), one on character 1–3-grams of the
normalized text (kana-only, typos and dialect endings, where the embedding is weakest).

Trained on the entries' titles and examples plus the labelled questions. For the re-ranker's
own training rows the probabilities are out-of-fold (`out_of_fold`), so the re-ranker learns
how far to trust the classifier on a question it has not seen.
"""

from __future__ import annotations

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

FOLDS = 5
# Regularisation of the two ridge fits (5-fold CV on the labelled questions, bench --cv).
DENSE_RIDGE = 0.3
CHAR_RIDGE = 1.0


class EntryClassifier:
    """One-vs-rest ridge regression onto each entry's indicator, solved in closed form in its
    dual (a few hundred texts): a fit is one small linear solve, so fitting it five times
    more at start-up for out-of-fold scores stays well under a second, and a query is one
    matrix product."""

    def __init__(self, n_entries: int, texts: list[str], vectors: np.ndarray | None, owners: np.ndarray):
        self.n_entries = n_entries
        target = np.zeros((len(texts), n_entries))
        target[np.arange(len(texts)), owners] = 1.0
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.char_x = self.chars.fit_transform(texts)
        self.char_a = _dual(np.asarray((self.char_x @ self.char_x.T).todense()), target, CHAR_RIDGE)
        # e5 cosines share a large common part (unrelated questions sit near 0.8): centred,
        # the fit sees only the directions that tell questions apart.
        self.mean = None if vectors is None else vectors.mean(axis=0)
        self.vectors = None if vectors is None else vectors - self.mean
        self.dense_a = None if vectors is None else _dual(self.vectors @ self.vectors.T, target, DENSE_RIDGE)

    def probs(self, texts: list[str], vectors: np.ndarray | None) -> np.ndarray:
        """(len(texts), 2, n_entries): the dense and the character model's scores (about 0..1)."""
        char = np.asarray((self.chars.transform(texts) @ self.char_x.T).todense()) @ self.char_a
        if self.dense_a is None or vectors is None:
            dense = np.zeros_like(char)
        else:
            dense = (np.atleast_2d(vectors) - self.mean) @ self.vectors.T @ self.dense_a
        return np.stack([dense, char], axis=1)


def _dual(gram: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    return np.linalg.solve(gram + ridge * np.eye(len(gram)), target)


def out_of_fold(
    n_entries: int,
    base_texts: list[str],
    base_vectors: np.ndarray | None,
    base_owners: np.ndarray,
    texts: list[str],
    vectors: np.ndarray | None,
    owners: np.ndarray,
    folds: int = FOLDS,
) -> tuple[EntryClassifier, np.ndarray]:
    """The classifier on everything, and each labelled question's probabilities from a
    classifier that never saw it (the entries' own texts are always in)."""
    full = EntryClassifier(n_entries, [*base_texts, *texts], _stack(base_vectors, vectors), np.concatenate([base_owners, owners]))
    oof = np.zeros((len(texts), 2, n_entries))
    idx = np.arange(len(texts))
    for k in range(folds):
        train, held = idx[idx % folds != k], idx[idx % folds == k]
        if not len(held):
            continue
        model = EntryClassifier(
            n_entries,
            [*base_texts, *(texts[i] for i in train)],
            _stack(base_vectors, vectors[train] if vectors is not None else None),
            np.concatenate([base_owners, owners[train]]),
        )
        oof[held] = model.probs([texts[i] for i in held], vectors[held] if vectors is not None else None)
    return full, oof


def _stack(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    return np.vstack([a, b])
