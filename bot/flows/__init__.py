"""Flows: the small state machines a conversation runs one at a time (issue 13).

The engine runs triage first (it always wins: `interrupt`), then `step` (a tapped button of a
flow, or the active flow), then the knowledge answer, then `after_answer` (an answer that is
a request's entry starts or offers its form)."""

from __future__ import annotations

from bot.flows.actions import Action, ActionKind, FormVerb, parse
from bot.flows.base import FlowContext, FlowName, FlowResult
from bot.flows.form import FormFlow
from bot.flows.missing import HOOKS, MissingFlow
from bot.flows.route import RouteFlow, wants_person
from handoff.requests.forms import Forms

__all__ = ["Action", "ActionKind", "FlowContext", "FlowName", "FlowResult", "Flows", "parse"]


class Flows:
    def __init__(self, forms: Forms):
        self.forms = forms
        self.form = FormFlow(forms, HOOKS)
        self.route = RouteFlow()
        self.missing = MissingFlow(forms, self.form, self.route)

    async def interrupt(self, ctx: FlowContext) -> None:
        """Triage raised the conversation: a form being filled in stops (kept as incomplete)."""
        await self.form.stop_any(ctx, why="triage")

    async def before_triage(self, ctx: FlowContext, text: str) -> FlowResult | None:
        """A domain message that must not be read as a new emergency: a missing-person reporter
        writing that the person was found (「見つかりました」 reads like an alarm to triage), or
        answering the daily check."""
        return await self.missing.reporter_message(ctx, text)

    async def step(self, ctx: FlowContext, action: Action, text: str, *, topic: str | None, person_lead: str | None) -> FlowResult | None:
        """The turn of a flow, or None for the knowledge answer. Buttons of a flow win over the
        active flow (the resident tapped something else); typed words go to the active flow."""
        if (after_110 := await self.missing.after_110(ctx, action, text)) is not None:
            return after_110
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
        return await self.route.step(ctx, action, text)

    async def after_answer(
        self, ctx: FlowContext, action: Action, text: str, *, topic: str | None, sure: bool
    ) -> tuple[FlowResult | None, list[tuple[str, str]]]:
        """An answer from a request's entry: start its form when the message already gives
        details (「あしたは留守にします」), otherwise offer it as a button. A long message full
        of details retrieves less surely (a clarifying question): its likeliest entry starts
        the form when it gives two fields or more."""
        form = self.form.offered(ctx, topic)
        if form is None:
            return None, []
        if action.kind == ActionKind.TEXT and self.form.details_given(form, text, ctx) >= (1 if sure else 2):
            return await self.form.start(ctx, form, text), []
        return None, [(f"form:start:{form.kind}", form.texts.offer)] if sure else []
