"""Fitted models cached on disk beside the embedding cache (the re-ranker, the risk model).

A cache file is ours and keyed by content, so a torn or stale one is refitted, never fatal;
it is written to a temporary file and renamed, so that processes starting together (the
inference pool) never read half a file.
"""

from __future__ import annotations

import logging
import os
import pickle
import tempfile
from functools import cached_property
from pathlib import Path
from typing import TypeVar

log = logging.getLogger(__name__)
T = TypeVar("T")


class DerivedOnLoad:
    """For a cached model: its `functools.cached_property` values (analyzers, transposed
    coefficients, sorted copies for the hot path) are built once per loaded model and never
    pickled. They are derived from the fitted state, and an analyzer closure cannot be
    pickled at all."""

    def __getstate__(self) -> dict:
        derived = {name for klass in type(self).__mro__ for name, value in vars(klass).items() if isinstance(value, cached_property)}
        return {k: v for k, v in self.__dict__.items() if k not in derived}


def read_pickle(path: Path | None, kind: type[T]) -> T | None:
    if path is None or not path.exists():
        return None
    try:
        with path.open("rb") as fh:
            value = pickle.load(fh)  # noqa: S301 - our own cache file (write_pickle)
    except Exception:
        log.warning("unreadable cache file %s; refitting", path)
        return None
    return value if isinstance(value, kind) else None


def write_pickle(path: Path | None, value: object) -> None:
    if path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".pkl.tmp")
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(value, fh)
    os.replace(tmp, path)
