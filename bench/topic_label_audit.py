"""A second reader for the training messages' topics (issue 14 §4; handoff/training/AUDIT.md).

Where the topic head, trained with the message's own writer left out, names another entry than
the writer did, either the writer labelled a sibling (a one-off absence as a pause) or the head
is wrong. A reader decides which, labelling each such message from scratch without seeing
either answer; a sample of messages where the two agree is mixed in, unmarked, to measure the
reader against the writers.

    python bench/topic_label_audit.py candidates --set messages|questions --out DIR [--batches 5] [--controls 160]
        # DIR/batch_K.jsonl for the readers ({"i", "text", "tenant"}), DIR/key.json for apply
    python bench/topic_label_audit.py apply --out DIR [--write]
        # reads DIR/labels_*.jsonl ({"i", "topic", "second", "sure"}), prints the tally, and
        # with --write rewrites handoff/training/data/*.jsonl (messages) or moves the questions
        # in knowledge/training/*.yaml

The rule `apply` follows:
- the reader names the writer's entry: kept;
- the reader names the head's entry: relabelled, except a crisis entry (common.emergency,
  common.crisis_lines) over a service entry: POLICY.md reports the service a flagged message is
  about (a missing father is setagaya.missing_person), so the writer's service stays;
- the reader names a third entry, and the writer's as its second choice, or the third is a
  crisis entry over a service: kept;
- otherwise (a third entry, or none fits): the message keeps its level, kind and subject
  but no topic.
The messages are the risk model's (handoff/training/data), the questions the re-ranker's
(knowledge/training, which the head reads too); either set is audited with the other whole in
every fit. Takes some 10 minutes (five fits of the head). The batches hold training text only.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CRISIS = ("common.emergency", "common.crisis_lines")
SEED = 7
QUESTIONS_DIR = ROOT / "knowledge" / "training"


@dataclass
class Labelled:
    text: str
    topic: str
    tenant: str
    group: int  # the writer's file
    weight: float  # in the topic head's fit, as handoff/triage/model.py weighs it
    audited: bool  # of the set under audit


def labelled(audit: str) -> list[Labelled]:
    """The messages (handoff/training/data) and the questions (knowledge/training), each with
    its writer's file; `audit` names the set whose rows are left out and guessed."""
    from frontdoor.triage_cli import tenant_for
    from handoff.triage.topic_head import QUESTION_WEIGHT
    from handoff.triage.training import TRAINING_DIR, read_jsonl
    from knowledge.catalog import load_catalog
    from knowledge.rerank import load_questions

    rows, seen = [], set()
    for group, path in enumerate(sorted(TRAINING_DIR.glob("*.jsonl"))):
        for example in read_jsonl(path):
            if example.text not in seen and example.topic:
                rows.append(Labelled(example.text, example.topic, tenant_for(example), group, 1.0, audit == "messages"))
            seen.add(example.text)
    catalog = load_catalog()
    for group, path in enumerate(sorted(QUESTIONS_DIR.glob("*.yaml")), start=1000):
        rows += [Labelled(q.text, q.expected, q.tenant, group, QUESTION_WEIGHT, audit == "questions") for q in load_questions(catalog, path)]
    return rows


