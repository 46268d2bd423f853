"""Retrieval accuracy on tests/knowledge/eval_questions.jsonl.

Prints strict top-1 accuracy (the first match is the expected entry), top-3 accuracy,
how often compose_answer would answer / clarify / give up, and per-entry confusions.

    python bench/retrieval_accuracy.py [--embedder e5|use|none] [--mode C|B]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from knowledge.answering import compose_answer  # noqa: E402
from knowledge.catalog import load_catalog  # noqa: E402
from knowledge.embedding import load_embedder  # noqa: E402
from knowledge.retrieval import KnowledgeIndex, Weights  # noqa: E402

EVAL = Path(__file__).resolve().parents[1] / "tests" / "knowledge" / "eval_questions.jsonl"
TENANTS_DIR = Path(__file__).resolve().parents[1] / "frontdoor" / "tenants"


def tenant_facts() -> dict[str, dict[str, str]]:
    """The deployment facts from the tenant settings files, read directly (no app import)."""
    import yaml

    return {t: yaml.safe_load((TENANTS_DIR / f"{t}.yaml").read_text(encoding="utf-8"))["facts"] for t in ("kashiwa", "setagaya")}


def load_eval(path: Path = EVAL) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def evaluate(index: KnowledgeIndex, rows: list[dict]) -> dict:
    top1 = top3 = 0
    kinds: Counter[str] = Counter()
    answered_right = 0
    confusions: dict[str, Counter[str]] = defaultdict(Counter)
    misses = []
    facts = tenant_facts()
    for row in rows:
        matches = index.search(row["tenant"], row["text"], k=3)
        ids = [m.entry.id for m in matches]
        if ids and ids[0] == row["expected"]:
            top1 += 1
        else:
            confusions[row["expected"]][ids[0] if ids else "-"] += 1
            misses.append((row, matches))
        if row["expected"] in ids:
            top3 += 1
        answer = compose_answer(index, tenant=row["tenant"], text=row["text"], facts=facts[row["tenant"]])
        kinds[answer.kind] += 1
        if answer.kind == "answer" and answer.topic == row["expected"]:
            answered_right += 1
    n = len(rows)
    return {
        "n": n,
        "top1": top1 / n,
        "top3": top3 / n,
        "kinds": dict(kinds),
        "answered_right": answered_right / n,
        "confusions": confusions,
        "misses": misses,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default="e5", choices=["e5", "use", "none"])
    parser.add_argument("--mode", default="B", choices=["A", "B", "C"])
    parser.add_argument("--weights", default=None, help="words,reading,dense")
    parser.add_argument("--misses", action="store_true", help="print every miss with its scores")
    args = parser.parse_args()
    embedder = None if args.embedder == "none" else load_embedder(args.embedder)
    weights = None
    if args.weights:
        w = [float(x) for x in args.weights.split(",")]
        weights = Weights(words=w[0], reading=w[1], dense=w[2])
    with tempfile.TemporaryDirectory() as tmp:
        index = KnowledgeIndex.build(load_catalog(), Path(tmp), embedder=embedder, weights=weights, split_mode=args.mode)
        result = evaluate(index, load_eval())
    print(f"embedder={index.stats.embedder} mode={args.mode} weights={index.weights}")
    print(f"questions: {result['n']}")
    print(f"top-1 accuracy (strict, first of ranking): {result['top1']:.3f}")
    print(f"top-3 accuracy: {result['top3']:.3f}")
    print(f"compose_answer kinds: {result['kinds']}; answered with the expected entry: {result['answered_right']:.3f}")
    print("confusions (expected -> got: count):")
    for expected, got in sorted(result["confusions"].items()):
        print(f"  {expected} -> " + ", ".join(f"{g}: {c}" for g, c in got.most_common()))
    if args.misses:
        for row, matches in result["misses"]:
            ranked = "  ".join(f"{m.entry.id}={m.score:.2f}(l{m.lexical:.2f}/d{m.dense:.2f})" for m in matches)
            print(f"- [{row['expected']}] {row['text']}\n    {ranked}")


if __name__ == "__main__":
    main()
