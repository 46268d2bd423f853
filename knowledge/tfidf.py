"""TF-IDF rows of a few messages without scikit-learn's per-call validation.

On the hot path (one message per decision) `TfidfVectorizer.transform` spent ten times the
arithmetic on input checks (bench/decide_speed.py); the risk model's heads, its topic head
and the re-ranker's entry classifier all read TF-IDF rows, so they share this one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer


def tfidf_rows(vectorizer: TfidfVectorizer, docs: Sequence, analyze: Callable | None = None) -> sparse.csr_matrix:
    """What `vectorizer.transform(docs)` gives (sublinear tf, idf, l2 norm, float32), without
    scikit-learn's per-call validation: for one short message that validation cost ten times
    the arithmetic (bench/decide_speed.py). tests/knowledge/test_tfidf.py holds the two equal."""
    if not (vectorizer.sublinear_tf and vectorizer.use_idf and vectorizer.norm == "l2"):
        raise ValueError("tfidf_rows reproduces sublinear tf, idf and the l2 norm only")
    analyze = analyze or vectorizer.build_analyzer()
    vocabulary, idf = vectorizer.vocabulary_, vectorizer.idf_.astype(np.float32)
    data, indices, indptr = [], [], [0]
    for doc in docs:
        counts = Counter(j for j in map(vocabulary.get, analyze(doc)) if j is not None)
        cols = np.fromiter(sorted(counts), dtype=np.int32, count=len(counts))
        values = np.fromiter((counts[c] for c in cols), dtype=np.float32, count=len(cols))
        values = (np.log(values) + np.float32(1.0)) * idf[cols]
        norm = np.sqrt(np.dot(values, values))
        data.append(values / norm if norm > 0 else values)
        indices.append(cols)
        indptr.append(indptr[-1] + len(cols))
    return sparse.csr_matrix(
        (np.concatenate(data) if data else np.zeros(0, np.float32), np.concatenate(indices) if indices else np.zeros(0, np.int32), indptr),
        shape=(len(docs), len(vocabulary)),
        dtype=np.float32,
    )
