"""Okapi BM25 over pre-tokenized documents, with a score normalized to 0..1.

The index is built once: per term, the documents it occurs in and their precomputed
BM25 weights, so a query costs one dictionary lookup and one numpy add per query term
and never re-tokenizes the entries.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np


class BM25:
    """BM25 over `n_docs` documents given as term lists."""

    def __init__(self, docs: Sequence[Iterable[str]], *, k1: float = 1.2, b: float = 0.75) -> None:
        counted = [Counter(d) for d in docs]
        self.n_docs = len(counted)
        lengths = np.array([sum(c.values()) for c in counted], dtype=np.float64)
        avg = float(lengths.mean()) if self.n_docs and lengths.sum() else 1.0
        df: Counter[str] = Counter()
        for c in counted:
            df.update(c.keys())
        # The idf a term would have if it were in no document: the ceiling for unknown words.
        self.max_idf = math.log(1.0 + (self.n_docs + 0.5) / 0.5)
        self.idf = {t: math.log(1.0 + (self.n_docs - n + 0.5) / (n + 0.5)) for t, n in df.items()}
        self.k1 = k1
        postings: dict[str, tuple[list[int], list[float]]] = {}
        for i, c in enumerate(counted):
            norm = k1 * (1.0 - b + b * lengths[i] / avg)
            for term, tf in c.items():
                w = self.idf[term] * tf * (k1 + 1.0) / (tf + norm)
                ids, ws = postings.setdefault(term, ([], []))
                ids.append(i)
                ws.append(w)
        self.postings = {t: (np.array(ids, dtype=np.int32), np.array(ws)) for t, (ids, ws) in postings.items()}

    def scores(self, query: Iterable[str]) -> np.ndarray:
        """Raw BM25 score of every document (query terms counted once each)."""
        out = np.zeros(self.n_docs)
        for term in set(query):
            hit = self.postings.get(term)
            if hit is not None:
                out[hit[0]] += hit[1]
        return out

    def ceiling(self, query: Iterable[str], *, unknown_weight: float = 0.5) -> float:
        """The best score any document could reach for this query.

        Known terms count with their idf; words no entry contains count with a share of
        the maximum idf, so a long message about something else scores low instead of
        being judged only on the one word it shares with an entry.
        """
        total = 0.0
        for term in set(query):
            idf = self.idf.get(term)
            total += idf if idf is not None else unknown_weight * self.max_idf
        return total * (self.k1 + 1.0)

    def normalized(self, query: Sequence[str], *, unknown_weight: float = 0.5) -> np.ndarray:
        """Scores divided by the ceiling: roughly the share of the query an entry covers."""
        top = self.ceiling(query, unknown_weight=unknown_weight)
        if top <= 0.0:
            return np.zeros(self.n_docs)
        return np.minimum(self.scores(query) / top, 1.0)
