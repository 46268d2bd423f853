"""Emergency and crisis numbers, as data (`handoff/data/emergency_contacts.yaml`).

The numbers are pinned by tests against the official ones: a misprinted crisis line in a
first reply to someone at risk is worse than none."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import re

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.triage import Kind, read_yaml

CONTACTS_FILE = Path(__file__).parent / "data" / "emergency_contacts.yaml"
_NUMBER = r"^(?:#\d{4}|1\d{2}|0\d{2,4}-\d{2,4}-\d{3,4})$"


class EmergencyContact(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z_]+$")
    name: str
    numbers: tuple[str, ...] = Field(min_length=1)
    hours: str  # resident-facing text
    when_to_use: str  # resident-facing text
    kinds: tuple[Kind, ...] = ()  # risk kinds this line fits
    always_open: bool = False  # a 24h line for "outside staffed hours" replies

    @field_validator("numbers")
    @classmethod
    def _well_formed(cls, numbers: tuple[str, ...]) -> tuple[str, ...]:
        bad = [n for n in numbers if not re.match(_NUMBER, n)]
        if bad:
            raise ValueError(f"malformed numbers: {bad}")
        return numbers

    @property
    def number(self) -> str:
        return self.numbers[0]

    def label(self) -> str:
        """「よりそいホットライン 0120-279-338（24時間）」"""
        return f"{self.name} {'／'.join(self.numbers)}（{self.hours}）"


class Contacts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    contacts: tuple[EmergencyContact, ...] = Field(min_length=1)

    @field_validator("contacts")
    @classmethod
    def _unique(cls, contacts: tuple[EmergencyContact, ...]) -> tuple[EmergencyContact, ...]:
        ids = [c.id for c in contacts]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate contact ids")
        return contacts

    def __getitem__(self, contact_id: str) -> EmergencyContact:
        for contact in self.contacts:
            if contact.id == contact_id:
                return contact
        raise KeyError(contact_id)

    def always_open(self) -> tuple[EmergencyContact, ...]:
        return tuple(c for c in self.contacts if c.always_open)


def load_contacts(path: Path | None = None) -> Contacts:
    """Load and validate the contacts file (raises on bad data)."""
    if path is None:
        return _default()
    return _read(path)


def _read(path: Path) -> Contacts:
    return Contacts.model_validate(read_yaml(path))


@lru_cache(maxsize=1)
def _default() -> Contacts:
    return _read(CONTACTS_FILE)
