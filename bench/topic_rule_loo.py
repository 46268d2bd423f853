"""The reported topic's rule, chosen on writers left out (issue 14): how often each way of
weighing the re-ranker against the risk model's topic head names the labelled entry, on
topic-labelled messages that neither model saw.

Either a new writers' batch before it is merged into the training data (as on 2026-12-06):

    python bench/topic_rule_loo.py --tree . --held new_writers.jsonl

or writers taken out of a copy of the tree:

    git archive HEAD | tar -x -C /tmp/loo
    mv /tmp/loo/handoff/training/data/topics_{families,mixed}.jsonl /tmp/held/
    cat /tmp/held/*.jsonl > /tmp/held/both.jsonl
    python bench/topic_rule_loo.py --tree /tmp/loo --held /tmp/held/both.jsonl

The tree retrains both models without the held-out files (several minutes the first time;
cached after). Aggregates only are printed. Results: bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path


def score_rows(tree: Path, held: Path) -> list[dict]:
    sys.path.insert(0, str(tree))
    os.chdir(tree)
    from frontdoor.clock import utc_now
    from frontdoor.runtime import build_decider
    from frontdoor.settings import Settings
    from frontdoor.tenants import load_tenants
    from frontdoor.triage_cli import tenant_for
    from handoff.triage.training import read_jsonl
    from handoff.urgency import Urgency

    settings = Settings()
    decider, tenants = build_decider(settings), load_tenants(settings.tenants_dir)
    rows = []
    for e in read_jsonl(held):
        if not e.topic:
            continue
        tenant = tenants.get(tenant_for(e))
        vector = decider.triage.embed(e.text)
        d = decider.decide(tenant, e.text, prior=Urgency.NONE, now=utc_now(), vector=vector)
        matches = decider.index.search(tenant.id, e.text, k=8, vector=vector)
        rows.append({
            "gold": e.topic, "flagged": d.flagged, "answered": d.answered_topic, "kind": d.answer.kind,
            "answer": d.answer.topic, "p": d.answer.confidence, "head": list(decider.head_guesses(tenant, d.assessment)),
            "reranked": {m.entry.id: float(m.prob or 0.0) for m in matches},
        })  # fmt: skip
    return rows


def keep_answer(at: float) -> Callable[[dict], str | None]:
    """The rule before: the reply's entry at re-ranker p >= `at`, else the head's first guess."""

    def rule(r: dict) -> str | None:
        head = r["head"][0][0] if r["head"] else None
        if r["kind"] == "answer" and r["answer"] and (r["p"] >= at or not head):
            return r["answer"]
        return head or r["answered"]

    return rule


def weighed(head_weight: float, *, tenant_only: bool = False, flagged_weight: float | None = None) -> Callable[[dict], str | None]:
    """Decision.topic: the likeliest entry by head_weight × head p + the rest × re-ranker p.
    `tenant_only`: the head's p renormalised over the tenant's entries among its guesses.
    `flagged_weight`: the head's weight on a flagged message instead."""

    def rule(r: dict) -> str | None:
        total: dict[str, float] = {}
        w = flagged_weight if flagged_weight is not None and r["flagged"] else head_weight
        mass = sum(p for _, p in r["head"]) if tenant_only else 1.0
        for entry_id, p in r["head"]:
            p = p / mass if mass > 0 else p
            total[entry_id] = total.get(entry_id, 0.0) + w * p
        for entry_id, p in r["reranked"].items():
            total[entry_id] = total.get(entry_id, 0.0) + (1 - w) * p
        return max(total, key=total.__getitem__) if total else r["answered"]

    return rule


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", type=Path, required=True, help="a checkout without the held-out files")
    parser.add_argument("--held", type=Path, required=True, help="the held-out labelled messages (JSONL)")
    args = parser.parse_args()
    rows = score_rows(args.tree.resolve(), args.held.resolve())
    rules = {f"keep the answer at p >= {at}": keep_answer(at) for at in (0.5, 0.8, 0.9)}
    rules["the head alone"] = keep_answer(1.01)
    rules |= {f"weighed, head weight {w}": weighed(w) for w in (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8)}
    rules |= {f"weighed, tenant's head, weight {w}": weighed(w, tenant_only=True) for w in (0.3, 0.4, 0.5, 0.6)}
    rules |= {f"weighed {w}, flagged {f}": weighed(w, flagged_weight=f) for w in (0.5, 0.6, 0.7) for f in (0.8, 1.0)}
    flagged = [r for r in rows if r["flagged"]]
    plain = [r for r in rows if not r["flagged"]]
    print(f"{len(rows)} held-out messages with a topic ({len(flagged)} flagged)")
    for name, rule in rules.items():
        share = [sum(rule(r) == r["gold"] for r in part) / max(1, len(part)) for part in (rows, flagged, plain)]
        print(f"  {name:32} all {share[0]:.3f}  flagged {share[1]:.3f}  plain {share[2]:.3f}")


if __name__ == "__main__":
    main()
