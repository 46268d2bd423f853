"""Requests a counselor records in the console rather than a resident in chat (a 多機関協働
referral, Kashiwa 002 §7(2)): the posted values are checked against the same form definition
the bot uses, with one Japanese message per field, and a bad entry is shown back with
everything the counselor typed kept. Pure functions, no I/O."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from handoff.requests.forms import FormDefinition, Forms

REFERRAL = "kashiwa.referral"
MAX_TEXT = 500


@dataclass(frozen=True)
class Entry:
    fields: dict[str, str] = field(default_factory=dict)  # what is stored (choices joined by 、)
    errors: dict[str, str] = field(default_factory=dict)  # field name → Japanese message
    values: dict[str, list[str]] = field(default_factory=dict)  # as posted, to fill the form again


@dataclass(frozen=True)
class Slot:
    """A console page's form for a staff-recorded request: where it is recorded from."""

    form: FormDefinition
    conversation_id: uuid.UUID
    case_id: uuid.UUID | None
    today: date
    entry: Entry = field(default_factory=Entry)


def slot(forms: Forms, *, kind: str, tenant_id: str, conversation_id: uuid.UUID, case_id: uuid.UUID | None, today: date) -> Slot | None:
    """The form on a case or conversation page, when this tenant has it (Kashiwa only)."""
    if kind not in forms or tenant_id not in forms.get(kind).tenants:
        return None
    return Slot(forms.get(kind), conversation_id, case_id, today)


def read(form: FormDefinition, posted: Mapping[str, Sequence[str]], *, today: date) -> Entry:
    """Each field of `form` from the posted values: choices only from the form's options,
    dates from `<input type=date>` and not after today, text trimmed and capped."""
    fields: dict[str, str] = {}
    errors: dict[str, str] = {}
    values = {f.name: [str(v) for v in posted.get(f.name, ())] for f in form.fields}
    for f in form.fields:
        given = [v.strip() for v in values[f.name] if v.strip()]
        if not given:
            if f.required:
                errors[f.name] = f"「{f.label}」を{'選んで' if f.type in ('choice', 'choices') else '入力して'}ください。"
            continue
        if f.type in ("choice", "choices"):
            unknown = [v for v in given if v not in f.options]
            if unknown or (f.type == "choice" and len(given) > 1):
                errors[f.name] = f"「{f.label}」は一覧から選んでください。"
                continue
            fields[f.name] = "、".join(o for o in f.options if o in given)
        elif f.type in ("date", "dates", "date_or_undecided"):
            try:
                day = date.fromisoformat(given[0])
            except ValueError:
                errors[f.name] = f"「{f.label}」は日付（例：{today.isoformat()}）で入力してください。"
                continue
            if day > today:
                errors[f.name] = f"「{f.label}」に、先の日付は入力できません。"
                continue
            fields[f.name] = day.isoformat()
        else:
            fields[f.name] = given[0][:MAX_TEXT]
    return Entry(fields=fields, errors=errors, values=values)
