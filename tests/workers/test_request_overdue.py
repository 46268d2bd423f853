"""Due times staff actually see pass (issue 13 "Staff side"): the real Celery worker marks a
request past its due time once, and the worklist shows 「期限切れ」 first."""

from __future__ import annotations

import asyncio
import re
from datetime import timedelta

import pytest

from frontdoor.clock import JST, utc_now
from handoff.requests import service as request_service
from tests.handoff.staff import console_client, make_staff
from tests.requests.test_absence_flow import Resident, stored

pytestmark = pytest.mark.asyncio


async def _absence(runtime, session, *, written_at, day, name: str):  # noqa: ANN001, ANN202
    resident = Resident(runtime, session, now=written_at.astimezone(JST))
    await resident.says(f"{day.month}月{day.day}日は留守です。名前は{name}、電話は03-5555-0001です")
    return await stored(session, await resident.says("はい"))


def _row(html: str, request_id) -> tuple[int, str]:  # noqa: ANN001
    start = html.index(f'data-id="{request_id}"')
    return start, html[start : html.index("</tr>", start)]


async def _sweep(celery_app) -> int:  # noqa: ANN001
    result = celery_app.send_task("frontdoor.mark_overdue_requests")
    return await asyncio.to_thread(result.get, timeout=60)


async def test_the_worker_marks_a_request_past_due_once_and_the_worklist_shows_it_first(live_server, runtime, session, celery_app):  # noqa: ANN001
    now = utc_now()
    three_days_ago = now - timedelta(days=3)
    # Written three days ago about the next day: due 17:00 the day before that day (tenant setting).
    late = await _absence(runtime, session, written_at=three_days_ago, day=(three_days_ago + timedelta(days=1)).astimezone(JST).date(), name="下馬和子、ふりがなはしもうまかずこ")
    handled = await _absence(runtime, session, written_at=three_days_ago, day=(three_days_ago + timedelta(days=2)).astimezone(JST).date(), name="三宿一郎、ふりがなはみしゅくいちろう")
    fresh = await _absence(runtime, session, written_at=now, day=(now + timedelta(days=6)).astimezone(JST).date(), name="若林春子、ふりがなはわかばやしはるこ")
    me = await make_staff(session, tenant_id="setagaya")
    assert await request_service.mark_done(session, request_id=handled.id, counselor_id=me.id, now=now)
    await session.commit()
    assert late.due_at < now < fresh.due_at and handled.due_at < now

    assert celery_app.conf.beat_schedule["mark-overdue-requests"]["task"] == "frontdoor.mark_overdue_requests"
    assert await _sweep(celery_app) >= 1
    late, handled, fresh = [await session.get(type(r), r.id, populate_existing=True) for r in (late, handled, fresh)]
    assert late.overdue_at is not None and handled.overdue_at is None and fresh.overdue_at is None
    marked_at = late.overdue_at
    await _sweep(celery_app)  # idempotent: a second beat marks nothing twice
    late = await session.get(type(late), late.id, populate_existing=True)
    assert late.overdue_at == marked_at
    assert [e.action for e in await request_service.events(session, request_id=late.id)].count("overdue") == 1

    client = await console_client(live_server.base_url, me)
    html = (await client.get("/console/requests")).text
    late_at, late_row = _row(html, late.id)
    fresh_at, fresh_row = _row(html, fresh.id)
    assert "期限切れ" in late_row and "期限切れ" not in fresh_row
    assert late_at < fresh_at
    first = re.search(r'<tr class="status-[a-z]+( overdue)?"', html)
    assert first and first.group(1)  # 期限切れ first, whatever else is open
    assert "期限切れ" in (await client.get(f"/console/requests/{late.id}")).text
    alerts = (await client.get("/console/alerts")).json()
    assert alerts["requests_overdue"] >= 1  # the console's alert feed carries the count (a quiet badge)
    await client.aclose()
