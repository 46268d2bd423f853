"""The dashboard in Debian chromium: a seeded month of synthetic Setagaya conversations
(May 2022), figures checked against independent SQL counts; a screenshot is kept in
test-artifacts/ for review."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import func, select

from bot.models import Conversation, Message
from frontdoor.clock import JST
from handoff.auth import COOKIE, issue_cookie
from handoff.models import Role
from tests.handoff.staff import make_staff
from workers.reports import demo_data

pytestmark = pytest.mark.browser
MONTH = "2022-05"


@pytest.fixture(scope="module")
async def may_2022(runtime):  # noqa: ANN001, ANN201
    """One month of demo conversations; returns (conversations, messages) counted directly in SQL."""
    async with runtime.sessions() as session:
        await demo_data.seed_conversations(
            session, tenants=[runtime.tenants.get("setagaya")], now=datetime(2022, 6, 1, tzinfo=JST), config=demo_data.DemoConfig(months=1)
        )
        in_may = (Conversation.tenant_id == "setagaya", Conversation.local_date.between(datetime(2022, 5, 1).date(), datetime(2022, 5, 31).date()))
        conversations = await session.scalar(select(func.count()).select_from(Conversation).where(*in_may))
        messages = await session.scalar(select(func.count()).select_from(Message).join(Conversation, Conversation.id == Message.conversation_id).where(*in_may))
        return conversations, messages


async def test_dashboard_figures_in_the_browser(live_server, session, browser, artifacts, may_2022):  # noqa: ANN001, F811
    conversations, messages = may_2022
    assert 15 * 31 * 0.8 <= conversations <= 25 * 31
    manager = await make_staff(session, tenant_id="setagaya", role=Role.MANAGER)
    context = await browser.new_context(viewport={"width": 1280, "height": 1800}, locale="ja-JP")
    await context.add_cookies([{"name": COOKIE, "value": issue_cookie(live_server.settings.secret_key, manager), "url": live_server.base_url}])
    page = await context.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    try:
        await page.goto(f"{live_server.base_url}/dashboard/?month={MONTH}")
        assert await page.locator("h1").inner_text() == "世田谷区 高齢者安心コール　2022年5月"
        assert await page.get_attribute("#kpi-conversations .v", "data-value") == str(conversations)
        assert (await page.inner_text("#kpi-messages .v")).replace(",", "") == str(messages)
        heat = await page.eval_on_selector_all("#chart-heat rect.cell", "els => els.map(e => +e.dataset.value)")
        bars = await page.eval_on_selector_all("#chart-categories rect.bar", "els => els.map(e => +e.dataset.value)")
        assert len(heat) == 7 * 24 and sum(heat) == conversations
        assert len(bars) == 7 and sum(bars) == conversations
        may_segments = await page.eval_on_selector_all(f'#chart-trend rect.seg[data-month="{MONTH}"]', "els => els.map(e => +e.dataset.value)")
        assert sum(may_segments) == conversations
        assert await page.locator("#chart-heat a").count() == 0  # managers: figures, no conversation links
        assert await page.locator(f'#downloads a[href="/dashboard/reports/{MONTH}.xlsx"]').count() == 1
        await page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    finally:
        await context.close()
    assert all(url.startswith(live_server.base_url) for url in requests)  # nothing fetched from the internet
