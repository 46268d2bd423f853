"""Text normalization shared by entries and residents' messages.

Residents type on phones, in full-width or half-width, in kana only, with typos and
variant spellings (表記ゆれ). Entries and queries go through the same function so that
both sides meet in one form before any tokenization.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import yaml

VARIANTS_PATH = Path(__file__).with_name("variants.yaml")

_HIRA_START, _HIRA_END = ord("ぁ"), ord("ゖ")
_KATA_OFFSET = ord("ァ") - ord("ぁ")
_SPACE = re.compile(r"\s+")
# Decorations that carry no meaning for retrieval: emoji, runs of punctuation (!!, ？？, …),
# and stretched long vowels (すごーーい).
_EMOJI = re.compile(r"[\U0001F000-\U0001FFFF\u2600-\u27BF]")
_PUNCT_RUN = re.compile(r"[!-/:-@\[-`{-~、。，．・「」『』（）【】〈〉《》〔〕…‥♪☆★※〜～]{2,}")
_LONG_VOWEL = re.compile(r"ー{2,}")


def to_katakana(text: str) -> str:
    """Hiragana to katakana, so a kana-only message meets a kanji reading."""
    return "".join(
        chr(ord(c) + _KATA_OFFSET) if _HIRA_START <= ord(c) <= _HIRA_END else c for c in text
    )


@lru_cache(maxsize=1)
def _variants() -> tuple[re.Pattern[str], dict[str, str]]:
    """One alternation over variants and canonical forms, longest first.

    Canonical forms map to themselves so that a variant inside a canonical form
    (包括支援センター inside 地域包括支援センター) is never replaced twice.
    """
    data = yaml.safe_load(VARIANTS_PATH.read_text(encoding="utf-8")) or {}
    mapping: dict[str, str] = {}
    for canonical, variants in data.items():
        canon = _basic(canonical)
        mapping[canon] = canon
        for variant in variants:
            mapping.setdefault(_basic(variant), canon)
    alternatives = sorted(mapping, key=len, reverse=True)
    return re.compile("|".join(re.escape(a) for a in alternatives)), mapping


def _basic(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    text = _EMOJI.sub(" ", text)
    text = _PUNCT_RUN.sub(" ", text)
    text = _LONG_VOWEL.sub("ー", text)
    return _SPACE.sub(" ", text).strip()


def normalize(text: str) -> str:
    """NFKC, lower case, collapsed spaces, known variant spellings replaced."""
    pattern, mapping = _variants()
    return pattern.sub(lambda m: mapping[m.group(0)], _basic(text))
