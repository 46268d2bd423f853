"""The night shift's console in a real browser (issue 11): a counselor inside another case gets
the banner, the sound and the 【緊急】/【至急】 tab title when a case arrives, escalates or
misses its deadline; the title clears once someone accepts it; closing without an outcome is
refused; the idle lock (Setagaya 別紙1-1 §14) blurs the page and unlocking keeps it."""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import timedelta

import pytest
from playwright.async_api import expect
from sqlalchemy import select, update

from bot.engine import Inbound
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from handoff import escalation
from handoff.models import Case, CaseStatus
from handoff.notify import ConsoleNotifier
from tests.conftest import LiveServer
from workers.notifiers import backoff, repeat_after
from tests.handoff.staff import PASSWORD, console_client, make_staff

pytestmark = [pytest.mark.asyncio, pytest.mark.browser, pytest.mark.slow]

# Headless Chromium has no notification centre: record what the page asks the browser to show.
NOTIFICATION_SPY = """
window.__notes = [];
window.Notification = function (title, options) { window.__notes.push({ title: title, body: (options || {}).body }); };
window.Notification.permission = "granted";
window.Notification.requestPermission = function () { return Promise.resolve("granted"); };
"""


async def _case(runtime, session, text: str) -> Case:  # noqa: ANN001
    outcome = await runtime.conversation_engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, f"night-{uuid.uuid4().hex[:8]}", text))
    return await session.scalar(select(Case).where(Case.conversation_id == outcome.conversation_id))


async def _sign_in(page, base_url: str, staff, next_path: str = "/console/") -> None:  # noqa: ANN001
    await page.goto(f"{base_url}/console/login?next={next_path}")
    await page.fill("input[name=login]", staff.login)
    await page.fill("input[name=password]", PASSWORD)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"**{next_path}")


async def _quiet_queue(session) -> None:  # noqa: ANN001
    """Earlier tests leave unaccepted cases in the shared test database; close them so the
    title starts clean."""
    await session.execute(update(Case).where(Case.tenant_id == "kashiwa", Case.status == CaseStatus.WAITING).values(status=CaseStatus.CLOSED, closed_at=utc_now()))
    await session.commit()


async def test_alerts_reach_a_counselor_inside_another_case(live_server, runtime, browser, session, artifacts):  # noqa: ANN001
    await _quiet_queue(session)
    me = await make_staff(session, tenant_id="kashiwa")
    colleague = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa"))
    mine = await _case(runtime, session, "家賃がはらえなくて、来週には家を出ないといけない。どうしよう")
    assert (await colleague.post(f"/console/cases/{mine.id}/take-over")).status_code == 303  # nothing waits now

    context = await browser.new_context(locale="ja-JP")
    await context.add_init_script(NOTIFICATION_SPY)
    page = await context.new_page()
    await _sign_in(page, live_server.base_url, me, f"/console/cases/{mine.id}")
    assert await page.title() == "案件 | Frontdoor"
    assert await page.is_visible("#fd-sound-enable")
    await page.click("#fd-sound-enable")
    await page.reload()
    await page.wait_for_timeout(500)
    assert await page.evaluate("localStorage.getItem('frontdoor.sound')") == "on"
    assert not await page.is_visible("#fd-sound")  # remembered: no control while nothing waits

    emergency = await _case(runtime, session, "じいちゃんが家の中で倒れて、息してない")
    assert emergency.urgency == "emergency"
    # expect() polls from Playwright's own world: the console's strict CSP forbids wait_for_function's eval.
    await expect(page).to_have_title(re.compile(r"^【緊急】"), timeout=5000)
    assert await page.is_visible("#fd-alert[data-level='emergency']")
    assert "緊急の相談が1件" in await page.text_content("#fd-alert-text")
    assert await page.evaluate("document.documentElement.dataset.fdLastSound") == "emergency"
    assert await page.evaluate("window.__notes.length") >= 1
    await page.screenshot(path=str(artifacts / "night-console-emergency.png"), full_page=True)

    assert (await colleague.post(f"/console/cases/{emergency.id}/take-over")).status_code == 303
    await expect(page).to_have_title("案件 | Frontdoor", timeout=5000)
    assert not await page.is_visible("#fd-alert")

    # Another page of the console: the conversation list.
    await page.goto(f"{live_server.base_url}/console/conversations?status=open")
    urgent = await _case(runtime, session, "もう生きていけない")
    assert urgent.urgency == "urgent"
    await expect(page).to_have_title(re.compile(r"^【至急】"), timeout=5000)
    assert await page.evaluate("document.documentElement.dataset.fdLastSound") == "urgent"
    assert await page.is_visible("#fd-alert[data-level='urgent']")

    # Its deadline passes and it is escalated: the alert sounds again and says so.
    await page.evaluate("document.documentElement.dataset.fdLastSound = ''")
    await session.execute(update(Case).where(Case.id == urgent.id).values(due_at=utc_now() - timedelta(seconds=1)))
    await session.commit()
    now = utc_now()
    assert await escalation.escalate(session, case_id=urgent.id, now=now, notifier_names=["console"], repeat_after=repeat_after(runtime.settings))
    # What the worker's outbox sweep does next (the escalation is queued, then delivered).
    await escalation.deliver_due(session, now=now, notifiers=[ConsoleNotifier(runtime.relay)], backoff=backoff(runtime.settings), case_id=urgent.id)
    await expect(page.locator("html")).to_have_attribute("data-fd-last-sound", "urgent", timeout=5000)
    await expect(page.locator("#fd-alert-text")).to_contain_text("期限を過ぎています", timeout=5000)

    assert (await colleague.post(f"/console/cases/{urgent.id}/take-over")).status_code == 303
    await expect(page).not_to_have_title(re.compile(r"^【"), timeout=5000)
    await colleague.aclose()
    await context.close()


