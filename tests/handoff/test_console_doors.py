"""Issue 12 「The console's doors」 over real HTTP: CSRF, headers, sessions that end at logout,
no open redirect, sign-in limits per account and address, who may act on a case, Japanese
4xx instead of 500s, and the audit of failed logins and managers' report views."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
import websockets
from sqlalchemy import select

from handoff.auth import COOKIE
from handoff.models import AuditLog, CaseStatus, Role
from tests.handoff.staff import PASSWORD, console_client, make_staff
from tests.handoff.test_console_actions import _reload, _urgent_case

pytestmark = pytest.mark.asyncio


def _address() -> str:
    n = uuid.uuid4().int
    return f"10.{n % 250}.{(n >> 8) % 250}.{(n >> 16) % 250 + 1}"


async def test_a_post_without_the_token_or_from_another_site_is_refused(live_server, runtime, session):  # noqa: ANN001
    me = await make_staff(session, tenant_id="kashiwa")
    case = await _urgent_case(runtime, session, f"doors-{uuid.uuid4().hex[:8]}")
    client = await console_client(live_server.base_url, me)
    token = client.headers.pop("X-CSRF-Token")
    try:
        forged = await client.post(f"/console/cases/{case.id}/notes", data={"text": "同じサイトの別ページから"})
        assert forged.status_code == 403 and "読み込み直して" in forged.json()["detail"]
        cross = await client.post(
            f"/console/cases/{case.id}/notes", data={"text": "よそのサイト", "csrf_token": token}, headers={"Origin": "https://evil.example"}
        )
        assert cross.status_code == 403
        ok = await client.post(f"/console/cases/{case.id}/notes", data={"text": "正しい送信", "csrf_token": token})
        assert ok.status_code == 303
    finally:
        await client.aclose()


async def test_pages_send_security_headers(live_server):  # noqa: ANN001
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        login = await http.get("/console/login")
        csp = login.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
        assert login.headers["x-frame-options"] == "DENY"
        for path in ("/console/login", "/widget.js", "/demo/kashiwa"):
            response = await http.get(path)
            assert response.headers["x-content-type-options"] == "nosniff"
            assert response.headers["referrer-policy"] == "same-origin"


async def test_logout_ends_the_session_and_the_cookie_is_http_only(live_server, session):  # noqa: ANN001
    staff = await make_staff(session, tenant_id="kashiwa")
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        login = await http.post("/console/login", data={"login": staff.login, "password": PASSWORD})
        assert "httponly" in login.headers["set-cookie"].lower()
        cookie = login.cookies[COOKIE]
        page = await http.get("/console/")
        assert page.status_code == 200
        token = page.text.split('name="csrf-token" content="')[1].split('"')[0]
        assert (await http.post("/console/logout", data={"csrf_token": token})).status_code == 303
    async with httpx.AsyncClient(base_url=live_server.base_url, cookies={COOKIE: cookie}) as replay:
        assert (await replay.get("/console/")).status_code == 401


async def test_next_after_login_stays_on_this_site(live_server, session):  # noqa: ANN001
    staff = await make_staff(session, tenant_id="kashiwa")
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        for evil in ("//evil.example/phish", "/\\evil.example", "https://evil.example/"):
            response = await http.post("/console/login", data={"login": staff.login, "password": PASSWORD, "next": evil})
            assert response.status_code == 303 and response.headers["location"] == "/console/", evil
        page = await http.get("/console/login", params={"next": "//evil.example/"})
        assert "evil.example" not in page.text


async def test_failures_are_limited_per_address_and_long_names_cost_nothing(live_server, runtime, session):  # noqa: ANN001
    staff = await make_staff(session, tenant_id="setagaya")
    headers = {"X-Forwarded-For": _address()}
    async with httpx.AsyncClient(base_url=live_server.base_url, headers=headers) as http:
        huge = await http.post("/console/login", data={"login": "あ" * 400_000, "password": "x"})
        assert huge.status_code == 413
        for i in range(30):  # a different login name each time: per-account limits alone never trigger
            wrong = await http.post("/console/login", data={"login": f"guess-{i}-{'x' * 2000}", "password": "wrong"})
            assert wrong.status_code == 401
        blocked = await http.post("/console/login", data={"login": staff.login, "password": PASSWORD})
        assert blocked.status_code == 429 and "5分ほど待って" in blocked.text
    assert not [k for k in await runtime.redis.keys("*") if "guess" in k or "xxxx" in k]
    failed = list(await session.scalars(select(AuditLog).where(AuditLog.action == "login_failed", AuditLog.detail == f"address={headers['X-Forwarded-For']}")))
    assert len(failed) == 30


async def test_only_the_holder_or_a_supervisor_may_hand_back_or_close(live_server, runtime, session):  # noqa: ANN001
    holder = await make_staff(session, tenant_id="kashiwa")
    case = await _urgent_case(runtime, session, f"doors-{uuid.uuid4().hex[:8]}")
    mine = await console_client(live_server.base_url, holder)
    other = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa"))
    boss = await console_client(live_server.base_url, await make_staff(session, tenant_id="kashiwa", role=Role.SUPERVISOR))
    try:
        assert (await mine.post(f"/console/cases/{case.id}/take-over")).status_code == 303
        for action, data in (("hand-back", {}), ("close", {"outcome": "解決"})):
            refused = await other.post(f"/console/cases/{case.id}/{action}", data=data)
            assert refused.status_code == 403 and holder.display_name in refused.json()["detail"]
        assert (await _reload(session, case.id)).status == CaseStatus.IN_PROGRESS
        # An urgent case needs a closing note as well as an outcome (console branch rule).
        closing = {"outcome": "解決", "note": "折り返しの電話で安全を確認しました。"}
        assert (await boss.post(f"/console/cases/{case.id}/close", data=closing)).status_code == 303
        assert (await _reload(session, case.id)).status == CaseStatus.CLOSED
    finally:
        for c in (mine, other, boss):
            await c.aclose()


async def test_malformed_requests_get_japanese_4xx_not_500(live_server, runtime, session):  # noqa: ANN001
    me = await make_staff(session, tenant_id="kashiwa")
    client = await console_client(live_server.base_url, me)
    try:
        for query in ("route=null", "urgency=%E7%B7%8A", "category=%00", "status=%00"):
            response = await client.get(f"/console/conversations?{query}")
            assert 400 <= response.status_code < 500 and not response.json()["detail"].isascii(), query
    finally:
        await client.aclose()
    async with httpx.AsyncClient(base_url=live_server.base_url) as http:
        nul = await http.post("/console/login", content="login=a%00b&password=c", headers={"content-type": "application/x-www-form-urlencoded"})
        assert 400 <= nul.status_code < 500
    case = await _urgent_case(runtime, session, f"doors-{uuid.uuid4().hex[:8]}")
    cookie = client.cookies[COOKIE]
    async with websockets.connect(f"{live_server.ws_url}/console/ws/cases/{case.id}?after=abc", additional_headers={"Cookie": f"{COOKIE}={cookie}"}) as ws:
        event = json.loads(await ws.recv())
        assert event["type"] == "error" and not event["message"].isascii()
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await ws.recv()
        assert closed.value.rcvd.code == 4400


async def test_manager_report_downloads_are_audited(live_server, session):  # noqa: ANN001
    from tests.workers.test_dashboard import client_for

    client, manager = await client_for(live_server, session, Role.MANAGER)
    async with client:
        assert (await client.get("/dashboard/export/2021-06.csv")).status_code == 200
        assert (await client.get("/dashboard/reports/2021-06.xlsx")).status_code == 200
    rows = list(await session.scalars(select(AuditLog).where(AuditLog.counselor_id == manager.id)))
    assert {(r.action, r.detail) for r in rows} >= {("export_csv", "2021-06"), ("download_report", "2021-06.xlsx")}


async def test_staff_cookie_is_secure_when_served_over_https(settings, decider, redis_handle, session):  # noqa: ANN001
    from tests.conftest import LiveServer

    server = LiveServer(settings.model_copy(update={"public_base_url": "https://frontdoor.example"}), decider, redis_handle).start()
    try:
        staff = await make_staff(session, tenant_id="kashiwa")
        async with httpx.AsyncClient(base_url=server.base_url) as http:
            login = await http.post("/console/login", data={"login": staff.login, "password": PASSWORD})
        cookie = login.headers["set-cookie"].lower()
        assert login.status_code == 303 and "secure" in cookie and "httponly" in cookie
    finally:
        server.stop()
