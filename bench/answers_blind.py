"""Answers on a blind question set (issue 15): today's ranking vs the re-ranked one, one run.

    python bench/answers_blind.py [--set bench/data/answers_dev/questions.jsonl] [--cv]

The set is written by someone who never saw the entries' examples; each line has tenant,
text, expected (an entry id, or null when nothing should match), answerable, voice. Only
aggregate figures are printed, never a message: tuning on the set would make it worthless.

"today" = the catalog without the entries issue 15 added, hybrid order, the old rule.
"re-ranked" = the full catalog, the re-ranker (knowledge/rerank.py), the new rule.
"decider" = what a resident gets: `Decider.decide` (triage first, the risk model's topic head
as a second opinion on a clarifying question, no question on a flagged message).
Figures: top-1 / top-3 of the ranking (answerable questions), clarify rate, right entry
among the choices when clarifying, answered with the right entry, no-match on answerable
questions, and no-match on unanswerable ones (higher is better there).
`--cv`: 5-fold out-of-fold figures on the labelled training questions instead (what the
thresholds in knowledge/answering.py were chosen on).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from knowledge.answering import Answer, compose_answer  # noqa: E402
from knowledge.catalog import Catalog, load_catalog  # noqa: E402
from knowledge.retrieval import KnowledgeIndex  # noqa: E402

DEFAULT_SET = ROOT / "bench" / "data" / "answers_dev" / "questions.jsonl"
# Off-topic messages written for the no-match rule (not blind: tuned on, with the CV).
OFFTOPIC = ROOT / "bench" / "data" / "answers_offtopic.jsonl"
ADDED_BY_ISSUE_15 = {
    "setagaya.sticker_lost", "common.panic_anxiety", "common.crisis_line_hours",
    "common.scam_side_job", "common.disaster_shelter",
}  # fmt: skip


def tenant_facts() -> dict[str, dict[str, str]]:
    import yaml

    return {t: yaml.safe_load((ROOT / "frontdoor" / "tenants" / f"{t}.yaml").read_text("utf-8"))["facts"] for t in ("kashiwa", "setagaya")}


def with_vectors(index: KnowledgeIndex, rows: list[dict]) -> list[dict]:
    """Each question embedded once, in one batch (the machine is shared: search and
    compose_answer, today's index and ours, all reuse the vector)."""
    if index.embedder is None:
        return rows
    from knowledge.normalize import normalize

    vectors = index.embedder.embed([normalize(r["text"]) or " " for r in rows])
    return [{**r, "_vector": v} for r, v in zip(rows, vectors, strict=True)]


def figures(index: KnowledgeIndex, rows: list[dict], reply: Callable[[dict], Answer] | None = None) -> dict[str, float]:
    """`reply`: how a question is answered; by default retrieval alone (compose_answer)."""
    facts = tenant_facts()
    reply = reply or (lambda r: compose_answer(index, tenant=r["tenant"], text=r["text"], facts=facts[r["tenant"]], vector=r.get("_vector")))
    answerable = [r for r in rows if r.get("answerable", r.get("expected") is not None) and r.get("expected")]
    other = [r for r in rows if r not in answerable]
    c: Counter[str] = Counter()
    for r in answerable:
        ids = [m.entry.id for m in index.search(r["tenant"], r["text"], k=3, vector=r.get("_vector"))]
        c["top1"] += bool(ids) and ids[0] == r["expected"]
        c["top3"] += r["expected"] in ids
        a = reply(r)
        c[a.kind] += 1
        if a.kind == "clarify":
            c["right_choice"] += r["expected"] in [ch.entry_id for ch in a.choices]
            c["first_choice"] += a.choices[0].entry_id == r["expected"]
        c["answered_right"] += a.kind == "answer" and a.topic == r["expected"]
        c["answered_wrong"] += a.kind == "answer" and a.topic != r["expected"]
    for r in other:
        c["unanswerable_no_match"] += reply(r).kind == "no_match"
    n = max(len(answerable), 1)
    return {
        "answerable": len(answerable),
        "top-1": c["top1"] / n,
        "top-3": c["top3"] / n,
        "clarify rate": c["clarify"] / n,
        "right among choices": c["right_choice"] / max(c["clarify"], 1),
        "right first choice": c["first_choice"] / max(c["clarify"], 1),
        "answered right": c["answered_right"] / n,
        "answered wrong": c["answered_wrong"] / n,
        "no-match (answerable)": c["no_match"] / n,
        "unanswerable": len(other),
        "no-match (unanswerable)": c["unanswerable_no_match"] / max(len(other), 1),
    }


def cache_dir() -> Path:
    """The app's own cache (`Settings.cache_dir`: FRONTDOOR_CACHE_PATH or the default), so a
    bench run uses the models the app or the suite built."""
    from frontdoor.settings import Settings

    return Settings(_env_file=None).cache_dir


def through_decider(cache: Path) -> Callable[[dict], Answer]:
    """What a resident gets: the Decider (triage first, the topic head's second opinion on a
    clarifying question, never a question on a flagged message), message by message."""
    from frontdoor.clock import utc_now
    from frontdoor.runtime import build_decider
    from frontdoor.settings import Settings
    from frontdoor.tenants import load_tenants
    from handoff.urgency import Urgency

    settings = Settings(_env_file=None, cache_path=cache)
    decider, tenants, now = build_decider(settings), load_tenants(settings.tenants_dir), utc_now()
    return lambda r: decider.decide(tenants.get(r["tenant"]), r["text"], prior=Urgency.NONE, now=now).answer


def by_voice(index: KnowledgeIndex, rows: list[dict]) -> dict[str, tuple[int, float]]:
    groups: dict[str, list[dict]] = defaultdict(list)
    for r in rows:
        if r.get("expected"):
            groups[str(r.get("voice") or "-")].append(r)
    return {
        v: (len(g), sum(index.search(r["tenant"], r["text"], k=1, vector=r.get("_vector"))[0].entry.id == r["expected"] for r in g) / len(g))
        for v, g in sorted(groups.items())
    }


def without_added(catalog: Catalog) -> Catalog:
    return Catalog([e for e in catalog if e.id not in ADDED_BY_ISSUE_15])


def cross_validate(folds: int = 5) -> None:
    """Out-of-fold figures on the labelled training questions (no blind data involved): each
    fold is searched by a re-ranker fitted, neighbours included, on the other folds only.
    Prints the hybrid order's top-1 beside it and the clarify rule over a grid of thresholds."""
    import numpy as np

    from knowledge import answering
    from knowledge.rerank import Features, Reranker, fit, load_training
    from knowledge.rerank_train import prepare, training_rows, with_classifier

    cache = cache_dir()
    catalog = load_catalog()
    index = KnowledgeIndex.build(catalog, cache, rerank=False)
    labelled = load_training(catalog)
    full, _, vectors = prepare(index, cache, labelled)
    hybrid = sum(index.search(r.tenant, r.text, k=1, vector=vectors[j])[0].entry.id == r.expected for j, r in enumerate(labelled))
    ranked: list[tuple[str, list]] = []
    chosen = answering.CLARIFY_MIN_SCORE
    for k in range(folds):
        train = [j for j in range(len(labelled)) if j % folds != k]
        sub_vectors = vectors[train]
        features = Features(index.entries, full.entry_flags, sub_vectors, full.train_owner[np.array(train)])
        features, classified = with_classifier(index, features, [labelled[j] for j in train], sub_vectors)
        x, y, _ = training_rows(index, features, [labelled[j] for j in train], sub_vectors, classified)
        index.reranker = Reranker(features, fit(x, y), trained_on=len(train))
        for j in range(len(labelled)):
            if j % folds == k:
                ranked.append((labelled[j].expected, index.search(labelled[j].tenant, labelled[j].text, k=4, vector=vectors[j])))
    n = len(ranked)
    print(f"{folds}-fold out-of-fold on {n} labelled questions: hybrid top-1 {hybrid / n:.3f}, "
          f"re-ranked top-1 {sum(m[0].entry.id == e for e, m in ranked) / n:.3f}, top-3 {sum(e in [x.entry.id for x in m[:3]] for e, m in ranked) / n:.3f}")
    offtopic = [json.loads(x) for x in OFFTOPIC.read_text(encoding="utf-8").splitlines() if x.strip()]
    off = [index.search(r["tenant"], r["text"], k=4) for r in offtopic]  # the last fold's re-ranker
    print(f"  no-match rule on {n} answerable (out-of-fold) and {len(off)} off-topic questions (bench/data/answers_offtopic.jsonl)")
    print("  min-score | no-match answerable  no-match off-topic")
    for floor in (0.22, 0.25, 0.27, 0.3):
        answering.CLARIFY_MIN_SCORE = floor
        a = sum(answering.decide(m) == "no_match" for _, m in ranked) / n
        o = sum(answering.decide(m) == "no_match" for m in off) / max(len(off), 1)
        print(f"  {floor:9.2f} | {a:19.3f}  {o:18.3f}")
    answering.CLARIFY_MIN_SCORE = chosen
    print("  sure  close  band | clarify  right-in-choices  answered-right  answered-wrong")
    for sure, close, band in itertools.product((0.5, 0.6, 0.7), (0.2, 0.3, 0.4), (0.2, 1.0)):
        answering.SURE_PROB, answering.CLOSE_PROB, answering.CHOICE_PROB_BAND = sure, close, band
        kinds = [(answering.decide(m), e, m) for e, m in ranked]
        cl = [(e, m) for kind, e, m in kinds if kind == "clarify"]
        right = sum(e in [c.entry_id for c in answering.clarify_choices(m)] for e, m in cl)
        ok = sum(kind == "answer" and m[0].entry.id == e for kind, e, m in kinds)
        bad = sum(kind == "answer" and m[0].entry.id != e for kind, e, m in kinds)
        print(f"  {sure:4.1f}  {close:5.2f}  {band:4.1f} | {len(cl) / n:7.3f}  {right / max(len(cl), 1):16.3f}  {ok / n:14.3f}  {bad / n:14.3f}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--set", type=Path, default=DEFAULT_SET)
    parser.add_argument("--cv", action="store_true")
    parser.add_argument("--extra", type=Path, action="append", default=[], help="also report on this labelled jsonl")
    args = parser.parse_args()
    if args.cv:
        cross_validate()
        return
    rows = [json.loads(line) for line in args.set.read_text(encoding="utf-8").splitlines() if line.strip()]
    cache = cache_dir()
    catalog = load_catalog()
    today = KnowledgeIndex.build(without_added(catalog), cache, rerank=False)
    ours = KnowledgeIndex.build(catalog, cache)
    rows = with_vectors(ours, rows)
    a, b, d = figures(today, rows), figures(ours, rows), figures(ours, rows, reply=through_decider(cache))
    print(f"set: {args.set.relative_to(ROOT) if args.set.is_relative_to(ROOT) else args.set} ({len(rows)} questions)")
    print(f"{'':26}{'today':>8}{'re-ranked':>11}{'decider':>9}")
    for name in a:
        fmt = "{:>8d}{:>11d}{:>9d}" if isinstance(a[name], int) else "{:>8.3f}{:>11.3f}{:>9.3f}"
        print(f"  {name:24}" + fmt.format(a[name], b[name], d[name]))
    for extra in args.extra:
        more = with_vectors(ours, [json.loads(x) for x in extra.read_text(encoding="utf-8").splitlines() if x.strip()])
        a, b = figures(today, more), figures(ours, more)
        print(f"{extra.name} ({len(more)}): top-1 {a['top-1']:.3f} -> {b['top-1']:.3f}, top-3 {a['top-3']:.3f} -> {b['top-3']:.3f}, "
              f"clarify {a['clarify rate']:.3f} -> {b['clarify rate']:.3f}, no-match {a['no-match (answerable)']:.3f} -> {b['no-match (answerable)']:.3f}")
    print("top-1 by voice (n, today, re-ranked):")
    va, vb = by_voice(today, rows), by_voice(ours, rows)
    for voice, (n, acc) in va.items():
        print(f"  {voice:24}{n:>4}{acc:>8.3f}{vb[voice][1]:>11.3f}")


if __name__ == "__main__":
    main()
