"""Celery tasks: thin and idempotent. They load ids, call core functions, and are safe to run twice."""

from __future__ import annotations

from datetime import timedelta

from celery import shared_task

from bot import conversations as conv_service
from frontdoor.clock import utc_now
from workers.runner import run_with_session


def _settings(task):  # noqa: ANN001, ANN202
    return task.app.frontdoor_settings


@shared_task(bind=True, name="frontdoor.close_idle_conversations", time_limit=120, expires=120)
def close_idle_conversations(self) -> int:  # noqa: ANN001
    settings = _settings(self)
    idle = timedelta(minutes=settings.idle_close_minutes)
    return run_with_session(settings, lambda s: conv_service.close_idle_conversations(s, now=utc_now(), idle_after=idle))
