"""Celery tasks: thin and idempotent. They load ids, call core functions, and are safe to run twice."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from celery import shared_task

from bot import conversations as conv_service
from frontdoor.clock import utc_now
from frontdoor import health
from handoff import escalation
from workers.notifiers import backoff, build_notifiers, repeat_after
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
    """Beat, every 20 s: record that SLA timers run (the heartbeat /healthz reads), fan out one
    escalation job per overdue case, and one delivery job if notifications wait for a retry."""
    settings = _settings(self)

    async def work(session):  # noqa: ANN001, ANN202
        now = utc_now()
        await health.beat(session, name="worker", now=now)
        return await escalation.overdue_case_ids(session, now=now), await escalation.has_due_deliveries(session, now=now)

    ids, retries_due = run_with_session(settings, work)
    for case_id in ids:
        escalate_case.delay(str(case_id))
    if retries_due:
        deliver_escalations.delay()
    return len(ids)


@shared_task(bind=True, name="frontdoor.escalate_case", time_limit=60, expires=300)
def escalate_case(self, case_id: str) -> bool:  # noqa: ANN001
    """Claim the case's next escalation level and deliver it; a second run finds the level
    claimed and returns False (deliveries still due are tried either way)."""
    settings = _settings(self)

    async def work(session, redis) -> bool:  # noqa: ANN001
        notifiers, now = build_notifiers(settings, redis), utc_now()
        won = await escalation.escalate(
            session, case_id=uuid.UUID(case_id), now=now, notifier_names=[n.name for n in notifiers], repeat_after=repeat_after(settings)
        )
        await escalation.deliver_due(session, now=now, notifiers=notifiers, backoff=backoff(settings), case_id=uuid.UUID(case_id))
        return won

    return run_with_session_and_redis(settings, work)


@shared_task(bind=True, name="frontdoor.deliver_escalations", time_limit=120, expires=60)
def deliver_escalations(self) -> dict[str, int]:  # noqa: ANN001
    """Retry escalation notifications whose back-off has passed."""
    settings = _settings(self)

    async def work(session, redis) -> dict[str, int]:  # noqa: ANN001
        return await escalation.deliver_due(session, now=utc_now(), notifiers=build_notifiers(settings, redis), backoff=backoff(settings))

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


# --- Retention (issue 11; Setagaya 別紙1-1 §29) ------------------------------------------


@shared_task(bind=True, name="frontdoor.erase_expired", time_limit=1800, expires=12 * 3600)
def erase_expired(self, now: str | None = None) -> int:  # noqa: ANN001
    """Beat, daily at 03:30 JST: erase what is past each tenant's retention period and record
    it; a second run finds nothing left to erase and records nothing. `now` (ISO 8601) is for
    re-running a missed day and for tests; beat leaves it to the clock."""
    from datetime import datetime

    from frontdoor.tenants import load_tenants
    from workers import retention

    settings = _settings(self)
    tenants = load_tenants(settings.tenants_dir).all()

    async def work(session) -> int:  # noqa: ANN001
        moment = datetime.fromisoformat(now) if now else utc_now()
        return len(await retention.erase_expired(session, tenants=tenants, now=moment))

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
        relay = Relay(redis)
        async with chat.line_pusher(settings, session, relay) as line:  # pushes are awaited here, not left behind
            await chat.ask_reporters(
                session, checks, relay=relay, telegram=chat.telegram_sender(settings), line=line, line_tenant=settings.line_tenant, now=now
            )
        return sent + len(checks)

    return run_with_session_and_redis(settings, work)


# --- Requests past their due time (issue 13) ------------------------------------------------


@shared_task(bind=True, name="frontdoor.mark_overdue_requests", time_limit=60, expires=60)
def mark_overdue_requests(self) -> int:  # noqa: ANN001
    """Beat, every minute: requests past due and not done are marked 期限切れ, once each."""
    from handoff.requests import service as request_service

    return len(run_with_session(_settings(self), lambda s: request_service.mark_overdue(s, now=utc_now())))
