"""Escalation notifiers: a real SMTP exchange (aiosmtpd on loopback) and a real webhook POST."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from aiohttp import web

from handoff.notify import Escalation, NotReached, SmtpNotifier, WebhookNotifier

pytestmark = pytest.mark.asyncio

ESCALATION = Escalation("kashiwa", "0f8d6d2e-1111-4222-8333-944455556666", "emergency", 3, ("oncall@example.invalid",))


async def test_smtp_notifier_sends_a_japanese_mail_without_resident_text(inbox):  # noqa: ANN001
    notifier = SmtpNotifier("127.0.0.1", inbox.port, "frontdoor@example.invalid", "http://console.test")
    await notifier.notify(ESCALATION)
    assert len(inbox.messages) == 1
    from email import message_from_bytes
    from email.header import decode_header, make_header

    mail = message_from_bytes(inbox.messages[0])
    assert "【緊急】" in str(make_header(decode_header(mail["Subject"])))
    body = mail.get_payload(decode=True).decode("utf-8")
    assert "http://console.test/console/cases/0f8d6d2e-1111-4222-8333-944455556666" in body


async def test_smtp_notifier_without_addresses_reports_it_reached_no_one():
    notifier = SmtpNotifier("127.0.0.1", 9, "frontdoor@example.invalid", "http://console.test")
    with pytest.raises(NotReached):
        await notifier.notify(Escalation("kashiwa", ESCALATION.case_id, "urgent", 16, ()))


async def test_webhook_notifier_posts_json_and_an_unreachable_hook_raises():
    received: list[dict] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        broken = WebhookNotifier("http://127.0.0.1:9/unreachable", "http://console.test")
        good = WebhookNotifier(f"http://127.0.0.1:{port}/hook", "http://console.test")
        with pytest.raises(httpx.HTTPError):
            await broken.notify(ESCALATION)
        await good.notify(ESCALATION)
    finally:
        await runner.cleanup()
    assert received[0]["urgency"] == "emergency" and received[0]["waited_minutes"] == 3
    await asyncio.sleep(0)
