"""Answer latency (retrieval + reply composition) per message, and index build time.

Runs the hybrid index and a plain character-bigram BM25 baseline on the same messages in
the same process, and prints p50/p95 for both and their ratio. Also times the index
build cold (embeddings computed) and warm (embeddings read from the on-disk cache).

    python bench/retrieval_latency.py [--embedder e5|use] [--repeat 3]
"""

from __future__ import annotations

import argparse
import platform
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.retrieval_accuracy import load_eval, tenant_facts  # noqa: E402
from knowledge.answering import compose_answer  # noqa: E402
from knowledge.catalog import load_catalog  # noqa: E402
from knowledge.embedding import load_embedder  # noqa: E402
from knowledge.lexical import BM25  # noqa: E402
from knowledge.retrieval import KnowledgeIndex, entry_texts  # noqa: E402
from knowledge.tokenize import bigrams  # noqa: E402


class BigramBaseline:
    """The simplest thing that works for Japanese: NFKC + character bigrams + BM25, top-1."""

    def __init__(self, catalog) -> None:  # noqa: ANN001
        self.entries = catalog.entries
        self.bm25 = BM25([self._grams(" ".join(entry_texts(e))) for e in self.entries])
        self.rows = {
            t: [i for i, e in enumerate(self.entries) if e.visible_to(t)] for t in ("kashiwa", "setagaya")
        }

    @staticmethod
    def _grams(text: str) -> list[str]:
        return bigrams(unicodedata.normalize("NFKC", text).lower().replace(" ", ""))

    def top(self, tenant: str, text: str):  # noqa: ANN201
        scores = self.bm25.scores(self._grams(text))
        return self.entries[max(self.rows[tenant], key=lambda i: scores[i])]

    def answer(self, tenant: str, text: str) -> str:
        return self.top(tenant, text).answer


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def machine() -> str:
    model = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return f"nproc={os.cpu_count()}, CPU={model}, python={platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--embedder", default=None, choices=["e5", "use"], help="default: the index's default")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    catalog = load_catalog()
    rows = load_eval()
    facts = tenant_facts()

    with tempfile.TemporaryDirectory() as tmp:
        cache = Path(tmp)
        t0 = time.perf_counter()
        embedder = load_embedder(args.embedder) if args.embedder else load_embedder()
        model_load = time.perf_counter() - t0
        t0 = time.perf_counter()
        KnowledgeIndex.build(catalog, cache, embedder=embedder)
        cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        index = KnowledgeIndex.build(catalog, cache, embedder=embedder)
        warm = time.perf_counter() - t0
        assert index.stats.from_cache
        t0 = time.perf_counter()
        baseline = BigramBaseline(catalog)
        base_build = time.perf_counter() - t0

        for row in rows[:20]:  # warm up caches and allocators
            compose_answer(index, tenant=row["tenant"], text=row["text"], facts=facts[row["tenant"]])
            baseline.answer(row["tenant"], row["text"])
        ours, base = [], []
        for _ in range(args.repeat):
            for row in rows:
                t = time.perf_counter()
                compose_answer(index, tenant=row["tenant"], text=row["text"], facts=facts[row["tenant"]])
                ours.append((time.perf_counter() - t) * 1000)
                t = time.perf_counter()
                baseline.answer(row["tenant"], row["text"])
                base.append((time.perf_counter() - t) * 1000)

        base_top1 = sum(baseline.top(r["tenant"], r["text"]).id == r["expected"] for r in rows) / len(rows)
        ours_top1 = sum(index.search(r["tenant"], r["text"], k=1)[0].entry.id == r["expected"] for r in rows) / len(rows)

    p50, p95 = percentile(ours, 0.5), percentile(ours, 0.95)
    b50, b95 = percentile(base, 0.5), percentile(base, 0.95)
    print(f"machine: {machine()}")
    print(f"embedder: {index.stats.embedder}; {len(catalog)} entries, {index.stats.texts} texts")
    print(f"messages: {len(ours)} ({len(rows)} x {args.repeat})")
    print(f"hybrid   p50 {p50:.2f} ms  p95 {p95:.2f} ms  mean {statistics.mean(ours):.2f} ms  max {max(ours):.2f} ms")
    print(f"baseline p50 {b50:.3f} ms  p95 {b95:.3f} ms  (char-bigram BM25)")
    print(f"top-1 accuracy on the eval set: hybrid {ours_top1:.3f}, baseline {base_top1:.3f}")
    print(f"ratio hybrid/baseline: p50 x{p50 / b50:.0f}, p95 x{p95 / b95:.0f}")
    print(f"model load {model_load:.2f} s; index build cold {cold:.2f} s, warm (cache) {warm:.2f} s; baseline build {base_build:.3f} s")


if __name__ == "__main__":
    main()
