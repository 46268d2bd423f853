"""Hybrid retrieval: BM25 on Sudachi words and katakana-reading bigrams, blended with
dense sentence embeddings.

Why both: lexical matching is exact and explains itself, and the reading field catches
kana-only and mistyped words, but a resident's word often belongs to several entries
(電話 in an absence notice, a schedule change, a pause). The embedding reads the whole
sentence (明日は出かける → absence) and breaks those ties; the lexical side keeps the
embedding honest on rare, precise terms (ステッカー, 包括).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from knowledge.catalog import Catalog, Entry
from knowledge.embedding import Embedder, cache_path, cached_embeddings, load_embedder, prune_cache
from knowledge.lexical import BM25
from knowledge.normalize import normalize
from knowledge.rerank import CANDIDATES, Reranker
from knowledge.tokenize import Analyzer, bigrams

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Weights:
    """Blend weights, measured on tests/knowledge/eval_questions.jsonl (bench/retrieval_accuracy.py)."""

    words: float = 0.3
    reading: float = 0.3
    dense: float = 0.4
    unknown_weight: float = 0.5


@dataclass(frozen=True)
class Match:
    entry: Entry
    score: float
    lexical: float = 0.0
    dense: float = 0.0
    # The re-ranker's probability that this is the entry meant (None: no re-ranker).
    prob: float | None = None


@dataclass
class BuildStats:
    entries: int
    texts: int
    embedder: str | None
    from_cache: bool
    seconds: float
    cache_file: Path | None = None
    details: dict[str, float] = field(default_factory=dict)


def entry_texts(entry: Entry) -> list[str]:
    """What residents' messages are compared with: the title and every example question."""
    return [entry.title, *entry.example_questions]


