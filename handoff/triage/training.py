"""The labelled messages the risk model learns from, as versioned content.

`handoff/training/data/*.jsonl` holds one message a line, labelled by the policy in
`handoff/training/POLICY.md` (level, kind, who is at risk, tenant). Several writers each
wrote in their own voice (elderly, relatives and neighbours, young people, working-age
adults, regional dialects); who wrote what is not kept in the data.
The same schema reads the blind development set in `bench/data/triage_dev/`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from handoff.triage.kinds import Kind, Subject

TRAINING_DIR = Path(__file__).resolve().parent.parent / "training" / "data"
Level = Literal["none", "urgent", "emergency"]


class Example(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    text: str = Field(min_length=1, max_length=2000)
    level: Level
    kind: Kind | None = None
    subject: Subject
    tenant: Literal["kashiwa", "setagaya", "any"] = "any"
    tricky: bool = False
    topic: str | None = Field(default=None, pattern=r"^(common|kashiwa|setagaya)\.[a-z0-9_]+$")

    @model_validator(mode="after")
    def _consistent(self) -> Example:
        if self.level != "none" and self.kind is None:
            raise ValueError("an urgent or emergency example needs a kind")
        if self.tricky and self.level != "none":
            raise ValueError("only a `none` example can be tricky")
        return self


class DataError(ValueError):
    """A labelled file that does not follow the schema (file and line in the message)."""


def read_jsonl(path: Path) -> list[Example]:
    examples = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            examples.append(Example.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as exc:
            raise DataError(f"{path.name}:{number}: {exc}") from exc
    return examples


def load_examples(paths: Iterable[Path] | Path = TRAINING_DIR) -> list[Example]:
    """Every example of a directory (sorted file names) or of the given files; a text that
    appears twice keeps its first label."""
    if isinstance(paths, Path):
        paths = sorted(paths.glob("*.jsonl")) if paths.is_dir() else [paths]
    seen: dict[str, Example] = {}
    for path in paths:
        for example in read_jsonl(path):
            seen.setdefault(example.text, example)
    return list(seen.values())


def content_hash(examples: Iterable[Example]) -> str:
    digest = hashlib.sha256()
    for e in examples:
        digest.update(e.model_dump_json().encode("utf-8") + b"\n")
    return digest.hexdigest()[:16]
