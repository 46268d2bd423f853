"""Resident input checks shared by every channel: clear Japanese errors, nothing silently cut."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_lone_surrogates(text: str) -> str:
    """Half an emoji (a lone UTF-16 surrogate, which phones do send) becomes U+FFFD: such a
    string cannot be encoded, so it would fail the database insert and every message after
    it (issue 12). Proper pairs that arrived split are joined first."""
    if not _SURROGATE.search(text):
        return text
    joined = text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return _SURROGATE.sub("\ufffd", joined)


def scrub(value: object) -> object:
    """Every string inside a parsed JSON document made encodable (webhook bodies, frames)."""
    if isinstance(value, str):
        return without_lone_surrogates(value)
    if isinstance(value, list):
        return [scrub(v) for v in value]
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    return value


class InvalidMessage(ValueError):
    """Raised with a message the resident reads."""

    def __init__(self, user_message: str, code: str):
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code


def clean_text(raw: object, *, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidMessage("メッセージを読み取れませんでした。文字で入力してください。", "not_text")
    text = unicodedata.normalize("NFC", without_lone_surrogates(raw)).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise InvalidMessage("メッセージが空です。文字を入力してから送信してください。", "empty")
    if len(text) > max_chars:
        raise InvalidMessage(
            f"メッセージが長すぎます（{max_chars}文字まで）。いくつかに分けて送ってください。", "too_long"
        )
    return text
