"""Escalation notifiers: the console always, plus e-mail (SMTP) or a webhook when configured.

A notifier raises when its message did not reach anyone; the escalation outbox
(`handoff/escalation.py`) then retries it with back-off."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import httpx

from handoff import presence
from handoff.relay import Relay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Escalation:
    tenant_id: str
    case_id: str
    urgency: str
    waited_minutes: int
    recipients: tuple[str, ...]  # e-mail addresses of the on-call staff / supervisors
    level: int = 1  # 1: the on-call staff; 2 and later: repeated, supervisors included
    staff_ids: tuple[str, ...] = ()  # counselor ids this level is meant for (console presence)

    def subject(self) -> str:
        level = "緊急" if self.urgency == "emergency" else "至急"
        again = "・再通知" if self.level > 1 else ""
        return f"【{level}{again}】未対応の相談が{self.waited_minutes}分待っています"

    def body(self, console_url: str) -> str:
        # No resident text or personal data: the console shows the case after sign-in.
        return f"{self.subject()}\n相談員コンソールで確認してください。\n{console_url}/console/cases/{self.case_id}\n"


@dataclass(frozen=True)
class DeadlineAlert(Escalation):
    """A workflow deadline near or missed (e.g. the 30-minute missing-person ward report):
    sent through the same notifiers as an escalation, with its own subject."""

    text: str = ""

    def subject(self) -> str:
        return self.text


class NotReached(Exception):
    """Sent, but no one it was meant for could see it (e.g. no on-call counselor online)."""


class Notifier(Protocol):
    name: str

    async def notify(self, escalation: Escalation) -> None: ...


class ConsoleNotifier:
    name = "console"

    def __init__(self, relay: Relay):
        self.relay = relay

    async def notify(self, escalation: Escalation) -> None:
        """Reached only if one of the staff this level is for has the console open."""
        await self.relay.to_console(
            escalation.tenant_id,
            {"type": "escalation", "case_id": escalation.case_id, "urgency": escalation.urgency, "message": escalation.subject()},
        )
        online = await presence.online_staff(self.relay.redis, escalation.tenant_id)
        if not online.intersection(escalation.staff_ids):
            raise NotReached("no_one_online")


class SmtpNotifier:
    name = "email"

    def __init__(self, host: str, port: int, sender: str, console_url: str):
        self.host, self.port, self.sender, self.console_url = host, port, sender, console_url

    def _send(self, escalation: Escalation) -> None:
        message = EmailMessage()
        message["Subject"] = escalation.subject()
        message["From"] = self.sender
        message["To"] = ", ".join(escalation.recipients)
        message.set_content(escalation.body(self.console_url))
        with smtplib.SMTP(self.host, self.port, timeout=10) as smtp:
            smtp.send_message(message)

    async def notify(self, escalation: Escalation) -> None:
        if not escalation.recipients:
            raise NotReached("no_address")
        await asyncio.to_thread(self._send, escalation)


class WebhookNotifier:
    name = "webhook"

    def __init__(self, url: str, console_url: str):
        self.url, self.console_url = url, console_url

    async def notify(self, escalation: Escalation) -> None:
        async with httpx.AsyncClient(timeout=10) as client:
            response = await client.post(
                self.url,
                json={
                    "tenant": escalation.tenant_id,
                    "case_id": escalation.case_id,
                    "urgency": escalation.urgency,
                    "waited_minutes": escalation.waited_minutes,
                    "text": escalation.body(self.console_url),
                },
            )
            response.raise_for_status()


async def notify_all(notifiers: list[Notifier], alert: Escalation) -> list[str]:
    """One-shot alerts (DeadlineAlert; no outbox, no retry: the next deadline alerts anew):
    each notifier is tried once, a failure is logged and does not stop the others. Returns the
    names of the notifiers that reached someone."""
    reached = []
    for notifier in notifiers:
        try:
            await notifier.notify(alert)
            reached.append(notifier.name)
        except Exception as exc:  # noqa: BLE001  # one notifier down must not silence the rest
            # The reason, never the message of an arbitrary error (it may hold an address).
            log.warning("alert via %s failed: %s", notifier.name, exc if isinstance(exc, NotReached) else type(exc).__name__)
    return reached
