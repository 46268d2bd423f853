"""Mask personal data in resident text that leaves the conversation view: the knowledge-gap
log and `kb gaps`, the managers' 「答えられなかった質問」, report summaries (Setagaya 別紙6 1-3,
別紙1-1; Kashiwa 002 §9–10), server logs.

`redact` is pure regular expressions (cheap enough for every log record): e-mail addresses,
phone numbers written in any digits — ASCII, full-width, kanji (〇九〇の一二三四…) or spelled
out in kana (ぜろきゅうぜろ…) — postal codes, long digit runs and street addresses.
`Masker` adds SudachiPy's 人名／地名 tags and names before honorifics (様・さん…). Loading
its dictionary takes ~0.2 s, so async callers run it through `mask_async` (a worker thread).
"""

from __future__ import annotations

import asyncio
import re
import threading
import unicodedata

# One digit in any writing residents use; kana readings only count inside a long run.
_DIGIT = r"(?:[0-9〇零一二三四五六七八九]|ぜろ|ゼロ|れい|まる|いち|にい|に|さん|よん|し|ごう|ご|ろく|なな|しち|はち|きゅう|く)"
_SEP = r"[-‐ー−―の、,・.\s]?"
_PATTERNS = [
    (re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+"), "〔メール〕"),
    (re.compile(r"\d{2,4}[-‐ー−\s]?\d{2,4}[-‐ー−\s]?\d{3,4}"), "〔電話番号〕"),
    # A Japanese phone number has 10 or 11 digits, whatever they are written in.
    (re.compile(rf"{_DIGIT}(?:{_SEP}{_DIGIT}){{9,10}}"), "〔電話番号〕"),
    (re.compile(r"〒?\d{3}-\d{4}"), "〔郵便番号〕"),
    (re.compile(r"\d{5,}"), "〔番号〕"),
    # Street addresses: 3丁目2番5号, 三丁目, 2番地, 1-2-3.
    (re.compile(r"[0-9一二三四五六七八九十〇]+丁目(?:[0-9一二三四五六七八九十〇]+番地?)?(?:[0-9一二三四五六七八九十〇]+号)?"), "〔住所〕"),
    (re.compile(r"[0-9一二三四五六七八九十〇]+番地?[0-9一二三四五六七八九十〇]*号"), "〔住所〕"),
    (re.compile(r"[0-9]+番地"), "〔住所〕"),
    (re.compile(r"(?<![0-9])[0-9]{1,4}-[0-9]{1,4}(?:-[0-9]{1,4})?(?![0-9])"), "〔住所〕"),
]


def redact(text: str) -> str:
    value = unicodedata.normalize("NFKC", text)
    for pattern, mask in _PATTERNS:
        value = pattern.sub(mask, value)
    return value


_HONORIFICS = {"さん", "さま", "様", "くん", "君", "ちゃん", "氏", "殿"}
# Words before an honorific that are roles or kin, not names.
_NOT_NAMES = {
    "息子", "娘", "奥", "旦那", "主人", "家族", "近所", "隣", "となり", "皆", "みな", "親", "兄", "姉", "弟", "妹", "孫",
    "嫁", "婿", "民生委員", "大家", "管理人", "医者", "看護師", "先生", "担当", "相談員", "職員", "業者", "配達",
    "ヘルパー", "ケアマネ", "ボランティア", "ばあ", "じい", "かあ", "とう", "にい", "ねえ", "母", "父", "婆", "爺",
    "おばあ", "おじい", "おかあ", "おとう", "お客", "客", "皆様", "お医者", "お隣", "方",
}
# The tenants' own municipality names are not personal data.
_PUBLIC_PLACES = {"柏", "柏市", "世田谷", "世田谷区", "東京", "東京都", "千葉", "千葉県", "日本"}
_MASKS = ("〔氏名〕", "〔地名〕")


class Masker:
    """Thread-safe: one Sudachi tokenizer per thread (a tokenizer must not be shared)."""

    def __init__(self) -> None:
        self._dictionary = None  # loaded on first use, in the calling (worker) thread
        self._lock = threading.Lock()
        self._local = threading.local()

    def _tokenize(self, text: str):  # noqa: ANN202
        tok = getattr(self._local, "tokenizer", None)
        if tok is None:
            with self._lock:
                if self._dictionary is None:
                    from sudachipy import Dictionary

                    self._dictionary = Dictionary()
            tok = self._local.tokenizer = self._dictionary.tokenizer()
        return tok.tokenize(text)

    def mask(self, text: str) -> str:
        value = redact(text)
        morphemes = list(self._tokenize(value))
        out: list[str] = []
        for i, m in enumerate(morphemes):
            surface, pos = m.surface(), m.part_of_speech()
            following = morphemes[i + 1].surface() if i + 1 < len(morphemes) else ""
            if pos[1] == "固有名詞" and pos[2] == "人名":
                piece = "〔氏名〕"
            elif pos[1] == "固有名詞" and pos[2] == "地名" and surface not in _PUBLIC_PLACES:
                piece = "〔地名〕"
            elif following in _HONORIFICS and pos[0] == "名詞" and surface not in _NOT_NAMES and "〔" not in surface:
                piece = "〔氏名〕"
            else:
                piece = surface
            if piece in _MASKS and out and out[-1] == piece:
                continue  # 山田 花子 → one 〔氏名〕
            out.append(piece)
        return "".join(out)


async def mask_async(masker: Masker, text: str) -> str:
    """Off the event loop: Sudachi is CPU work."""
    return await asyncio.to_thread(masker.mask, text)
