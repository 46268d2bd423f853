"""What a resident wants to do (change, stop, pause, tell an absence, start, report a loss,
report a finding, ask the hours) and who it is about, from the cues in intents.yaml.

Sibling entries share their nouns (電話訪問, ステッカー); they differ in the verb. These
flags are features of the re-ranker (rerank.py), compared with each entry's own examples,
so no entry needs a hand-set label.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml

from knowledge.normalize import normalize

INTENTS_PATH = Path(__file__).with_name("intents.yaml")


@lru_cache(maxsize=1)
def _lexicon() -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...]]:
    data = yaml.safe_load(INTENTS_PATH.read_text(encoding="utf-8"))
    names, cues = [], []
    for group in ("intents", "who"):
        for name, words in data[group].items():
            if not words:
                raise ValueError(f"{INTENTS_PATH.name}: {group}.{name} has no cues")
            names.append(f"{group}.{name}")
            cues.append(tuple(normalize(w) for w in words))
    return tuple(names), tuple(cues)


def flag_names() -> tuple[str, ...]:
    return _lexicon()[0]


def flags(text: str) -> np.ndarray:
    """One 0/1 flag per intent and per person, in flag_names() order."""
    norm = normalize(text)
    _, cues = _lexicon()
    return np.array([float(any(c in norm for c in group)) for group in cues])
