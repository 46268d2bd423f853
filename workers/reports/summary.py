"""Short, redacted summaries: the only resident text a report or dashboard ever shows
(Setagaya 別紙6 1-3 一覧, Kashiwa 002 §4(2)カ complaints). Phone numbers, e-mail and long
digit runs are masked by frontdoor.redact; here we also mask simple names (「山田さん」)
and addresses (「1丁目2番3号」「1-2-3」), then truncate."""

from __future__ import annotations

import re

from frontdoor.redact import redact

SUMMARY_CHARS = 60
_HONORIFIC = r"(さん|さま|様|くん|君|ちゃん|氏)"
# Words before an honorific that are roles or kin, not names.
_NOT_NAMES = {
    "息子", "娘", "奥", "旦那", "主人", "家族", "近所", "隣", "皆", "親", "兄", "姉", "弟", "妹", "孫", "嫁", "婿",
    "民生委員", "大家", "管理人", "医者", "看護師", "先生", "担当", "相談員", "職員", "業者", "配達",
    "ヘルパー", "ケアマネ", "ボランティア", "お医者", "お隣", "お母", "お父", "お婆", "お爺", "お姉", "お兄",
}
_NAME = re.compile(r"([一-龥々]{2,5}|[ァ-ヶー]{2,10}|[ぁ-ん]{2,4}(?=ちゃん))" + _HONORIFIC)
_ADDRESS = [
    re.compile(r"[一-龥ぁ-んァ-ヶ]{0,8}(?:[0-9０-９一二三四五六七八九十]+丁目)(?:[0-9]+番地?)?(?:[0-9]+号)?"),
    re.compile(r"[0-9]+番地?[0-9]*号?"),
    re.compile(r"[0-9]+-[0-9]+(?:-[0-9]+)?"),
]


def _mask_name(match: re.Match[str]) -> str:
    word, honorific = match.group(1), match.group(2)
    if word in _NOT_NAMES or any(word.endswith(w) for w in _NOT_NAMES):
        return match.group(0)
    return f"〔氏名〕{honorific}"


def summarize(text: str | None, *, limit: int = SUMMARY_CHARS) -> str:
    """A one-line, redacted summary of a resident message, at most `limit` characters."""
    if not text:
        return ""
    value = redact(text)
    for pattern in _ADDRESS:
        value = pattern.sub("〔住所〕", value)
    value = _NAME.sub(_mask_name, value)
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"