async def test_an_alert_told_while_the_alerts_are_being_fetched_is_fetched_again(live_server, runtime, browser, session):  # noqa: ANN001
    """The page fetched /console/alerts once at a time and dropped a change told meanwhile. The
    first fetch answered before an urgent case came, so the case stayed silent until the
    20-second refresh (seen once in CI: a case that came as the conversation list opened)."""
    await _quiet_queue(session)
    me = await make_staff(session, tenant_id="kashiwa")
    page = await (await browser.new_context(locale="ja-JP")).new_page()
    await _sign_in(page, live_server.base_url, me)
    released, first = asyncio.Event(), []

    async def answer_the_first_fetch_late(route) -> None:  # noqa: ANN001
        if first:
            await route.continue_()
            return
        first.append(await route.fetch())  # answered now: before the case
        await released.wait()
        await route.fulfill(response=first[0])

    await page.route("**/console/alerts", answer_the_first_fetch_late)
    await page.goto(f"{live_server.base_url}/console/conversations?status=open")
    while not first:
        await asyncio.sleep(0.05)
    urgent = await _case(runtime, session, "もう生きていけない")
    assert urgent.urgency == "urgent"
    await asyncio.sleep(1.0)  # the queue event reaches the page while its fetch is held
    released.set()
    await expect(page).to_have_title(re.compile(r"^【至急】"), timeout=5000)
    await page.context.close()


async def test_closing_without_an_outcome_is_refused(live_server, runtime, browser, session):  # noqa: ANN001
    me = await make_staff(session, tenant_id="kashiwa")
    case = await _case(runtime, session, "もう三日なにも食べてない。お金も一円もない")
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await _sign_in(page, live_server.base_url, me, f"/console/cases/{case.id}")
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), asyncio.ensure_future(d.accept())))
    await page.click("#close-button")
    await page.wait_for_timeout(500)
    assert page.url.endswith(f"/console/cases/{case.id}") and dialogs == []
    assert await page.evaluate("document.querySelector('#close-form select').validity.valueMissing")
    await page.select_option("#close-form select[name=outcome]", "関係機関へ紹介")
    await page.click("#close-button")  # an urgent case also needs its closing note
    await page.wait_for_timeout(300)
    assert dialogs == [] and (await session.get(Case, case.id, populate_existing=True)).status != CaseStatus.CLOSED
    await page.fill("#close-form textarea[name=note]", "生活支援の窓口と食料支援につないだ")
    await page.click("#close-button")
    await page.wait_for_url(f"{live_server.base_url}/console/")
    assert dialogs and "関係機関へ紹介" in dialogs[0]
    closed = await session.get(Case, case.id, populate_existing=True)
    assert closed.status == CaseStatus.CLOSED and closed.outcome == "関係機関へ紹介"
    # Back on the queue, one key opens the top case.
    await _case(runtime, session, "じいちゃんが家の中で倒れて、息してない")
    await page.reload()
    top = await page.get_attribute("#queue-rows tr[data-case] a.button", "href")
    await page.keyboard.press("o")
    await page.wait_for_url(f"{live_server.base_url}{top}")
    await context.close()


