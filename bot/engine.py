"""The channel-agnostic conversation engine.

Order matters: the resident's words are committed before anything else happens, so a
failing part later on (Redis, the knowledge index, an LLM) can degrade the reply but never
lose the message. Triage runs before any answer; while a counselor holds the chat the bot
stays silent.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from langchain_core.language_models import BaseChatModel
from sqlalchemy.ext.asyncio import AsyncSession

from bot import check_ins
from bot import conversations as conv_service
from bot import flows as flow_mechanism
from bot.flows import ActionKind, FlowContext, FlowName, FlowResult, Flows
from bot.decide import Decider, Decision
from bot.inference import Busy, InferencePool
from bot.models import Author, CheckInStatus, Conversation, ConversationMode, Message
from bot.validation import clean_text
from bot.waiting import for_the_counselor, thanks_turn, update_turn, waits_in_chat
from frontdoor.redact import Masker
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from frontdoor.settings import Settings
from frontdoor.tenants import TenantRegistry
from handoff import check_in, intake
from handoff import cases as case_service
from handoff.relay import Relay
from handoff.requests.forms import load_forms
from handoff.requests.service import RequestView
from handoff.triage import Assessment
from handoff.urgency import Urgency
from knowledge import disaster, gaps
from knowledge.rephrase import rephrase

log = logging.getLogger(__name__)

# Steps where the bot asked for a date, a time or a number: a bare 「夕方なら」 answers the
# question, it is not read by the model as a plan (the rules still read it).
ANSWERS_OF_DATA = frozenset({FlowName.FORM, FlowName.CALLBACK_PHONE, FlowName.APPOINTMENT})

FALLBACK_REPLY = (
    "申し訳ありません。いま自動の応答がうまく動いていません。\n"
    "メッセージは受け付けました。相談員が確認します。"
)


@dataclass(frozen=True)
class Inbound:
    tenant_id: str
    channel: ChannelKind
    external_id: str  # the channel's id for the resident (web session token, Telegram chat id)
    text: str
    channel_message_id: str | None = None
    address: str | None = None  # where the channel writes back (Telegram chat id)
    action: str | None = None  # a tapped button: "topic:<entry id>", "route:<route>", ...


@dataclass(frozen=True)
class Reply:
    message_id: int
    author: str
    text: str
    buttons: list[tuple[str, str]]
    created_at: datetime

    def event(self) -> dict:
        return {
            "type": "message",
            "id": self.message_id,
            "author": self.author,
            "text": self.text,
            "buttons": [{"id": b[0], "label": b[1]} for b in self.buttons],
            "created_at": self.created_at.isoformat(),
        }

    @classmethod
    def of(cls, message: Message) -> Reply:
        buttons = [tuple(b) for b in (message.meta or {}).get("buttons", [])]
        return cls(message.id, str(message.author), message.text, buttons, message.created_at)  # type: ignore[arg-type]


@dataclass
class Outcome:
    conversation_id: uuid.UUID
    inbound_id: int
    duplicate: bool
    mode: str
    replies: list[Reply] = field(default_factory=list)
    topic: str | None = None
    urgency: str = "none"
    route: str = "bot"
    confidence: float = 0.0
    assessment: Assessment | None = None  # this turn's triage (risk, check-in, subject, kind)
    case_id: uuid.UUID | None = None
    request: RequestView | None = None  # the request this turn started, filled in or recorded


def message_event(message: Message) -> dict:
    """What a channel (web socket, console) receives for one stored message."""
    return Reply.of(message).event()


class ConversationEngine:
    def __init__(
        self,
        *,
        settings: Settings,
        tenants: TenantRegistry,
        decider: Decider,
        relay: Relay | None,
        policy: intake.HandoffPolicy,
        llm: BaseChatModel | None = None,
        inference: InferencePool | None = None,
        flows: Flows | None = None,
    ):
        self.flows = flows or Flows(load_forms(), courtesy=self._thanks_only)
        self.settings = settings
        self.tenants = tenants
        self.decider = decider
        self.relay = relay
        self.policy = policy
        self.llm = llm
        self.masker = Masker()  # loads its dictionary on first use, off the event loop
        # Where decide() runs: off the event loop (issue 9); one thread unless given a pool.
        self.inference = inference or InferencePool.threads(decider)
        self._channel_ids: dict[tuple[str, ChannelKind], int] = {}

    async def _channel_id(self, session: AsyncSession, tenant_id: str, kind: ChannelKind) -> int:
        """Channel rows are made once at start-up and never change: looked up once per process
        instead of on every turn (issue 9: round trips per turn)."""
        key = (tenant_id, kind)
        if key not in self._channel_ids:
            self._channel_ids[key] = await conv_service.channel_id(session, tenant_id=tenant_id, kind=kind)
        return self._channel_ids[key]

    async def handle_inbound(
        self,
        session: AsyncSession,
        inbound: Inbound,
        *,
        now: datetime | None = None,
        on_stored: Callable[[int], Awaitable[None]] | None = None,
    ) -> Outcome:
        """`on_stored(message_id)` runs as soon as the message is committed, before the reply
        is computed: the channel acknowledges it then (issue 9)."""
        now = now or utc_now()
        tenant = self.tenants.get(inbound.tenant_id)
        text = clean_text(inbound.text, max_chars=self.settings.max_message_chars)
        channel_id = await self._channel_id(session, tenant.id, inbound.channel)
        contact = await conv_service.get_or_create_contact(
            session,
            channel_id=channel_id,
            pseudonym=conv_service.pseudonym(self.settings.secret_key, inbound.channel, inbound.external_id),
            address=inbound.address,
        )
        conversation = await conv_service.current_conversation(
            session,
            tenant_id=tenant.id,
            channel_id=channel_id,
            contact_id=contact.id,
            now=now,
            idle_after=timedelta(minutes=self.settings.idle_close_minutes),
            outside_hours=not tenant.ward_office_hours.is_open(now),
        )
        stored = await conv_service.store_inbound(
            session,
            conversation=conversation,
            text=text,
            channel_message_id=inbound.channel_message_id,
            now=now,
            meta={"action": inbound.action} if inbound.action else None,
        )
        await session.commit()  # stored before it is acknowledged
        if on_stored is not None:
            await on_stored(stored.message.id)
        if stored.duplicate:
            replies = await conv_service.replies_after(session, message=stored.message)
            # Answered before (or a counselor holds the chat): say nothing twice. A message that
            # was stored but never answered (the process died in between) is answered now.
            if replies or conversation.mode == ConversationMode.HUMAN:
                return Outcome(conversation.id, stored.message.id, True, str(conversation.mode), [Reply.of(m) for m in replies])

        conversation_id, inbound_message = conversation.id, stored.message
        outcome = Outcome(conversation_id, inbound_message.id, False, str(conversation.mode))
        try:
            turns = await self._respond(session, conversation, inbound_message, text, inbound, outcome, now)
        except Exception:  # degrade, never drop: the message is already stored
            log.exception("reply failed for conversation %s", conversation_id)
            await session.rollback()
            conversation = await session.get(Conversation, conversation_id, populate_existing=True)
            inbound_message = await session.get(Message, outcome.inbound_id, populate_existing=True)
            turns = [(FALLBACK_REPLY, [], {"fallback": True})]
        stored_replies = []
        for reply_text, buttons, meta in turns:
            message = await conv_service.store_outbound(
                session,
                conversation=conversation,
                text=reply_text,
                author=Author.BOT,
                now=now,
                meta={**meta, "buttons": buttons} if buttons else meta,
            )
            stored_replies.append(message)
        await session.commit()
        outcome.replies = [Reply.of(m) for m in stored_replies]
        outcome.mode = str(conversation.mode)
        await self._publish(conversation, inbound_message, stored_replies, flagged=outcome.urgency != "none")
        return outcome

    async def _respond(
        self,
        session: AsyncSession,
        conversation: Conversation,
        message: Message,
        text: str,
        inbound: Inbound,
        outcome: Outcome,
        now: datetime,
    ) -> list[tuple[str, list, dict]]:
        tenant = self.tenants.get(conversation.tenant_id)
        prior = Urgency(conversation.urgency)
        action = flow_mechanism.parse(inbound.action, text)  # button ids are read here only
        topic = action.value if action.kind == ActionKind.TOPIC else None
        case = await case_service.open_case_of(session, conversation_id=conversation.id)
        outcome.case_id = case.id if case else None
        pending = conversation.check_in_status == str(CheckInStatus.PENDING) and conversation.mode == ConversationMode.BOT
        answer = (action.id if action.kind == ActionKind.CHECK_IN else check_in.typed_answer(text)) if pending else None
        if answer == check_in.NO:
            await check_ins.settle(session, conversation, now=now)
            return [(check_in.load_check_in().settled, [], {"check_in": "settled"})]

        settled_at = conversation.check_in_answered_at if conversation.check_in_status == str(CheckInStatus.SETTLED) else None
        history = await conv_service.recent_risks(
            session, conversation=conversation, before_id=message.id, now=now, since=settled_at
        )
        button = action.button
        # Nothing is written yet: end the read transaction so the connection goes back to the
        # pool while the decision waits for a worker (50 residents, 15 connections: issue 9).
        await session.commit()
        try:
            decision = await self.inference.decide(
                tenant, text, prior=prior, now=now, topic=topic, prior_kind=case.kind if case else None,
                history=history, may_check_in=not pending, button=button, data_answer=conversation.awaiting in ANSWERS_OF_DATA,
            )
        except Busy:
            decision = self.decider.when_busy(tenant, text, prior=prior, now=now, prior_kind=case.kind if case else None, button=button)
        conv_service.note_risk(message, decision.assessment.risk)
        if pending and (answer == check_in.YES or (decision.assessment.worrying and not decision.raised)):
            # はい, or risk in whatever they wrote back: a case at once (issue 14 §2).
            await check_ins.raise_(session, conversation, now=now, why="yes" if answer == check_in.YES else "risk")
            decision = self.decider.raise_check_in(decision, tenant, conversation.check_in_kind, conversation.check_in_subject, now=now)
        level = Urgency.max(prior, decision.assessment.level)
        conversation.urgency = str(level)
        outcome.urgency = str(level)
        outcome.topic = decision.topic
        outcome.assessment = decision.assessment

        if conversation.mode == ConversationMode.HUMAN:
            # The counselor holds the chat: the bot says nothing (not even "please wait").
            if decision.flagged and case is not None and Urgency(case.urgency).rank < level.rank:
                case.urgency = str(level)
            outcome.route = str(case.route) if case else "chat"
            return []

        ctx = FlowContext(session, conversation, tenant, now, case)
        answering = conversation.awaiting == FlowName.FIRST_ANSWER
        if answering:
            conversation.awaiting = None
        if decision.raised:  # newly flagged: triage wins over any flow; a case and the immediate reply
            await self.flows.interrupt(ctx)
            conversation.category = conversation.category or intake.report_category(tenant, decision.assessment)
            conversation.topic = conversation.topic or decision.topic
            turn = await intake.on_flagged(
                session,
                conversation=conversation,
                assessment=decision.assessment,
                tenant=tenant,
                contacts=self.decider.contacts,
                policy=self.policy,
                now=now,
                reply=(decision.reply, decision.buttons),
            )
            outcome.route = str(turn.case.route) if turn.case else "chat"
            outcome.case_id = turn.case.id if turn.case else None
            return [(turn.text, turn.buttons, {"urgency": str(level), "kind": decision.assessment.kind, "case": str(turn.case.id)})]

        # Triage did not raise the level: a missing-person reporter's found notice or daily-check
        # answer (issue 8) may go to its flow, unless this message carries a danger of its own
        # (「見つかったけど息をしていない」 where the conversation is already at 緊急).
        alarmed = any(s != "model.check_in" for s in decision.assessment.signals)
        if not alarmed and (domain := await self.flows.reporter_turn(ctx, text)) is not None:
            return [self._flow_turn(domain, outcome, conversation)]
        lead = decision.answer.reply if decision.answered_topic == "common.talk_to_human" and decision.answer else None
        result = await self.flows.step(ctx, action, text, topic=decision.answered_topic, person_lead=lead)
        if ctx.case is not None:
            outcome.case_id, outcome.route = ctx.case.id, str(ctx.case.route)
        if result is not None:
            return [self._flow_turn(result, outcome, conversation)]
        waiting = waits_in_chat(case)
        if waiting and self._thanks_only(text):
            return [await thanks_turn(self.flows, ctx, case)]

        if decision.busy:
            return [(decision.reply, [], {"busy": True})]
        if waiting and for_the_counselor(decision, text, case=case, answering=answering):
            return [await update_turn(session, conversation, message, case, tenant, now)]
        # A request's entry whose message already gives details starts its form at once; the
        # resident is telling a plan, so the form's question comes instead of a check-in
        # (triage raising the level still wins, above).
        after = await self.flows.after_answer(
            ctx, action, text, topic=decision.answered_topic if decision.answer.kind in ("answer", "clarify") else None,
            sure=decision.answer.kind == "answer", urgent=level != Urgency.NONE,
        )
        if after.started is not None:
            conversation.topic = decision.answered_topic
            # Counted under the request's entry (別紙6 1-1 電話訪問関連), however sure retrieval was.
            conversation.category = conversation.category or self.decider.index.catalog.get(decision.answered_topic).report_category
            outcome.confidence = decision.confidence
            return [self._flow_turn(after.started, outcome, conversation)]
        if decision.check_in:
            await check_ins.ask(session, conversation, kind=decision.assessment.kind, subject=decision.assessment.subject, now=now)
        turns = await self._knowledge_reply(session, conversation, message, decision, text, outcome)
        reply_text, buttons, meta = turns[-1]
        if after.note is not None:
            reply_text = f"{reply_text}\n\n{after.note.text}"
            outcome.request = after.note.request
        turns[-1] = (reply_text, [*after.offer, *buttons], meta)
        return turns

    def _thanks_only(self, text: str) -> bool:
        rules = self.decider.triage.rules
        return rules.courtesy_only(text) and not rules.opener_only(text)

    @staticmethod
    def _flow_turn(result: FlowResult, outcome: Outcome, conversation: Conversation) -> tuple[str, list, dict]:
        outcome.request = result.request or outcome.request
        outcome.case_id = result.case_id or outcome.case_id
        outcome.route = result.route or outcome.route
        # An answer to the flow's question (「まだです」, a phone number) is about what the
        # conversation is about, not what its words alone would retrieve.
        outcome.topic = result.topic or conversation.topic or outcome.topic
        return (result.text, result.buttons, result.meta)

    async def _knowledge_reply(
        self, session: AsyncSession, conversation: Conversation, message: Message, decision: Decision, text: str, outcome: Outcome
    ) -> list[tuple[str, list, dict]]:
        answer = decision.answer
        outcome.topic = decision.topic
        outcome.confidence = decision.confidence
        if answer.kind == "answer" and answer.topic:
            conversation.topic = answer.topic
        if not conversation.category:
            conversation.category = self.decider.report_category(answer)
        if answer.kind in ("no_match", "clarify"):
            await gaps.record_gap(
                session,
                masker=self.masker,
                tenant_id=conversation.tenant_id,
                message_id=message.id,
                conversation_id=conversation.id,
                text=text,
                kind=answer.kind,
            )
        # decision.reply is the answer with what the decider put around it (condolences, the
        # check-in question); only the curated answer itself is ever rephrased.
        reply = decision.reply
        if answer.kind == "answer" and self.llm is not None:
            reply = reply.replace(answer.reply, await rephrase(answer, model=self.llm, timeout_s=self.settings.llm_timeout_s), 1)
        notice = await disaster.current(session, tenant_id=conversation.tenant_id)
        if notice is not None:  # issue 15: the ward's current information goes first
            reply = f"{notice.lead()}\n\n{reply}"
        meta = {"kind": answer.kind, "topic": answer.topic, "confidence": decision.confidence}
        if decision.check_in:
            meta["check_in"] = "asked"
        return [(reply, decision.buttons, meta)]

    async def _publish(self, conversation: Conversation, inbound: Message, replies: list[Message], *, flagged: bool) -> None:
        """Tell live subscribers; a Redis failure only delays them (they catch up from the database)."""
        if self.relay is None:
            return
        try:
            await self.relay.to_conversation(conversation.id, message_event(inbound))
            for message in replies:
                await self.relay.to_conversation(conversation.id, message_event(message))
            # The console gets ids only; it loads text over HTTP, where each view is audited.
            await self.relay.to_console(
                conversation.tenant_id,
                {"type": "activity", "conversation_id": str(conversation.id), "flagged": flagged, "urgency": conversation.urgency},
            )
        except Exception:
            log.warning("relay publish failed for conversation %s", conversation.id, exc_info=True)
