"""What every flow shares: the context of one turn and the typed result of a step.

A conversation has at most one active flow (a form, a route choice); `conversation.awaiting`
names it (see `FlowName`). Flows change state only through their domain's service functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation
from frontdoor.tenants import Tenant
from handoff.models import Case
from handoff.requests.service import RequestView


class FlowName(StrEnum):
    """Values of `conversation.awaiting`: which flow waits for the resident's next message."""

    FORM = "form"
    CALLBACK_PHONE = "callback_phone"
    APPOINTMENT = "appointment"
    EMAIL_ADDRESS = "email_address"
    MISSING_110 = "missing_110"
    FIRST_ANSWER = "first_answer"  # the answer to a flagged first reply's question (「その方は息をしていますか？」)


@dataclass
class FlowContext:
    session: AsyncSession
    conversation: Conversation
    tenant: Tenant
    now: datetime
    case: Case | None = None


@dataclass
class FlowResult:
    """One bot turn a flow produced, and what it recorded (nothing it did not)."""

    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    request: RequestView | None = None
    case_id: uuid.UUID | None = None
    route: str | None = None
    topic: str | None = None
