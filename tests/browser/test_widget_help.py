"""The widget opens with help (issue 15): a greeting and example questions per tenant; a
tapped example is answered; a long reply shows about five lines and a 「くわしく」 button;
large text survives a reload with the right label and grows the panel on a desktop; the
title stays on one line on a phone."""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.asyncio, pytest.mark.browser, pytest.mark.slow]


async def test_greeting_examples_short_reply_and_large_text(live_server, browser, runtime, artifacts):  # noqa: ANN001
    widget = runtime.tenants.get("setagaya").widget
    ctx = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await ctx.new_page()
    await page.goto(f"{live_server.base_url}/demo/setagaya")
    await page.click(".fd-launcher")
    chat = page.frame_locator("iframe.fd-frame")  # the chat runs in Frontdoor's own frame (issue 12)
    await chat.locator(".fd-intro").wait_for()
    intro = await chat.locator(".fd-intro").inner_text()
    assert "高齢者安心コール" in intro
    labels = await chat.locator(".fd-examples button").all_inner_texts()
    assert labels == widget.examples and 3 <= len(labels) <= 4

    await chat.locator(".fd-examples button:has-text('見守りステッカー')").click()
    reply = chat.locator(".fd-bot:not(.fd-intro)").last
    await reply.wait_for(timeout=20000)
    more = reply.locator(".fd-more-toggle")
    assert await more.inner_text() == "くわしく"
    shown = await reply.evaluate("b => Array.from(b.childNodes).filter(n => n.nodeType === 3).map(n => n.textContent).join('')")
    assert len(shown.strip().splitlines()) <= 5
    assert not await reply.locator(".fd-more").is_visible()
    await more.click()
    assert await reply.locator(".fd-more").is_visible()
    assert await reply.locator(".fd-more-toggle").count() == 0

    # The panel fills the frame, so the frame on the host page is what grows.
    frame_width = "document.querySelector('iframe.fd-frame').getBoundingClientRect().width"
    narrow = await page.evaluate(frame_width)
    await chat.locator(".fd-large-toggle").click()
    assert await chat.locator(".fd-large-toggle").inner_text() == "文字を標準に"
    await page.wait_for_timeout(200)  # the frame tells the host page by postMessage
    wide = await page.evaluate(frame_width)
    assert wide > narrow, "large text grows the panel on a desktop"
    await page.reload()
    await page.wait_for_selector("iframe.fd-frame:not([hidden])")  # the open conversation reopens
    chat = page.frame_locator("iframe.fd-frame")
    await chat.locator(".fd-panel.fd-large").wait_for()
    assert await chat.locator(".fd-large-toggle").inner_text() == "文字を標準に"
    await page.wait_for_timeout(200)
    assert await page.evaluate(frame_width) == wide
    await page.screenshot(path=str(artifacts / "widget-help-desktop.png"))
    await ctx.close()

    phone = await browser.new_context(locale="ja-JP", viewport={"width": 360, "height": 740})
    page = await phone.new_page()
    await page.goto(f"{live_server.base_url}/demo/kashiwa")
    await page.click(".fd-launcher")
    chat = page.frame_locator("iframe.fd-frame")
    await chat.locator(".fd-intro").wait_for()
    title = chat.locator(".fd-title")
    height = await title.evaluate("t => t.getBoundingClientRect().height")
    line = await title.evaluate("t => parseFloat(getComputedStyle(t).lineHeight)")
    assert height <= line * 1.2, "the title does not wrap on a phone"
    assert "柏市" in await chat.locator(".fd-intro").inner_text()
    await page.screenshot(path=str(artifacts / "widget-help-phone.png"))
    await phone.close()
