"""The missing-person timer (issue 8) against the SLA timer it runs beside: one beat of
`timers.tick` (deadline alerts + daily checks) over N recorded intakes, quiet (nothing due)
and busy (every intake missing its deadline once), against `escalation.overdue_case_ids` on
the same database in the same run (the ratio is the figure). SQLite in a temp dir.

    python bench/missing_tick.py [N]
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.conversations import ensure_tenant_rows  # noqa: E402
from frontdoor.clock import JST  # noqa: E402
from frontdoor.db import create_engine, session_factory  # noqa: E402
from frontdoor.migrate import upgrade_async  # noqa: E402
from frontdoor.settings import Settings  # noqa: E402
from frontdoor.tenants import load_tenants  # noqa: E402
from handoff import escalation  # noqa: E402
from handoff.missing import service as missing  # noqa: E402
from handoff.missing import timers  # noqa: E402
from handoff.requests import service as request_service  # noqa: E402
from handoff.requests.forms import load_forms  # noqa: E402
from handoff.requests.models import RequestStatus  # noqa: E402


async def main(n: int) -> None:
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp()}/bench.db"
    await upgrade_async(url)
    engine = create_engine(url)
    sessions = session_factory(engine)
    tenant = load_tenants(Settings(_env_file=None).tenants_dir).get("setagaya")
    form = load_forms().get("missing_person")
    start = datetime(2027, 3, 1, 11, 0, tzinfo=JST)
    async with sessions() as session:
        await ensure_tenant_rows(session, [(tenant.id, tenant.name)])
        for i in range(n):
            now = start + timedelta(minutes=i % 300)
            request = await request_service.start(session, tenant_id="setagaya", conversation_id=None, kind=form.kind, fields={"reporter_name": "x"}, step="confirm", now=now, outside_hours=False)
            await request_service.record(session, request=request, form=form, tenant=tenant, now=now, status=RequestStatus.OPEN, due=missing.report_deadline(now))
            await missing.created(session, request=request, contact_id=None, tenant=tenant, now=now)
        await session.commit()

    async def timed(fn) -> float:  # noqa: ANN001
        async with sessions() as session:
            t = time.perf_counter()
            await fn(session)
            return (time.perf_counter() - t) * 1000

    quiet = start - timedelta(hours=2)
    baseline = [await timed(lambda s: escalation.overdue_case_ids(s, now=quiet)) for _ in range(20)]
    idle = [await timed(lambda s: timers.tick(s, now=quiet, notifiers=[])) for _ in range(20)]
    busy = await timed(lambda s: timers.tick(s, now=start + timedelta(days=1, hours=1), notifiers=[]))
    b, q = statistics.median(baseline), statistics.median(idle)
    print(f"intakes: {n}")
    print(f"baseline overdue_case_ids median: {b:.2f} ms")
    print(f"missing tick, nothing due, median: {q:.2f} ms (ratio {q / b:.2f})")
    print(f"missing tick, all {n} missed + checks due, once: {busy:.0f} ms ({busy / n:.2f} ms per intake)")
    await engine.dispose()


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 500))
