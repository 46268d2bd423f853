"""`frontdoor kb validate | reindex | gaps`."""

from __future__ import annotations

import argparse
import asyncio
import time

from frontdoor.db import create_engine, session_factory
from frontdoor.redact import Masker
from frontdoor.settings import Settings
from frontdoor.tenants import load_tenants
from knowledge import gaps
from knowledge.catalog import load_catalog
from knowledge.retrieval import KnowledgeIndex, reindex
from knowledge.validate import validate_catalog


async def _gaps(settings: Settings, tenant: str | None, limit: int) -> int:
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            rows = await gaps.top_gaps(session, tenant_id=tenant, limit=limit)
    finally:
        await engine.dispose()
    if not rows:
        print("答えられなかった質問はまだありません。")
        return 0
    # Masked again when printed: rows recorded before masking existed (issue 11, 12).
    masker = Masker()
    for tenant_id, question, count in rows:
        print(f"{count:5d}  {tenant_id:9s}  {masker.mask(question)}")
    return 0


def run_kb(args: argparse.Namespace, settings: Settings) -> int:
    if args.action == "gaps":
        return asyncio.run(_gaps(settings, args.tenant, args.limit))
    catalog = load_catalog()
    started = time.perf_counter()
    if args.action == "reindex":
        reindex(catalog, settings.cache_dir)
        print(f"索引を作り直しました（{len(catalog.entries)}件、{time.perf_counter() - started:.1f}秒）。")
        return 0
    index = KnowledgeIndex.build(catalog, cache_dir=settings.cache_dir)
    tenants = load_tenants(settings.tenants_dir)
    problems = validate_catalog(catalog, index, tenants.facts())
    for tenant in tenants.all():
        for name in tenant.demo_facts:
            print(f"warning: {tenant.id}: facts.{name} is a demo value; set the real one before going live")
    if problems:
        for problem in problems:
            print(f"error: {problem}")
        return 1
    print("ナレッジは問題ありません。")
    return 0
