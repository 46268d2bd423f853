"""The re-ranker's entry classifier (knowledge/classify.py) fits its embedding block in the
primal: the same ridge weights the dual gave, without a Gram matrix the size of the rows."""

from __future__ import annotations

import numpy as np

from knowledge.classify import _dual, _primal


def test_the_primal_ridge_weights_are_the_duals() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(400, 24))
    target = np.eye(6)[rng.integers(0, 6, size=400)]
    primal = _primal(x, target, 0.3)
    dual = x.T @ _dual(x @ x.T, target, 0.3)
    assert primal.shape == (24, 6)
    assert np.allclose(primal, dual, atol=1e-10)
