"""The LINE channel's own texts (texts.yaml), validated at start-up and in tests."""

from __future__ import annotations

import functools
import string
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, model_validator

from frontdoor.tenants import Tenant

PATH = Path(__file__).with_name("texts.yaml")
NOT_TEXT_KINDS = ("sticker", "image", "video", "audio", "location", "file", "other")


def _fields(template: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(template) if name}


class LineTexts(BaseModel):
    model_config = ConfigDict(extra="forbid")
    follow: str
    hours: dict[str, str]
    not_text: dict[str, str]
    rate_limited: str

    @model_validator(mode="after")
    def _complete(self) -> LineTexts:
        missing = set(NOT_TEXT_KINDS) - set(self.not_text)
        if missing:
            raise ValueError(f"not_text lacks {sorted(missing)}")
        if not {"service_name", "hours", "privacy_url"} <= _fields(self.follow):
            raise ValueError("follow must name {service_name}, {hours} and {privacy_url}")
        return self

    def check_tenants(self, tenants: list[Tenant]) -> None:
        """Every tenant has an hours line whose placeholders are its own facts."""
        for tenant in tenants:
            if tenant.id not in self.hours:
                raise ValueError(f"texts.yaml: no hours line for tenant {tenant.id}")
            unknown = _fields(self.hours[tenant.id]) - set(tenant.facts)
            if unknown:
                raise ValueError(f"texts.yaml: hours of {tenant.id} names unknown facts {sorted(unknown)}")

    def greeting(self, tenant: Tenant, *, privacy_url: str) -> str:
        hours = self.hours[tenant.id].format(**tenant.facts)
        return self.follow.format(service_name=tenant.service_name, hours=hours, privacy_url=privacy_url)

    def not_text_reply(self, kind: str) -> str:
        return self.not_text.get(kind, self.not_text["other"])


@functools.cache
def load_texts(path: Path = PATH) -> LineTexts:
    return LineTexts.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
