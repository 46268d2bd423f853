"""Report summaries without residents' words (issue 12; Setagaya 別紙6 1-3 一覧, 別紙1-1;
Kashiwa 002 §4(2)カ complaints, §9). Managers read reports, so a row is described by what the
system decided — category, the kind of case, the outcome — or by the counselor's own closing
note, masked like everything else that leaves the conversation view (frontdoor.redact)."""

from __future__ import annotations

from frontdoor.redact import Masker, mask_async

SUMMARY_CHARS = 60


def _kind_label(kind: str | None) -> str | None:
    from handoff.console import KIND_JA  # the console's labels, one source of truth

    return KIND_JA.get(kind, None) if kind else None


async def describe(masker: Masker, *, category: str, kind: str | None, note: str | None, limit: int = SUMMARY_CHARS) -> str:
    """「相談についての相談（自傷・死にたい気持ち）」, or the counselor's masked closing note."""
    if note and note.strip():
        value = " ".join((await mask_async(masker, note)).split())
        return value if len(value) <= limit else value[: limit - 1] + "…"
    label = _kind_label(kind)
    return f"{category}についての相談" + (f"（{label}）" if label else "")
