"""Resident input checks shared by every channel: clear Japanese errors, nothing silently cut."""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


class InvalidMessage(ValueError):
    """Raised with a message the resident reads."""

    def __init__(self, user_message: str, code: str):
        super().__init__(user_message)
        self.user_message = user_message
        self.code = code


def clean_text(raw: object, *, max_chars: int) -> str:
    if not isinstance(raw, str):
        raise InvalidMessage("メッセージを読み取れませんでした。文字で入力してください。", "not_text")
    text = unicodedata.normalize("NFC", raw).replace("\r\n", "\n").replace("\r", "\n")
    text = _CONTROL.sub("", text).strip()
    if not text:
        raise InvalidMessage("メッセージが空です。文字を入力してから送信してください。", "empty")
    if len(text) > max_chars:
        raise InvalidMessage(
            f"メッセージが長すぎます（{max_chars}文字まで）。いくつかに分けて送ってください。", "too_long"
        )
    return text
