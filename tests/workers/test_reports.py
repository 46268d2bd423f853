"""Monthly reports: counting rules (README in workers/reports), JST boundaries, fiscal year
to date, idempotent storage, redaction in the xlsx. Data lives in far-off months (2019–2020)
so the rest of the suite, which writes "now", never shows up in these figures."""

from __future__ import annotations

import io
import uuid
from datetime import datetime, timedelta

import openpyxl
from sqlalchemy import func, select

from bot.engine import Inbound
from bot.models import Author, Conversation, Direction, Message, ResidentContact
from frontdoor.clock import JST, as_utc, to_jst
from frontdoor.models import Channel, ChannelKind
from handoff.models import Case
from workers.models import GeneratedReport
from workers.reports import kashiwa_monthly, queries, setagaya_besshi6, storage
from handoff.requests import service as request_service
from handoff.requests.forms import load_forms
from tests.handoff.staff import make_staff
from workers.reports.periods import Month, last_month



async def add_conversation(
    session, *, tenant: str, start_jst: datetime, category: str | None = None, seconds: int | None = 120,  # noqa: ANN001
    text: str = "こんにちは", kind: ChannelKind = ChannelKind.WEB, topic: str | None = None, open_for: int | None = None,
    case: dict | None = None, outside_hours: bool = False, replies: int = 1,
) -> Conversation:
    """A conversation as the engine stores it (local_date/hour fixed at the start, in JST)."""
    channel_id = await session.scalar(select(Channel.id).where(Channel.tenant_id == tenant, Channel.kind == kind))
    contact = ResidentContact(channel_id=channel_id, pseudonym=f"test-{uuid.uuid4().hex}", address=None)
    session.add(contact)
    await session.flush()
    started = as_utc(start_jst)
    last = started + timedelta(seconds=seconds if seconds is not None else open_for or 0)
    conv = Conversation(
        tenant_id=tenant, channel_id=channel_id, contact_id=contact.id, started_at=started, last_message_at=last,
        ended_at=last if seconds is not None else None, duration_seconds=seconds, status="closed" if seconds is not None else "open",
        local_date=to_jst(started).date(), local_hour=to_jst(started).hour, outside_hours=outside_hours,
        category=category, topic=topic,
    )
    session.add(conv)
    await session.flush()
    session.add(Message(conversation_id=conv.id, channel_id=channel_id, direction=Direction.INBOUND, author=Author.RESIDENT, text=text, created_at=started))
    for i in range(replies):
        session.add(Message(conversation_id=conv.id, channel_id=channel_id, direction=Direction.OUTBOUND, author=Author.BOT, text="ご案内します。", created_at=last))
    if case:
        session.add(Case(tenant_id=tenant, conversation_id=conv.id, created_at=started, labels=[], **case))
    await session.commit()
    return conv


def jst(*args) -> datetime:  # noqa: ANN002
    return datetime(*args, tzinfo=JST)


def cells(content: bytes) -> list[str]:
    wb = openpyxl.load_workbook(io.BytesIO(content))
    return [str(c) for ws in wb.worksheets for row in ws.iter_rows(values_only=True) for c in row if c is not None]


async def test_category_and_hour_totals_equal_the_conversation_total(session):  # noqa: ANN001
    month = Month(2019, 5)
    plan = [("相談", 9), ("電話訪問関連", 14), (None, 3), ("見守りステッカー", 23), ("医療・介護", 0), ("高齢", 12), ("問合せ", 9)]
    for i, (category, hour) in enumerate(plan * 2):
        await add_conversation(session, tenant="setagaya", start_jst=jst(2019, 5, 1 + i, hour, 10), category=category, seconds=60 * (i + 1))
    data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=month)
    total = await queries.total(session, queries.Scope.month("setagaya", month))
    assert total == len(plan) * 2 == data.total
    assert sum(data.month_counts.values()) == total
    assert sum(sum(h) for h in data.hour_counts.values()) == total
    # NULL and categories outside the form count as その他 (README, counting rules).
    assert data.month_counts["その他"] == 4
    assert data.hour_counts["見守りステッカー"][23] == 2 and data.hour_counts["その他"][3] == 2


async def test_a_conversation_spanning_midnight_counts_in_its_start_hour_and_day(session):  # noqa: ANN001
    await add_conversation(session, tenant="setagaya", start_jst=jst(2019, 6, 30, 23, 50), category="相談", seconds=40 * 60)
    june = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2019, 6))
    july = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2019, 7))
    assert june.hour_counts["相談"][23] == 1 and june.hour_seconds["相談"][23] == 2400
    assert june.average_minutes("相談") == 40.0
    assert july.total == 0


