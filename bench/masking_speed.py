"""Cost of masking residents' words (issue 12): the regex-only `redact` (used for every log
record) against the SudachiPy `Masker` (gap log, dashboard, report notes), per question, on
the resident questions of the retrieval eval set. Prints both and the ratio.

    python bench/masking_speed.py
"""

from __future__ import annotations

import json
import statistics
import time
from pathlib import Path

from frontdoor.redact import Masker, redact

QUESTIONS = [json.loads(line)["text"] for line in (Path(__file__).parents[1] / "tests/knowledge/eval_questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]


def per_call_us(fn, texts: list[str], rounds: int = 5) -> float:  # noqa: ANN001
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        for text in texts:
            fn(text)
        times.append((time.perf_counter() - start) / len(texts) * 1e6)
    return statistics.median(times)


def main() -> None:
    masker = Masker()
    started = time.perf_counter()
    masker.mask("最初の一回で辞書を読み込みます")
    load_ms = (time.perf_counter() - started) * 1000
    baseline = per_call_us(redact, QUESTIONS)
    masked = per_call_us(masker.mask, QUESTIONS)
    print(f"questions: {len(QUESTIONS)}; dictionary load (first call): {load_ms:.0f} ms")
    print(f"redact (regex only, baseline): {baseline:.1f} µs per question")
    print(f"Masker (regex + SudachiPy names/places): {masked:.1f} µs per question  (ratio {masked / baseline:.1f}×)")


if __name__ == "__main__":
    main()
