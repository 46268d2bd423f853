"""A real local SMTP server (aiosmtpd) that keeps what it receives, for tests that send mail."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from email.message import Message

from aiosmtpd.controller import Controller


class Inbox:
    def __init__(self) -> None:
        self.messages: list[bytes] = []
        self.port = 0

    @property
    def mails(self) -> list[Message]:
        return [message_from_bytes(m) for m in self.messages]

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, ANN201, N802
        self.messages.append(envelope.content)
        return "250 OK"


@contextmanager
def smtp_inbox() -> Iterator[Inbox]:
    from tests.conftest import free_port

    inbox = Inbox()
    inbox.port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=inbox.port)
    controller.start()
    try:
        yield inbox
    finally:
        controller.stop()
