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

from functools import cached_property

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from threadpoolctl import threadpool_limits

from knowledge.cachefile import DerivedOnLoad
from knowledge.tfidf import tfidf_rows

FOLDS = 5
# Regularisation of the two ridge fits (5-fold CV on the labelled questions, bench --cv).
DENSE_RIDGE = 0.3
CHAR_RIDGE = 1.0


class EntryClassifier(DerivedOnLoad):
    """One-vs-rest ridge regression onto each entry's indicator, one weight matrix per feature
    block, so a query is one sparse and one dense product and the training texts are not
    kept. The n-gram block is fitted in its dual (tens of thousands of n-grams, fewer texts),
    the embedding block in its primal (384 dimensions)."""

    def __init__(self, chars: TfidfVectorizer, char_w: np.ndarray, mean: np.ndarray | None, dense_w: np.ndarray | None):
        self.chars = chars
        self.char_w = char_w  # (n_grams, n_entries)
        self.mean = mean  # e5 cosines share a large common part: centred, only what differs counts
        self.dense_w = dense_w  # (dim, n_entries)

    def probs(self, texts: list[str], vectors: np.ndarray | None) -> np.ndarray:
        """(len(texts), 2, n_entries): the dense and the character model's scores (about 0..1)."""
        char = np.asarray(tfidf_rows(self.chars, texts, self.char_analyzer) @ self.char_w)
        if self.dense_w is None or vectors is None:
            dense = np.zeros_like(char)
        else:
            dense = (np.atleast_2d(vectors) - self.mean) @ self.dense_w
        return np.stack([dense, char], axis=1)

    @cached_property
    def char_analyzer(self):  # noqa: ANN201
        return self.chars.build_analyzer()


class _Grams:
    """Both kernels over every text, computed once: each fold's fit is a slice and a solve."""

    def __init__(self, texts: list[str], vectors: np.ndarray | None):
        # The n-gram vocabulary and idf come from all texts, held-out folds included: they
        # carry no labels, and one vectorizer lets every fold share one Gram matrix.
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.char_x = self.chars.fit_transform(texts).tocsr()
        self.char_k = np.asarray((self.char_x @ self.char_x.T).todense())
        self.mean = None if vectors is None else vectors.mean(axis=0)
        self.centred = None if vectors is None else np.asarray(vectors - self.mean, dtype=np.float64)

    def fit(self, rows: np.ndarray, target: np.ndarray) -> EntryClassifier:
        char_a = _dual(self.char_k[np.ix_(rows, rows)], target, CHAR_RIDGE)
        char_w = np.asarray(self.char_x[rows].T @ char_a)
        dense_w = None
        if self.centred is not None:
            dense_w = _primal(self.centred[rows], target, DENSE_RIDGE)
        return EntryClassifier(self.chars, char_w, self.mean, dense_w)


def _primal(x: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    """The same ridge weights as the dual's Xᵀ(XXᵀ + λI)⁻¹Y, as (XᵀX + λI)⁻¹XᵀY: for the
    384-wide embedding a 384-square solve, where the dual needs one the size of the rows
    (some twenty thousand: cubic time and a 3 GB Gram matrix)."""
    system = x.T @ x
    system[np.diag_indices_from(system)] += ridge
    return np.linalg.solve(system, x.T @ target)


def _dual(gram: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    # LU (LAPACK gesv) on ONE BLAS thread, though a Gram matrix plus a ridge would take
    # Cholesky: OpenBLAS's threaded Cholesky (potrf, through scipy and numpy alike) killed the
    # process with a segfault from about 16,000 rows on the 2-core machine, and its threaded
    # LU did the same at 21,300 rows (2026-12-06, the app's first start). LU of 17,000 rows:
    # 32 s, against Cholesky's 35 s on one thread; the whole fit at 21,300 rows about 8.5 min.
    system = np.array(gram, dtype=np.float64)
    system[np.diag_indices_from(system)] += ridge
    with threadpool_limits(1, user_api="blas"):
        return np.linalg.solve(system, target)


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
    grams = _Grams([*base_texts, *texts], _stack(base_vectors, vectors))
    all_owners = np.concatenate([base_owners, owners])
    target = np.zeros((len(all_owners), n_entries))
    target[np.arange(len(all_owners)), all_owners] = 1.0
    everything = np.arange(len(all_owners))
    full = grams.fit(everything, target)
    oof = np.zeros((len(texts), 2, n_entries))
    base, idx = len(base_texts), np.arange(len(texts))
    for k in range(folds):
        held = idx[idx % folds == k]
        if not len(held):
            continue
        rows = np.concatenate([np.arange(base), base + idx[idx % folds != k]])
        model = grams.fit(rows, target[rows])
        oof[held] = model.probs([texts[i] for i in held], vectors[held] if vectors is not None else None)
    return full, oof


def _stack(a: np.ndarray | None, b: np.ndarray | None) -> np.ndarray | None:
    if a is None or b is None:
        return None
    return np.vstack([a, b])
