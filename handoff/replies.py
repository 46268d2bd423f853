"""The first reply to an urgent or emergency message (issue 14 §3), composed from
level × kind × who is at risk × tenant × staffed hours, as data
(`handoff/data/first_replies.yaml`, validated here at start-up and in tests).

Plain, polite Japanese in short lines; at most MAX_LINES before the buttons, options only as
buttons. Every number comes from the contacts data and every tenant fact from the tenant's
settings, never typed here. Kashiwa 002 §7(1): urgent cases caught by the chat are
connected to face-to-face, phone or e-mail support — the route buttons are the tenant's own
(Setagaya answers by phone and FAX, seed 003 §1(2)②イ(ウ), so it offers chat and phone).
Setagaya 003 §1(2)②キ / ③ケ: emergencies are reported at once; ⑤イ(ア): for a missing
person, ask whether 110 has been called first.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from frontdoor.tenants import Tenant
from handoff.contacts import Contacts
from handoff.models import Route
from handoff.triage import Assessment, Kind, Subject, read_yaml
from handoff.triage.lexicon import require_unique
from handoff.urgency import Urgency

FIRST_REPLIES_FILE = Path(__file__).parent / "data" / "first_replies.yaml"
MAX_LINES = 6
PLACEHOLDERS = frozenset({"ambulance", "police", "advice", "child_line", "dv_line", "crisis_line"})
_FIELD = re.compile(r"\{([a-z_]+)\}")
CHILD_CATEGORY = "子ども・子育て"


class RouteChoice(BaseModel):
    """A way to be reached: its button, and how a resident names it in words instead."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: Route
    label: str = Field(min_length=1)  # the button (each channel fits it to its own limits)
    typed: list[str] = Field(min_length=1)

    @model_validator(mode="after")
    def _typed_as_compared(self) -> RouteChoice:
        for word in self.typed:
            if word != unicodedata.normalize("NFKC", word).lower() or not word.strip():
                raise ValueError(f"route {self.id}: typed word {word!r} must be in NFKC lower case")
        return self


MISSING_110_BUTTONS = [("missing110:yes", "はい、連絡しました"), ("missing110:no", "まだです")]


class Situation(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9_]+$")
    level: Literal["urgent", "emergency"]
    kinds: list[Kind] = []  # empty: any kind
    subjects: list[Subject] = []  # empty: anyone
    child: bool = False  # only when the message is about a child (Kashiwa category 子ども・子育て)
    missing_110: bool = False  # ask with はい／まだ buttons whether 110 was called (⑤イ(ア))
    lines: list[str] = Field(min_length=1)
    question: str | None = None

    @model_validator(mode="after")
    def _known_placeholders(self) -> Situation:
        for text in [*self.lines, self.question or ""]:
            unknown = set(_FIELD.findall(text)) - PLACEHOLDERS
            if unknown:
                raise ValueError(f"{self.id}: unknown placeholders {sorted(unknown)}")
            if text.lstrip().startswith(("・", "-", "*")):
                raise ValueError(f"{self.id}: options go on buttons, not in bullets")
        return self

    def matches(self, level: Urgency, kind: str | None, subject: str, child: bool) -> bool:
        return (
            str(level) == self.level
            and (not self.kinds or kind in self.kinds)
            and (not self.subjects or subject in self.subjects)
            and (child or not self.child)
        )


class Waiting(BaseModel):
    """What a resident is told while the case waits for a counselor in the chat ({hours}: who
    answers now): after a thank-you, and after an update no knowledge entry answers."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    thanks: str = Field(pattern=r"\{hours\}")
    update: str = Field(pattern=r"\{hours\}")
    again: str
    routes: str


class FirstRepliesFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    connecting: str
    choose_route: str
    waiting: Waiting
    route_choices: list[RouteChoice]
    situations: list[Situation] = Field(min_length=2)

    @model_validator(mode="after")
    def _every_level_has_a_default_last(self) -> FirstRepliesFile:
        for level in ("emergency", "urgent"):
            mine = [s for s in self.situations if s.level == level]
            if not mine or mine[-1].kinds or mine[-1].subjects or mine[-1].child:
                raise ValueError(f"the last {level} situation must match anything (no kinds, subjects or child)")
        require_unique([s.id for s in self.situations], "situation ids")
        if sorted(c.id for c in self.route_choices) != sorted(Route):
            raise ValueError(f"route_choices must name every route once: {sorted(Route)}")
        return self


@lru_cache(maxsize=4)
def load_first_replies(path: Path = FIRST_REPLIES_FILE) -> FirstRepliesFile:
    return FirstRepliesFile.model_validate(read_yaml(path))


def waiting_reply(
    tenant: Tenant, now: datetime, *, thanks: bool, urgent: bool, again: bool = False, data: FirstRepliesFile | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The reply while the conversation's case waits for a counselor in the chat: who answers
    now and how (the tenant's hours), never a goodbye or a request to rephrase; `again`: the
    last reply said so already. An urgent case keeps the route buttons its first reply offered."""
    waiting = (data or load_first_replies()).waiting
    if again and not thanks:
        text = waiting.again
    else:
        text = (waiting.thanks if thanks else waiting.update).format(hours=tenant.handoff_hours_text(now))
    return (f"{text}\n{waiting.routes}", route_buttons(tenant)) if urgent else (text, [])


def _call(contacts: Contacts, contact_id: str) -> str:
    """「119番」 for three-digit numbers, the number as is otherwise (#7119)."""
    number = contacts[contact_id].number
    return f"{number}番" if len(number) == 3 else number


def _values(contacts: Contacts) -> dict[str, str]:
    yorisoi = contacts["yorisoi"]
    return {
        "ambulance": _call(contacts, "fire_ambulance"),
        "police": _call(contacts, "police"),
        "advice": f"{_call(contacts, 'emergency_advice')}（{contacts['emergency_advice'].name}）",
        "child_line": f"{_call(contacts, 'child_abuse')}（{contacts['child_abuse'].hours}）",
        "dv_line": f"{_call(contacts, 'dv_navi')}（{contacts['dv_navi'].name}）",
        "crisis_line": f"話を聞いてくれる電話もあります。{yorisoi.name} {yorisoi.number}（{yorisoi.hours}）",
    }


def situation_for(assessment: Assessment, data: FirstRepliesFile | None = None) -> Situation:
    data = data or load_first_replies()
    child = CHILD_CATEGORY in assessment.category_cues
    return next(s for s in data.situations if s.matches(assessment.level, assessment.kind, assessment.subject, child))


def route_buttons(tenant: Tenant, data: FirstRepliesFile | None = None) -> list[tuple[str, str]]:
    return [(f"route:{c.id}", c.label) for c in (data or load_first_replies()).route_choices if c.id in tenant.routes]


def first_reply(
    assessment: Assessment, *, tenant: Tenant, contacts: Contacts, now: datetime, data: FirstRepliesFile | None = None
) -> tuple[str, list[tuple[str, str]]]:
    """The reply and its buttons. Pure: `frontdoor ask` and the tests use it too."""
    data = data or load_first_replies()
    situation = situation_for(assessment, data)
    values = _values(contacts)
    lines = [line.format(**values) for line in situation.lines]
    if assessment.level == Urgency.EMERGENCY:
        lines.append(data.connecting)
        if situation.question:
            lines.append(situation.question.format(**values))
        return "\n".join(lines), list(MISSING_110_BUTTONS) if situation.missing_110 else []
    lines.append(tenant.handoff_hours_text(now))
    if situation.question:
        lines.append(situation.question.format(**values))
    lines.append(data.choose_route)
    return "\n".join(lines), route_buttons(tenant)
