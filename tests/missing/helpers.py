"""A reporter in chat, with the clock in the test's hand (issue 8)."""

from __future__ import annotations

import uuid
from datetime import datetime

from handoff.requests.models import Request
from tests.requests.test_absence_flow import Resident, button_ids, text_of

__all__ = ["Reporter", "button_ids", "intake_of", "text_of"]


class Reporter(Resident):
    """The same contact across conversations (a found notice may come the next day)."""

    def __init__(self, runtime, session, *, now: datetime, tenant: str = "setagaya", who: str | None = None):  # noqa: ANN001
        super().__init__(runtime, session, now=now, tenant=tenant)
        self.who = who or uuid.uuid4().hex


async def intake_of(session, outcome) -> Request:  # noqa: ANN001
    return await session.get(Request, uuid.UUID(outcome.request.id), populate_existing=True)