async def test_open_conversation_handling_time_is_last_minus_first_message(session):  # noqa: ANN001
    await add_conversation(session, tenant="setagaya", start_jst=jst(2019, 8, 2, 10, 0), category="問合せ", seconds=None, open_for=300)
    data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2019, 8))
    assert data.hour_seconds["問合せ"][10] == 300


async def test_jst_month_boundaries_through_the_real_engine(runtime, session):  # noqa: ANN001
    engine = runtime.conversation_engine
    late = jst(2019, 10, 31, 23, 30)  # 14:30 UTC on the 31st: October in Japan
    early = jst(2019, 11, 1, 0, 10)  # 15:10 UTC on October 31st: November in Japan
    assert as_utc(late).hour == 14 and as_utc(early).day == 31
    await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, "boundary-a", "相談の受付時間は？"), now=as_utc(late))
    await engine.handle_inbound(session, Inbound("kashiwa", ChannelKind.WEB, "boundary-b", "相談の受付時間は？"), now=as_utc(early))
    await session.commit()
    october = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=Month(2019, 10))
    november = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=Month(2019, 11))
    assert october.total.month == 1 and november.total.month == 1
    hours = await queries.category_hour_stats(session, queries.Scope.month("kashiwa", Month(2019, 10)))
    assert [h.hour for h in hours] == [23]


async def test_fiscal_year_to_date_sums_april_through_the_month(session):  # noqa: ANN001
    for day in (jst(2020, 3, 15, 10), jst(2020, 4, 1, 0, 5), jst(2020, 6, 10, 12), jst(2020, 9, 30, 23, 59), jst(2020, 10, 1, 9)):
        await add_conversation(session, tenant="kashiwa", start_jst=day, category="生活困窮")
    september = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=Month(2020, 9))
    assert september.total.month == 1 and september.total.fiscal == 3  # April, June, September; not March, not October
    march = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=Month(2020, 3))
    assert march.total.fiscal >= 1 and Month(2020, 3).fiscal_year == 2019
    assert setagaya_besshi6.title(Month(2020, 9)) == "令和2年度高齢者安心コール　9月分実績状況報告書"
    assert setagaya_besshi6.title(Month(2021, 1)) == "令和2年度高齢者安心コール　1月分実績状況報告書"


async def test_missing_person_reports_are_section_5_not_section_1(session):  # noqa: ANN001
    await add_conversation(session, tenant="setagaya", start_jst=jst(2019, 9, 3, 10), category="相談")
    for day, outside in ((jst(2019, 9, 4, 11), False), (jst(2019, 9, 7, 21), True)):
        await add_conversation(
            session, tenant="setagaya", start_jst=day, category="相談", outside_hours=outside,
            case={"urgency": "emergency", "kind": "missing_person", "route": "phone", "status": "closed"},
        )
    data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2019, 9))
    assert data.total == 1
    # Counted in §5 (開庁時 / 閉庁時); no intake form was recorded, so no 管理番号 (issue 8 numbers intakes).
    assert [(m.number, m.closed) for m in data.missing] == [("（受付票なし）", False), ("（受付票なし）", True)]


async def test_xlsx_has_the_form_headings_and_no_resident_personal_data(runtime, session):  # noqa: ANN001
    secret = "山田太郎さんのことで相談です。電話は090-1234-5678、住所は世田谷区桜1丁目2番3号、mail: taro@example.jp"
    await add_conversation(session, tenant="setagaya", start_jst=jst(2019, 12, 5, 14), category="相談", text=secret)
    content = await storage.build(session, tenant=runtime.tenants.get("setagaya"), month=Month(2019, 12), fmt="xlsx")
    text = "\n".join(cells(content))
    for heading in ("令和1年度高齢者安心コール　12月分実績状況報告書", "1-1.入電数内訳", "年度累計", "当月合計",
                    "1-2.入電時間", "平均通話時間（分）", "0時台", "23時台", "1-3.電話相談内容一覧", "5.行方不明発生時の通報受付実績"):
        assert heading in text
    # Issue 12: 1-3 carries no resident words at all, only category, kind and outcome.
    for leaked in ("090-1234-5678", "09012345678", "山田", "太郎", "1丁目2番3号", "taro@example.jp", secret, "相談です"):
        assert leaked not in text
    assert "相談についての相談" in text


