"""Escalation notifiers: the console always, plus e-mail (SMTP) or a webhook when configured."""

from __future__ import annotations

import asyncio
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Protocol

import httpx

from handoff.relay import Relay

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Escalation:
    tenant_id: str
    case_id: str
    urgency: str
    waited_minutes: int
    recipients: tuple[str, ...]  # e-mail addresses of the on-call staff / supervisors

    def subject(self) -> str:
        level = "緊急" if self.urgency == "emergency" else "至急"
        return f"【{level}】未対応の相談が{self.waited_minutes}分待っています"

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


class Notifier(Protocol):
    name: str

    async def notify(self, escalation: Escalation) -> None: ...


class ConsoleNotifier:
    name = "console"

    def __init__(self, relay: Relay):
        self.relay = relay

    async def notify(self, escalation: Escalation) -> None:
        await self.relay.to_console(
            escalation.tenant_id,
            {"type": "escalation", "case_id": escalation.case_id, "urgency": escalation.urgency, "message": escalation.subject()},
        )


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
        if escalation.recipients:
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


async def notify_all(notifiers: list[Notifier], escalation: Escalation) -> list[str]:
    """Every notifier is tried; one failing does not stop the others. Returns who was reached."""
    reached = []
    for notifier in notifiers:
        try:
            await notifier.notify(escalation)
            reached.append(notifier.name)
        except Exception:
            log.warning("escalation notifier %s failed for case %s", notifier.name, escalation.case_id, exc_info=True)
    return reached
