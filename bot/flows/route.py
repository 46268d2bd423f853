"""The route-choice flow: a resident asks for a person (or taps a route button), chooses how
to be reached, and leaves a callback number or an e-mail address. The steps themselves are
handoff's service functions (handoff/intake.py); this flow only decides which one runs."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from bot import conversations as conv_service
from bot.flows.actions import Action, ActionKind
from bot.flows.base import FlowContext, FlowName, FlowResult
from handoff import intake
from handoff.models import Route
from handoff.replies import RouteChoice, load_first_replies

ROUTE_STEPS = frozenset({FlowName.CALLBACK_PHONE, FlowName.APPOINTMENT, FlowName.EMAIL_ADDRESS, FlowName.MISSING_110})
TALK_TO_HUMAN_TOPIC = "common.talk_to_human"


# A route named as a choice: 「でんわで」「電話がいい」「メールをお願いします」「このままでいいです」.
_AS_CHOICE = r"(?:で|が(?:いい|良い|ええ)|を?(?:希望|お願い|おねがい|ください|下さい|ほしい)|にして|話|はな|待|まち|まつ|$)"
# A message that asks (「どっちにかければいいですか」) rather than tells (「いきは してる」): a
# question mark, or a closing か / かな / かね / かしら.
_ASKS = re.compile(r"[?？]|か(?:な|ね|しら)?[\s。、!！…〜ー]*$")
MAX_TYPED_ROUTE = 20


def asks(text: str) -> bool:
    return bool(_ASKS.search(unicodedata.normalize("NFKC", text)))


def typed_route(text: str, routes: Sequence[str], choices: Sequence[RouteChoice] | None = None) -> Route | None:
    """The route a resident types instead of tapping its button (an elder on LINE, where the
    buttons are gone once she writes), when exactly one of the tenant's routes is named as a
    choice; a question about one (「電話は何時までですか」) or a longer message is not a choice."""
    norm = re.sub(r"[\s、。!！…〜]", "", unicodedata.normalize("NFKC", text).lower())
    if not norm or len(norm) > MAX_TYPED_ROUTE or asks(text):
        return None
    named = [c for c in (choices or load_first_replies().route_choices) if any(w in norm for w in c.typed)]
    if len(named) != 1 or named[0].id not in routes:
        return None
    chosen = re.search(f"(?:{'|'.join(map(re.escape, named[0].typed))}){_AS_CHOICE}", norm)
    return named[0].id if chosen else None


def wants_person(action: Action, topic: str | None) -> bool:
    return action.route is not None or action.kind == ActionKind.TALK_TO_HUMAN or topic == TALK_TO_HUMAN_TOPIC


class RouteFlow:
    async def request_person(self, ctx: FlowContext, *, lead: str | None) -> FlowResult:
        """A request case at `none` urgency, and the ways to be reached."""
        turn = await intake.on_person_requested(ctx.session, conversation=ctx.conversation, tenant=ctx.tenant, now=ctx.now, lead=lead)
        ctx.case = turn.case
        case_id = turn.case.id if turn.case else None
        return FlowResult(turn.text, turn.buttons, {"case": str(case_id), "topic": TALK_TO_HUMAN_TOPIC}, case_id=case_id, route="chat", topic=TALK_TO_HUMAN_TOPIC)

    def offer_routes(self, ctx: FlowContext, *, lead: str | None) -> FlowResult:
        """The case is open already: how the resident would like to be reached."""
        assert ctx.case is not None
        turn = intake.offer_routes(ctx.tenant, ctx.case, lead=lead)
        return FlowResult(turn.text, turn.buttons, {"case": str(ctx.case.id)}, case_id=ctx.case.id, route=str(turn.route), topic=TALK_TO_HUMAN_TOPIC)

    async def step(self, ctx: FlowContext, action: Action, text: str, *, earlier: list[str] | None = None) -> FlowResult | None:
        """A route chosen, or the reply the chosen route waits for; None when neither.
        `earlier`: the resident's messages before this one, when the caller read them already."""
        case = ctx.case
        if case is None:
            return None
        route = action.route
        if route is not None:
            turn = await intake.on_route_chosen(ctx.session, conversation=ctx.conversation, case=case, route=route, tenant=ctx.tenant, now=ctx.now)
        elif ctx.conversation.awaiting in ROUTE_STEPS:
            # The 110 question's answer is read with what the resident said before it
            # (「さっき警察には電話しました」 in the first message, then the details).
            if earlier is None and ctx.conversation.awaiting == FlowName.MISSING_110:
                earlier = (await conv_service.resident_words(ctx.session, conversation_id=ctx.conversation.id))[:-1]
            turn = await intake.on_awaited_reply(
                ctx.session, conversation=ctx.conversation, case=case, text=action.id or text, tenant=ctx.tenant, now=ctx.now,
                earlier=earlier or (),
            )
        else:
            return None
        return FlowResult(turn.text, turn.buttons, {"case": str(case.id)}, case_id=case.id, route=str(turn.route or case.route))
