"""Triage on the labelled set: confusion matrix, per-level precision/recall, false alarms,
and assess() latency (issue 4).

    python bench/triage_confusion.py [--cases tests/handoff/triage_cases.yaml] [--misses]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handoff.triage import load_triage  # noqa: E402
from handoff.urgency import Urgency  # noqa: E402

LEVELS = list(Urgency)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cases", default=str(Path(__file__).resolve().parents[1] / "tests/handoff/triage_cases.yaml"))
    parser.add_argument("--misses", action="store_true", help="list the messages triage gets wrong")
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()

    cases = yaml.safe_load(Path(args.cases).read_text(encoding="utf-8"))
    start = time.perf_counter()
    triage = load_triage()
    load_ms = (time.perf_counter() - start) * 1000

    matrix = {want: {got: 0 for got in LEVELS} for want in LEVELS}
    misses = []
    for case in cases:
        want, got = Urgency(case["level"]), triage.assess(case["text"]).level
        matrix[want][got] += 1
        if want != got:
            misses.append((want, got, case["text"]))

    print(f"machine: nproc={os.cpu_count()}, CPU {cpu_model()!r}, Python {platform.python_version()}")
    print(f"cases: {len(cases)} ({', '.join(f'{lv}={sum(matrix[lv].values())}' for lv in LEVELS)}); lexicon load {load_ms:.0f} ms")
    print()
    print("confusion matrix (rows = label, columns = triage)")
    print(f"{'':>10}" + "".join(f"{lv:>11}" for lv in LEVELS))
    for want in LEVELS:
        print(f"{want:>10}" + "".join(f"{matrix[want][got]:>11}" for got in LEVELS))
    print()
    print(f"{'level':>10}{'precision':>11}{'recall':>9}")
    for lv in LEVELS:
        predicted = sum(matrix[w][lv] for w in LEVELS)
        actual = sum(matrix[lv].values())
        precision = matrix[lv][lv] / predicted if predicted else float("nan")
        recall = matrix[lv][lv] / actual if actual else float("nan")
        print(f"{lv:>10}{precision:>11.3f}{recall:>9.3f}")
    positives = [w for w in LEVELS if w >= Urgency.URGENT]
    pos_total = sum(sum(matrix[w].values()) for w in positives)
    pos_hit = sum(matrix[w][g] for w in positives for g in positives)
    neg_total = sum(matrix[Urgency.NONE].values())
    false_alarms = sum(matrix[Urgency.NONE][g] for g in positives)
    print(f"urgent-or-higher recall: {pos_hit}/{pos_total} = {pos_hit / pos_total:.3f}")
    print(f"false alarms on none:    {false_alarms}/{neg_total} = {false_alarms / neg_total:.3f}")

    texts = [c["text"] for c in cases]
    timings = []
    for _ in range(args.rounds):
        for text in texts:
            t0 = time.perf_counter_ns()
            triage.assess(text)
            timings.append((time.perf_counter_ns() - t0) / 1000)
    timings.sort()
    p95 = timings[int(len(timings) * 0.95)]
    print(
        f"assess() latency over {len(timings)} calls: p50 {statistics.median(timings):.0f} µs, "
        f"p95 {p95:.0f} µs, max {timings[-1]:.0f} µs"
    )
    if args.misses:
        print()
        for want, got, text in misses:
            print(f"label {want:<9} triage {got:<9} {text}")


if __name__ == "__main__":
    main()
