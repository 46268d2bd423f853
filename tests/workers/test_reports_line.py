"""LINE counts as its own channel in every report (issue 10): Kashiwa's channel breakdown,
the dashboard and the per-conversation CSV."""

from __future__ import annotations

import pytest

from frontdoor.models import ChannelKind
from workers.reports import dashboard_data, kashiwa_monthly, queries
from workers.reports.periods import Month
from tests.workers.test_reports import add_conversation, jst

pytestmark = pytest.mark.asyncio


async def test_line_is_its_own_channel_in_kashiwa_report_dashboard_and_csv(session):  # noqa: ANN001
    month = Month(2017, 9)
    for day, kind in ((4, ChannelKind.LINE), (5, ChannelKind.LINE), (6, ChannelKind.WEB), (7, ChannelKind.TELEGRAM)):
        await add_conversation(session, tenant="kashiwa", start_jst=jst(2017, 9, day, 21), category="高齢", kind=kind)

    report = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=month)
    assert {p.label: p.month for p in report.channels} == {"ウェブチャット（市ホームページ）": 1, "LINE": 2, "Telegram": 1}
    assert "LINE,2" in kashiwa_monthly.render_csv(report).decode("utf-8-sig")

    board = await dashboard_data.collect(session, tenant_id="kashiwa", month=month)
    assert ("line", "LINE", 2) in board.channels and sum(n for _, _, n in board.channels) == board.conversations == 4

    rows = [row async for row in queries.export_rows(session, queries.Scope.month("kashiwa", month))]
    channel_at = queries.EXPORT_COLUMNS.index("channel")
    assert sorted(str(r[channel_at]) for r in rows) == ["line", "line", "telegram", "web"]
