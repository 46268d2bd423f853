"""Tenant configuration: versioned YAML files validated at start-up.

Office hours matter for honest replies ("who will answer, and when") and for reports
(inside vs outside office hours, Kashiwa 002 §3(2)). Public holidays come from jpholiday,
a maintained library, not a hand-written list.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal

import jpholiday
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from frontdoor.clock import JST, as_utc

WEEKDAY_JA = "月火水木金土日"


class YearEnd(BaseModel):
    start: str  # "MM-DD"
    end: str

    def contains(self, day: date) -> bool:
        md = day.strftime("%m-%d")
        if self.start <= self.end:
            return self.start <= md <= self.end
        return md >= self.start or md <= self.end


class Hours(BaseModel):
    """Weekly opening hours in Asia/Tokyo, with holiday and year-end closures."""

    model_config = ConfigDict(extra="forbid")
    weekdays: list[int]
    open: str
    close: str
    closed_on_public_holidays: bool = True
    year_end_closure: YearEnd | None = None
    after_hours: str | None = None

    @field_validator("weekdays")
    @classmethod
    def _weekdays_valid(cls, value: list[int]) -> list[int]:
        if not value or any(d < 0 or d > 6 for d in value):
            raise ValueError("weekdays are 0 (Monday) to 6 (Sunday)")
        return value

    @field_validator("open", "close")
    @classmethod
    def _hhmm(cls, value: str) -> str:
        hh, mm = value.split(":")
        if not (0 <= int(hh) <= 24 and 0 <= int(mm) < 60):
            raise ValueError(f"bad time {value!r}")
        return value

    @staticmethod
    def _minutes(value: str) -> int:
        hh, mm = value.split(":")
        return int(hh) * 60 + int(mm)

    def is_open_day(self, day: date) -> bool:
        if day.weekday() not in self.weekdays:
            return False
        if self.closed_on_public_holidays and jpholiday.is_holiday(day):
            return False
        if self.year_end_closure and self.year_end_closure.contains(day):
            return False
        return True

    def is_open(self, moment: datetime) -> bool:
        local = as_utc(moment).astimezone(JST)
        if not self.is_open_day(local.date()):
            return False
        minute = local.hour * 60 + local.minute
        return self._minutes(self.open) <= minute < self._minutes(self.close)

    def next_opening(self, moment: datetime) -> datetime:
        """The next moment (JST, aware) the office opens; `moment` itself if it is open."""
        local = as_utc(moment).astimezone(JST)
        if self.is_open(local):
            return local
        open_minutes = self._minutes(self.open)
        day = local.date()
        for _ in range(40):
            start = datetime.combine(day, time(open_minutes // 60, open_minutes % 60), JST)
            if self.is_open_day(day) and start > local:
                return start
            day += timedelta(days=1)
        raise ValueError("no opening within 40 days; check the tenant's hours")

    def next_opening_text(self, moment: datetime) -> str:
        """Japanese, e.g. 「1月5日（月）午前8時30分」."""
        nxt = self.next_opening(moment)
        ampm = "午前" if nxt.hour < 12 else "午後"
        hour12 = nxt.hour if nxt.hour <= 12 else nxt.hour - 12
        minutes = f"{nxt.minute}分" if nxt.minute else ""
        return f"{nxt.month}月{nxt.day}日（{WEEKDAY_JA[nxt.weekday()]}）{ampm}{hour12}時{minutes}"


class HandoffHours(BaseModel):
    """What a resident is told, in the first reply to an urgent message, about who answers
    now and how (issue 14 §3). `{fact}` placeholders name the tenant's facts."""

    model_config = ConfigDict(extra="forbid")
    open: str  # while staffed
    closed: str | None = None  # outside staffed hours ({next_open}: when staff are back); required unless 24/7


class Retention(BaseModel):
    """Days each kind of record is kept before its personal data is erased (issue 11;
    Setagaya 別紙1-1 §29, Kashiwa 002 §9(7)); agreed with the city or ward per contract."""

    model_config = ConfigDict(extra="forbid")
    conversations: int
    messages: int
    cases: int
    requests: int
    audit: int

    @model_validator(mode="after")
    def _positive(self) -> Retention:
        if min(self.conversations, self.messages, self.cases, self.requests, self.audit) < 1:
            raise ValueError("retention periods are at least one day")
        return self


RouteId = Literal["chat", "phone", "face_to_face", "email"]


class Widget(BaseModel):
    """What the web widget shows before the first message (issue 15): a short greeting and
    3–4 example questions as buttons, so a resident sees what they can ask."""

    model_config = ConfigDict(extra="forbid")
    greeting: str = "こんにちは。ご相談のチャットです。\nお困りのことを、ご自由にお書きください。"
    examples: list[str] = []

    @model_validator(mode="after")
    def _short(self) -> Widget:
        if self.examples and not 3 <= len(self.examples) <= 4:
            raise ValueError("widget.examples: give 3 or 4 example questions")
        if any(not 2 <= len(e) <= 20 for e in self.examples):
            raise ValueError("widget.examples: each 2–20 characters (a button label)")
        if len(self.greeting.splitlines()) > 3:
            raise ValueError("widget.greeting: at most 3 short lines")
        return self


class RequestTiming(BaseModel):
    """When staff must have looked at a request of one kind (issue 13 "Staff side").

    `due_hours` after recording; with `before_field` (a date field of the form), no later than
    `days_before` that date at `at` local time (an absence notice for tomorrow is due today)."""

    model_config = ConfigDict(extra="forbid")
    due_hours: int = Field(default=24, ge=1)
    before_field: str | None = None
    days_before: int = Field(default=1, ge=0)
    at: str = "17:00"


