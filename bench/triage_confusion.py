"""Triage on the labelled training set and the blind hold-out, rules alone vs rules + the
semantic signal, in one run: confusion matrices, recall, false alarms, assess() latency
(issue 4).

    python bench/triage_confusion.py                 # both sets, both modes
    python bench/triage_confusion.py --misses        # + the TRAINING-set misses (never the hold-out's)
    python bench/triage_confusion.py --calibrate     # 5-fold CV of the semantic thresholds on the bank

The hold-out (tests/handoff/triage_holdout.yaml) is only ever summarised here: its messages
and misses are not printed, so nobody tunes the lexicon or the exemplars on it.
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baselines.knn import Calibration, SemanticModel, cross_validate, embed_bank_pieces, prepare  # noqa: E402
from handoff.triage import Triage, load_triage  # noqa: E402
from handoff.urgency import Urgency  # noqa: E402
from knowledge.embedding import load_embedder  # noqa: E402

LEVELS = list(Urgency)
TRAINING = ROOT / "handoff/lexicon/labelled_messages.yaml"
HOLDOUT = ROOT / "tests/handoff/triage_holdout.yaml"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def evaluate(triage: Triage, cases: list[dict]) -> tuple[dict, list, list[float]]:
    matrix = {want: {got: 0 for got in LEVELS} for want in LEVELS}
    misses, timings = [], []
    for case in cases:
        t0 = time.perf_counter_ns()
        got = triage.assess(case["text"]).level
        timings.append((time.perf_counter_ns() - t0) / 1000)
        want = Urgency(case["level"])
        matrix[want][got] += 1
        if want != got:
            misses.append((want, got, case["text"]))
    return matrix, misses, timings


def figures(matrix: dict) -> dict[str, tuple[int, int]]:
    em = (matrix[Urgency.EMERGENCY][Urgency.EMERGENCY], sum(matrix[Urgency.EMERGENCY].values()))
    positives = [w for w in LEVELS if w >= Urgency.URGENT]
    pos = (sum(matrix[w][g] for w in positives for g in positives), sum(sum(matrix[w].values()) for w in positives))
    neg = (sum(matrix[Urgency.NONE][g] for g in positives), sum(matrix[Urgency.NONE].values()))
    return {"emergency recall": em, "urgent-or-higher recall": pos, "false alarms on none": neg}


def report(title: str, matrix: dict, timings: list[float]) -> None:
    print(f"### {title}")
    print(f"{'':>10}" + "".join(f"{lv:>11}" for lv in LEVELS))
    for want in LEVELS:
        print(f"{want:>10}" + "".join(f"{matrix[want][got]:>11}" for got in LEVELS))
    for name, (hit, total) in figures(matrix).items():
        print(f"  {name:<24} {hit}/{total} = {hit / total:.3f}")
    timings = sorted(timings)
    p95 = timings[int(len(timings) * 0.95)]
    print(f"  assess() latency over {len(timings)} calls: p50 {statistics.median(timings):.0f} µs, p95 {p95:.0f} µs, max {timings[-1]:.0f} µs")
    print()


def calibrate(model: SemanticModel, triage: Triage, cache_dir: Path) -> None:
    """Sweep the kNN settings with 5-fold CV over the bank (semantic signal alone)."""
    embedded = embed_bank_pieces(model, cache_dir)
    # The rules were never tuned on the exemplar file: rules + semantic on those rows is the
    # closest thing to a blind figure the bank can give.
    training = {prepare(str(c["text"]), triage.emoji) for c in yaml.safe_load(TRAINING.read_text(encoding="utf-8"))}
    fresh = [i for i, t in enumerate(model.texts) if t not in training]
    rule_levels = [triage.assess(t).level for t in model.texts]
    rows = []
    grid = itertools.product((11, 15, 21), (0.05, 0.1), (0.5, 0.6, 0.7), (0.8, 0.9, 0.95), (0.84,))
    for k, temp, em, urg, floor in grid:
        model.calibration = Calibration(k=k, temperature=temp, emergency=em, urgent=urg, min_similarity=floor)
        alone, results = cross_validate(
            model, veto=triage._semantic_veto, resolved=triage._resolves, embedded=embedded  # noqa: SLF001
        )
        combined = [(results[i][0], Urgency.max(results[i][1], rule_levels[i])) for i in fresh]
        rows.append((alone, _scores(combined), k, temp, em, urg, floor))
    print("5-fold CV over the bank. alone = semantic signal alone, all rows;")
    print(f"fresh = rules + semantic on the {len(fresh)} exemplar-file rows the rules were never tuned on")
    for cap in (0.05, 0.08, 0.10, 0.15, 0.20):
        ok = [r for r in rows if r[1][2] <= cap]
        ok.sort(key=lambda r: (r[1][0] + r[1][1], r[0].emergency_recall + r[0].positive_recall, -r[1][2]), reverse=True)
        print(f"fresh false alarms ≤ {cap:.2f}:")
        for a, f, k, temp, em, urg, floor in ok[:4]:
            print(
                f"  k={k:<3} T={temp:<5} em≥{em:<4} urg≥{urg:<4} sim≥{floor:<5} | alone E {a.emergency_recall:.3f} "
                f"U+ {a.positive_recall:.3f} FA {a.false_alarms:.3f} | fresh E {f[0]:.3f} U+ {f[1]:.3f} FA {f[2]:.3f}"
            )


def _scores(pairs: list[tuple[int, Urgency]]) -> tuple[float, float, float]:
    em = [g for w, g in pairs if w == 2]
    pos = [g for w, g in pairs if w >= 1]
    neg = [g for w, g in pairs if w == 0]
    return (
        sum(g == Urgency.EMERGENCY for g in em) / len(em),
        sum(g >= Urgency.URGENT for g in pos) / len(pos),
        sum(g >= Urgency.URGENT for g in neg) / len(neg),
    )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--misses", action="store_true", help="list the TRAINING-set messages triage gets wrong")
    parser.add_argument("--calibrate", action="store_true", help="cross-validate the semantic thresholds")
    parser.add_argument("--no-holdout", action="store_true")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--cache-dir", type=Path, default=ROOT / ".frontdoor" / "cache")
    args = parser.parse_args()

    start = time.perf_counter()
    rules = load_triage()
    rules_ms = (time.perf_counter() - start) * 1000
    start = time.perf_counter()
    model = SemanticModel.build(load_embedder(), args.cache_dir, emoji=rules.emoji)
    semantic_ms = (time.perf_counter() - start) * 1000
    both = load_triage(semantic=model)

    print(f"machine: nproc={os.cpu_count()}, CPU {cpu_model()!r}, Python {platform.python_version()}")
    print(
        f"lexicon load {rules_ms:.0f} ms; semantic model build {semantic_ms:.0f} ms "
        f"({len(model.texts)} exemplars, {model.embedder.name}, cache {args.cache_dir})"
    )
    print(f"semantic calibration: {model.calibration.model_dump()}")
    print()
    if args.calibrate:
        calibrate(model, rules, args.cache_dir)
        return

    sets = [("training set", TRAINING)] + ([] if args.no_holdout else [("blind hold-out", HOLDOUT)])
    for name, path in sets:
        cases = yaml.safe_load(path.read_text(encoding="utf-8"))
        for mode, triage in (("rules only", rules), ("rules + semantic", both)):
            timings: list[float] = []
            for _ in range(args.rounds):
                matrix, misses, t = evaluate(triage, cases)
                timings += t
            report(f"{name} ({len(cases)}), {mode}", matrix, timings)
            if args.misses and path == TRAINING:
                for want, got, text in misses:
                    print(f"  label {want:<9} triage {got:<9} {text}")
                print()


if __name__ == "__main__":
    main()
