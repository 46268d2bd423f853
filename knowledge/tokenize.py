"""Japanese morphological analysis (SudachiPy) into the two lexical fields we index.

* `words`: dictionary forms (`normalized_form`) of content words, so 申し込み / 申込 /
  もうしこみ and 変えたい / 替える meet.
* `reading`: the katakana reading of the whole text, so hiragana-only messages and
  mis-segmented kana (ほうかつ → ほう+かつ) still meet the kanji entry text through
  reading bigrams, and so do small typos.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache

from sudachipy import Dictionary, SplitMode

from knowledge.embedding import package_version
from knowledge.normalize import normalize, to_katakana

# Parts of speech that carry the topic. 感動詞 keeps greetings (こんにちは, ありがとう).
_CONTENT_POS = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "代名詞", "感動詞", "接頭辞"}
_SKIP_POS = {"補助記号", "記号", "空白"}
# Dictionary forms too common in residents' messages to say anything about the topic.
_STOP_LEMMAS = {
    "為る", "有る", "居る", "成る", "下さる", "頂く", "貰う", "事", "物", "御", "お", "ご",
    "私", "僕", "俺", "此れ", "其れ", "何", "よう", "様", "方", "の", "ん", "さん", "ちゃん",
    "良い", "いい", "思う", "言う", "です", "ます", "一寸", "ちょっと", "今", "て",
}

MODES = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}
# Bump when what `analyze` keeps or drops changes: part of the cache keys of the models that
# learn from its output (the re-ranker, the risk model's topic head).
ANALYSIS_VERSION = 2
_HIRAGANA_ONLY = re.compile(r"[ぁ-ゖー]+")


def analysis_fingerprint(mode: str) -> str:
    return f"sudachi-{package_version('sudachipy')}-{package_version('sudachidict_core')}-{mode}-a{ANALYSIS_VERSION}"


def is_personal_name(tags: tuple[str, ...], surface: str) -> bool:
    """A given or family name as people write one, in kanji or katakana (花子, 鈴木, ハル).

    A resident's own name (世田谷花子（せたがやはなこ）) never says what they want, and in a notice
    full of personal details it drowned the words that do. Sudachi's name tags on hiragana are
    mostly wrong guesses instead: after a space 「けんしん」, 「けんこう」 and the 「やす」 of
    「やすみたい」 come out as given names, and dropping them took 健診, 健康 and 休む out of an
    elderly resident's kana message. Disease names (アルツハイマー) are 人名・一般 and stay too.
    """
    return tags[2] == "人名" and tags[3] in ("姓", "名") and not _HIRAGANA_ONLY.fullmatch(surface)


@dataclass(frozen=True)
class Analysis:
    words: tuple[str, ...]
    reading: str


@lru_cache(maxsize=1)
def _system_dictionary() -> Dictionary:
    """One loaded dictionary per process (some 80 MB): retrieval's analyzer and the topic head's
    (handoff/triage/topic_head.py) split differently, but each thread makes its own tokenizer
    from the same dictionary."""
    return Dictionary()


class Analyzer:
    """Thread-safe wrapper: a Sudachi tokenizer must not be shared between threads."""

    def __init__(self, mode: str = "C") -> None:
        self.mode_name = mode
        self._mode = MODES[mode]
        self._dictionary = _system_dictionary()
        self._local = threading.local()

    def _tokenizer(self):  # noqa: ANN202 - sudachipy has no public type for it
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            tok = self._local.tokenizer = self._dictionary.tokenizer(mode=self._mode)
        return tok

    def analyze(self, text: str) -> Analysis:
        """Normalize, then split into content words and a katakana reading."""
        norm = normalize(text)
        words: list[str] = []
        reading: list[str] = []
        for m in self._tokenizer().tokenize(norm):
            tags = m.part_of_speech()
            surface = m.surface()
            if tags[0] in _SKIP_POS or is_personal_name(tags, surface):
                continue
            reading.append(_reading_of(m))
            if tags[0] in _CONTENT_POS:
                lemma = m.normalized_form()
                if lemma not in _STOP_LEMMAS and surface not in _STOP_LEMMAS:
                    words.append(lemma)
        return Analysis(words=tuple(words), reading="".join(reading))

    def token_readings(self, text: str) -> list[str]:
        """Each token's katakana reading, in order, punctuation left out (「本人です」→ ホンニン, デス):
        a short answer typed in kana meets an option written in kanji, token by token, so
        「つまです」 is 妻 and 「つまり」 is not."""
        return [_reading_of(m) for m in self._tokenizer().tokenize(normalize(text)) if m.part_of_speech()[0] not in _SKIP_POS]


def _reading_of(morpheme) -> str:  # noqa: ANN001 - sudachipy has no public type for it
    """One token's katakana reading. Sudachi gives none for ASCII words and unknown symbols
    (or キゴウ): the surface stands for itself."""
    form = morpheme.reading_form() or morpheme.surface()
    return to_katakana(form if form != "キゴウ" else morpheme.surface())


def bigrams(text: str) -> list[str]:
    """Overlapping character bigrams; a single character stands for itself."""
    if len(text) < 2:
        return [text] if text else []
    return [text[i : i + 2] for i in range(len(text) - 1)]