def out_of_fold(audit: str) -> list[dict]:
    """Each row of the audited set with the head's guesses, its writer's file left out."""
    from sklearn.model_selection import GroupKFold

    from frontdoor.settings import Settings
    from handoff.triage.features import RuleFeatures, ngram_vectorizer
    from handoff.triage.model import head_matrix, prepare_inputs, topic_analyzer, topic_columns, training_vectors
    from handoff.triage.rules import default_rules
    from handoff.triage.topic_head import TopicHead
    from knowledge.embedding import load_embedder

    settings, rules = Settings(), default_rules()
    features, embedder, analyzer = RuleFeatures(rules), load_embedder(), topic_analyzer()
    rows = labelled(audit)
    texts = [r.text for r in rows]
    x = prepare_inputs(texts, training_vectors(embedder, texts, rules, settings.cache_dir), rules, features, analyzer)
    audited = np.array([i for i, r in enumerate(rows) if r.audited])
    others = np.array([i for i, r in enumerate(rows) if not r.audited])
    topics = np.array([r.topic for r in rows])

    guessed: list[dict] = []
    for train, test in GroupKFold(5).split(audited, groups=[rows[i].group for i in audited]):
        fit, held = np.concatenate([audited[train], others]), audited[test]
        vectorizer = ngram_vectorizer().fit([x.norm[i] for i in fit])
        weights, columns = np.array([rows[i].weight for i in fit]), topic_columns(x, vectorizer)
        head = TopicHead.fit(head_matrix(x.take(fit), vectorizer, features), [x.analyses[i] for i in fit], list(topics[fit]), weights, shared_columns=columns, seed=1)
        proba = head.clf.predict_proba(head.matrix(head_matrix(x.take(held), vectorizer, features), [x.analyses[i] for i in held]))
        classes = [str(c) for c in head.classes_]
        for p, i in zip(proba, held, strict=True):
            order = [j for j in np.argsort(-p) if classes[j].startswith(("common.", rows[i].tenant + "."))]
            guessed.append({"i": int(i), "text": rows[i].text, "tenant": rows[i].tenant, "label": rows[i].topic, "head": [classes[j] for j in order[:3]]})
    return sorted(guessed, key=lambda g: g["i"])


def candidates(audit: str, out: Path, batches: int, controls_n: int) -> None:
    rows = out_of_fold(audit)
    disagree = [r for r in rows if r["head"][0] != r["label"]]
    rng = random.Random(SEED)
    controls = rng.sample([r for r in rows if r["head"][0] == r["label"]], controls_n)
    items = disagree + controls
    rng.shuffle(items)
    out.mkdir(parents=True, exist_ok=True)
    for k in range(batches):
        with (out / f"batch_{k}.jsonl").open("w", encoding="utf-8") as f:
            for r in items[k::batches]:
                f.write(json.dumps({"i": r["i"], "text": r["text"], "tenant": r["tenant"]}, ensure_ascii=False) + "\n")
    key = {"set": audit, "disagree": disagree, "controls": controls}
    (out / "key.json").write_text(json.dumps(key, ensure_ascii=False), encoding="utf-8")
    top1 = 1 - len(disagree) / len(rows)
    print(f"{len(rows)} {audit}, head top-1 out of fold {top1:.3f}; {len(disagree)} disagreements + {controls_n} controls in {batches} batches")


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
        (rewrite_messages if key["set"] == "messages" else rewrite_questions)(new_topic)


def rewrite_messages(new_topic: dict[str, str | None]) -> None:
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


def rewrite_questions(new_topic: dict[str, str | None]) -> None:
    """Moves a question under its new entry in the same writer's file (or drops it), line by
    line, so the files keep their comments and their writers' wording byte for byte."""
    import yaml

    changed = Counter()
    for path in sorted(QUESTIONS_DIR.glob("*.yaml")):
        kept, moved, key = [], {}, None
        for line in path.read_text(encoding="utf-8").splitlines(keepends=True):
            if re.match(r"^[^\s#-][^:]*:\s*$", line):
                key = line.split(":")[0]
            elif line.startswith("  - ") and key is not None:
                text = str(yaml.safe_load(line[4:]))
                if text in new_topic:
                    changed["moved" if new_topic[text] else "dropped"] += 1
                    if new_topic[text]:
                        moved.setdefault(new_topic[text], []).append(line)
                    continue
            kept.append(line)
        for entry_id, lines in moved.items():
            header = next((i for i, line in enumerate(kept) if line.rstrip() == f"{entry_id}:"), None)
            if header is None:
                kept += [f"{entry_id}:\n", *lines]
                continue
            end = header + 1
            while end < len(kept) and kept[end].startswith("  - "):
                end += 1
            kept[end:end] = lines
        path.write_text("".join(kept), encoding="utf-8")
    print(dict(changed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["candidates", "apply"])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--set", dest="audit", choices=["messages", "questions"], default="messages")
    parser.add_argument("--batches", type=int, default=5)
    parser.add_argument("--controls", type=int, default=160)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    if args.step == "candidates":
        candidates(args.audit, args.out, args.batches, args.controls)
    else:
        apply(args.out, args.write)


if __name__ == "__main__":
    main()