class WardReport(BaseModel):
    """Where missing-person reports go (Setagaya 003 ⑤イ(カ): 電話報告及びメール送信先は最大2か所)."""

    model_config = ConfigDict(extra="forbid")
    phones: list[str] = Field(min_length=1, max_length=2)
    emails: list[str] = Field(min_length=1, max_length=2)
    minutes: int = 30  # the report is due this long after the intake (or the found notice) ends


class Tenant(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str
    name: str
    service_name: str
    timezone: str = "Asia/Tokyo"
    staffed_hours: Hours
    office_hours: Hours | None = None
    report_layout: str
    facts: dict[str, str]
    demo_facts: list[str] = []
    handoff_hours: HandoffHours
    # How a resident may choose to be reached (Setagaya: chat and phone, seed 003 ②イ(ウ)).
    routes: list[RouteId] = ["chat", "phone", "face_to_face", "email"]
    retention: Retention
    # Homepages allowed to frame the chat widget (CSP frame-ancestors), e.g.
    # ["https://www.city.kashiwa.lg.jp"]; Frontdoor's own origin (the demo page) always may.
    widget_embed_origins: list[str] = []
    widget: Widget = Widget()

    @model_validator(mode="after")
    def _embed_origins_are_origins(self) -> Tenant:
        for origin in self.widget_embed_origins:
            if not re.fullmatch(r"https?://[A-Za-z0-9.-]+(:[0-9]+)?", origin):
                raise ValueError(f"widget_embed_origins: {origin!r} is not an origin like https://www.city.example.lg.jp")
        return self
    # Due times of requests taken in chat, by request kind (issue 13); `default` for the rest.
    requests: dict[str, RequestTiming] = {}
    # The ward's missing-person contacts (issue 8); None: the tenant takes no missing-person intake.
    missing_person_report: WardReport | None = None

    @model_validator(mode="after")
    def _hours_texts_name_known_facts(self) -> Tenant:
        for text in (self.handoff_hours.open, self.handoff_hours.closed or ""):
            unknown = set(re.findall(r"\{([a-z_]+)\}", text)) - set(self.facts) - {"next_open"}
            if unknown:
                raise ValueError(f"handoff_hours names unknown facts {sorted(unknown)}")
        always = self.staffed_hours.open == "00:00" and self.staffed_hours.close == "24:00" and len(self.staffed_hours.weekdays) == 7
        if not always and not self.handoff_hours.closed:
            raise ValueError("handoff_hours.closed is required unless staffed around the clock")
        if "chat" not in self.routes:
            raise ValueError("routes must include chat")
        return self

    def handoff_hours_text(self, moment: datetime) -> str:
        template = self.handoff_hours.open if self.is_staffed(moment) else (self.handoff_hours.closed or self.handoff_hours.open)
        return template.format(**self.facts, next_open=self.staffed_hours.next_opening_text(moment))

    @property
    def ward_office_hours(self) -> Hours:
        """Government office hours (開庁時間); the staffed hours when not set separately."""
        return self.office_hours or self.staffed_hours

    def is_staffed(self, moment: datetime) -> bool:
        return self.staffed_hours.is_open(moment)


class UnknownTenant(LookupError):
    pass


class TenantRegistry:
    def __init__(self, tenants: dict[str, Tenant]):
        self._tenants = tenants

    def get(self, tenant_id: str) -> Tenant:
        try:
            return self._tenants[tenant_id]
        except KeyError:
            raise UnknownTenant(tenant_id) from None

    def __contains__(self, tenant_id: object) -> bool:
        return tenant_id in self._tenants

    def ids(self) -> list[str]:
        return sorted(self._tenants)

    def all(self) -> list[Tenant]:
        return [self._tenants[t] for t in self.ids()]

    def facts(self) -> dict[str, dict[str, str]]:
        return {t.id: dict(t.facts) for t in self._tenants.values()}


PLACEHOLDER_CONTACT = re.compile(r"example\.invalid|(?:^|[-‐ ])0000(?:[-‐ ]|$)")


class PlaceholderContacts(ValueError):
    """A tenant's facts still hold demo contact details; a real deployment must not start."""


def refuse_placeholder_contacts(registry: TenantRegistry) -> None:
    """Issue 15: outside demo mode, start-up refuses `example.invalid` addresses and `0000`
    phone numbers, so a resident is never told to call a number that does not exist."""
    found = [
        f"{tenant.id}.{name} = {value}"
        for tenant in registry.all()
        for name, value in sorted(tenant.facts.items())
        if PLACEHOLDER_CONTACT.search(value)
    ]
    if found:
        raise PlaceholderContacts(
            "placeholder contact details in frontdoor/tenants/*.yaml (set the real ones, or run in demo mode "
            "with FRONTDOOR_DEMO_MODE=true): " + ", ".join(found)
        )


def load_tenants(directory: Path) -> TenantRegistry:
    tenants: dict[str, Tenant] = {}
    for path in sorted(directory.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        tenant = Tenant.model_validate(data)
        if tenant.id != path.stem:
            raise ValueError(f"{path.name}: id {tenant.id!r} must match the file name")
        unknown = set(tenant.demo_facts) - set(tenant.facts)
        if unknown:
            raise ValueError(f"{path.name}: demo_facts not in facts: {sorted(unknown)}")
        tenants[tenant.id] = tenant
    if not tenants:
        raise ValueError(f"no tenant files in {directory}")
    return TenantRegistry(tenants)
