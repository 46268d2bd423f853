"""Escalation notifiers from settings: the console always; e-mail and a webhook when configured;
and the escalation policy's timings (retry back-off, repeat interval) from the same settings."""

from __future__ import annotations

from datetime import timedelta

from redis.asyncio import Redis

from frontdoor.settings import Settings
from handoff.escalation import Backoff
from handoff.notify import ConsoleNotifier, Notifier, SmtpNotifier, WebhookNotifier
from handoff.relay import Relay


def build_notifiers(settings: Settings, redis: Redis) -> list[Notifier]:
    notifiers: list[Notifier] = [ConsoleNotifier(Relay(redis))]
    if settings.notify_smtp_host:
        notifiers.append(
            SmtpNotifier(settings.notify_smtp_host, settings.notify_smtp_port, settings.notify_smtp_sender, settings.public_base_url)
        )
    if settings.notify_webhook_url:
        notifiers.append(WebhookNotifier(settings.notify_webhook_url, settings.public_base_url))
    return notifiers


def backoff(settings: Settings) -> Backoff:
    return Backoff(base=timedelta(seconds=settings.notify_retry_seconds), cap=timedelta(seconds=settings.notify_retry_max_seconds))


def repeat_after(settings: Settings) -> dict[str, timedelta]:
    """An unaccepted case is escalated again after each further SLA period."""
    return {"emergency": timedelta(seconds=settings.sla_emergency_seconds), "urgent": timedelta(seconds=settings.sla_urgent_seconds)}