async def test_regeneration_is_idempotent_and_records_who_and_when(runtime, session):  # noqa: ANN001
    await add_conversation(session, tenant="kashiwa", start_jst=jst(2019, 7, 9, 9), category="高齢")
    tenant, month = runtime.tenants.get("kashiwa"), Month(2019, 7)
    first = await storage.generate(session, settings=runtime.settings, tenant=tenant, month=month, fmt="xlsx", generated_by="beat", now=as_utc(jst(2019, 8, 1, 1)))
    again = await storage.generate(session, settings=runtime.settings, tenant=tenant, month=month, fmt="xlsx", generated_by="someone", now=as_utc(jst(2019, 8, 2, 9)))
    first_checksum = first.report.checksum
    assert first_checksum == again.report.checksum and again.changed is False and first.content == again.content
    rows = list(await session.scalars(select(GeneratedReport).filter_by(tenant_id="kashiwa", month="2019-07", format="xlsx")))
    assert len(rows) == 1 and rows[0].generated_by == "someone" and to_jst(rows[0].generated_at).day == 2
    assert storage.read(runtime.settings, rows[0]) == first.content
    await add_conversation(session, tenant="kashiwa", start_jst=jst(2019, 7, 10, 9), category="高齢")
    changed = await storage.generate(session, settings=runtime.settings, tenant=tenant, month=month, fmt="xlsx", generated_by="beat", now=as_utc(jst(2019, 8, 3)))
    assert changed.changed and changed.report.checksum != first_checksum


async def test_kashiwa_monthly_counts_routes_first_contact_and_complaints(runtime, session):  # noqa: ANN001
    base = jst(2019, 11, 6, 10)
    await add_conversation(session, tenant="kashiwa", start_jst=base, category="こころ", kind=ChannelKind.TELEGRAM, outside_hours=True)
    for minutes, route, urgency in ((4, "phone", "urgent"), (10, "face_to_face", "urgent"), (2, "chat", "emergency")):
        case = {"urgency": urgency, "route": route, "status": "closed", "kind": "flagged",
                "first_human_contact_at": as_utc(base) + timedelta(minutes=minutes)}
        await add_conversation(session, tenant="kashiwa", start_jst=base, category="生活困窮", case=case)
    await add_conversation(
        session, tenant="kashiwa", start_jst=base, topic="kashiwa.complaint", category="その他",
        text="佐藤さんの対応がひどい。03-1111-2222に電話して", case={"urgency": "none", "route": "phone", "status": "closed", "outcome": "苦情対応", "closing_note": "謝罪し手順を見直した"},
    )
    # The complaint itself is a request record (issue 13): its own content and the response staff wrote.
    complaint = await request_service.start(
        session, tenant_id="kashiwa", conversation_id=None, kind="complaint", step=None, now=as_utc(base), outside_hours=False,
        fields={"content": "佐藤さんの対応がひどい。03-1111-2222に電話して", "response": "苦情対応：謝罪し手順を見直した"},
    )
    assert await request_service.record(session, request=complaint, form=load_forms().get("complaint"), tenant=runtime.tenants.get("kashiwa"), now=as_utc(base))
    referral = await request_service.start(
        session, tenant_id="kashiwa", conversation_id=None, kind="kashiwa.referral", step=None, now=as_utc(base), outside_hours=False,
        fields={"agency": "地域包括支援センター", "consent": "同意する", "issues": "介護と生活困窮"},
    )
    assert await request_service.record(session, request=referral, form=load_forms().get("kashiwa.referral"), tenant=runtime.tenants.get("kashiwa"), now=as_utc(base))
    await session.commit()
    data = await kashiwa_monthly.collect(session, tenant_id="kashiwa", month=Month(2019, 11))
    assert data.referrals == (1, 1)
    month = {p.label: p.month for p in data.channels}
    assert month["Telegram"] >= 1 and data.total.month == sum(p.month for p in data.situations) == sum(p.month for p in data.hours)
    assert data.first_contact == (3, 240, 600)  # nearest rank: median of 2, 4, 10 min; p90 = 10 min
    routes = {(u, r): n for u, r, n, _ in data.routes}
    assert routes[("至急", "電話")] == 1 and routes[("緊急", "ライブチャット")] == 1
    [(when, content, response)] = data.complaints
    assert "佐藤" not in content and "03-1111-2222" not in content and "苦情対応" in response
    csv_text = kashiwa_monthly.render_csv(data).decode("utf-8-sig")
    assert "5.苦情・クレーム（当月）" in csv_text and "03-1111-2222" not in csv_text
    assert "6.多機関協働（つなぎ）件数" in csv_text


