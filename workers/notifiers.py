"""Escalation notifiers from settings: the console always; e-mail and a webhook when configured."""

from __future__ import annotations

from redis.asyncio import Redis

from frontdoor.settings import Settings
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
