"""One decision (`Decider.decide`: one e5 embedding, the triage model, retrieval), before vs
after, in the same run (issue 9; issue 14 §1: "decide() p95 ≤ 30 ms on this machine unloaded").

Two child processes load the app from two source trees (`--before DIR`, e.g. a `git archive`
of an older commit, and this checkout) and take turns on the same messages in small chunks,
so a busy neighbour on a shared machine slows both alike. Each child also times the stages
of a decision separately (the embedding, triage given the vector, retrieval given the vector)
and a micro-batch: the same messages embedded `--batch` at a time, per message. On a busy
machine wall time is mostly waiting for a core, so the decision's CPU time is printed too.

Both run with one OpenMP thread, as a pool worker does. Aggregates only: no message is
printed. Messages: the first `--n` of the blind triage dev set (as bench/triage_approaches.py).

    python bench/decide_speed.py --before /tmp/before [--n 200] [--rounds 5] [--batch 8]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def child(n: int, batch: int) -> None:
    """Runs inside the app's source tree; answers "start end" lines with timings (ms)."""
    sys.path.insert(0, os.getcwd())
    from frontdoor.clock import utc_now
    from frontdoor.runtime import build_decider
    from frontdoor.settings import Settings
    from frontdoor.tenants import load_tenants
    from handoff.triage.training import load_examples
    from handoff.urgency import Urgency

    decider = build_decider(Settings(_env_file=None))
    tenant = load_tenants(Path("frontdoor/tenants")).get("kashiwa")
    texts = [e.text for e in load_examples(ROOT / "bench" / "data" / "triage_dev")][:n]
    now = utc_now()
    for t in texts[:5]:  # warm-up
        decider.decide(tenant, t, prior=Urgency.NONE, now=now)
    print("ready", flush=True)
    for line in sys.stdin:
        start, end = map(int, line.split())
        out: dict[str, list[float]] = {"decide": [], "decide_cpu": [], "embed": [], "triage": [], "retrieval": [], "embed_batched": []}
        for text in texts[start:end]:
            c0, t0 = time.process_time(), time.perf_counter()
            decider.decide(tenant, text, prior=Urgency.NONE, now=now)
            t1, c1 = time.perf_counter(), time.process_time()
            out["decide_cpu"].append((c1 - c0) * 1000)
            vector = decider.triage.embed(text)
            t2 = time.perf_counter()
            decider.triage.assess(text, prior=Urgency.NONE, vector=vector)
            t3 = time.perf_counter()
            decider.answer(tenant, text, vector=vector)
            t4 = time.perf_counter()
            for key, a, b in (("decide", t0, t1), ("embed", t1, t2), ("triage", t2, t3), ("retrieval", t3, t4)):
                out[key].append((b - a) * 1000)
        chunk = texts[start:end]
        for i in range(0, len(chunk), batch):
            part = chunk[i : i + batch]
            t0 = time.perf_counter()
            decider.triage.embedder.embed([decider.triage.embedding_input(t) for t in part])
            out["embed_batched"] += [(time.perf_counter() - t0) * 1000 / len(part)] * len(part)
        print(json.dumps(out), flush=True)


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(p / 100 * len(ordered))) - 1))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--before", required=True, help="source tree of the 'before' app")
    parser.add_argument("--after", default=str(ROOT))
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--chunk", type=int, default=20)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.n, args.batch)
        return
    env = {
        **os.environ,
        "OMP_NUM_THREADS": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "FRONTDOOR_CACHE_PATH": os.environ.get("FRONTDOOR_CACHE_PATH", str(Path.home() / ".cache" / "frontdoor-tests")),
    }
    procs = {}
    for name, tree in (("before", args.before), ("after", args.after)):
        procs[name] = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--child", "--before", "-", "--n", str(args.n), "--batch", str(args.batch)],
            cwd=tree, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
        )
    for p in procs.values():
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    load_before = os.getloadavg()
    results: dict[str, dict[str, list[float]]] = {name: {} for name in procs}
    for start in range(0, args.n, args.chunk):
        for name, p in procs.items():  # alternate: both see the same neighbours
            assert p.stdin is not None and p.stdout is not None
            p.stdin.write(f"{start} {start + args.chunk}\n")
            p.stdin.flush()
            for key, values in json.loads(p.stdout.readline()).items():
                results[name].setdefault(key, []).extend(values)
    for p in procs.values():
        assert p.stdin is not None
        p.stdin.close()
        p.wait()
    load_after = os.getloadavg()
    print(f"{args.n} messages, chunks of {args.chunk} alternating; 1 OpenMP thread; load average {load_before[0]:.1f} → {load_after[0]:.1f}")
    print("| stage | before p50 / p95 | after p50 / p95 | after / before (p50, p95) |\n|---|---|---|---|")
    labels = {
        "decide": "decide() wall",
        "decide_cpu": "decide() CPU time",
        "embed": "embedding (wall, as every stage below)",
        "triage": "triage given the vector",
        "retrieval": "retrieval given the vector",
        "embed_batched": f"embedding in batches of {args.batch}, per message",
    }
    for key, label in labels.items():
        b, a = results["before"][key], results["after"][key]
        print(
            f"| {label} | {statistics.median(b):.1f} / {pct(b, 95):.1f} ms | {statistics.median(a):.1f} / {pct(a, 95):.1f} ms "
            f"| {statistics.median(a) / statistics.median(b):.2f} / {pct(a, 95) / pct(b, 95):.2f} |"
        )


if __name__ == "__main__":
    main()
