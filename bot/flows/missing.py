"""The missing-person workflow in chat (issue 8; Setagaya 003 §1(2)⑤): after the 110 question
of the emergency reply the 別紙8-3 form starts; a found notice from the reporter (in this or a
new conversation) starts the 別紙8-4 form. Recording runs the handoff.missing service."""

from __future__ import annotations

import re
import uuid
from datetime import datetime

from bot import conversations as conv_service
from bot.flows.actions import Action
from bot.flows.base import FlowContext, FlowName, FlowResult
from bot.flows.form import FormFlow
from bot.flows.route import RouteFlow
from handoff.missing import service as missing
from handoff.missing.police import police_news
from handoff.requests.forms import Forms
from handoff.requests.models import Request, RequestStatus
from handoff.requests.service import RequestView
from frontdoor.clock import to_jst
from handoff.requests.values import extract, normalized

FOUND_FORM = "missing_person_found"
_REFUSE = re.compile(r"(?:確認|電話|連絡)(?:は|も)?(?:もう)?(?:いらない|不要|結構|しないで|やめて|けっこう)")
CHECK_NOT_RECORDED = "お知らせありがとうございます。このメッセージは会話の記録に残りました。見つかったときや急ぐときは、安心コール（{anshin_call_phone}）へお電話ください。"
CHECK_NOT_FOUND = "お知らせありがとうございます。管理番号「{number}」の件、担当者にお伝えします。見つかったときは、このチャットか安心コール（{anshin_call_phone}）へお知らせください。"
CHECK_REFUSED = "承知しました。管理番号「{number}」の件、毎日の確認のお電話はいたしません。今後の対応は担当者が区と相談します。見つかったときは、安心コール（{anshin_call_phone}）へお知らせください。"
_FOUND = re.compile(r"見つか[りっ]|みつか[りっ]|発見され|保護され|帰って(?:き|来)|かえってき|戻って(?:き|来)|もどってき")
_NOT_FOUND = re.compile(r"見つかって(?:い)?な|みつかって(?:い)?な|見つかりません|みつかりません|見つからな|みつからな|帰って(?:こ|来)な|戻って(?:こ|来)な|まだ")


def says_found(text: str) -> bool:
    text = normalized(text)
    return bool(_FOUND.search(text)) and not _NOT_FOUND.search(text)


def called_110(called: bool) -> dict[str, str]:
    """別紙8-3 「110番通報の有無」 as the intake form records it."""
    return {"called_110": "有" if called else "無"}


class IntakeHook:
    """別紙8-3 recorded: office hours start the 30-minute ward-report clock (⑤イ(カ)); closed
    hours wait for the next-opening-day call (⑤ウ)."""

    def plan(self, ctx: FlowContext, draft: Request) -> tuple[RequestStatus, datetime | None]:
        if draft.outside_hours:
            return RequestStatus.CALLBACK, missing.callback_deadline(ctx.tenant, ctx.now)
        minutes = ctx.tenant.missing_person_report.minutes if ctx.tenant.missing_person_report else 30
        return RequestStatus.OPEN, missing.report_deadline(ctx.now, minutes)

    async def recorded(self, ctx: FlowContext, request: Request) -> None:
        await missing.created(ctx.session, request=request, contact_id=ctx.conversation.contact_id, tenant=ctx.tenant, now=ctx.now)

    def told_again(self, text: str) -> dict[str, str]:
        """別紙8-3 「110番通報の有無」 as she tells it while another item is asked: her newest word."""
        called = police_news(text)
        return {} if called is None else called_110(called)


class FoundHook:
    """別紙8-4 items taken: the intake is marked found and its found report falls due (⑤イ(ケ))."""

    def plan(self, ctx: FlowContext, draft: Request) -> tuple[RequestStatus, datetime | None]:
        return RequestStatus.DONE, None

    async def recorded(self, ctx: FlowContext, request: Request) -> None:
        fields = dict(request.fields or {})
        of = fields.pop("of", None)
        intake = await ctx.session.get(Request, uuid.UUID(of)) if of else None
        if intake is not None:
            await missing.mark_found(ctx.session, request_id=intake.id, details=fields, tenant=ctx.tenant, now=ctx.now)
            await ctx.session.refresh(intake)
            request.due_at = intake.due_at

    def told_again(self, text: str) -> dict[str, str]:
        return {}


HOOKS = {"missing_person": IntakeHook(), "missing_person_found": FoundHook()}


class MissingFlow:
    def __init__(self, forms: Forms, form: FormFlow, route: RouteFlow):
        self.forms, self.form, self.route = forms, form, route

    async def after_110(self, ctx: FlowContext, action: Action, text: str) -> FlowResult | None:
        """The answer to 「110番には、もう通報されましたか？」: recorded on the case as before,
        then the tenant's intake form (Setagaya) with whatever details the answer gives."""
        if ctx.conversation.awaiting != FlowName.MISSING_110 or ctx.case is None:
            return None
        form = self.forms.for_case_kind(ctx.tenant.id, ctx.case.kind)
        if form is None:  # Kashiwa: 110 guidance and a counselor, no intake promised
            return None
        earlier = (await conv_service.resident_words(ctx.session, conversation_id=ctx.conversation.id))[:-1]
        await self.route.step(ctx, action, text, earlier=earlier)
        called = "110連絡済" in (ctx.case.labels or [])
        lead = "ありがとうございます。" if called else "まだでしたら、このあとすぐに110番（警察）へ通報してください。"
        # Nothing asked twice: the details of the first message (and this answer) fill the form.
        # A later message says it more precisely (「今朝」, then 「今朝7時ごろ」): later wins.
        given: dict[str, str] = {}
        for said in [*earlier, *([] if action.button else [text])]:
            given |= extract(form, said, to_jst(ctx.now).date())
        return await self.form.start(ctx, form, None, lead=lead, preset={**given, **called_110(called)})

    async def reporter_message(self, ctx: FlowContext, text: str) -> FlowResult | None:
        """A reporter whose intake is still searching writes (this or a new conversation):
        「母が見つかりました」 starts the 別紙8-4 form; an answer to the bot's daily check
        question is attached to that check (⑤イ(キ))."""
        if ctx.conversation.awaiting == FlowName.FORM or FOUND_FORM not in self.forms:
            return None
        if ctx.tenant.id not in self.forms.get(FOUND_FORM).tenants:
            return None  # no missing-person intake in this tenant: nothing to look up (issue 9)
        intake = await missing.active_of_contact(ctx.session, contact_id=ctx.conversation.contact_id)
        if intake is None or intake.status != RequestStatus.OPEN:
            return None
        number = (intake.fields or {}).get("management_no", "")
        if says_found(text):
            return await self.form.start(ctx, self.forms.get(FOUND_FORM), text, preset={"management_no": number, "of": str(intake.id)})
        if not await missing.awaiting_chat_answer(ctx.session, intake):
            return None
        outcome = "refused" if _REFUSE.search(normalized(text)) else "not_found"
        recorded = await missing.record_check(ctx.session, request_id=intake.id, counselor_id=None, outcome=outcome, now=ctx.now, note=text)
        if recorded is None:  # a counselor recorded today's check meanwhile: say only what is true
            return FlowResult(CHECK_NOT_RECORDED.format(**ctx.tenant.facts), [], {"request": str(intake.id), "check": None}, request=RequestView.of(intake))
        reply = CHECK_REFUSED if outcome == "refused" else CHECK_NOT_FOUND
        return FlowResult(reply.format(number=number, **ctx.tenant.facts), [], {"request": str(intake.id), "check": outcome}, request=RequestView.of(intake))