@pytest.fixture
def quick_lock_server(settings, decider, redis_handle):  # noqa: ANN001, ANN201
    server = LiveServer(settings.model_copy(update={"idle_lock_minutes": 0.04}), decider, redis_handle).start()  # 2.4 s
    yield server
    server.stop()


async def test_idle_lock_blurs_the_page_and_unlocking_keeps_it(quick_lock_server, runtime, browser, session, artifacts):  # noqa: ANN001
    base = quick_lock_server.base_url
    me = await make_staff(session, tenant_id="kashiwa")
    case = await _case(runtime, session, "もう三日なにも食べてない。お金も一円もない")
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await _sign_in(page, base, me, f"/console/cases/{case.id}")
    await page.fill("form[action$='/notes'] textarea", "書きかけのメモ：住居確保給付金")
    await page.wait_for_selector("#fd-lock", state="visible", timeout=10000)
    assert await page.evaluate("document.getElementById('page').classList.contains('fd-locked')")
    await page.screenshot(path=str(artifacts / "night-console-locked.png"))
    # The server refuses this sign-in while locked: another tab or a reload gets the lock page.
    await page.wait_for_timeout(300)
    status = await page.evaluate("fetch('/console/queue/rows').then(r => r.status)")
    assert status == 423
    other = await context.new_page()
    await other.goto(f"{base}/console/")
    assert "/console/locked" in other.url
    await other.close()

    await page.fill("#fd-lock input[name=password]", "まちがったパスワード")
    await page.click("#fd-lock button[type=submit]")
    await page.wait_for_selector("#fd-lock-error", state="visible")
    assert "違います" in await page.text_content("#fd-lock-error")
    await page.fill("#fd-lock input[name=password]", PASSWORD)
    await page.click("#fd-lock button[type=submit]")
    await page.wait_for_selector("#fd-lock", state="hidden", timeout=5000)
    assert await page.input_value("form[action$='/notes'] textarea") == "書きかけのメモ：住居確保給付金"
    assert await page.evaluate("fetch('/console/queue/rows').then(r => r.status)") == 200
    await context.close()


async def test_supervisor_disables_an_account_from_the_page_after_confirming(live_server, browser, session):  # noqa: ANN001
    from handoff.models import Counselor, Role

    boss = await make_staff(session, tenant_id="kashiwa", role=Role.SUPERVISOR)
    leaver = await make_staff(session, tenant_id="kashiwa")
    leaver_client = await console_client(live_server.base_url, leaver)
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    await _sign_in(page, live_server.base_url, boss, "/console/accounts")
    answers = iter([False, True])  # first "cancel", then "OK"
    page.on("dialog", lambda d: asyncio.ensure_future(d.accept() if next(answers) else d.dismiss()))
    row = page.locator(f"tr[data-login='{leaver.login}']")
    await row.locator("button:has-text('無効にする')").click()
    await page.wait_for_timeout(500)
    assert (await session.get(Counselor, leaver.id, populate_existing=True)).active  # cancelled: nothing changed
    await row.locator("button:has-text('無効にする')").click()
    await page.wait_for_selector(".notice:has-text('無効にしました')")
    assert not (await session.get(Counselor, leaver.id, populate_existing=True)).active
    assert (await leaver_client.get("/console/queue/rows")).status_code == 401
    await leaver_client.aclose()
    await context.close()
