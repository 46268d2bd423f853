"""Form definitions: each request kind is a versioned YAML file in `forms/` with a schema
(issue 13 "Request kinds (forms as data)"), so a ward adjusts a form without code.

A definition says which fields there are, which are required, how each is asked in plain
Japanese, how an answer is validated (the field `type`, see handoff.requests.values), the
read-back and recorded texts (office-hours variants), what staff see and where it is counted.
A field may block recording: `refusal` is the explanation given when the resident declines
it (e.g. an anonymous missing-person report, Setagaya 003 ⑤)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

FORMS_DIR = Path(__file__).parent / "forms"

FieldType = Literal["dates", "date", "date_or_undecided", "name", "kana", "phone", "address", "text", "choice", "choices", "consent"]


class FormField(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=20)
    type: FieldType
    ask: str = Field(min_length=4)
    required: bool = True
    options: tuple[str, ...] = ()  # choice / choices
    # Said when the resident declines this field; the request is then refused, not recorded.
    refusal: str | None = None
    # Filled from another field when that one is all kana (a kana-only name is its own ふりがな).
    copy_kana_from: str | None = None
    # Other words residents use for an option (「亡くなりました」 is 死亡).
    aliases: dict[str, tuple[str, ...]] = {}
    # Asked only when another (choice or choices) field includes this option, or one of these
    # options: 別紙3 asks only what changed; 別紙8-3 asks the mail items only if mail is chosen.
    ask_if: dict[str, str | tuple[str, ...]] = {}
    # Regular expressions that find this field in free text (group 1, or the whole match); a
    # field with `find` is filled only by them (two name fields never take the same name).
    find: tuple[str, ...] = ()
    # What the bot says when a resident tells this option again while another question is asked
    # (「けいさつには もう でんわしました」 where her name is asked): she is heard, and the newest
    # word stands (a 「無」 becomes 「有」 once she has called), instead of 「お名前が読み取れません」.
    # The form's workflow (`on_record`) reads whether the text tells it again.
    noted: dict[str, str] = {}
    # {field: other field}: an answer to this question that also gives `field` is the other
    # field's answer. Asked for her own name right after 「いなくなった方のお名前と…を教えてください」,
    # a daughter wrote 「世田谷 一郎です。82さいです」: her father's name, taken as hers.
    answer_of: dict[str, str] = {}

    @model_validator(mode="after")
    def _options_for_choices(self) -> FormField:
        if self.type in ("choice", "choices") and not self.options:
            raise ValueError(f"{self.name}: a {self.type} field needs options")
        if unknown := set(self.noted) - set(self.options):
            raise ValueError(f"{self.name}: noted options not among the options: {sorted(unknown)}")
        if self.refusal and not self.required:
            raise ValueError(f"{self.name}: only a required field can refuse the request")
        for pattern in self.find:
            re.compile(pattern)
        return self


class StaffField(BaseModel):
    """A field staff fill in on the worklist (別紙9 苦情内容区分, 対応内容, 対応状況…)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    label: str = Field(min_length=1, max_length=20)
    options: tuple[str, ...] = ()


