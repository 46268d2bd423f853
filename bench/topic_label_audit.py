"""A second reader for the training messages' topics (issue 14 §4; handoff/training/AUDIT.md).

Where the topic head, trained with the message's own writer left out, names another entry than
the writer did, either the writer labelled a sibling (a one-off absence as a pause) or the head
is wrong. A reader decides which, labelling each such message from scratch without seeing
either answer; a sample of messages where the two agree is mixed in, unmarked, to measure the
reader against the writers.

    python bench/topic_label_audit.py candidates --out DIR [--batches 5]
        # DIR/batch_K.jsonl for the readers ({"i", "text", "tenant"}), DIR/key.json for apply
    python bench/topic_label_audit.py apply --out DIR [--write]
        # reads DIR/labels_*.jsonl ({"i", "topic", "second", "sure"}), prints the tally,
        # and with --write rewrites handoff/training/data/*.jsonl

The rule `apply` follows:
- the reader names the writer's entry: kept;
- the reader names the head's entry: relabelled, except a crisis entry (common.emergency,
  common.crisis_lines) over a service entry: POLICY.md reports the service a flagged message is
  about (a missing father is setagaya.missing_person), so the writer's service stays;
- the reader names a third entry, and the writer's as its second choice, or the third is a
  crisis entry over a service: kept;
- otherwise (a third entry, or none fits): the message keeps its level, kind and subject
  but no topic.
Takes some 10 minutes (five fits of the head). The batches hold training text only.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRISIS = ("common.emergency", "common.crisis_lines")
CONTROLS = 160
SEED = 7


def out_of_fold() -> list[dict]:
    """Each topic-labelled message with the head's guesses, its writer's file left out."""
    from scipy import sparse
    from sklearn.model_selection import GroupKFold

    from frontdoor.settings import Settings
    from frontdoor.triage_cli import tenant_for
    from handoff.triage.features import RuleFeatures, ngram_vectorizer
    from handoff.triage.model import EMBED_WEIGHT, prepare_inputs, topic_analyzer, training_vectors
    from handoff.triage.rules import default_rules
    from handoff.triage.topic_head import QUESTION_WEIGHT, TopicHead
    from handoff.triage.training import TRAINING_DIR, read_jsonl
    from knowledge.catalog import load_catalog
    from knowledge.embedding import load_embedder
    from knowledge.rerank import topic_questions

    settings, rules = Settings(), default_rules()
    features, embedder, analyzer = RuleFeatures(rules), load_embedder(), topic_analyzer()
    messages, groups, seen = [], [], set()
    for group, path in enumerate(sorted(TRAINING_DIR.glob("*.jsonl"))):
        for example in read_jsonl(path):
            if example.text not in seen and example.topic:
                messages.append(example)
                groups.append(group)
            seen.add(example.text)
    questions = topic_questions(load_catalog())

    def inputs(texts: list[str]):  # noqa: ANN202
        return prepare_inputs(texts, training_vectors(embedder, texts, rules.emoji, settings.cache_dir), rules, features, analyzer)

    xm, xq = inputs([e.text for e in messages]), inputs([t for t, _ in questions])
    ym, yq = np.array([e.topic for e in messages]), np.array([t for _, t in questions])

    def shared(vectorizer, x, idx):  # noqa: ANN001, ANN202
        pick = list(range(len(x.norm))) if idx is None else list(idx)
        return sparse.hstack(
            [sparse.csr_matrix(x.vectors[pick] * EMBED_WEIGHT), vectorizer.transform([x.norm[i] for i in pick]), features.matrix([x.rule_rows[i] for i in pick])],
            format="csr",
        )

    rows: list[dict] = [{} for _ in messages]
    for train, test in GroupKFold(5).split(ym, ym, np.array(groups)):
        vectorizer = ngram_vectorizer().fit([xm.norm[i] for i in train] + list(xq.norm))
        head = TopicHead.fit(
            sparse.vstack([shared(vectorizer, xm, train), shared(vectorizer, xq, None)], format="csr"),
            [xm.analyses[i] for i in train] + list(xq.analyses),
            [*ym[train], *yq],
            np.concatenate([np.ones(len(train)), np.full(len(yq), QUESTION_WEIGHT)]),
            seed=1,
        )
        proba = head.clf.predict_proba(head.matrix(shared(vectorizer, xm, test), [xm.analyses[i] for i in test]))
        classes = [str(c) for c in head.classes_]
        for p, i in zip(proba, test, strict=True):
            tenant = tenant_for(messages[i])
            order = [j for j in np.argsort(-p) if classes[j].startswith(("common.", tenant + "."))]
            rows[i] = {"i": int(i), "text": messages[i].text, "tenant": tenant, "label": str(ym[i]), "head": [classes[j] for j in order[:3]]}
    return rows


def candidates(out: Path, batches: int) -> None:
    rows = out_of_fold()
    disagree = [r for r in rows if r["head"][0] != r["label"]]
    rng = random.Random(SEED)
    controls = rng.sample([r for r in rows if r["head"][0] == r["label"]], CONTROLS)
    items = disagree + controls
    rng.shuffle(items)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(batches):
        with (out / f"batch_{k}.jsonl").open("w", encoding="utf-8") as f:
            for r in items[k::batches]:
                f.write(json.dumps({"i": r["i"], "text": r["text"], "tenant": r["tenant"]}, ensure_ascii=False) + "\n")
    key = {"disagree": disagree, "controls": controls}
    (out / "key.json").write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
    top1 = 1 - len(disagree) / len(rows)
    print(f"{len(rows)} messages, head top-1 out of fold {top1:.3f}; {len(disagree)} disagreements + {CONTROLS} controls in {batches} batches")


def decide(row: dict, read: dict) -> tuple[str, str | None]:
    """(why, the topic to write) for one disagreement; the topic is the writer's when kept."""
    label, head, topic = row["label"], row["head"][0], read.get("topic")
    service_over_crisis = topic in CRISIS and not label.startswith("common.")
    if topic == label:
        return "the reader names the writer's entry", label
    if service_over_crisis:
        return "the reader names a crisis entry over a service: kept", label
    if topic == head:
        return "the reader names the head's entry: relabelled", head
    if topic is not None and read.get("second") == label:
        return "a third entry, the writer's second: kept", label
    return "a third entry or none: topic dropped", None


