"""The missing-person intake in the widget and the counselor's side in the console (issue 8):
the reporter's closed-hours intake (Setagaya's office hours are set closed for this server, so
the test does not depend on the weekday it runs), then the counselor sees the 管理番号 and the
countdown, completes a 別紙8-3 item at the next-opening-day call, records that call, the phone
report to the ward and sends 別紙8-3 (with the completed item) to a real local SMTP server."""

from __future__ import annotations

import re
import shutil
from email import message_from_bytes
from email.policy import default as email_policy
from io import BytesIO

import pytest
import yaml
from openpyxl import load_workbook
from sqlalchemy import select

from frontdoor.clock import utc_now
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.models import Case
from handoff.requests.models import Request
from tests.conftest import LiveServer
from tests.handoff.staff import PASSWORD, make_staff

pytestmark = [pytest.mark.asyncio, pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def closed_server(settings, decider, redis_handle, tmp_path, inbox):  # noqa: ANN001, ANN201
    tenants = tmp_path / "tenants"
    shutil.copytree(settings.tenants_dir, tenants)
    setagaya = yaml.safe_load((tenants / "setagaya.yaml").read_text(encoding="utf-8"))
    setagaya["office_hours"] = {"weekdays": [0], "open": "00:00", "close": "00:01", "closed_on_public_holidays": True, "year_end_closure": None}
    (tenants / "setagaya.yaml").write_text(yaml.safe_dump(setagaya, allow_unicode=True), encoding="utf-8")
    update = {"tenants_dir": tenants, "notify_smtp_host": "127.0.0.1", "notify_smtp_port": inbox.port, "notify_smtp_sender": "anshin@example.invalid"}
    server = LiveServer(settings.model_copy(update=update), decider, redis_handle).start()
    yield server
    server.stop()


async def _open_widget(page, url: str, artifacts) -> None:  # noqa: ANN001
    """The demo page, then 「相談する」. A CI full run once timed out waiting for the launcher
    (it passes alone): if it happens again, the failure says what the page got (the demo page's
    status, failed or refused requests, script errors) instead of only a timeout."""
    trouble: list[str] = []
    page.on("requestfailed", lambda r: trouble.append(f"failed {r.url} {r.failure}"))
    page.on("response", lambda r: trouble.append(f"HTTP {r.status} {r.url}") if r.status >= 400 else None)
    page.on("pageerror", lambda e: trouble.append(f"script error {e}"))
    page.on("console", lambda m: trouble.append(f"console {m.type} {m.text}") if m.type == "error" else None)
    response = await page.goto(url)
    assert response is not None and response.ok, f"demo page {response and response.status}; {trouble}"
    launcher = page.locator(".fd-launcher")
    try:
        await launcher.wait_for(state="visible", timeout=60000)
    except Exception as exc:  # noqa: BLE001
        await page.screenshot(path=str(artifacts / "missing-widget-launcher.png"))
        frame_shown = await page.locator("iframe.fd-frame:visible").count()
        raise AssertionError(f"no visible launcher ({exc.__class__.__name__}); frame shown: {frame_shown}; {trouble}; {(await page.content())[-600:]}") from exc
    await launcher.click()


async def _say(chat, text: str, expect: str) -> None:  # noqa: ANN001
    await chat.locator(".fd-form textarea").fill(text)
    await chat.locator(".fd-form textarea").press("Enter")
    await chat.locator(f".fd-bot >> text={expect}").last.wait_for(timeout=20000)


async def test_widget_intake_then_counselor_reports_to_the_ward_and_mails_the_form(closed_server, browser, session, inbox, artifacts):  # noqa: ANN001
    counselor = await make_staff(session, tenant_id="setagaya")
    resident_ctx = await browser.new_context(locale="ja-JP")
    resident = await resident_ctx.new_page()
    await _open_widget(resident, f"{closed_server.base_url}/demo/setagaya", artifacts)
    chat = resident.frame_locator("iframe.fd-frame")  # the chat lives in Frontdoor's own frame
    await chat.locator(".fd-status:has-text('つながっています')").wait_for()
    await _say(chat, "認知症の父が朝から帰ってきません", "110")
    await chat.locator(".fd-buttons button:has-text('はい、連絡しました')").last.click()
    await chat.locator(".fd-bot >> text=閉庁時間").last.wait_for(timeout=20000)
    await _say(chat, "世田谷花子です", "ふりがな")
    await _say(chat, "せたがやはなこ", "ご関係")
    await _say(chat, "むすめです", "お電話番号")
    await _say(chat, "090-3333-4444", "よろしいですか")
    await chat.locator(".fd-buttons").last.locator("button:has-text('はい')").click()
    try:
        await chat.locator(".fd-bot >> text=管理番号").last.wait_for(timeout=20000)
    finally:
        await resident.screenshot(path=str(artifacts / "missing-widget.png"))
    told = await chat.locator(".fd-bot").last.inner_text()
    number = re.search(r"管理番号「(\d+-\d+)」", told).group(1)
    await resident.screenshot(path=str(artifacts / "missing-widget.png"))

    # This reporter's request (other tests' requests may carry later clocks than this one's).
    reports = (await session.scalars(select(Request).where(Request.kind == "missing_person", Request.tenant_id == "setagaya"))).all()
    ours = [r for r in reports if r.fields.get("reporter_phone") == "090-3333-4444"]
    assert len(ours) == 1, [r.fields.get("management_no") for r in ours]
    request = ours[0]
    assert request.fields["management_no"] == number
    case = await session.scalar(select(Case).where(Case.conversation_id == request.conversation_id))

    staff_ctx = await browser.new_context(locale="ja-JP")
    console = await staff_ctx.new_page()
    await console.goto(f"{closed_server.base_url}/console/")
    await console.fill("input[name=login]", counselor.login)
    await console.fill("input[name=password]", PASSWORD)
    await console.click("button[type=submit]")
    await console.wait_for_url("**/console/")
    await console.goto(f"{closed_server.base_url}/console/cases/{case.id}")
    assert await console.inner_text("#management-no") == number
    assert re.fullmatch(r"あと\d+分", await console.inner_text("#countdown"))  # until the call-back deadline
    # At the call-back the counselor completes 別紙8-3 by phone (⑤ウ(オ)); the mailed form carries it.
    await console.fill("#intake-fields input[name=clothes]", "上：紺のジャンパー　下：灰色のズボン")
    await console.click("#intake-fields button[type=submit]")
    await console.wait_for_selector("#missing-history >> text=別紙8-3を修正：服装")
    await console.click("#callback-continue")  # the next-opening-day call: still missing
    await console.wait_for_selector("#ward-phone")
    # ⑤イ(カ): 30 minutes from now (to 9:30 when the call ends 8:30–9:00, so the wall clock matters)
    left = (missing.report_deadline(utc_now()) - utc_now()).total_seconds() / 60
    assert abs(int(re.fullmatch(r"あと(\d+)分", await console.inner_text("#countdown")).group(1)) - left) <= 1.5
    await console.fill("#ward-phone input[name=to]", "地域支援課 佐藤")
    await console.click("#ward-phone button")
    await console.wait_for_selector("#send-form")
    await console.click("#send-form button")
    await console.wait_for_selector("#missing-history >> text=別紙8-3を区へメールで送信")
    assert "状況確認の電話の期限" in await console.inner_text("#missing")  # next: the daily check from tomorrow
    await console.screenshot(path=str(artifacts / "missing-console.png"), full_page=True)

    assert len(inbox.messages) == 1
    attachment = next(p for p in message_from_bytes(inbox.messages[0], policy=email_policy).walk() if p.get_filename())
    sheet = load_workbook(BytesIO(attachment.get_payload(decode=True))).active
    assert "上：紺のジャンパー　下：灰色のズボン" in {c.value for row in sheet.iter_rows() for c in row}
    record = await session.get(MissingPerson, request.id, populate_existing=True)
    assert record.ward_phoned_to == "地域支援課 佐藤" and record.ward_phoned_at and record.form_mailed_at and record.intake_at
    await staff_ctx.close()
    await resident_ctx.close()
