"""The closed vocabularies of triage: risk kinds, who is at risk, report categories.

Kept apart from the rules and the model so that contacts, replies and training data can
validate against them without importing either."""

from __future__ import annotations

from typing import Literal

# several rules of the same level fire).
KINDS: tuple[str, ...] = (
    "overdose",  # took a lot of medicine / OD now
    "self_harm",  # suicidal thoughts, plans, acts, farewells
    "fire",  # fire, smoke, gas leak
    "violence",  # violence or a threat to life happening now, intruder
    "medical",  # collapsed, not breathing, unresponsive, stroke signs, choking
    "missing_person",  # a person (dementia, elderly, child) has gone missing
    "abuse_dv",  # abuse, DV, stalking, fear of harming one's child
    "basic_needs",  # no food, money, shelter, heating, utilities cut
    "isolation",  # an (elderly) person not reachable for days
    "worried_about_other",  # a neighbour / relative worried someone is not OK
)
Kind = Literal[
    "overdose", "self_harm", "fire", "violence", "medical", "missing_person",
    "abuse_dv", "basic_needs", "isolation", "worried_about_other",
]
SELF_HARM_KINDS = frozenset({"self_harm", "overdose"})

# Kashiwa situation categories for the monthly report (Kashiwa 002 §8: 実績報告).
REPORT_CATEGORIES: tuple[str, ...] = ("高齢", "障害", "子ども・子育て", "生活困窮", "こころ", "複合", "その他")
SINGLE_CATEGORIES = REPORT_CATEGORIES[:5]
Context = Literal["negation", "past", "info", "resolved"]

# Who is at risk (issue 14 §1): the writer, someone they write about, or unclear.
SUBJECTS: tuple[str, ...] = ("self", "other", "unknown")
Subject = Literal["self", "other", "unknown"]
