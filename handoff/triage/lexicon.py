"""Schemas and loading of the rule lexicon (`handoff/lexicon/*.yaml`), validated at start-up.

The words themselves are data; this module only says what shape they must have."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from handoff.triage.kinds import SINGLE_CATEGORIES, Context, Kind

LEXICON_DIR = Path(__file__).resolve().parent.parent / "lexicon"

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RuleSpec(_Strict):
    id: str = Field(pattern=r"^[a-z_]+\.[a-z0-9_]+$")
    level: Literal["urgent", "emergency"]
    kind: Kind
    hard: bool = False  # method / plan / time / act: no context can drop it
    # A present act that only its own clause's context can drop (denied, past, a what-if, a
    # lesson, settled later): when it fires it sets the floor as a hard rule does.
    floor: bool = False
    patterns: list[str] = Field(min_length=1)
    unless: list[str] = []  # clause-level exclusions (e.g. 木が倒れた)
    requires: list[str] = []  # at least one must occur somewhere in the message
    ignore: list[Context] = []  # soft-rule contexts that do NOT drop this rule
    examples: list[str] = []  # must fire (checked by tests)
    counterexamples: list[str] = []  # must not fire (checked by tests)

    @model_validator(mode="after")
    def _hard_has_no_ignore(self) -> RuleSpec:
        if self.hard and self.ignore:
            raise ValueError(f"{self.id}: a hard rule ignores every context already")
        if self.hard and self.floor:
            raise ValueError(f"{self.id}: a hard rule sets the floor already; `floor` is for soft rules")
        return self


class Escalation(_Strict):
    id: str = Field(pattern=r"^escalate\.[a-z0-9_]+$")
    when_kinds: list[Kind] = Field(min_length=1)
    cues: list[str] = Field(min_length=1)
    to_kind: Kind


class RulesFile(_Strict):
    macros: dict[str, str] = {}
    rules: list[RuleSpec] = Field(min_length=1)
    escalations: list[Escalation] = []

    @field_validator("rules")
    @classmethod
    def _unique_ids(cls, rules: list[RuleSpec]) -> list[RuleSpec]:
        require_unique([r.id for r in rules], "rule ids")
        return rules


def require_unique(values: list[str], what: str) -> None:
    """Content files name things once; a second entry would silently shadow the first."""
    dupes = {v for v in values if values.count(v) > 1}
    if dupes:
        raise ValueError(f"duplicate {what}: {sorted(dupes)}")


class Cue(_Strict):
    pattern: str
    kinds: list[Kind] = []  # empty: applies to every kind
    except_kinds: list[Kind] = []


class ContextFile(_Strict):
    emoji: dict[str, str] = {}
    idioms: list[str] = []
    clause_breaks: list[str] = Field(min_length=1)
    negation: list[str] = Field(min_length=1)  # anchored right after a match
    past: list[Cue] = []
    info: list[Cue] = []
    resolved: list[Cue] = []
    service: list[Cue] = []  # a request about one of our services (semantic veto only)
    courtesies: list[str] = []  # a thank-you or an acknowledgement that is the whole message
    openers: list[str] = []  # an opener that only announces a question and is the whole message


class CategoriesFile(_Strict):
    cues: dict[str, list[str]]
    kind_defaults: dict[Kind, str] = {}

    @model_validator(mode="after")
    def _known_categories(self) -> CategoriesFile:
        bad = (set(self.cues) | set(self.kind_defaults.values())) - set(SINGLE_CATEGORIES)
        if bad:
            raise ValueError(f"unknown report categories: {sorted(bad)}")
        return self



class _UniqueKeyLoader(yaml.SafeLoader):
    """A YAML loader that refuses duplicate keys (a second `examples:` silently wins otherwise)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001, ANN201, D102
        keys = [self.construct_object(k, deep=deep) for k, _ in node.value]
        dupes = {k for k in keys if keys.count(k) > 1}
        if dupes:
            raise ValueError(f"duplicate keys {sorted(map(str, dupes))} at {node.start_mark}")
        return super().construct_mapping(node, deep=deep)


def read_yaml(path: Path) -> object:
    with path.open(encoding="utf-8") as fh:
        return yaml.load(fh, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass


def _read(name: str, model: type[BaseModel], directory: Path) -> BaseModel:
    return model.model_validate(read_yaml(directory / name))



class Lexicon(BaseModel):
    model_config = ConfigDict(frozen=True)
    rules: RulesFile
    context: ContextFile
    categories: CategoriesFile


def load_lexicon(directory: Path = LEXICON_DIR) -> Lexicon:
    """Read and validate the three lexicon files (pydantic.ValidationError / ValueError on bad data)."""
    return Lexicon(
        rules=_read("rules.yaml", RulesFile, directory),
        context=_read("context.yaml", ContextFile, directory),
        categories=_read("categories.yaml", CategoriesFile, directory),
    )