async def test_besshi6_volunteer_and_sticker_counts_come_from_the_request_records(runtime, session):  # noqa: ANN001
    tenant, at = runtime.tenants.get("setagaya"), as_utc(jst(2019, 10, 8, 11))
    forms = load_forms()
    made = []
    for kind, fields in (
        ("setagaya.volunteer_visit", {"task": "電球の交換"}), ("setagaya.volunteer_visit", {"task": "買い物"}),
        ("setagaya.volunteer_visit", {"task": "電球の交換"}), ("setagaya.sticker_application", {"mail_name": "x"}),
    ):
        request = await request_service.start(session, tenant_id="setagaya", conversation_id=None, kind=kind, fields=fields, step=None, now=at, outside_hours=False)
        assert await request_service.record(session, request=request, form=forms.get(kind), tenant=tenant, now=at)
        made.append(request)
    staff = await make_staff(session, tenant_id="setagaya")
    assert await request_service.mark_done(session, request_id=made[0].id, counselor_id=staff.id, now=at)
    given_up = await request_service.start(session, tenant_id="setagaya", conversation_id=None, kind="setagaya.volunteer_visit", fields={"task": "買い物"}, step="dates", now=at, outside_hours=False)
    await request_service.give_up(session, request=given_up, now=at, why="resident")  # never counted
    await session.commit()
    data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=Month(2019, 10))
    tasks = {t.task: (t.requested_fy, t.requested_month, t.done_fy, t.done_month) for t in data.volunteer}
    assert tasks["電球の交換"] == (2, 2, 1, 1) and tasks["買い物"] == (1, 1, 0, 0) and tasks["付き添い"] == (0, 0, 0, 0)
    assert data.sticker_requests == (1, 1)
    text = "\n".join(cells(setagaya_besshi6.render_xlsx(data, stamp=at)))
    assert "ボランティア対応 電球の交換" in text and "依頼キャンセル等" in text


async def test_report_cli_writes_the_file(runtime, tmp_path):  # noqa: ANN001
    import argparse
    import asyncio

    from workers.reports.cli import run_report

    out = tmp_path / "b6.xlsx"
    args = argparse.Namespace(tenant="setagaya", month="2019-05", out=out, format=None)
    assert await asyncio.to_thread(run_report, args, runtime.settings) == 0
    assert "1-1.入電数内訳" in "\n".join(cells(out.read_bytes()))
    bad = argparse.Namespace(tenant="setagaya", month="2019-05", out=tmp_path / "x.csv", format=None)
    assert await asyncio.to_thread(run_report, bad, runtime.settings) == 2  # 別紙6 is xlsx only


def test_beat_runs_on_the_first_at_0100_jst_for_last_month(settings):  # noqa: ANN001
    from workers.celery_app import create_celery

    entry = create_celery(settings).conf.beat_schedule["monthly-reports"]
    assert entry["task"] == "frontdoor.generate_monthly_reports"
    assert entry["schedule"].hour == {1} and entry["schedule"].minute == {0} and entry["schedule"].day_of_month == {1}
    assert str(last_month(as_utc(jst(2026, 11, 1, 1, 0)))) == "2026-10"
    assert str(last_month(as_utc(jst(2027, 1, 1, 1, 0)))) == "2026-12"


async def test_beat_task_fans_out_one_report_per_tenant(runtime, session, celery_app):  # noqa: ANN001
    import asyncio

    result = celery_app.send_task("frontdoor.generate_monthly_reports", args=["2019-06"])
    assert sorted(await asyncio.to_thread(result.get, timeout=60)) == ["kashiwa", "setagaya"]
    expected = {("kashiwa", "xlsx"), ("kashiwa", "csv"), ("setagaya", "xlsx")}
    for _ in range(120):
        found = set((await session.execute(select(GeneratedReport.tenant_id, GeneratedReport.format).filter_by(month="2019-06"))).all())
        if found >= expected:
            break
        await asyncio.sleep(0.5)
    assert found == expected
    by = set(await session.scalars(select(GeneratedReport.generated_by).filter_by(month="2019-06")))
    assert by == {"beat"}
    assert await session.scalar(select(func.count()).select_from(GeneratedReport).filter_by(month="2019-06")) == 3
