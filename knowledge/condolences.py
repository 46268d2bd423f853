"""Condolences for a reported death (issue 14 §3): a relative writing that a parent died,
to cancel phone visits or ask about procedures, is answered with condolences and the
answer they asked for — not with the emergency text (triage leaves a calmly reported death
at `none`; its training data holds many). The words are data: knowledge/condolences.yaml."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field

CONDOLENCES_FILE = Path(__file__).with_name("condolences.yaml")


class CondolencesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(min_length=1)
    cues: list[str] = Field(min_length=1)
    unless: list[str] = []


@dataclass(frozen=True)
class Condolences:
    text: str
    cue: re.Pattern[str]
    unless: re.Pattern[str] | None

    def reports_a_death(self, message: str) -> bool:
        norm = unicodedata.normalize("NFKC", message)
        return bool(self.cue.search(norm)) and not (self.unless and self.unless.search(norm))


@lru_cache(maxsize=2)
def load_condolences(path: Path = CONDOLENCES_FILE) -> Condolences:
    data = CondolencesFile.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    return Condolences(
        data.text,
        re.compile("|".join(f"(?:{c})" for c in data.cues)),
        re.compile("|".join(f"(?:{u})" for u in data.unless)) if data.unless else None,
    )