class KnowledgeIndex:
    """Built once at start-up; `search` never re-tokenizes or re-embeds the entries."""

    def __init__(
        self,
        catalog: Catalog,
        *,
        analyzer: Analyzer,
        embedder: Embedder | None,
        vectors: np.ndarray | None,
        weights: Weights,
        stats: BuildStats,
    ) -> None:
        self.catalog = catalog
        self.entries: tuple[Entry, ...] = catalog.entries
        self.analyzer = analyzer
        self.embedder = embedder
        self.weights = weights
        self.stats = stats
        self._tenant_rows: dict[str, np.ndarray] = {}
        word_docs, reading_docs = [], []
        for entry in self.entries:
            analyses = [analyzer.analyze(t) for t in entry_texts(entry)]
            word_docs.append([w for a in analyses for w in a.words])
            reading_docs.append([g for a in analyses for g in bigrams(a.reading)])
        self.words = BM25(word_docs)
        self.reading = BM25(reading_docs)
        # Vectors are grouped by entry, in entry order; reduceat takes each group's max.
        counts = [len(entry_texts(e)) for e in self.entries]
        self._group_starts = np.concatenate([[0], np.cumsum(counts)[:-1]]).astype(np.int64)
        self.vectors = vectors
        self.reranker: Reranker | None = None
        # A message identical to an entry text (a tapped suggestion, `kb validate` checking
        # examples) reuses the stored vector instead of running the model again.
        self._known_rows: dict[str, int] = {}
        if vectors is not None:
            texts = [normalize(t) for e in self.entries for t in entry_texts(e)]
            for row, text in enumerate(texts):
                self._known_rows.setdefault(text, row)

    @classmethod
    def build(
        cls,
        catalog: Catalog,
        cache_dir: Path | None,
        *,
        embedder: Embedder | None | str = "default",
        weights: Weights | None = None,
        split_mode: str = "B",
        rerank: bool = True,
    ) -> KnowledgeIndex:
        """Analyze every entry and load (or compute and cache) their embeddings.

        `embedder="default"` loads the bundled model; `None` builds a lexical-only index
        (used by the baseline comparison and as a fallback when the model cannot load).
        `rerank=False` keeps the hybrid order (the baseline of bench/answers_blind.py).
        """
        started = time.perf_counter()
        if embedder == "default":
            try:
                embedder = load_embedder()
            except Exception:  # an install problem must degrade retrieval, not stop the app
                log.exception("embedding model failed to load; falling back to lexical retrieval")
                embedder = None
        texts = [normalize(t) for e in catalog.entries for t in entry_texts(e)]
        vectors, from_cache, path = None, False, None
        if embedder is not None:
            vectors, from_cache = cached_embeddings(embedder, texts, cache_dir)
            path = cache_path(cache_dir, embedder.name, texts) if cache_dir else None
        weights = weights or Weights()
        if embedder is None:
            weights = Weights(words=0.6, reading=0.4, dense=0.0, unknown_weight=weights.unknown_weight)
        stats = BuildStats(
            entries=len(catalog),
            texts=len(texts),
            embedder=embedder.name if embedder else None,
            from_cache=from_cache,
            seconds=0.0,
            cache_file=path,
        )
        index = cls(
            catalog, analyzer=Analyzer(split_mode), embedder=embedder, vectors=vectors, weights=weights, stats=stats
        )
        if rerank:
            from knowledge.rerank_train import train_reranker

            index.reranker = train_reranker(index, cache_dir)
            stats.details["rerank_trained_on"] = float(index.reranker.trained_on)
        stats.seconds = time.perf_counter() - started
        return index

    def rows_for(self, tenant: str) -> np.ndarray:
        rows = self._tenant_rows.get(tenant)
        if rows is None:
            rows = np.array([i for i, e in enumerate(self.entries) if e.visible_to(tenant)], dtype=np.int64)
            self._tenant_rows[tenant] = rows
        return rows

    def dense_scores(self, text: str, vector: np.ndarray | None = None) -> np.ndarray:
        """Per entry: the best cosine between the message and any of its texts, rescaled to 0..1.

        `vector` is the message's embedding when the caller already has it (triage embeds
        each message once for both)."""
        assert self.embedder is not None and self.vectors is not None
        norm = normalize(text)
        row = self._known_rows.get(norm)
        if row is not None:
            query = self.vectors[row]
        else:
            query = vector if vector is not None else self.embedder.embed([norm])[0]
        sims = self.vectors @ query
        best = np.maximum.reduceat(sims, self._group_starts)
        lo, hi = self.embedder.floor, self.embedder.ceiling
        return np.clip((best - lo) / (hi - lo), 0.0, 1.0)

    def score_all(self, text: str, vector: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(blended, lexical, dense) scores for every entry, before the tenant filter."""
        w = self.weights
        analysis = self.analyzer.analyze(text)
        lex_words = self.words.normalized(analysis.words, unknown_weight=w.unknown_weight)
        lex_reading = self.reading.normalized(bigrams(analysis.reading), unknown_weight=w.unknown_weight)
        lex_total = w.words + w.reading
        lexical = (w.words * lex_words + w.reading * lex_reading) / lex_total if lex_total else lex_words * 0
        if self.embedder is not None and w.dense > 0:
            dense = self.dense_scores(text, vector)
        else:
            dense = np.zeros(len(self.entries))
        blended = lex_total * lexical + w.dense * dense
        return blended, lexical, dense

    def candidates(self, tenant: str, blended: np.ndarray, k: int) -> np.ndarray:
        """Rows of the k best entries by the hybrid score that this tenant may see."""
        rows = self.rows_for(tenant)
        return rows[np.argsort(-blended[rows], kind="stable")][:k]

    def search(self, tenant: str, text: str, k: int = 3, *, vector: np.ndarray | None = None) -> list[Match]:
        """The k best entries this tenant may see, best first (re-ranked when trained)."""
        if not normalize(text):
            return []
        if self.embedder is not None and vector is None:
            row = self._known_rows.get(normalize(text))  # embed once, for dense and neighbours
            vector = self.vectors[row] if row is not None else self.embedder.embed([normalize(text)])[0]
        blended, lexical, dense = self.score_all(text, vector)
        if self.reranker is None:
            order = self.candidates(tenant, blended, k)
            probs = [None] * len(order)
        else:
            rows = self.candidates(tenant, blended, CANDIDATES)
            features = self.reranker.features
            near = features.neighbour(vector, rows, None, *self._span())
            x = features.build(tenant, text, rows, blended, lexical, dense, near, features.classify(text, vector))
            p = self.reranker.scores(x)
            keep = np.argsort(-p, kind="stable")[:k]
            order, probs = rows[keep], [float(v) for v in p[keep]]
        return [
            Match(self.entries[i], float(blended[i]), lexical=float(lexical[i]), dense=float(dense[i]), prob=pr)
            for i, pr in zip(order, probs, strict=True)
        ]

    def _span(self) -> tuple[float, float]:
        """The embedder's unrelated floor and same-question ceiling (for rescaling cosines)."""
        return (self.embedder.floor, self.embedder.ceiling) if self.embedder is not None else (0.0, 1.0)

    def get(self, entry_id: str) -> Entry:
        return self.catalog.get(entry_id)


def reindex(catalog: Catalog, cache_dir: Path) -> BuildStats:
    """Rebuild the index and its embedding cache for `frontdoor kb reindex`; drop stale cache files."""
    index = KnowledgeIndex.build(catalog, cache_dir)
    if index.stats.cache_file is not None:
        removed = prune_cache(cache_dir, keep=index.stats.cache_file)
        index.stats.details["stale_files_removed"] = float(len(removed))
    return index.stats
