"""Text forms used by triage: the rules' normal form, and the one string that is embedded.

The rules compare katakana-folded, spaceless text with their patterns; the embedding model
reads natural text. One embedding per message serves triage and retrieval both, so both
embed `embedding_text(message)`.
"""

from __future__ import annotations

import re
import unicodedata

from knowledge.normalize import normalize as knowledge_normalize

_KATAKANA = {c: c - 0x60 for c in range(ord("ァ"), ord("ヶ") + 1)}
_SPACES = re.compile(r"\s+")
_LONG = re.compile(r"[ー〜~～]+")
# A stretched hiragana word (死にた〜い, しにたーい) loses its stretch; katakana keeps its ー
# (ロープ), because this runs before katakana becomes hiragana.
_STRETCH = re.compile(r"(?<=[ぁ-ゖ])[ー〜~～]+(?=[ぁ-ゖ])")
_REPEAT = re.compile(r"(.)\1{2,}")


def normalize(text: str, emoji: dict[str, str] | None = None) -> str:
    """NFKC, lower case, katakana → hiragana, spaces → 、 (a soft break), 〜 → ー."""
    text = with_emoji_words(text, emoji or {})
    text = _STRETCH.sub("", unicodedata.normalize("NFKC", text).lower()).translate(_KATAKANA)
    text = _SPACES.sub("、", text.strip())
    text = _LONG.sub("ー", text)
    return _REPEAT.sub(r"\1\1", text)


def compile_pattern(pattern: str, macros: dict[str, str], where: str) -> re.Pattern[str]:
    for name, fragment in macros.items():
        pattern = pattern.replace("@{" + name + "}", f"(?:{fragment})")
    # Messages hold no spaces (they become 、), so patterns hold none either; this lets
    # YAML fold long alternations over lines.
    pattern = _SPACES.sub("", pattern)
    if "@{" in pattern:
        raise ValueError(f"{where}: unknown macro in {pattern!r}")
    # Patterns go through the same normalisation as messages (ロープ → ろーぷ), minus the
    # space handling: patterns hold no spaces.
    pattern = unicodedata.normalize("NFKC", pattern).lower().translate(_KATAKANA)
    pattern = _LONG.sub("ー", pattern)
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"{where}: bad regex {pattern!r}: {exc}") from exc



# Contact details a resident types when asked for them (a callback number, an e-mail
# address) are not words about risk; the model sees a placeholder instead of their digits.
_SEP = r"[-−‐‑‒–—―ーｰ(（)） ]?"
_CONTACT = re.compile(rf"0\d{{1,4}}{_SEP}\d{{1,4}}{_SEP}\d{{3,4}}|[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def mask_contacts(text: str) -> str:
    return _CONTACT.sub("連絡先", unicodedata.normalize("NFKC", text))


def with_emoji_words(text: str, emoji: dict[str, str]) -> str:
    """Emoji replaced by words (🔪 → 包丁): the embedding and the n-grams see the meaning."""
    for symbol, word in emoji.items():
        if symbol in text:
            text = text.replace(symbol, word)
    return text


# The embedding model's cost grows with the text (about half a millisecond per character on
# this machine's CPU; bench/RESULTS.md), so a message is embedded by at most this many of its
# characters; the rules and the character n-grams still read every character of it.
# 64 characters keep one decision within its latency budget at a small cost in recall
# (bench/RESULTS.md, "Triage (issue 14)": 64 vs the whole message).
MAX_EMBED_CHARS = 64
# A longer message is embedded by its head and its tail, not its head alone: residents tell the
# situation first and say what they want last (「…来週は電話をお休みしたいです」). Topic top-1 on
# messages of more than 64 characters, same data (bench/RESULTS.md, "How well a careful reader
# does; long messages embedded by head and tail"): blind 0.833 → 0.864, held7 0.786 → 0.797; the
# short ones are embedded as before.
EMBED_HEAD_CHARS = 32


def embedding_text(text: str, emoji: dict[str, str]) -> str:
    """What one message is embedded as, for triage and retrieval alike (training too): the
    normalised message, or its first EMBED_HEAD_CHARS and last characters when it is longer
    than MAX_EMBED_CHARS, so that the embedding costs the same whatever the message's length."""
    norm = knowledge_normalize(mask_contacts(with_emoji_words(text, emoji)))
    if len(norm) <= MAX_EMBED_CHARS:
        return norm
    return f"{norm[:EMBED_HEAD_CHARS]} … {norm[EMBED_HEAD_CHARS - MAX_EMBED_CHARS :]}"
