"""The Celery application factory. `celery -A workers.celery_app` finds `app` below, built
from the environment's settings; tests build their own with create_celery(settings)."""

from __future__ import annotations

from celery import Celery
from celery.schedules import crontab

from frontdoor.redis_server import celery_broker_url
from frontdoor.settings import Settings


def create_celery(settings: Settings, *, redis_url: str | None = None) -> Celery:
    url = celery_broker_url(redis_url or settings.redis_url or "redis://127.0.0.1:6379/0")
    celery = Celery("frontdoor", broker=url, backend=url, include=["workers.tasks"])
    celery.conf.update(
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_default_queue="frontdoor",
        broker_connection_retry_on_startup=True,
        result_expires=3600,
        timezone="Asia/Tokyo",
        enable_utc=True,
        beat_schedule={
            "close-idle-conversations": {"task": "frontdoor.close_idle_conversations", "schedule": 60.0},
            "check-sla": {"task": "frontdoor.check_sla", "schedule": 20.0},
            # Missing-person ward-report deadlines (30 minutes) and the 10:00 daily checks (issue 8).
            "missing-person-tick": {"task": "frontdoor.missing_person_tick", "schedule": 60.0},
            # Requests past their due time show 期限切れ first on the worklist (issue 13).
            "mark-overdue-requests": {"task": "frontdoor.mark_overdue_requests", "schedule": 60.0},
            # Reports are due by the 10th (Kashiwa 002 §8(4)); generate last month's on the 1st, 01:00 JST.
            # Retention periods per tenant file (issue 11; Setagaya 別紙1-1 §29).
            "erase-expired": {"task": "frontdoor.erase_expired", "schedule": crontab(minute=30, hour=3)},
            "monthly-reports": {"task": "frontdoor.generate_monthly_reports", "schedule": crontab(minute=0, hour=1, day_of_month=1)},
        },
    )
    celery.frontdoor_settings = settings  # type: ignore[attr-defined]
    return celery


def _app_from_environment() -> Celery:
    settings = Settings()
    return create_celery(settings)


app = _app_from_environment()
