"""`/healthz` checks the database, Redis and the worker's heartbeat and reports each; the
console shows 「システムの一部が停止しています」 while the worker or Redis is down, because
SLA timers are then not running (issue 12)."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from frontdoor import health
from frontdoor.clock import utc_now
from tests.handoff.staff import PASSWORD, make_staff

pytestmark = pytest.mark.asyncio


async def _healthz(base_url: str) -> tuple[int, dict]:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as client:
        response = await client.get("/healthz")
    return response.status_code, response.json()


async def test_healthz_says_the_worker_is_down_when_its_heartbeat_is_stale(live_server, session):  # noqa: ANN001
    await health.beat(session, name="worker", now=utc_now() - timedelta(minutes=10))
    status, report = await _healthz(live_server.base_url)
    assert status == 503
    assert (report["database"], report["redis"], report["worker"], report["ok"]) == ("ok", "ok", "down", False)
    assert report["message"] == "システムの一部が停止しています。"

    # What the beat's SLA sweep does every 20 seconds.
    await health.beat(session, name="worker", now=utc_now())
    status, report = await _healthz(live_server.base_url)
    assert status == 200 and report == {"database": "ok", "redis": "ok", "worker": "ok", "ok": True}


@pytest.mark.browser
async def test_healthz_and_the_console_banner_while_redis_is_down(server_on_own_redis, own_redis, session, browser):  # noqa: ANN001
    server = server_on_own_redis
    await health.beat(session, name="worker", now=utc_now())
    counselor = await make_staff(session, tenant_id="setagaya")
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await page.goto(f"{server.base_url}/console/")
    await page.fill("input[name=login]", counselor.login)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url("**/console/")
    await page.wait_for_timeout(500)
    assert await page.locator("#system-status").is_hidden()

    own_redis.stop(kill=True)
    try:
        status, report = await _healthz(server.base_url)
        assert status == 503 and report["redis"] == "down" and report["database"] == "ok"
        await page.reload()
        banner = page.locator("#system-status")
        await banner.wait_for(state="visible", timeout=10000)
        text = await banner.inner_text()
        assert "システムの一部が停止しています" in text and "Redis" in text and "ワーカー" not in text
    finally:
        own_redis.start()
    status, report = await _healthz(server.base_url)
    assert status == 200 and report["ok"] is True
    await page.reload()
    await page.wait_for_timeout(800)
    assert await page.locator("#system-status").is_hidden()
    await context.close()
