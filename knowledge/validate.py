"""Checks behind `frontdoor kb validate`: everything that can be wrong with the content.

Schema and duplicate ids are checked again here (not only at load) so that the command
reports every problem in one run; placeholders are rendered against each tenant that
can see the entry; and each example question must retrieve its own entry, because an
example that lands elsewhere means two entries overlap and residents will be confused.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from knowledge.catalog import TENANTS, Catalog, Entry, check_entries
from knowledge.render import UnknownFactError, placeholders, render
from knowledge.retrieval import KnowledgeIndex


def _tenants_of(entry: Entry) -> tuple[str, ...]:
    return TENANTS if entry.tenant == "common" else (entry.tenant,)


def validate_catalog(
    catalog: Catalog, index: KnowledgeIndex, tenant_facts: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """Every problem found, one line each; an empty list means the content is fine."""
    problems: list[str] = []
    entries = list(catalog)
    for entry in entries:
        try:
            Entry.model_validate(entry.model_dump())
        except ValidationError as exc:
            problems.append(f"{entry.id}: schema: {exc}")
    problems.extend(check_entries(entries))

    for entry in entries:
        for tenant in _tenants_of(entry):
            facts = tenant_facts.get(tenant)
            if facts is None:
                problems.append(f"{entry.id}: no facts given for tenant {tenant}")
                continue
            missing = sorted(placeholders(entry.answer) - set(facts))
            if missing:
                problems.append(f"{entry.id}: unknown facts for {tenant}: {', '.join(missing)}")
                continue
            try:
                render(entry.answer, facts)
            except UnknownFactError as exc:
                problems.append(f"{entry.id}: {exc}")
            for name in placeholders(entry.answer):
                if not str(facts[name]).strip():
                    problems.append(f"{entry.id}: fact {name} is empty for {tenant}")

    for entry in entries:
        for tenant in _tenants_of(entry):
            for question in entry.example_questions:
                matches = index.search(tenant, question, k=1)
                got = matches[0].entry.id if matches else None
                if got != entry.id:
                    problems.append(f"{entry.id}: example {question!r} retrieves {got} for {tenant}")
    return problems
