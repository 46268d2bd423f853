"""Compare triage approaches on the blind sets in one run (issue 14 §1, §4).

A. rules + kNN (the issue-4 design: bench/baselines/knn.py over its exemplars)
B. linear: logistic regression over [e5 embedding, character n-grams, rule findings]
C. boosted: gradient boosting over [e5 embedding, rule findings, out-of-fold n-gram scores]
D. rules alone (the fallback when the model cannot load)

Each trained approach learns from handoff/training/data with the same CV thresholds; the
figures are on bench/data/triage_dev (blind, 720 messages) and on the issue-4 hold-out
(tests/handoff/triage_holdout.yaml). Also the latency of one decision (triage + retrieval,
one embedding) for B against A, in the same run. Aggregates only: no message is printed.

    python bench/triage_approaches.py [--cache DIR]
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.baselines.knn import SemanticModel  # noqa: E402
from bot.decide import Decider  # noqa: E402
from frontdoor.clock import utc_now  # noqa: E402
from frontdoor.tenants import load_tenants  # noqa: E402
from frontdoor.triage_cli import tenant_for  # noqa: E402
from handoff.contacts import load_contacts  # noqa: E402
from handoff.triage import Triage, default_rules  # noqa: E402
from handoff.triage.evaluate import Outcome, figures  # noqa: E402
from handoff.triage.model import load_or_train  # noqa: E402
from handoff.triage.training import Example, load_examples  # noqa: E402
from handoff.urgency import Urgency  # noqa: E402
from knowledge.catalog import load_catalog  # noqa: E402
from knowledge.embedding import load_embedder  # noqa: E402
from knowledge.retrieval import KnowledgeIndex  # noqa: E402


def knn_outcome(rules, knn: SemanticModel, text: str) -> Outcome:  # noqa: ANN001
    findings = rules.evaluate(text)
    level = findings.level
    if level < Urgency.EMERGENCY:
        level = Urgency.max(level, knn.score(text, rules.veto, resolved=rules.resolves).level)
    return Outcome(str(level), False, findings.kind, None)


def model_outcome(triage: Triage, text: str) -> Outcome:
    a = triage.assess(text)
    return Outcome(str(a.level), a.check_in, a.kind, a.subject)


def _f(value: float | None) -> str:
    return "–" if value is None else f"{value:.3f}"


def row(name: str, f, *, labels: bool = True) -> str:  # noqa: ANN001
    """`labels`: the set has kind / subject / topic labels (the issue-4 hold-out has levels only)."""
    cells = [f.emergency_recall, f.urgent_recall, f.false_alarms, f.missed, f.check_in_rate]
    cells += [f.kind_accuracy, f.subject_accuracy, f.topic_top1] if labels else [None, None, None]
    return f"| {name} | " + " | ".join(_f(c) for c in cells) + " |"


def decider_outcome(decider: Decider, tenants, example) -> Outcome:  # noqa: ANN001
    """The product path: one embedding, triage and retrieval (topic reported even when flagged)."""
    d = decider.decide(tenants.get(tenant_for(example)), example.text, prior=Urgency.NONE, now=utc_now())
    return Outcome(str(d.assessment.level), d.check_in, d.assessment.kind, d.assessment.subject, d.topic)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cache", type=Path, default=Path(os.environ.get("FRONTDOOR_CACHE_PATH", ROOT / ".frontdoor" / "cache")))
    args = parser.parse_args()
    rules, embedder = default_rules(), load_embedder("e5")
    train = load_examples()
    dev = load_examples(ROOT / "bench" / "data" / "triage_dev")
    old = [
        Example(text=c["text"], level=c["level"], kind="self_harm" if c["level"] != "none" else None, subject="unknown")
        for c in yaml.safe_load((ROOT / "tests" / "handoff" / "triage_holdout.yaml").read_text(encoding="utf-8"))
    ]
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(f"training examples: {len(train)}; blind dev: {len(dev)}; issue-4 hold-out: {len(old)}\n")

    knn = SemanticModel.build(embedder, args.cache, emoji=rules.emoji)
    models = {}
    for name in ("linear", "boosted"):
        started = time.perf_counter()
        models[name] = load_or_train(train, rules, embedder, args.cache, approach_name=name)
        print(f"{name}: thresholds {models[name].thresholds}, trained/loaded in {time.perf_counter() - started:.1f} s")
    approaches = {
        "A rules + kNN (issue 4)": lambda t: knn_outcome(rules, knn, t),
        "B linear (chosen)": lambda t, tr=Triage(rules, models["linear"], embedder): model_outcome(tr, t),
        "C boosted": lambda t, tr=Triage(rules, models["boosted"], embedder): model_outcome(tr, t),
        "D rules alone": lambda t, tr=Triage(rules): model_outcome(tr, t),
    }
    index = KnowledgeIndex.build(load_catalog(), cache_dir=args.cache, embedder=embedder)
    decider = Decider(triage=Triage(rules, models["linear"], embedder), index=index, contacts=load_contacts())
    tenants = load_tenants(ROOT / "frontdoor" / "tenants")
    header = (
        "| approach | emergency recall | urgent+ recall | false alarms | missed | check-in rate | kind acc. | subject acc. | topic top-1 |\n"
        "|---|---|---|---|---|---|---|---|---|"
    )
    for set_name, labelled, labels in (("blind dev set", dev, True), ("issue-4 hold-out", old, False)):
        print(f"\n### {set_name} ({len(labelled)} messages)\n{header}")
        for name, run in approaches.items():
            if name.startswith("B"):
                result = figures(labelled, [decider_outcome(decider, tenants, e) for e in labelled], with_topics=labels)
            else:
                result = figures(labelled, [run(e.text) for e in labelled])
            print(row(name, result, labels=labels))

    # Latency of one decision's triage + retrieval, unloaded, same run.
    texts = [e.text for e in dev[:200]]
    kashiwa = tenants.get("kashiwa")

    def new(text: str) -> None:
        decider.decide(kashiwa, text, prior=Urgency.NONE, now=utc_now())

    def before(text: str) -> None:
        knn_outcome(rules, knn, text)
        index.search("kashiwa", text)

    for name, fn in (("issue 4: rules + kNN, then retrieval (two embed calls)", before), ("issue 14: Decider.decide (model, retrieval sharing one embedding)", new)):
        times = []
        for text in texts:
            started = time.perf_counter()
            fn(text)
            times.append((time.perf_counter() - started) * 1000)
        times.sort()
        p95 = times[int(0.95 * len(times)) - 1]
        print(f"\n{name}: p50 {statistics.median(times):.1f} ms, p95 {p95:.1f} ms over {len(times)} messages")


if __name__ == "__main__":
    main()
