"""Reports and dashboard on PostgreSQL at scale (issue 5): one tenant, ~1,000,000 messages
over 12 months, seeded with COPY; then time one month's 別紙6 and the dashboard page.

    pg_ctlcluster 15 main start
    FRONTDOOR_BENCH_DATABASE_URL=postgresql+asyncpg://bench:bench@127.0.0.1/frontdoor_bench \
        python bench/report_speed.py [--messages 1000000] [--reseed]

Targets: 別紙6 under 10 s, dashboard under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import tempfile
import time
from datetime import datetime
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import asyncpg
import httpx
from sqlalchemy import func, select, text

from bot.models import Conversation, Message
from frontdoor.app import create_app
from frontdoor.clock import JST
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.settings import Settings
from handoff.auth import COOKIE, issue_cookie
from handoff.models import Role
from workers.reports import demo_data, storage
from workers.reports.periods import Month

URL = os.environ.get("FRONTDOOR_BENCH_DATABASE_URL", "postgresql+asyncpg://bench:bench@127.0.0.1/frontdoor_bench")
TENANT = "setagaya"
END = datetime(2026, 11, 1, tzinfo=JST)  # 12 full months: 2025-11 … 2026-10
REPORT_MONTH = Month(2026, 10)
MESSAGES_PER_CONVERSATION = 4.15  # what demo_data generates per conversation, weekends being quieter


def _copy_rows(rows: list[dict], columns: list[str]) -> list[tuple]:
    out = []
    for row in rows:
        out.append(tuple(json.dumps(row[c]) if c in ("labels", "meta", "detail") and row[c] is not None else row[c] for c in columns))
    return out


async def seed(messages_target: int) -> None:
    engine = create_engine(URL)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()
    await upgrade_async(URL)
    settings = Settings(database_url=URL, _env_file=None)
    from frontdoor.tenants import load_tenants
    from handoff import accounts
    from bot import conversations as conv_service

    tenants = load_tenants(settings.tenants_dir)
    engine = create_engine(URL)
    async with session_factory(engine)() as session:
        await conv_service.ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
        for i in range(5):
            await accounts.create_counselor(session, tenant_id=TENANT, login=f"bench-{i}", display_name=f"相談員{i}", password="bench-password", role=Role.COUNSELOR)
        await session.commit()
        channels = {str(k): i for k, i in (await session.execute(text("select kind, id from channel where tenant_id = :t"), {"t": TENANT})).all()}
        staff = list(await session.scalars(text("select id from counselor where tenant_id = :t"), {"t": TENANT}))
    await engine.dispose()
    per_day = messages_target / MESSAGES_PER_CONVERSATION / 365
    cfg = demo_data.DemoConfig(per_day=(int(per_day * 0.88), int(per_day * 1.12)))
    gen = demo_data._Generator(tenants.get(TENANT), demo_data.load_messages(), channels, staff, cfg, random.Random(7))
    conn = await asyncpg.connect(URL.replace("+asyncpg", ""))
    month, inserted = Month.of(END).previous(), 0
    months = month.months_back(12)
    for m in months:
        day = m.first_day
        while day <= m.last_day:
            gen.day(day, END)
            day = day.fromordinal(day.toordinal() + 1)
        rows, gen.rows = gen.rows, demo_data._Rows()
        for table, data in (("resident_contact", [dict(r, created_at=END) for r in rows.contacts]), ("conversation", rows.conversations),
                            ("message", rows.messages), ("handoff_case", rows.cases), ("case_event", rows.events)):
            if data:
                columns = list(data[0])
                await conn.copy_records_to_table(table, records=_copy_rows(data, columns), columns=columns)
        inserted += len(rows.messages)
        print(f"  {m}: {len(rows.conversations):,} conversations, {len(rows.messages):,} messages", flush=True)
    # Unanswered questions point at the first message of uncategorized conversations.
    await conn.execute(
        """insert into knowledge_gap (tenant_id, message_id, conversation_id, normalized, kind, created_at)
           select c.tenant_id, min(m.id), c.id, 'bench question ' || (abs(hashtext(c.id::text)) % 40), 'no_match', c.started_at
           from conversation c join message m on m.conversation_id = c.id where c.category is null group by c.id"""
    )
    await conn.execute("analyze")
    await conn.close()
    print(f"seeded {inserted:,} messages", flush=True)


async def counts() -> dict[str, int]:
    engine = create_engine(URL)
    async with session_factory(engine)() as session:
        result = {
            "conversations": await session.scalar(select(func.count()).select_from(Conversation)),
            "messages": await session.scalar(select(func.count()).select_from(Message)),
            "cases": await session.scalar(text("select count(*) from handoff_case")),
            "knowledge_gaps": await session.scalar(text("select count(*) from knowledge_gap")),
            "conversations_in_report_month": await session.scalar(
                select(func.count()).select_from(Conversation).where(Conversation.local_date.between(REPORT_MONTH.first_day, REPORT_MONTH.last_day))
            ),
        }
    await engine.dispose()
    return result


async def time_report(data_dir: Path) -> list[float]:
    settings = Settings(database_url=URL, data_dir=data_dir, _env_file=None)
    from frontdoor.tenants import load_tenants

    tenant = load_tenants(settings.tenants_dir).get(TENANT)
    engine = create_engine(URL)
    timings = []
    async with session_factory(engine)() as session:
        for _ in range(3):
            t0 = time.perf_counter()
            stored = await storage.generate(session, settings=settings, tenant=tenant, month=REPORT_MONTH, fmt="xlsx", generated_by="bench", now=END)
            timings.append(time.perf_counter() - t0)
    await engine.dispose()
    print(f"  別紙6 {REPORT_MONTH}: {len(stored.content):,} bytes", flush=True)
    return timings


async def time_dashboard(data_dir: Path) -> list[float]:
    """GET /dashboard/ through the real app (ASGI), as a signed-in manager."""
    from frontdoor.app import prepare
    from frontdoor.runtime import build_runtime

    settings = Settings(database_url=URL, data_dir=data_dir, secret_key="bench-secret-key-000", _env_file=None)
    app = create_app(settings)
    runtime = build_runtime(settings)
    app.state.runtime = runtime
    await prepare(runtime)
    async with runtime.sessions() as session:
        from handoff import accounts

        manager = await accounts.create_counselor(session, tenant_id=TENANT, login=f"bench-mgr-{time.time_ns()}", display_name="管理者", password="bench-password", role=Role.MANAGER)
        await session.commit()
    cookie = issue_cookie(settings.secret_key, manager)
    timings = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench", cookies={COOKIE: cookie}) as client:
        for _ in range(6):
            t0 = time.perf_counter()
            response = await client.get(f"/dashboard/?month={REPORT_MONTH}")
            timings.append(time.perf_counter() - t0)
            assert response.status_code == 200, response.text[:300]
    await runtime.aclose()
    runtime.redis_handle.close()
    return timings


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--reseed", action="store_true")
    args = parser.parse_args()
    have = 0
    try:
        have = (await counts())["messages"]
    except Exception:  # noqa: BLE001 — no schema yet
        pass
    if args.reseed or have < args.messages * 0.95:
        t0 = time.perf_counter()
        await seed(args.messages)
        print(f"seeding took {time.perf_counter() - t0:.1f}s")
    print(json.dumps(await counts(), ensure_ascii=False))
    with tempfile.TemporaryDirectory() as tmp:
        report = await time_report(Path(tmp))
        dashboard = await time_dashboard(Path(tmp))
    print(f"別紙6 generate (s): first {report[0]:.2f}, runs {[round(t, 2) for t in report]}")
    print(f"dashboard GET (s): first {dashboard[0]:.3f}, median of rest {statistics.median(dashboard[1:]):.3f}, runs {[round(t, 3) for t in dashboard]}")


if __name__ == "__main__":
    asyncio.run(main())
