"""`frontdoor demo-data`: months of synthetic conversations on a fresh SQLite file, quickly,
once (a second run adds nothing), and consistent with the counting rules."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from bot.models import Conversation
from frontdoor.clock import utc_now
from frontdoor.db import create_engine, session_factory
from frontdoor.demo import seed_demo
from frontdoor.settings import Settings
from handoff.models import Case
from handoff.requests.models import Request as ServiceRequest
from knowledge import catalog
from knowledge.gaps import KnowledgeGap
from workers.reports import queries, setagaya_besshi6
from workers.reports.periods import Month


async def test_demo_data_is_quick_idempotent_and_consistent(tmp_path, redis_handle, settings):  # noqa: ANN001
    # A fresh data directory; the content-keyed caches (trained triage model) are shared.
    settings = Settings(data_dir=tmp_path, redis_url=redis_handle.url, cache_path=settings.cache_path, _env_file=None)
    started = time.monotonic()
    await seed_demo(settings, months=4)
    elapsed = time.monotonic() - started
    await seed_demo(settings, months=4)  # second run: nothing added
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            per_tenant = dict((await session.execute(select(Conversation.tenant_id, func.count()).group_by(Conversation.tenant_id))).all())
            days = (utc_now().date() - Month.of(utc_now()).previous().previous().previous().previous().first_day).days
            for tenant in ("kashiwa", "setagaya"):
                assert 15 * 0.8 * days <= per_tenant[tenant] <= 25 * (days + 1), per_tenant
                categories = set(await session.scalars(select(Conversation.category).where(Conversation.tenant_id == tenant).distinct()))
                assert categories - {None} <= set(catalog.CATEGORIES[tenant])
            flagged = dict((await session.execute(select(Case.urgency, func.count()).group_by(Case.urgency))).all())
            total = sum(per_tenant.values())
            assert 0.03 < flagged["urgent"] / total < 0.08 and 0.003 < flagged["emergency"] / total < 0.02
            assert await session.scalar(select(func.count()).select_from(KnowledgeGap)) > 0
            assert await session.scalar(select(func.count()).select_from(Conversation).where(Conversation.topic == "kashiwa.complaint")) > 0
            assert await session.scalar(select(func.count()).select_from(ServiceRequest).where(ServiceRequest.kind == "complaint", ServiceRequest.tenant_id == "kashiwa")) > 0
            month = Month.of(utc_now()).previous()
            data = await setagaya_besshi6.collect(session, tenant_id="setagaya", month=month)
            all_in_month = await queries.total(session, queries.Scope.month("setagaya", month))
            assert sum(data.month_counts.values()) == data.total == all_in_month - len(data.missing)
            assert sum(sum(h) for h in data.hour_counts.values()) == data.total
    finally:
        await engine.dispose()
    assert elapsed < 20, f"demo seeding took {elapsed:.1f}s"
