"""`frontdoor triage train|eval`: rebuild the risk model from the labelled data, or print
its figures on a labelled set (default: the blind development set), aggregate only — the
messages themselves are never printed (a blind set stays blind)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from frontdoor.settings import Settings

DEV_SET = Path(__file__).resolve().parent.parent / "bench" / "data" / "triage_dev"


def tenant_for(example) -> str:  # noqa: ANN001
    """Which tenant a labelled message was written to (its topic's, else its own, else Kashiwa)."""
    if example.topic and not example.topic.startswith("common."):
        return example.topic.split(".", 1)[0]
    return example.tenant if example.tenant != "any" else "kashiwa"


def run_triage(args: argparse.Namespace, settings: Settings) -> int:
    from bot.decide import Decider
    from frontdoor.clock import utc_now
    from frontdoor.tenants import load_tenants
    from handoff.contacts import load_contacts
    from handoff.triage import Triage, default_rules
    from handoff.urgency import Urgency
    from knowledge.catalog import load_catalog
    from knowledge.retrieval import KnowledgeIndex
    from handoff.triage.evaluate import Outcome, figures
    from handoff.triage.model import DEFAULT_APPROACH, load_or_train
    from handoff.triage.training import DataError, load_examples
    from knowledge.embedding import load_embedder
    from knowledge.rerank import topic_questions

    approach = args.approach or DEFAULT_APPROACH
    try:
        examples = load_examples()
    except DataError as exc:
        print(f"error: training data: {exc}", file=sys.stderr)
        return 2
    rules, embedder, catalog = default_rules(), load_embedder("e5"), load_catalog()
    model = load_or_train(
        examples, rules, embedder, settings.cache_dir, approach_name=approach, force=args.action == "train", questions=topic_questions(catalog)
    )
    if args.action == "train":
        print(json.dumps(model.info, ensure_ascii=False, indent=2))
        return 0
    path = args.set_path or DEV_SET
    if not path.exists():
        print(f"error: no labelled set at {path}", file=sys.stderr)
        return 2
    try:
        labelled = load_examples(path)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    decider = Decider(
        triage=Triage(rules, model, embedder),
        index=KnowledgeIndex.build(catalog, cache_dir=settings.cache_dir, embedder=embedder),
        contacts=load_contacts(),
    )
    tenants = load_tenants(settings.tenants_dir)
    outcomes = []
    for e in labelled:
        d = decider.decide(tenants.get(tenant_for(e)), e.text, prior=Urgency.NONE, now=utc_now())
        outcomes.append(Outcome(str(d.assessment.level), d.check_in, d.assessment.kind, d.assessment.subject, d.topic))
    result = figures(labelled, outcomes, with_topics=True)
    if args.json:
        print(json.dumps(result.as_dict(), ensure_ascii=False))
    else:
        for name, value in result.as_dict().items():
            print(f"{name:18} {value}")
        for miss in result.misses_target():
            print(f"below target: {miss}")
    return 0
