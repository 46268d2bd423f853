"""別紙6 §5 行方不明発生時の通報受付実績, filled from the intake records of one month (issue 8):
an office-hours intake through to found, a closed-hours report through the call-back to the
ward-notified end, and an anonymous report that is not counted as an intake."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from handoff.missing import service as missing
from tests.missing.helpers import Reporter, make_intake
from workers.reports import setagaya_besshi6, storage
from workers.reports.periods import Month

pytestmark = pytest.mark.asyncio
JST = ZoneInfo("Asia/Tokyo")


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2027, 2, day, hour, minute, tzinfo=JST)


async def test_section_5_lists_each_intake_with_its_report_check_and_end_times(runtime, session, counselor):  # noqa: ANN001
    tenant = runtime.tenants.get("setagaya")
    office = await make_intake(session, runtime, now=at(2, 14))
    await missing.record_ward_phone(session, request_id=office.id, counselor_id=counselor, to="地域支援課", now=at(2, 14, 15))
    await missing.mark_mailed(session, request_id=office.id, counselor_id=counselor, now=at(2, 14, 20), recipients=1)
    for day in (3, 4):
        await missing.record_check(session, request_id=office.id, counselor_id=counselor, outcome="not_found", now=at(day, 10, 5))
    await missing.mark_found(session, request_id=office.id, details={"found_place": "北沢公園"}, tenant=tenant, now=at(5, 9, 40))
    await missing.record_ward_phone(session, request_id=office.id, counselor_id=counselor, to="地域支援課", now=at(5, 9, 55))
    await missing.mark_mailed(session, request_id=office.id, counselor_id=counselor, now=at(5, 10, 2), recipients=1)

    closed = await make_intake(session, runtime, now=at(7, 22), closed=True)  # Sunday night
    await missing.callback_intake(session, request_id=closed.id, counselor_id=counselor, fields={}, tenant=tenant, now=at(8, 8, 45))
    await missing.record_ward_phone(session, request_id=closed.id, counselor_id=counselor, to="地域支援課", now=at(8, 9, 10))
    await missing.mark_mailed(session, request_id=closed.id, counselor_id=counselor, now=at(8, 9, 20), recipients=1)
    await missing.record_check(session, request_id=closed.id, counselor_id=counselor, outcome="not_found", now=at(9, 10, 3))
    await missing.end_by_ward(session, request_id=closed.id, counselor_id=counselor, ward_call_at=at(9, 13, 30), now=at(9, 13, 35))
    await session.commit()
    anonymous = Reporter(runtime, session, now=at(10, 15))  # ⑤イ(ア): not taken, no 管理番号
    await anonymous.says("となりのおばあちゃんがいなくなったみたい")
    await anonymous.says("まだです")
    await anonymous.says("名前は言いたくないです。匿名でおねがいします")

    data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2027, 2))
    rows = [m for m in data.missing if m.number in (office.fields["management_no"], closed.fields["management_no"])]
    assert [m.cells() for m in rows] == [
        [office.fields["management_no"], "2027/02/02 14:00", "2027/02/02 14:20", 2, "2027/02/05 10:02", ""],
        [closed.fields["management_no"], "2027/02/07 22:00", "2027/02/08 08:45", "2027/02/08 09:20", 1, "", "2027/02/09 13:30"],
    ]
    assert office.fields["management_no"].startswith("2-") and rows[1].closed and not rows[0].closed
    assert [m.cells()[:2] for m in data.missing if m.number not in (office.fields["management_no"], closed.fields["management_no"])] == [
        ["（受付票なし）", "2027/02/10 15:00"]  # the call is counted, without a number
    ]

    content = await storage.build(session, tenant=tenant, month=Month(2027, 2), fmt="xlsx")
    from tests.workers.test_reports import cells

    text = "\n".join(cells(content))
    assert "閉庁時間受電日時" in text and "2027/02/08 08:45" in text and "2027/02/05 10:02" in text
    assert "世田谷太郎" not in text and "090-1111-2222" not in text  # no personal data in the report
