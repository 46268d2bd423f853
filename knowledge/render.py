"""Fill `{{ facts.NAME }}` placeholders from a tenant's settings.

Deployment facts (phone numbers, addresses, URLs) live in tenant settings, never in the
entries, so a wrong number is fixed in one place. An unknown name is an error, not an
empty string: a reply with a hole in it is worse than a failed start-up.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PLACEHOLDER = re.compile(r"\{\{\s*facts\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
ANY_BRACES = re.compile(r"\{\{|\}\}")


class UnknownFactError(KeyError):
    """An entry names a fact the tenant does not define."""


def placeholders(template: str) -> set[str]:
    """Fact names a template uses."""
    return set(PLACEHOLDER.findall(template))


def render(template: str, facts: Mapping[str, str]) -> str:
    """Replace each placeholder; raise UnknownFactError on a missing name or a malformed one."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in facts:
            raise UnknownFactError(name)
        return str(facts[name])

    text = PLACEHOLDER.sub(fill, template)
    if ANY_BRACES.search(text):
        raise UnknownFactError(f"malformed placeholder in: {text[:60]!r}")
    return text
