"""Flows: the small state machines a conversation runs one at a time (issue 13).

The engine runs triage first (it always wins: `interrupt`), then `reporter_turn` (a missing-
person reporter's found notice or check answer, issue 8), then `step` (a tapped button of a
flow, or the active flow), then the knowledge answer, then `after_answer` (an answer that is
a request's entry starts or offers its form)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.flows.actions import Action, ActionKind, FormVerb, parse
from bot.flows.base import FlowContext, FlowName, FlowResult
from bot.flows.form import FormFlow
from bot.flows.missing import HOOKS, MissingFlow
from bot.flows.route import ROUTE_STEPS, RouteFlow, typed_route, wants_person
from handoff.cases import UNACCEPTED_STATUSES
from handoff.requests.forms import Forms

# A clarifying answer starts its likeliest form only with this many of its fields given.
UNSURE_MIN_FIELDS = 3

__all__ = ["AfterAnswer", "Action", "ActionKind", "FlowContext", "FlowName", "FlowResult", "Flows", "parse"]


class Flows:
    def __init__(self, forms: Forms, *, courtesy: Callable[[str], bool] = lambda _: False):
        self.forms = forms
        self.form = FormFlow(forms, HOOKS, courtesy=courtesy)
        self.route = RouteFlow()
        self.missing = MissingFlow(forms, self.form, self.route)

    async def interrupt(self, ctx: FlowContext) -> None:
        """Triage raised the conversation: a form being filled in stops (kept as incomplete)."""
        await self.form.stop_any(ctx, why="triage")

    async def reporter_turn(self, ctx: FlowContext, text: str) -> FlowResult | None:
        """A missing-person reporter writing that the person was found, or answering the daily
        check. Asked only after triage, and only when triage did not raise the message: a found
        notice that tells of a danger (「見つかったけど倒れている」) is escalated like any other."""
        return await self.missing.reporter_message(ctx, text)

    async def promised_call(self, ctx: FlowContext) -> str | None:
        """The call a request recorded outside hours promised, told again (FormFlow.promised_call)."""
        return await self.form.promised_call(ctx)

    async def step(self, ctx: FlowContext, action: Action, text: str, *, topic: str | None, person_lead: str | None) -> FlowResult | None:
        """The turn of a flow, or None for the knowledge answer. Buttons of a flow win over the
        active flow (the resident tapped something else); typed words go to the active flow."""
        if (after_110 := await self.missing.after_110(ctx, action, text)) is not None:
            return after_110
        if action.kind == ActionKind.TEXT and self._routes_on_offer(ctx) and (typed := typed_route(text, ctx.tenant.routes)) is not None:
            action = Action(ActionKind.ROUTE, str(typed))  # 「でんわで はなしたい」 typed instead of tapped
        if action.is_form(FormVerb.START) and action.arg in self.forms and ctx.tenant.id in self.forms.get(action.arg).tenants:
            return await self.form.start(ctx, self.forms.get(action.arg), None)
        in_form = ctx.conversation.awaiting == FlowName.FORM
        if in_form and action.kind not in (ActionKind.ROUTE, ActionKind.TALK_TO_HUMAN, ActionKind.TOPIC):
            result = await self.form.step(ctx, action, text)
            if result is not None:
                return result
        if wants_person(action, None if in_form else topic):
            await self.form.stop_any(ctx, why="person")
            if ctx.case is None:
                result = await self.route.request_person(ctx, lead=person_lead)
                if action.route is None:
                    return result
            elif action.route is None and ctx.conversation.awaiting not in ROUTE_STEPS:
                return self.route.offer_routes(ctx, lead=person_lead)
        return await self.route.step(ctx, action, text)

    @staticmethod
    def _routes_on_offer(ctx: FlowContext) -> bool:
        """A case still waits for a person, and nothing else waits for the resident's words."""
        waiting = ctx.case is not None and ctx.case.status in UNACCEPTED_STATUSES
        return waiting and ctx.conversation.awaiting not in (FlowName.FORM, *ROUTE_STEPS)

    async def after_answer(
        self, ctx: FlowContext, action: Action, text: str, *, topic: str | None, sure: bool, urgent: bool
    ) -> AfterAnswer:
        """An answer from a request's entry: start its form when the message already gives
        details (「あしたは留守にします」), otherwise offer it as a button. A long message full
        of details retrieves less surely (a clarifying question): its likeliest entry starts
        the form when it gives three fields or more (「粗大ごみ … 090-…」 is not a volunteer
        request). A complaint is recorded at once."""
        typed = action.kind == ActionKind.TEXT
        form = self.form.likeliest(ctx, topic, text)
        if form is not None and form.record_at_once:
            note = await self.form.record_now(ctx, form, text, urgent=urgent) if typed and sure else None
            return AfterAnswer(note=note)
        if form is not None and typed and self.form.details_given(form, text, ctx) >= (1 if sure else UNSURE_MIN_FIELDS):
            return AfterAnswer(started=await self.form.start(ctx, form, text))
        if not sure:
            return AfterAnswer()
        return AfterAnswer(offer=[(f"form:start:{f.kind}", f.texts.offer) for f in self.form.offered(ctx, topic) if not f.record_at_once])


@dataclass
class AfterAnswer:
    started: FlowResult | None = None  # the form's first question replaces the answer
    offer: list[tuple[str, str]] = field(default_factory=list)  # buttons added to the answer
    note: FlowResult | None = None  # said after the answer (a complaint recorded)
