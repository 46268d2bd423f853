"""The check-in band (issue 14 §2): when triage is unsure, the bot answers what was asked
*and* asks one short question whose はい means risk. The wording is data
(`handoff/data/check_in.yaml`), chosen by who is at risk and the kind of worry."""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, field_validator

from handoff.triage import KINDS, read_yaml

CHECK_IN_FILE = Path(__file__).parent / "data" / "check_in.yaml"
YES, NO = "checkin:yes", "checkin:no"
# Typed answers while a check-in waits (normalised: NFKC, no spaces or punctuation).
YES_WORDS = frozenset({"はい", "はい。", "うん", "ある", "あります", "yes", "そう", "そうです", "はいあります", "あぶない", "危ない"})
NO_WORDS = frozenset({"いいえ", "いえ", "ない", "ないです", "ありません", "大丈夫", "だいじょうぶ", "大丈夫です", "だいじょうぶです", "no", "ううん", "平気"})


class CheckInFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    buttons: dict[str, str]
    questions: dict[str, dict[str, str]]
    settled: str = Field(min_length=1)

    @field_validator("questions")
    @classmethod
    def _every_subject_has_a_default(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        if set(value) != {"self", "other", "unknown"}:
            raise ValueError("questions must cover exactly self, other and unknown")
        for subject, by_kind in value.items():
            if "default" not in by_kind:
                raise ValueError(f"{subject}: a default question is required")
            unknown = set(by_kind) - {"default", *KINDS}
            if unknown:
                raise ValueError(f"{subject}: unknown kinds {sorted(unknown)}")
        return value

    @field_validator("buttons")
    @classmethod
    def _yes_no(cls, value: dict[str, str]) -> dict[str, str]:
        if set(value) != {"yes", "no"}:
            raise ValueError("buttons must be exactly yes and no")
        return value


@lru_cache(maxsize=4)
def load_check_in(path: Path = CHECK_IN_FILE) -> CheckInFile:
    return CheckInFile.model_validate(read_yaml(path))


def question(subject: str, kind: str | None, data: CheckInFile | None = None) -> tuple[str, list[tuple[str, str]]]:
    data = data or load_check_in()
    by_kind = data.questions.get(subject) or data.questions["unknown"]
    text = by_kind.get(kind or "default") or by_kind["default"]
    return text, [(YES, data.buttons["yes"]), (NO, data.buttons["no"])]


def typed_answer(text: str) -> str | None:
    """YES / NO for a typed はい／いいえ while a check-in waits, else None."""
    norm = "".join(ch for ch in unicodedata.normalize("NFKC", text).lower() if ch not in " 　、。!！?？")
    if norm in YES_WORDS:
        return YES
    if norm in NO_WORDS:
        return NO
    # 「いいえ、だいじょうぶです」: a plain no followed by nothing but another plain no
    for prefix in ("いいえ", "いえ", "ううん"):
        if norm.startswith(prefix) and norm[len(prefix):] in {"", *NO_WORDS}:
            return NO
    return None
