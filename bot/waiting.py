"""What the bot says while a flagged conversation's case waits for a counselor in the chat
(issue 14 §3: who answers now and how, from the tenant's settings). Never the knowledge base's
goodbye after a thank-you, never a request to rephrase what the counselor is about to read;
a question, and news alarming by itself, still get the knowledge base's answer."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bot import conversations as conv_service
from bot.decide import Decision
from bot.flows import FlowContext, Flows
from bot.flows.route import asks
from bot.models import Conversation, Message
from frontdoor.tenants import Tenant
from handoff.cases import UNACCEPTED_STATUSES
from handoff.models import Case, Route
from handoff.replies import waiting_reply
from handoff.urgency import Urgency

Turn = tuple[str, list, dict]


def waits_in_chat(case: Case | None) -> bool:
    """The case waits for a counselor in this chat: nobody has accepted it yet."""
    return case is not None and case.route == Route.CHAT and case.status in UNACCEPTED_STATUSES


def for_the_counselor(decision: Decision, text: str, *, case: Case, answering: bool) -> bool:
    """The answer to the first reply's question (「いきは してる」), calm news in an emergency
    (「きゅうきゅうしゃ よびました」 was told to call 119), a risk denied (「べつに死にたいとかじゃ
    ない」 was given the crisis lines and 「すでに何かをしてしまったときは119番」) and news no entry
    answers (「いまも聞こえます」): not a question to rephrase, a guessed entry's answer or a
    knowledge gap. News alarming by itself (「駅のホームにいます」, 「まだ いきを してない」) is not:
    the knowledge base's answer names 119 and the crisis lines."""
    calm = decision.assessment.said == Urgency.NONE and not asks(text)
    denied = any(s.endswith(":negation") for s in decision.assessment.suppressed)
    told = calm and (answering or denied or case.urgency == Urgency.EMERGENCY)
    return decision.answer.kind in ("no_match", "clarify") or told


async def thanks_turn(flows: Flows, ctx: FlowContext, case: Case) -> Turn:
    """A thank-you is not the end of it: the call a request recorded outside hours promised,
    or who answers now."""
    promised = await flows.promised_call(ctx)
    text, buttons = (promised, []) if promised else waiting_reply(ctx.tenant, ctx.now, thanks=True, urgent=case.urgency == Urgency.URGENT)
    return text, buttons, {"case": str(case.id)}


async def update_turn(session: AsyncSession, conversation: Conversation, message: Message, case: Case, tenant: Tenant, now: datetime) -> Turn:
    """「このメッセージも、相談員が読みます」 and who answers now; the second time only its first line."""
    last = await conv_service.last_bot_meta(session, conversation_id=conversation.id, before_id=message.id)
    text, buttons = waiting_reply(tenant, now, thanks=False, urgent=case.urgency == Urgency.URGENT, again=last.get("waiting") == "update")
    return text, buttons, {"case": str(case.id), "waiting": "update"}
