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
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from knowledge.cachefile import DerivedOnLoad
from knowledge.tfidf import tfidf_rows

FOLDS = 5
# Regularisation of the two ridge fits (5-fold CV on the labelled questions, bench --cv).
DENSE_RIDGE = 0.3
CHAR_RIDGE = 1.0
# The n-gram block's conjugate gradients stop when every entry's residual is this small a
# share of its target (about 55 steps at 21,600 texts; bench/entry_classifier_fit.py measures
# the agreement with an exact solve).
CG_TOLERANCE = 1e-5
CG_MAX_ITERATIONS = 2000


class EntryClassifier(DerivedOnLoad):
    """One-vs-rest ridge regression onto each entry's indicator, one weight matrix per feature
    block, so a query is one sparse and one dense product and the training texts are not
    kept. The n-gram block (some 180,000 n-grams, 20,000 texts) is fitted in its dual by
    conjugate gradients, the embedding block (384 dimensions) in its primal by a direct solve."""

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
    """Both feature blocks over every text, computed once: each fold's fit is a slice and a solve."""

    def __init__(self, texts: list[str], vectors: np.ndarray | None):
        # The n-gram vocabulary and idf come from all texts, held-out folds included: they
        # carry no labels, and one vectorizer lets every fold share one matrix.
        self.chars = TfidfVectorizer(analyzer="char_wb", ngram_range=(1, 3), sublinear_tf=True)
        self.char_x = self.chars.fit_transform(texts).tocsr()
        self.mean = None if vectors is None else vectors.mean(axis=0)
        self.centred = None if vectors is None else np.asarray(vectors - self.mean, dtype=np.float64)

    def fit(self, rows: np.ndarray, target: np.ndarray) -> EntryClassifier:
        char_w = sparse_ridge(self.char_x[rows], target, CHAR_RIDGE)
        dense_w = None
        if self.centred is not None:
            dense_w = _primal(self.centred[rows], target, DENSE_RIDGE)
        return EntryClassifier(self.chars, char_w, self.mean, dense_w)


def _primal(x: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge weights (XᵀX + λI)⁻¹XᵀY by a direct solve: a 384-square system for the embedding."""
    system = x.T @ x
    system[np.diag_indices_from(system)] += ridge
    return np.linalg.solve(system, x.T @ target)


def sparse_ridge(x: sparse.csr_matrix, target: np.ndarray, ridge: float) -> np.ndarray:
    """Ridge weights Xᵀ(XXᵀ + λI)⁻¹Y for the n-gram block: the dual system solved by conjugate
    gradients, every entry's column at once. Each step is two sparse products; no matrix the
    size of the rows squared is ever formed.

    It replaced a direct solve of the same system: cubic in the rows, a dense 21,300-square
    matrix (3.6 GB) six times per fit, 8.5 minutes on one BLAS thread (OpenBLAS's threaded LU
    and Cholesky segfaulted at that size on the 2-core machine, 2026-12-06)."""
    xt = x.T.tocsr()
    a = np.zeros(target.shape, dtype=np.float64)
    r = np.array(target, dtype=np.float64)
    p = r.copy()
    rs = np.einsum("ij,ij->j", r, r)
    goal = CG_TOLERANCE**2 * rs
    tiny = np.finfo(np.float64).tiny
    for _ in range(CG_MAX_ITERATIONS):
        done = rs <= goal  # a column that has converged (or is all zero) stays where it is
        if done.all():
            break
        ap = x @ (xt @ p) + ridge * p
        alpha = np.where(done, 0.0, rs / np.maximum(np.einsum("ij,ij->j", p, ap), tiny))
        a += p * alpha
        r -= ap * alpha
        fresh = np.einsum("ij,ij->j", r, r)
        p = r + p * np.where(done, 0.0, fresh / np.maximum(rs, tiny))
        rs = fresh
    return np.asarray(xt @ a)


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