class Variant(BaseModel):
    """Texts for a request whose field has a given value (a cancellation because the person
    died is taken with condolences and addressed to the family)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    field: str
    value: str
    recorded: str | None = None
    staff_task: str | None = None


class FormTexts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    start: str = Field(min_length=4)  # the lead when the flow starts
    offer: str = Field(min_length=2)  # the button label that starts the flow from a knowledge answer
    confirm: str = Field(min_length=4)  # above the read-back
    # {due}: when staff will have looked at it. `recorded_closed`: outside office hours.
    recorded: str = Field(min_length=4)
    recorded_closed: str | None = None
    # Said instead when the day the request is about is too near for staff's usual check (its
    # due time, RequestTiming.before_field, has already passed: an absence tomorrow told at
    # night). {due} would be the moment of recording, a promise of nothing; say what happens.
    recorded_late: str | None = Field(default=None, min_length=4)
    start_closed: str | None = None  # the lead outside office hours (with `closed_fields`)
    # The reply to a thank-you while a request recorded outside hours waits for its call ({due}).
    waiting: str | None = Field(default=None, pattern=r"\{due\}")
    stopped: str = "受付を取りやめました。記録はしていません。ほかにご用があれば、お書きください。"
    # Added after the second unreadable answer to one question in a row, with a button to a
    # person; {hours}: who answers now and how (the tenant's settings).
    stuck: str = Field(default="うまく読み取れず、すみません。相談員と話すこともできます。\n{hours}", pattern=r"\{hours\}")
    staff_task: str | None = None  # what staff do with it (a dispatch, a written notice)
    variants: tuple[Variant, ...] = ()


class FormDefinition(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    kind: str = Field(pattern=r"^(common|kashiwa|setagaya)\.[a-z][a-z0-9_]*$|^complaint$|^missing_person(_found)?$")
    tenants: tuple[Literal["kashiwa", "setagaya"], ...]
    title: str = Field(min_length=2, max_length=30)
    # Knowledge entries whose answer offers (or, with details already given, starts) this form.
    topics: tuple[str, ...] = ()
    # When two forms share an entry (休止 and 再開), words that pick this one.
    keywords: tuple[str, ...] = ()
    fields: tuple[FormField, ...]
    texts: FormTexts
    staff_view: tuple[str, ...]  # the fields the worklist shows, in order
    # Where a recorded request is counted: report layout → line (e.g. 別紙6 1-1 電話訪問関連).
    report: dict[str, str] = {}
    # A management number assigned at recording: {seq} counts this kind's requests in the
    # period (`number_per`); {fy} the fiscal year, {year} and {month} the calendar ones.
    number_format: str | None = Field(default=None, pattern=r"\{seq")
    number_per: Literal["fiscal_year", "month"] = "fiscal_year"
    # A key of `fields` (not asked) that holds the number as staff and residents say it,
    # formatted by `number_said` (same placeholders; default `number_format`): the stored
    # number stays unique across years while the 管理番号 reads 月-受付順, e.g. 10-3 (Setagaya
    # 003 ⑤イ(イ)). Texts say it as {number} (a found report says its intake's, given as a preset).
    number_field: str | None = None
    number_said: str | None = Field(default=None, pattern=r"\{seq")
    # Recorded from the message itself, no questions (a complaint is recorded whenever it appears).
    record_at_once: bool = False
    staff_fields: tuple[StaffField, ...] = ()
    # Outside office hours only these fields are asked (an office-hours variant of the form).
    closed_fields: tuple[str, ...] = ()
    # The form follows a triage case of these kinds once the case's first question is answered.
    case_kinds: tuple[str, ...] = ()
    # A named domain workflow run when the request is recorded (bot.flows hooks).
    on_record: str | None = None
    source: str = Field(min_length=5)

    @model_validator(mode="after")
    def _names_known(self) -> FormDefinition:
        names = [f.name for f in self.fields] + [f.name for f in self.staff_fields]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.kind}: duplicate field names")
        for f in self.fields:
            for other, options in f.ask_if.items():
                if other not in names or not set(_any_of(options)) <= set(self.field(other).options):
                    raise ValueError(f"{self.kind}: {f.name} asks if {other} includes unknown option {options!r}")
            unknown = set(f.aliases) - set(f.options)
            if unknown:
                raise ValueError(f"{self.kind}: {f.name} has aliases for unknown options {sorted(unknown)}")
        for v in self.texts.variants:
            if v.field not in names:
                raise ValueError(f"{self.kind}: a variant names unknown field {v.field!r}")
        for name in self.staff_view:
            if name not in names and name not in ("staff_task",):
                raise ValueError(f"{self.kind}: staff_view names unknown field {name!r}")
        for f in self.fields:
            if f.copy_kana_from and f.copy_kana_from not in names:
                raise ValueError(f"{self.kind}: {f.name} copies from unknown field {f.copy_kana_from!r}")
            for given, target in f.answer_of.items():
                if given not in names or target not in names or self.field(target).type != f.type:
                    raise ValueError(f"{self.kind}: {f.name} answer_of {given!r} -> {target!r} names unknown fields or another type")
        for name in self.closed_fields:
            if name not in names:
                raise ValueError(f"{self.kind}: closed_fields names unknown field {name!r}")
        if self.number_said and not self.number_format:
            raise ValueError(f"{self.kind}: number_said needs number_format")
        if "{due}" not in self.texts.recorded:
            raise ValueError(f"{self.kind}: the recorded text must say when staff will look ({{due}})")
        return self

    def field(self, name: str) -> FormField:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def label(self, name: str) -> str:
        for f in (*self.fields, *self.staff_fields):
            if f.name == name:
                return f.label
        return name

    def asked(self, f: FormField, fields: dict[str, str], *, closed: bool = False) -> bool:
        """Whether this field is asked at all, given the answers so far (`ask_if`); outside
        office hours (`closed`) only `closed_fields`, when the form has them."""
        if closed and self.closed_fields and f.name not in self.closed_fields:
            return False
        return all(
            any(option in (fields.get(other) or "").split("、") for option in _any_of(options)) for other, options in f.ask_if.items()
        )

    def variant(self, fields: dict[str, str]) -> Variant | None:
        for v in self.texts.variants:
            if v.value in (fields.get(v.field) or "").split("、"):
                return v
        return None

    def staff_task(self, fields: dict[str, str]) -> str | None:
        v = self.variant(fields)
        return (v.staff_task if v and v.staff_task else None) or self.texts.staff_task


def _any_of(options: str | tuple[str, ...]) -> tuple[str, ...]:
    return (options,) if isinstance(options, str) else options


class Forms:
    def __init__(self, definitions: list[FormDefinition]):
        self._by_kind = {d.kind: d for d in definitions}
        if len(self._by_kind) != len(definitions):
            raise ValueError("duplicate form kinds")

    def get(self, kind: str) -> FormDefinition:
        return self._by_kind[kind]

    def __contains__(self, kind: object) -> bool:
        return kind in self._by_kind

    def all(self) -> list[FormDefinition]:
        return list(self._by_kind.values())

    def for_case_kind(self, tenant_id: str, case_kind: str | None) -> FormDefinition | None:
        """The form that follows a triage case of this kind (e.g. a missing person), if any."""
        for d in self._by_kind.values():
            if case_kind in d.case_kinds and tenant_id in d.tenants:
                return d
        return None

    def for_topic(self, tenant_id: str, topic: str | None) -> list[FormDefinition]:
        """The forms a knowledge entry offers to this tenant's residents."""
        return [d for d in self._by_kind.values() if topic in d.topics and tenant_id in d.tenants]

    def likeliest(self, tenant_id: str, topic: str | None, text: str) -> FormDefinition | None:
        """Of the entry's forms, the one whose keywords the message uses, else the plain one."""
        candidates = self.for_topic(tenant_id, topic)
        for d in candidates:
            if any(k in text for k in d.keywords):
                return d
        plain = [d for d in candidates if not d.keywords]
        return plain[0] if plain else None


def load_form(path: Path) -> FormDefinition:
    return FormDefinition.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=4)
def load_forms(directory: Path = FORMS_DIR) -> Forms:
    """Every form definition, validated (start-up and tests); a bad file names itself."""
    definitions = []
    for path in sorted(directory.glob("*.yaml")):
        try:
            definition = load_form(path)
        except Exception as exc:
            raise ValueError(f"{path.name}: {exc}") from exc
        if path.stem != definition.kind:
            raise ValueError(f"{path.name}: kind {definition.kind!r} must match the file name")
        definitions.append(definition)
    return Forms(definitions)
