"""Celery tasks: thin and idempotent. They load ids, call core functions, and are safe to run twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from celery import shared_task

from bot import conversations as conv_service
from frontdoor.clock import utc_now
from handoff import escalation
from workers.notifiers import build_notifiers
from workers.runner import run_with_session, run_with_session_and_redis


def _settings(task):  # noqa: ANN001, ANN202
    return task.app.frontdoor_settings


@shared_task(bind=True, name="frontdoor.close_idle_conversations", time_limit=120, expires=120)
def close_idle_conversations(self) -> int:  # noqa: ANN001
    settings = _settings(self)
    idle = timedelta(minutes=settings.idle_close_minutes)
    return run_with_session(settings, lambda s: conv_service.close_idle_conversations(s, now=utc_now(), idle_after=idle))


@shared_task(bind=True, name="frontdoor.check_sla", time_limit=60, expires=60)
def check_sla(self) -> int:  # noqa: ANN001
    """Fan out one escalation job per overdue case."""
    settings = _settings(self)
    ids = run_with_session(settings, lambda s: escalation.overdue_case_ids(s, now=utc_now()))
    for case_id in ids:
        escalate_case.delay(str(case_id))
    return len(ids)


@shared_task(bind=True, name="frontdoor.escalate_case", time_limit=60, expires=300)
def escalate_case(self, case_id: str) -> bool:  # noqa: ANN001
    """Escalate one case if it is still unaccepted; a second run finds it done and returns False."""
    settings = _settings(self)

    async def work(session, redis) -> bool:  # noqa: ANN001
        return await escalation.escalate(
            session, case_id=uuid.UUID(case_id), now=utc_now(), notifiers=build_notifiers(settings, redis)
        )

    return run_with_session_and_redis(settings, work)


# --- Monthly reports (issue 5) ------------------------------------------------------------


@shared_task(bind=True, name="frontdoor.generate_monthly_reports", time_limit=60, expires=6 * 3600)
def generate_monthly_reports(self, month: str | None = None) -> list[str]:  # noqa: ANN001
    """Beat, on the 1st at 01:00 JST: fan out last month's report for every tenant
    (Kashiwa 002 §8(4) due by the 10th; Setagaya 003 §1(2)⑥ウ(イ) 別紙6)."""
    from frontdoor.tenants import load_tenants
    from workers.reports.periods import Month, last_month

    settings = _settings(self)
    target = str(Month.parse(month) if month else last_month(utc_now()))
    tenant_ids = load_tenants(settings.tenants_dir).ids()
    for tenant_id in tenant_ids:
        generate_report.delay(tenant_id, target)
    return tenant_ids


@shared_task(bind=True, name="frontdoor.generate_report", time_limit=600, expires=24 * 3600)
def generate_report(self, tenant: str, month: str, generated_by: str = "beat") -> list[str]:  # noqa: ANN001
    """Every format of one tenant's report for one month; running it twice replaces, never duplicates."""
    from frontdoor.tenants import load_tenants
    from workers.reports import storage
    from workers.reports.periods import Month

    settings = _settings(self)
    tenant_cfg = load_tenants(settings.tenants_dir).get(tenant)

    async def work(session) -> list[str]:  # noqa: ANN001
        done = await storage.generate_all(
            session, settings=settings, tenant=tenant_cfg, month=Month.parse(month), generated_by=generated_by, now=utc_now()
        )
        return [d.report.checksum for d in done]

    return run_with_session(settings, work)


# --- Missing-person timers (issue 8) --------------------------------------------------------


@shared_task(bind=True, name="frontdoor.missing_person_tick", time_limit=60, expires=60)
def missing_person_tick(self, at: str | None = None) -> int:  # noqa: ANN001
    """Beat, every minute: ward-report deadlines near/missed alert the console and the
    notifiers; each morning's status checks fall due and chat reporters are asked (⑤イ(カ)(キ))."""
    from handoff.missing import chat, timers
    from handoff.relay import Relay

    settings = _settings(self)

    async def work(session, redis) -> int:  # noqa: ANN001
        now = datetime.fromisoformat(at) if at else utc_now()  # `at`: replays and tests fix the clock
        sent, checks = await timers.tick(session, now=now, notifiers=build_notifiers(settings, redis))
        await chat.ask_reporters(session, checks, relay=Relay(redis), telegram=chat.telegram_sender(settings), now=now)
        return sent + len(checks)

    return run_with_session_and_redis(settings, work)
