"""The re-ranker's entry classifier (knowledge/classify.py) fits its embedding block by a direct
solve of the primal and its n-gram block by conjugate gradients on the dual: both must be the
exact ridge weights, without a Gram matrix the size of the rows."""

from __future__ import annotations

import numpy as np
from scipy import sparse

from knowledge.classify import _primal, sparse_ridge


def _dual_exact(x: np.ndarray, target: np.ndarray, ridge: float) -> np.ndarray:
    return x.T @ np.linalg.solve(x @ x.T + ridge * np.eye(len(x)), target)


def test_the_primal_ridge_weights_are_the_duals() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 24))
    target = np.eye(6)[rng.integers(0, 6, size=400)]
    primal = _primal(x, target, 0.3)
    assert primal.shape == (24, 6)
    assert np.allclose(primal, _dual_exact(x, target, 0.3), atol=1e-10)


def test_the_conjugate_gradient_weights_are_the_exact_ridge_weights_of_sparse_texts() -> None:
    rng = np.random.default_rng(11)
    # More n-grams than texts, a few per text, rows of unit length: like the TF-IDF block.
    x = sparse.random(300, 900, density=0.02, random_state=3, format="csr")
    x = sparse.diags(1 / np.maximum(np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel()), 1e-12)) @ x
    target = np.eye(8)[rng.integers(0, 7, size=300)]  # the eighth entry has no text: all zero
    weights = sparse_ridge(x.tocsr(), target, 1.0)
    exact = _dual_exact(x.toarray(), target, 1.0)
    assert weights.shape == (900, 8)
    assert np.isfinite(weights).all()
    assert not weights[:, 7].any()
    assert np.abs(weights - exact).max() < 1e-4 * np.abs(exact).max()
    assert (np.asarray(x @ weights).argmax(axis=1) == np.asarray(x @ exact).argmax(axis=1)).all()
