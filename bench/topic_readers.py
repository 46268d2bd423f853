"""Topic top-1 beside what careful readers do on the same messages: how far the reported
topic is from a person's, and whether its errors are borders people draw differently or
messages everyone files alike.

`bench/data/readers/topics.jsonl` holds, for every topic-labelled message of the blind set
(`triage_dev/`) and of held7, the topic three helper sessions chose on reading it. They had seen
only the labelling policy (handoff/training/POLICY.md without its file paths), never the
training data, the entries or any label, and chose one id per message, as the model must.
The writer's own label is the set's `topic`. Aggregates only: no message is printed.

    python bench/topic_readers.py
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from frontdoor.clock import utc_now  # noqa: E402
from frontdoor.runtime import build_decider  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from frontdoor.tenants import load_tenants  # noqa: E402
from frontdoor.triage_cli import tenant_for  # noqa: E402
from handoff.triage.training import load_examples  # noqa: E402
from handoff.urgency import Urgency  # noqa: E402

DATA = ROOT / "bench" / "data"
READERS = DATA / "readers" / "topics.jsonl"


def share(hits: list[bool]) -> str:
    return f"{sum(hits) / len(hits):.3f}" if hits else "-"


def show(label: str, value: str) -> None:
    print(f"  {label:36}{value}")


def main() -> None:
    rows = [json.loads(text) for text in READERS.read_text(encoding="utf-8").splitlines() if text.strip()]
    decider = build_decider(Settings(_env_file=None))
    tenants = load_tenants(ROOT / "frontdoor" / "tenants")
    examples = {name: load_examples(DATA / name) for name in sorted({r["file"] for r in rows})}
    now = utc_now()
    sets: dict[str, list[tuple[str, list[str], str]]] = {}
    for r in rows:
        e = examples[r["file"]][r["line"]]
        model = decider.decide(tenants.get(tenant_for(e)), e.text, prior=Urgency.NONE, now=now).topic
        sets.setdefault("blind" if r["file"].startswith("triage_dev/") else Path(r["file"]).stem, []).append((e.topic, r["readers"], model))
    for name, items in sets.items():
        n_readers = len(items[0][1])
        majority = [Counter(readers).most_common(1)[0] for _, readers, _ in items]
        agreed = [(w, m) for w, readers, m in items if all(x == w for x in readers)]
        disputed = [(w, m) for w, readers, m in items if any(x != w for x in readers)]
        print(f"== {name}: {len(items)} topic-labelled messages, {n_readers} readers")
        for k in range(n_readers):
            show(f"reader {k + 1} vs the writer", share([readers[k] == w for w, readers, _ in items]))
        show("readers' majority vs the writer", share([c > n_readers / 2 and t == w for (t, c), (w, _, _) in zip(majority, items)]))
        show("all readers and the writer agree", f"{len(agreed)} ({len(agreed) / len(items):.3f})")
        show("model vs the writer", share([m == w for w, _, m in items]))
        show("model vs the readers' majority", share([c > n_readers / 2 and t == m for (t, c), (_, _, m) in zip(majority, items)]))
        show("model where everyone agrees", f"{share([m == w for w, m in agreed])} ({sum(m != w for w, m in agreed)} wrong)")
        show("model where someone disagrees", f"{share([m == w for w, m in disputed])} of {len(disputed)}")


if __name__ == "__main__":
    main()
