"""The re-ranker's entry classifier fit (knowledge/classify.py `out_of_fold`: the full model and
five out-of-fold ones), before vs after, in the same run, on the same texts.

Before: the n-gram block's ridge weights by a direct solve of the dual, Xᵀ(XXᵀ + λI)⁻¹Y, on
one BLAS thread (what the code did until 2026-12-06; OpenBLAS's threaded LU segfaulted at
21,300 rows on the 2-core machine). After: conjugate gradients (`classify.sparse_ridge`).
Printed: the wall time of each, their ratio, the peak memory of each (separate child
processes), and how far apart their outputs are: the largest difference of an out-of-fold
probability and the share of labelled questions whose first entry differs.

    python bench/entry_classifier_fit.py [--rows N]   # N: the first N labelled questions only
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def direct_dual(x, target: np.ndarray, ridge: float) -> np.ndarray:  # noqa: ANN001
    """The solve the code used before: the dense Gram matrix, LU on one BLAS thread."""
    from threadpoolctl import threadpool_limits

    system = np.asarray((x @ x.T).todense(), dtype=np.float64)
    system[np.diag_indices_from(system)] += ridge
    with threadpool_limits(1, user_api="blas"):
        return np.asarray(x.T @ np.linalg.solve(system, target))


def child(variant: str, rows: int | None, out: Path) -> None:
    sys.path.insert(0, str(ROOT))
    from frontdoor.settings import Settings
    from knowledge import classify
    from knowledge.catalog import load_catalog
    from knowledge.rerank import load_training
    from knowledge.rerank_train import prepare, with_classifier
    from knowledge.retrieval import KnowledgeIndex

    settings = Settings(_env_file=None)
    index = KnowledgeIndex.build(load_catalog(), cache_dir=settings.cache_dir, rerank=False)
    labelled = load_training(index.catalog, only_known=True)[:rows]
    features, labelled, vectors = prepare(index, settings.cache_dir, labelled)
    if variant == "before":
        classify.sparse_ridge = direct_dual
    started = time.perf_counter()
    _, oof = with_classifier(index, features, labelled, vectors)
    seconds = time.perf_counter() - started
    np.save(out, oof)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"variant": variant, "questions": len(labelled), "seconds": round(seconds, 1), "peak_mb": round(peak_mb)}), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=None)
    parser.add_argument("--child", choices=["before", "after"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.rows, args.out)
        return
    results, oofs = {}, {}
    with tempfile.TemporaryDirectory() as scratch:
        for variant in ("before", "after"):
            out = Path(scratch) / f"{variant}.npy"
            cmd = [sys.executable, __file__, "--child", variant, "--out", str(out)] + (["--rows", str(args.rows)] if args.rows else [])
            line = subprocess.run(cmd, check=True, capture_output=True, text=True, cwd=ROOT).stdout.strip().splitlines()[-1]
            results[variant] = json.loads(line)
            oofs[variant] = np.load(out)
    before, after = results["before"], results["after"]
    char_before, char_after = oofs["before"][:, 1, :], oofs["after"][:, 1, :]
    print(f"labelled questions: {after['questions']}")
    print(f"before (direct dual, one BLAS thread): {before['seconds']} s, peak {before['peak_mb']} MB")
    print(f"after  (conjugate gradients):          {after['seconds']} s, peak {after['peak_mb']} MB")
    print(f"ratio after/before: time ×{after['seconds'] / before['seconds']:.3f}, peak memory ×{after['peak_mb'] / before['peak_mb']:.2f}")
    print(f"out-of-fold n-gram scores: largest difference {np.abs(char_before - char_after).max():.2e}")
    differ = (char_before.argmax(axis=1) != char_after.argmax(axis=1)).mean()
    print(f"questions whose first entry by the n-gram scores differs: {differ:.4%}")


if __name__ == "__main__":
    main()
