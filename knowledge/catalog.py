"""The curated knowledge entries: schema, loading and structural checks.

Entries are YAML files under knowledge/entries/{common,kashiwa,setagaya}/, one topic each.
They are validated at start-up (load_catalog raises on any problem) and in tests, so a
broken entry never reaches a resident.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from knowledge.normalize import normalize

ENTRIES_DIR = Path(__file__).with_name("entries")

Tenant = Literal["kashiwa", "setagaya", "common"]
TENANTS: tuple[str, ...] = ("kashiwa", "setagaya")
FollowUp = Literal["none", "talk_to_human", "phone_callback", "face_to_face", "email", "missing_person_intake"]

# Setagaya 003 別紙6 1-1: the categories incoming calls are counted under.
SETAGAYA_CATEGORIES = ("相談", "ボランティア", "電話訪問関連", "見守りステッカー", "医療・介護", "問合せ", "その他")
# Kashiwa situation categories for the monthly report (002 §8(4)).
KASHIWA_CATEGORIES = ("高齢", "障害", "子ども・子育て", "生活困窮", "こころ", "複合", "その他")
CATEGORIES: dict[str, tuple[str, ...]] = {"setagaya": SETAGAYA_CATEGORIES, "kashiwa": KASHIWA_CATEGORIES}

MIN_EXAMPLES = 8


class CatalogError(ValueError):
    """One or more entries are invalid; the message lists every problem."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class Entry(BaseModel):
    """One topic a resident may ask about, with the curated answer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^(common|kashiwa|setagaya)\.[a-z][a-z0-9_]*$")
    tenant: Tenant
    title: str = Field(min_length=2, max_length=40)
    # Issue 15: a clarifying question offers what the resident might want to do
    # (「電話訪問をお休みしたい」), not the entry's title.
    choice: str = Field(min_length=2, max_length=24)
    # Entries with the same need are never offered side by side: either answer serves.
    need: str | None = None
    # Urgent entries (emergency, crisis, a missing person) are answered, never asked about.
    urgent: bool = False
    answer: str = Field(min_length=10)
    example_questions: tuple[str, ...]
    report_category: str | None
    follow_up: FollowUp
    source: str = Field(min_length=5)
    reviewed_at: dt.date

    @field_validator("answer", "title")
    @classmethod
    def _strip(cls, value: str) -> str:
        return value.strip()

    @field_validator("example_questions")
    @classmethod
    def _examples(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(q.strip() for q in value if q and q.strip())
        if len(cleaned) < MIN_EXAMPLES:
            raise ValueError(f"needs at least {MIN_EXAMPLES} example questions, has {len(cleaned)}")
        seen: set[str] = set()
        for q in cleaned:
            key = normalize(q)
            if key in seen:
                raise ValueError(f"duplicate example question {q!r}")
            seen.add(key)
        return cleaned

    @model_validator(mode="after")
    def _consistent(self) -> Entry:
        if not self.id.startswith(self.tenant + "."):
            raise ValueError(f"id {self.id!r} must start with its tenant {self.tenant!r}")
        if self.report_category is not None and self.tenant != "common":
            if self.report_category not in CATEGORIES[self.tenant]:
                raise ValueError(f"report_category {self.report_category!r} is not one of {CATEGORIES[self.tenant]}")
        if self.report_category is None and self.tenant == "kashiwa":
            raise ValueError("kashiwa entries need a report_category")
        # Setagaya 003 別紙6: missing-person intakes are counted in §5, not in the §1-1 categories.
        if self.report_category is None and self.tenant == "setagaya" and self.follow_up != "missing_person_intake":
            raise ValueError("setagaya entries need a report_category (null only for missing-person intake)")
        if self.report_category is not None and self.tenant == "common":
            if self.report_category not in SETAGAYA_CATEGORIES + KASHIWA_CATEGORIES:
                raise ValueError(f"unknown report_category {self.report_category!r}")
        return self

    @property
    def need_key(self) -> str:
        return self.need or self.id

    def visible_to(self, tenant: str) -> bool:
        return self.tenant == tenant or self.tenant == "common"


class Catalog:
    """All entries, in a stable order (by id), with lookups by id and by tenant."""

    def __init__(self, entries: list[Entry]) -> None:
        problems = check_entries(entries)
        if problems:
            raise CatalogError(problems)
        self.entries: tuple[Entry, ...] = tuple(sorted(entries, key=lambda e: e.id))
        self._by_id = {e.id: e for e in self.entries}

    def __iter__(self) -> Iterator[Entry]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, entry_id: object) -> bool:
        return entry_id in self._by_id

    def get(self, entry_id: str) -> Entry:
        return self._by_id[entry_id]

    def for_tenant(self, tenant: str) -> list[Entry]:
        """A tenant sees its own entries plus the common ones."""
        return [e for e in self.entries if e.visible_to(tenant)]


def check_entries(entries: list[Entry]) -> list[str]:
    """Problems that span entries: duplicate ids, and example questions shared by two entries."""
    problems: list[str] = []
    seen: dict[str, str] = {}
    owner: dict[tuple[str, str], str] = {}
    for e in entries:
        if e.id in seen:
            problems.append(f"{e.id}: duplicate id")
        seen[e.id] = e.id
        for q in e.example_questions:
            key = (e.tenant, normalize(q))
            if key in owner and owner[key] != e.id:
                problems.append(f"{e.id}: example {q!r} also belongs to {owner[key]}")
            owner[key] = e.id
    return problems


def load_entry(path: Path) -> Entry:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return Entry.model_validate(data)


def load_catalog(path: Path | None = None) -> Catalog:
    """Load and validate every entries/**/*.yaml; raise CatalogError listing all problems."""
    root = path or ENTRIES_DIR
    entries: list[Entry] = []
    problems: list[str] = []
    files = sorted(root.rglob("*.yaml"))
    if not files:
        raise CatalogError([f"no entries under {root}"])
    for file in files:
        rel = file.relative_to(root)
        try:
            entry = load_entry(file)
        except (ValidationError, yaml.YAMLError, TypeError) as exc:
            problems.append(f"{rel}: {exc}")
            continue
        if len(rel.parts) > 1 and rel.parts[0] != entry.tenant:
            problems.append(f"{rel}: tenant {entry.tenant!r} but stored under {rel.parts[0]}/")
        entries.append(entry)
    problems.extend(check_entries(entries))
    if problems:
        raise CatalogError(problems)
    return Catalog(entries)