def apply(out: Path, write: bool) -> None:
    key = json.loads((out / "key.json").read_text(encoding="utf-8"))
    reads = {}
    for path in sorted(out.glob("labels_*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                read = json.loads(line)
                reads[read["i"]] = read
    tally, new_topic = Counter(), {}
    for row in key["disagree"]:
        why, topic = decide(row, reads.get(row["i"], {}))
        tally[why] += 1
        if topic != row["label"]:
            new_topic[row["text"]] = topic
    controls = [r for r in key["controls"] if r["i"] in reads]
    agree = sum(reads[r["i"]]["topic"] == r["label"] for r in controls)
    print(f"controls (writer and head agree): the reader agrees on {agree} of {len(controls)}")
    for why, n in tally.most_common():
        print(f"  {n:5}  {why}")
    if write:
        rewrite(new_topic)


def rewrite(new_topic: dict[str, str | None]) -> None:
    from handoff.triage.training import TRAINING_DIR

    changed = Counter()
    for path in sorted(TRAINING_DIR.glob("*.jsonl")):
        lines = []
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            row = json.loads(line) if line.strip() else None
            if row and row.get("topic") and row["text"] in new_topic:
                row["topic"] = new_topic[row["text"]]
                changed["relabelled" if row["topic"] else "topic dropped"] += 1
                line = json.dumps(row, ensure_ascii=False) + "\n"
            lines.append(line)
        path.write_text("".join(lines), encoding="utf-8")
    print(dict(changed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["candidates", "apply"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.step == "candidates":
        candidates(args.out, args.batches)
    else:
        apply(args.out, args.write)


if __name__ == "__main__":
    main()
