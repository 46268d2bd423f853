"""Manager dashboard over real HTTP: who may see it, what it shows (no conversation text),
downloads, regeneration, and the per-conversation CSV export. Data in 2021-06 (kashiwa)."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import func, select

from frontdoor.clock import as_utc
from frontdoor.models import ChannelKind
from frontdoor.web_security import csrf_token
from handoff.auth import COOKIE, issue_cookie
from handoff.models import Role
from tests.handoff.staff import make_staff
from tests.workers.test_reports import add_conversation, cells, jst
from workers.models import GeneratedReport
from workers.reports import queries

MONTH = "2021-06"
TEXTS = ["家賃が払えなくて困っています（鈴木花子）", "090-2222-3333 に電話ください", "子どもの相談をしたいです"]


@pytest.fixture(scope="module")
async def june(runtime):  # noqa: ANN001, ANN201
    async with runtime.sessions() as session:
        if await queries.total(session, queries.Scope("kashiwa", jst(2021, 6, 1).date(), jst(2021, 6, 30).date())):
            return
        for i, text in enumerate(TEXTS * 3):
            start = jst(2021, 6, 1 + i, 8 + i, 5)
            case = None
            if i % 4 == 0:
                case = {"urgency": "urgent", "route": "phone", "status": "closed", "kind": "flagged",
                        "first_human_contact_at": as_utc(start) + timedelta(minutes=5 + i)}
            await add_conversation(
                session, tenant="kashiwa", start_jst=start, category=["生活困窮", "こころ", "子ども・子育て"][i % 3], text=text,
                kind=ChannelKind.TELEGRAM if i % 2 else ChannelKind.WEB, case=case, outside_hours=i % 3 == 0, replies=2,
            )


async def client_for(live_server, session, role: Role, tenant: str = "kashiwa") -> tuple[httpx.AsyncClient, object]:  # noqa: ANN001
    staff = await make_staff(session, tenant_id=tenant, role=role)
    cookie = issue_cookie(live_server.settings.secret_key, staff)
    client = httpx.AsyncClient(
        base_url=live_server.base_url, timeout=30, cookies={COOKIE: cookie},
        headers={"X-CSRF-Token": csrf_token(live_server.settings.secret_key, cookie)},
    )
    return client, staff


async def test_counselor_is_refused_and_anonymous_is_sent_to_login(live_server, session, june):  # noqa: ANN001
    client, _ = await client_for(live_server, session, Role.COUNSELOR)
    async with client:
        assert (await client.get("/dashboard/")).status_code == 403
        assert (await client.get(f"/dashboard/export/{MONTH}.csv")).status_code == 403
        assert (await client.get(f"/dashboard/reports/{MONTH}.xlsx")).status_code == 403
    async with httpx.AsyncClient(base_url=live_server.base_url) as anonymous:
        assert (await anonymous.get("/dashboard/")).status_code == 401
        page = await anonymous.get("/dashboard/", headers={"accept": "text/html"})
        assert page.status_code == 303 and page.headers["location"].startswith("/console/login")


async def test_manager_sees_figures_without_text_or_links(live_server, session, june):  # noqa: ANN001
    client, _ = await client_for(live_server, session, Role.MANAGER)
    async with client:
        page = (await client.get(f"/dashboard/?month={MONTH}")).text
    assert re.search(r'id="kpi-conversations".*?data-value="9"', page, re.S)
    assert re.search(r'id="kpi-messages".*?data-value="27"', page, re.S)  # 1 resident + 2 bot messages each
    assert re.search(r'id="kpi-handoffs".*?data-value="3"', page, re.S)
    assert sum(int(v) for v in re.findall(r'class="cell"[^>]*data-value="(\d+)"', page)) == 9
    # Only the site's own CSRF helper script (issue 12); no inline or third-party scripts.
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/console/static/csrf.js" defer>']
    assert "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    for text in TEXTS:
        assert text not in page
    assert "鈴木" not in page and "090-2222-3333" not in page
    assert "/console/conversations" not in page  # managers get no links to conversation lists


async def test_supervisor_gets_drill_down_links(live_server, session, june):  # noqa: ANN001
    client, _ = await client_for(live_server, session, Role.SUPERVISOR)
    async with client:
        page = (await client.get(f"/dashboard/?month={MONTH}")).text
    assert "/console/conversations?tenant=kashiwa&amp;month=2021-06&amp;category=" in page
    assert re.search(r"/console/conversations\?tenant=kashiwa&amp;month=2021-06&amp;weekday=\d&amp;hour=\d+", page)


async def test_csv_export_has_one_row_per_conversation_and_no_text(live_server, session, june):  # noqa: ANN001
    client, _ = await client_for(live_server, session, Role.MANAGER)
    async with client:
        response = await client.get(f"/dashboard/export/{MONTH}.csv")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(rows) == 9
    assert not {"text", "message", "summary", "pseudonym", "phone", "contact_phone", "address"} & set(rows[0])
    assert {r["channel"] for r in rows} == {"web", "telegram"} and {r["messages"] for r in rows} == {"3"}
    assert sum(int(r["handed_off"]) for r in rows) == 3
    body = response.content.decode("utf-8-sig")
    # The phone number in any form; a bare "090" also turns up inside ids and durations by chance.
    assert all(text not in body for text in TEXTS) and "090-2222-3333" not in body and "09022223333" not in body


async def test_download_and_regenerate_are_stored_with_who(live_server, session, june, celery_app):  # noqa: ANN001
    client, staff = await client_for(live_server, session, Role.MANAGER)
    staff_id, staff_name = str(staff.id), staff.display_name
    async with client:
        xlsx = await client.get(f"/dashboard/reports/{MONTH}.xlsx")
        assert xlsx.status_code == 200 and "柏市福祉の総合相談" in "\n".join(cells(xlsx.content))
        csv_report = await client.get(f"/dashboard/reports/{MONTH}.csv")
        assert csv_report.status_code == 200 and "1.相談件数（チャネル別）" in csv_report.content.decode("utf-8-sig")
        assert (await client.get(f"/dashboard/reports/{MONTH}.pdf")).status_code == 404
        # Regeneration is a Celery job (issue 9): the request only queues it.
        downloaded = await session.scalar(select(func.max(GeneratedReport.generated_at)).filter_by(tenant_id="kashiwa", month=MONTH))
        regenerated = await client.post(f"/dashboard/reports/{MONTH}/regenerate")
        assert regenerated.status_code == 303
        assert "作り直しを受け付けました" in (await client.get(regenerated.headers["location"])).text
        for _ in range(300):  # the real worker writes the rows with who asked
            await session.rollback()
            rows = list(
                await session.scalars(
                    select(GeneratedReport).filter_by(tenant_id="kashiwa", month=MONTH).execution_options(populate_existing=True)
                )
            )
            if rows and all(r.generated_at > downloaded for r in rows):
                break
            await asyncio.sleep(0.1)
        page = (await client.get("/dashboard/?month=" + MONTH)).text
    assert all(r.generated_at > downloaded for r in rows), "the Celery job did not regenerate the report"
    assert {r.format for r in rows} == {"xlsx", "csv"} and {r.generated_by for r in rows} == {staff_id}
    assert staff_name in page
