"""Button ids parsed once into a typed action (issue 13 "One mechanism in the engine").

Buttons carry ids such as `topic:<entry>`, `route:phone`, `checkin:yes`, `missing110:yes`,
`talk_to_human`, `form:start:<kind>`, `form:yes`. Every channel passes the id through
untouched; only this module reads it. A tapped button of ours carries its own short label as
text; anything longer is treated as the resident's words (a forged id cannot smuggle a
message past triage)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from handoff.models import Route

MAX_LABEL = 40


class ActionKind(StrEnum):
    TEXT = "text"  # typed words, or an id we do not know
    TOPIC = "topic"
    ROUTE = "route"
    CHECK_IN = "checkin"
    MISSING_110 = "missing110"
    TALK_TO_HUMAN = "talk_to_human"
    FORM = "form"


class FormVerb(StrEnum):
    START = "start"  # arg: the request kind
    YES = "yes"
    FIX = "fix"  # arg: the field to fix, or None (ask which)
    SKIP = "skip"
    STOP = "stop"
    CHOOSE = "choose"  # an option of a choice field: the label is the answer


@dataclass(frozen=True)
class Action:
    kind: ActionKind
    value: str | None = None  # entry id, route, "yes"/"no", form verb
    arg: str | None = None  # form kind or field
    button: bool = False  # a button of ours, tapped (text is only its label)

    @property
    def route(self) -> Route | None:
        return Route(self.value) if self.kind == ActionKind.ROUTE and self.value else None

    def is_form(self, verb: FormVerb) -> bool:
        return self.kind == ActionKind.FORM and self.value == verb

    @property
    def id(self) -> str:
        """The button id again (stored with the message, offered to the check-in)."""
        if self.kind in (ActionKind.TEXT, ActionKind.TALK_TO_HUMAN):
            return "talk_to_human" if self.kind == ActionKind.TALK_TO_HUMAN else ""
        return ":".join(p for p in (str(self.kind), self.value, self.arg) if p)


TEXT = Action(ActionKind.TEXT)


def parse(action_id: str | None, text: str) -> Action:
    """The typed action of one inbound message; a malformed or forged id is just text."""
    if not action_id:
        return TEXT
    short = len(text) <= MAX_LABEL
    if action_id == "talk_to_human":
        return Action(ActionKind.TALK_TO_HUMAN, button=short)
    head, _, rest = action_id.partition(":")
    if head == "topic" and rest:
        return Action(ActionKind.TOPIC, rest, button=short)
    if head == "route":
        try:
            return Action(ActionKind.ROUTE, str(Route(rest)), button=short)
        except ValueError:
            return TEXT
    if head in ("checkin", "missing110") and rest in ("yes", "no"):
        return Action(ActionKind(head), rest, button=short)
    if head == "form":
        if not short:  # a form step never comes with more than its label: the words are the resident's
            return TEXT
        verb, _, arg = rest.partition(":")
        try:
            return Action(ActionKind.FORM, str(FormVerb(verb)), arg or None, button=short)
        except ValueError:
            return TEXT
    return TEXT
