"""Mask personal data (phone numbers, e-mail, postal codes, long digit runs) in text that
leaves the conversation view: knowledge-gap lists, report summaries (Setagaya 別紙6 1-3)."""

from __future__ import annotations

import re
import unicodedata

_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "〔メール〕"),
    (re.compile(r"\d{2,4}[-‐ー−\s]?\d{2,4}[-‐ー−\s]?\d{3,4}"), "〔電話番号〕"),
    (re.compile(r"〒?\d{3}-\d{4}"), "〔郵便番号〕"),
    (re.compile(r"\d{5,}"), "〔番号〕"),
]


def redact(text: str) -> str:
    value = unicodedata.normalize("NFKC", text)
    for pattern, mask in _PATTERNS:
        value = pattern.sub(mask, value)
    return value
