"""Celery tasks: thin and idempotent. They load ids, call core functions, and are safe to run twice."""

from __future__ import annotations

import uuid
from datetime import timedelta

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
