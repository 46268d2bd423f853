"""Canned replies (定型文) as versioned data, validated when loaded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict

DATA = Path(__file__).parent / "data" / "canned_replies.yaml"


class CannedReply(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str
    label: str
    text: str


@lru_cache(maxsize=4)
def load_canned(path: Path = DATA) -> dict[str, tuple[CannedReply, ...]]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {key: tuple(CannedReply.model_validate(item) for item in items) for key, items in raw.items()}


def canned_for(tenant_id: str, *, counselor_name: str) -> list[CannedReply]:
    data = load_canned()
    items = [*data.get("common", ()), *data.get(tenant_id, ())]
    return [item.model_copy(update={"text": item.text.replace("{name}", counselor_name)}) for item in items]
