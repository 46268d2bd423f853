"""Fitting the re-ranker (rerank.py) on the labelled questions, for KnowledgeIndex.build.

Each labelled question is searched like a resident's message; its top candidates become
rows (1 for the expected entry, 0 for the others). The "neighbour" feature of a question
leaves the question itself out, so the model learns how much a *similar* resident question
is worth, not an exact copy.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import sklearn

from knowledge.cachefile import read_pickle, write_pickle
from knowledge.classify import out_of_fold
from knowledge.embedding import cached_embeddings
from knowledge.intents import flags
from knowledge.normalize import normalize
from knowledge.rerank import CANDIDATES, Features, Labelled, Reranker, fit, load_training
from knowledge.tokenize import analysis_fingerprint

if TYPE_CHECKING:
    from knowledge.retrieval import KnowledgeIndex


def entry_flag_profile(index: KnowledgeIndex) -> np.ndarray:
    """Per entry, the share of its title and examples carrying each intent/person flag."""
    from knowledge.retrieval import entry_texts

    return np.array([np.mean([flags(t) for t in entry_texts(e)], axis=0) for e in index.entries])


def training_rows(
    index: KnowledgeIndex, features: Features, labelled: list[Labelled], vectors: np.ndarray | None, classified: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(x, y, group) over every labelled question's candidates; group = question number.
    `classified`: each question's out-of-fold classifier probabilities (classify.out_of_fold)."""
    xs, ys, groups = [], [], []
    row_of = {e.id: i for i, e in enumerate(index.entries)}
    for j, item in enumerate(labelled):
        vector = vectors[j] if vectors is not None else None
        blended, lexical, dense = index.score_all(item.text, vector)
        rows = index.candidates(item.tenant, blended, CANDIDATES)
        near = features.neighbour(vector, rows, j, *index._span())
        xs.append(features.build(item.tenant, item.text, rows, blended, lexical, dense, near, classified[j]))
        ys.append((rows == row_of[item.expected]).astype(int))
        groups.append(np.full(len(rows), j))
    return np.vstack(xs), np.concatenate(ys), np.concatenate(groups)


def prepare(index: KnowledgeIndex, cache_dir: Path | None, labelled: list[Labelled] | None = None) -> tuple[Features, list[Labelled], np.ndarray | None]:
    labelled = labelled if labelled is not None else load_training(index.catalog, only_known=True)
    vectors = None
    if index.embedder is not None:
        vectors, _ = cached_embeddings(index.embedder, [normalize(r.text) for r in labelled], cache_dir)
    row_of = {e.id: i for i, e in enumerate(index.entries)}
    owner = np.array([row_of[r.expected] for r in labelled], dtype=np.int64)
    return Features(index.entries, entry_flag_profile(index), vectors, owner), labelled, vectors


def with_classifier(index: KnowledgeIndex, features: Features, labelled: list[Labelled], vectors: np.ndarray | None) -> tuple[Features, np.ndarray]:
    """`features` with an entry classifier fitted on the entries' texts and `labelled`, and
    the labelled questions' out-of-fold probabilities for the re-ranker's training rows."""
    from knowledge.retrieval import entry_texts

    base_texts = [normalize(t) for e in index.entries for t in entry_texts(e)]
    base_owners = np.array([i for i, e in enumerate(index.entries) for _ in entry_texts(e)], dtype=np.int64)
    owners = np.array([features.train_owner[j] for j in range(len(labelled))], dtype=np.int64)
    classifier, oof = out_of_fold(
        len(index.entries), base_texts, index.vectors, base_owners, [normalize(r.text) for r in labelled], vectors, owners
    )
    return Features(features.entries, features.entry_flags, features.train_vectors, features.train_owner, classifier), oof


def train_reranker(index: KnowledgeIndex, cache_dir: Path | None) -> Reranker:
    """The re-ranker for exactly these entries and labelled questions: from the disk cache when
    one was fitted on the same content (a fit over some thousands of questions takes a few
    seconds of CPU that every process start, `frontdoor ask` included, would pay), else fitted
    and cached."""
    labelled = load_training(index.catalog, only_known=True)
    path = _cache_file(index, labelled, cache_dir)
    reranker = read_pickle(path, Reranker)
    if reranker is not None:
        reranker.features.entries = index.entries
        return reranker
    features, labelled, vectors = prepare(index, cache_dir, labelled)
    features, classified = with_classifier(index, features, labelled, vectors)
    x, y, _ = training_rows(index, features, labelled, vectors, classified)
    reranker = Reranker(features, fit(x, y), trained_on=len(labelled))
    write_pickle(path, reranker)
    return reranker


# Bump when the features or the fit change in a way the content key cannot see.
RERANK_VERSION = "4"


def _cache_file(index: KnowledgeIndex, labelled: list[Labelled], cache_dir: Path | None) -> Path | None:
    if cache_dir is None:
        return None
    digest = hashlib.sha256(
        f"{RERANK_VERSION}\0{sklearn.__version__}\0{index.embedder.name if index.embedder else '-'}\0{analysis_fingerprint(index.analyzer.mode_name)}".encode()
    )
    for entry in index.entries:
        digest.update(entry.model_dump_json().encode("utf-8"))
    for lexicon in sorted(Path(__file__).parent.glob("*.yaml")):  # intents, variants: the features' words
        digest.update(lexicon.read_bytes())
    for row in labelled:
        digest.update(f"\0{row.tenant}\0{row.expected}\0{row.text}".encode())
    return cache_dir / "rerank" / f"rerank-{digest.hexdigest()[:24]}.pkl"
