"""`frontdoor report --tenant setagaya --month 2026-10 --out FILE.xlsx` (also stored, like the dashboard's)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from frontdoor.clock import utc_now
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade
from frontdoor.settings import Settings
from frontdoor.tenants import UnknownTenant, load_tenants
from workers.reports import storage
from workers.reports.periods import Month


def run_report(args: argparse.Namespace, settings: Settings) -> int:
    try:
        tenant = load_tenants(settings.tenants_dir).get(args.tenant)
        month = Month.parse(args.month)
        fmt = args.format or (args.out.suffix.lstrip(".").lower() or "xlsx")
        storage.check_format(tenant, fmt)
    except (UnknownTenant, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())

    async def _main() -> storage.Stored:
        engine = create_engine(settings.resolved_database_url())
        try:
            async with session_factory(engine)() as session:
                return await storage.generate(
                    session, settings=settings, tenant=tenant, month=month, fmt=fmt, generated_by="cli", now=utc_now()
                )
        finally:
            await engine.dispose()

    result = asyncio.run(_main())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(result.content)
    print(f"{tenant.name} {month} の報告書を {args.out} に書き出しました（{len(result.content):,} バイト）。")
    return 0
