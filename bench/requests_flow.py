"""A whole request conversation through the real engine (issue 13) against a plain knowledge
question turn in the same run (the ratio is the figure).

Each sample is a new resident on the web channel, played through `ConversationEngine.
handle_inbound` with the real decider (triage model + retrieval, one thread), the form flow
and SQLite in a temp dir, each turn in its own session as the web socket does:

* baseline: one knowledge question (「見守りステッカーについて教えてください」);
* absence in one message: the whole notice in one message, read back, then はい (2 turns);
* absence over four turns: kana only, one field per turn, then はい (4 turns).

    python bench/requests_flow.py [--samples 30]

The triage model comes from the content-keyed cache (`FRONTDOOR_CACHE_PATH`, default
~/.cache/frontdoor); a cold cache trains it first (minutes), outside the timings.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.retrieval_latency import machine, percentile  # noqa: E402
from bot.conversations import ensure_tenant_rows  # noqa: E402
from bot.engine import Inbound  # noqa: E402
from frontdoor.clock import JST  # noqa: E402
from frontdoor.db import create_engine, session_factory  # noqa: E402
from frontdoor.migrate import upgrade_async  # noqa: E402
from frontdoor.models import ChannelKind  # noqa: E402
from frontdoor.runtime import build_decider, build_engine  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from frontdoor.tenants import load_tenants  # noqa: E402

MONDAY_10 = datetime(2026, 12, 7, 10, 0, tzinfo=JST)  # office hours: every form records at once
SCRIPTS: dict[str, list[tuple[str, str | None]]] = {
    "baseline: knowledge question (1 turn)": [("見守りステッカーについて教えてください", None)],
    "absence in one message + はい (2 turns)": [("12月10日は通院で留守にします。世田谷花子（せたがやはなこ）03-1234-5678", None), ("はい", None)],
    "absence over four turns, kana (4 turns)": [("あしたはでかけるのでるすです", None), ("やまだ はなこ です", None), ("０９０ー１２３４ー５６７８", None), ("はい", "form:yes")],
}


async def play(engine, sessions, script: list[tuple[str, str | None]], expect_request: bool) -> float:  # noqa: ANN001
    """One resident's whole conversation; returns milliseconds and checks it did what it claims."""
    who, now = uuid.uuid4().hex, MONDAY_10
    started = time.perf_counter()
    outcome = None
    for text, action in script:
        async with sessions() as session:
            outcome = await engine.handle_inbound(session, Inbound("setagaya", ChannelKind.WEB, who, text, channel_message_id=uuid.uuid4().hex, action=action), now=now)
        now += timedelta(seconds=5)
    elapsed = (time.perf_counter() - started) * 1000
    recorded = outcome is not None and outcome.request is not None and outcome.request.status == "open"
    if recorded != expect_request:
        raise SystemExit(f"the script did not behave: {script[0][0]!r} → request {outcome.request if outcome else None}")
    return elapsed


async def main(samples: int) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="fd-bench-requests-"))
    settings = Settings(
        data_dir=data_dir, inference_pool="thread", inference_workers=1, demo_data=False,
        cache_path=Path(os.environ.get("FRONTDOOR_CACHE_PATH", Path.home() / ".cache" / "frontdoor")), _env_file=None,
    )
    url = settings.resolved_database_url()
    await upgrade_async(url)
    db = create_engine(url)
    sessions = session_factory(db)
    tenants = load_tenants(settings.tenants_dir)
    async with sessions() as session:
        await ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
    engine = build_engine(settings, tenants, build_decider(settings), relay=None)
    for script in SCRIPTS.values():  # warm-up: models loaded, caches filled, SQLite pages read
        for _ in range(3):
            await play(engine, sessions, script, expect_request=script is not SCRIPTS[next(iter(SCRIPTS))])
    times: dict[str, list[float]] = {name: [] for name in SCRIPTS}
    for _ in range(samples):  # interleaved, so a noisy neighbour hits every script alike
        for i, (name, script) in enumerate(SCRIPTS.items()):
            times[name].append(await play(engine, sessions, script, expect_request=i > 0))
    await db.dispose()

    base = statistics.median(times[next(iter(SCRIPTS))])
    print(f"machine: {machine()}")
    print(f"samples: {samples} conversations per script, interleaved; SQLite; decider in one thread")
    print(f"{'script':44} {'median ms':>10} {'p95 ms':>8} {'per turn ms':>12} {'ratio':>6}")
    for name, values in times.items():
        turns = len(SCRIPTS[name])
        median = statistics.median(values)
        print(f"{name:44} {median:10.1f} {percentile(values, 0.95):8.1f} {median / turns:12.1f} {median / base:6.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--samples", type=int, default=30)
    asyncio.run(main(parser.parse_args().samples))
