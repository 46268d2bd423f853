"""The one generic form flow (issue 13): recognise the request, collect the missing fields one
short question at a time, read the whole request back, take はい／なおす, then record it.

State lives in the draft `request` row (its `step`: a field name, "confirm" or "fix"), so a
conversation can continue on another worker, after a restart, or the next morning."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Protocol

from bot import conversations as conv_service
from bot.decide import TALK_TO_HUMAN_BUTTON
from bot.flows.actions import Action, ActionKind, FormVerb
from bot.flows.base import FlowContext, FlowName, FlowResult
from frontdoor.clock import to_jst
from handoff.requests import service as request_service
from handoff.requests.forms import FormDefinition, FormField, Forms
from handoff.requests.models import Request, RequestStatus
from handoff.requests.service import RequestView
from handoff.requests.values import display, extract, normalized, parse_answer, show_day
from knowledge.condolences import load_condolences

CONFIRM, FIX = "confirm", "fix"
YES_WORDS = ("はい", "はいそうです", "はいおねがいします", "それでおねがいします", "それでお願いします", "おねがいします", "お願いします", "大丈夫です", "だいじょうぶです", "あってます", "合ってます", "ok", "うん", "ええ", "それで")
FIX_WORDS = ("なおす", "直す", "なおします", "直します", "なおしたい", "直したい", "訂正", "修正", "ちがう", "違う", "ちがいます", "違います", "まちがい", "間違い", "いいえ")
STOP_WORDS = ("やめる", "やめます", "やめたい", "キャンセル", "とりけし", "取り消し", "中止", "もういい", "もういいです", "やっぱりいい", "やっぱりいいです")


class RecordHook(Protocol):
    """A domain workflow behind a form (`on_record`): the status and deadline a request is
    recorded with, and what happens once it is (e.g. the missing-person timers)."""

    def plan(self, ctx: FlowContext, draft: Request) -> tuple[RequestStatus, datetime | None]: ...

    async def recorded(self, ctx: FlowContext, request: Request) -> None: ...

    def told_again(self, text: str) -> dict[str, str]:
        """Fields whose answer this text gives again, in the workflow's own reading (「けいさつには
        もう でんわしました」 while her name is asked): the form's `noted` reply is said to it."""
        ...


FREE_TEXT = frozenset({"text", "address"})  # field types that would take any words as the answer


def _plain(text: str) -> str:
    return re.sub(r"[\s　。、,.!！?？]", "", normalized(text)).lower()


def _says(text: str, words: tuple[str, ...]) -> bool:
    plain = _plain(text)
    return any(w in plain and len(plain) <= len(w) + 6 for w in words)


# Unreadable answers to one question in a row before the question comes with a way out.
STUCK_AFTER = 2


def due_text(due: datetime) -> str:
    local = to_jst(due)
    return f"{show_day(local.date())}{local.hour}時{f'{local.minute}分' if local.minute else ''}"


def _today(ctx: FlowContext):  # noqa: ANN202
    return to_jst(ctx.now).date()


def _closed(draft: Request) -> bool:
    return bool(draft.outside_hours)


def _next_step(form: FormDefinition, fields: dict[str, str], closed: bool) -> str:
    for f in form.fields:
        if f.name not in fields and form.asked(f, fields, closed=closed):
            return f.name
    return CONFIRM


STOP_BUTTON = ("form:stop", "やめる")


def _question(form: FormDefinition, step: str, fields: dict[str, str], *, closed: bool, lead: str = "") -> tuple[str, list[tuple[str, str]]]:
    shown = [f for f in form.fields if form.asked(f, fields, closed=closed)]
    if step == CONFIRM:
        lines = [f"・{f.label}：{display(f, fields.get(f.name))}" for f in shown]
        text = "\n".join(p for p in (lead, form.texts.confirm, *lines) if p)
        return text, [("form:yes", "はい"), ("form:fix", "なおす"), STOP_BUTTON]
    if step == FIX:
        text = "\n".join(p for p in (lead, "どこをなおしますか。") if p)
        return text, [(f"form:fix:{f.name}", f.label) for f in shown]
    f = form.field(step)
    buttons = [("form:choose", o) for o in f.options] if f.type in ("choice", "consent") and f.options else []
    if f.type == "consent":
        buttons = [("form:choose", "はい"), ("form:choose", "いいえ")]
    if not f.required:
        buttons.append(("form:skip", "なし"))
    return "\n".join(p for p in (lead, f.ask) if p), [*buttons, STOP_BUTTON]


# An unreadable answer to a question that lists its options itself: the question comes again
# right below, so the hint does not list them a second time (issue 14 §3: short replies, the
# options once). 「ごごに してほしい」 got the four time slots twice, then as buttons.
CHOOSE_AGAIN = "すみません、お答えが読み取れませんでした。"


def _hint(form_field: FormField, error: str) -> str:
    if form_field.type in ("choice", "choices") and all(option in form_field.ask for option in form_field.options):
        return CHOOSE_AGAIN
    return error


class FormFlow:
    """Steps of one form; `forms` is the validated content (handoff/requests/forms/)."""

    def __init__(self, forms: Forms, hooks: dict[str, RecordHook] | None = None, *, courtesy: Callable[[str], bool] = lambda _: False):
        self.forms = forms
        self.hooks = hooks or {}
        self.courtesy = courtesy  # a thank-you or an acknowledgement only (the triage rules' courtesies)
        for form in forms.all():
            if form.on_record and form.on_record not in self.hooks:
                raise ValueError(f"{form.kind}: no workflow named {form.on_record!r}")

    def offered(self, ctx: FlowContext, topic: str | None) -> list[FormDefinition]:
        return self.forms.for_topic(ctx.tenant.id, topic)

    def likeliest(self, ctx: FlowContext, topic: str | None, text: str) -> FormDefinition | None:
        return self.forms.likeliest(ctx.tenant.id, topic, text)

    async def record_now(self, ctx: FlowContext, form: FormDefinition, text: str, *, urgent: bool) -> FlowResult | None:
        """A form recorded from the message itself (a complaint), once per conversation; the
        conversation goes on with whatever else the resident wants."""
        if await request_service.recorded_in(ctx.session, conversation_id=ctx.conversation.id, kind=form.kind):
            return None
        fields = {form.fields[0].name: text[:2000], "method": "チャット"}
        if urgent:
            fields["urgent"] = "緊急：報告書の前に区（市）へ電話で連絡"  # Setagaya 003 ⑥オ
        request = await request_service.start(
            ctx.session, tenant_id=ctx.tenant.id, conversation_id=ctx.conversation.id, kind=form.kind, fields=fields,
            step=None, now=ctx.now, outside_hours=not ctx.tenant.ward_office_hours.is_open(ctx.now),
        )
        await request_service.record(ctx.session, request=request, form=form, tenant=ctx.tenant, now=ctx.now)
        text_ = form.texts.recorded.format(due=due_text(request.due_at), number=request.number or "", **ctx.tenant.facts)
        return self._result(request, text_, [], form, outcome="recorded")

    async def promised_call(self, ctx: FlowContext) -> str | None:
        """What a thank-you is told while a request recorded outside hours waits for its call:
        the call it was promised (the form's `waiting` text, with its due time), or None."""
        request = await request_service.callback_of(ctx.session, conversation_id=ctx.conversation.id)
        if request is None or request.due_at is None or request.kind not in self.forms:
            return None
        waiting = self.forms.get(request.kind).texts.waiting
        return waiting.format(due=due_text(request.due_at), **ctx.tenant.facts) if waiting else None

    def details_given(self, form: FormDefinition, text: str, ctx: FlowContext) -> int:
        """How many of the form's fields the message already gives."""
        return len(extract(form, text, _today(ctx)))

    async def start(
        self, ctx: FlowContext, form: FormDefinition, text: str | None, *, lead: str = "", preset: dict[str, str] | None = None
    ) -> FlowResult:
        """A new draft with every field this message already gives (and `preset`, what the
        conversation already knows); ask for the first missing one. Outside office hours a
        form with `closed_fields` asks only those."""
        await self.stop_any(ctx, why="replaced")
        closed = not ctx.tenant.ward_office_hours.is_open(ctx.now)
        found = {**(extract(form, text, _today(ctx)) if text else {}), **(preset or {})}
        fields = {k: v for k, v in found.items() if k in (preset or {}) or form.asked(form.field(k), found)}
        step = _next_step(form, fields, closed)
        start = form.texts.start_closed if closed and form.texts.start_closed else form.texts.start
        if text and load_condolences().reports_a_death(text):
            start = f"{load_condolences().text}\n{start}"
        request = await request_service.start(
            ctx.session, tenant_id=ctx.tenant.id, conversation_id=ctx.conversation.id, kind=form.kind, fields=fields,
            step=step, now=ctx.now, outside_hours=closed,
        )
        ctx.conversation.awaiting = str(FlowName.FORM)
        text_, buttons = _question(form, step, fields, closed=closed, lead="\n\n".join(p for p in (lead, start) if p))
        return self._result(request, text_, buttons, form)

    async def stop_any(self, ctx: FlowContext, *, why: str) -> None:
        """Triage took over, or another flow starts: a draft is kept as incomplete for staff."""
        draft = await request_service.draft_of(ctx.session, conversation_id=ctx.conversation.id)
        if draft is not None:
            await request_service.give_up(ctx.session, request=draft, now=ctx.now, why=why)
        if ctx.conversation.awaiting == FlowName.FORM:
            ctx.conversation.awaiting = None

    def _result(self, request: Request, text: str, buttons: list[tuple[str, str]], form: FormDefinition, **meta: str) -> FlowResult:
        return FlowResult(
            text, buttons, {"request": str(request.id), "form": form.kind, "step": request.step, **meta},
            request=RequestView.of(request), topic=form.topics[0] if form.topics else None,
        )

    async def step(self, ctx: FlowContext, action: Action, text: str) -> FlowResult | None:
        draft = await request_service.draft_of(ctx.session, conversation_id=ctx.conversation.id)
        if draft is None or draft.kind not in self.forms:
            ctx.conversation.awaiting = None
            return None
        form = self.forms.get(draft.kind)
        fields = dict(draft.fields or {})
        step = draft.step or _next_step(form, fields, _closed(draft))
        typed = action.kind == ActionKind.TEXT or action.is_form(FormVerb.CHOOSE)  # a choice button's label is the answer
        if action.is_form(FormVerb.STOP) or (typed and _says(text, STOP_WORDS)):
            await request_service.give_up(ctx.session, request=draft, now=ctx.now, why="resident")
            ctx.conversation.awaiting = None
            return self._result(draft, form.texts.stopped, [], form, outcome="stopped")
        if step == CONFIRM and (action.is_form(FormVerb.YES) or (typed and _says(text, YES_WORDS))):
            return await self._record(ctx, draft, form)
        if action.is_form(FormVerb.FIX) and action.arg in {f.name for f in form.fields}:
            return await self._ask(ctx, draft, form, {}, action.arg)
        if action.is_form(FormVerb.FIX) or (typed and step in (CONFIRM, FIX) and _says(text, FIX_WORDS)):
            return await self._ask(ctx, draft, form, {}, FIX)
        if step in (CONFIRM, FIX):
            # 「電話番号は03-…です」 at the read-back: take the corrected fields and read back again.
            found = self._fix_by_label(form, text, ctx) or extract(form, text, _today(ctx)) if typed else {}
            if found:
                return await self._ask(ctx, draft, form, found, CONFIRM)
            hint = "「はい」か「なおす」でお答えください。" if step == CONFIRM else "なおす項目を選んでください。"
            return await self._ask(ctx, draft, form, {}, step, lead=hint)
        return await self._answer(ctx, draft, form, fields, step, action, text)

    def _fix_by_label(self, form: FormDefinition, text: str, ctx: FlowContext) -> dict[str, str]:
        """「名前がちがう、山田花子です」: a label named with its new value."""
        for f in form.fields:
            if f.label.removeprefix("お") in text:
                rest = text.split(f.label.removeprefix("お"), 1)[1]
                rest = re.sub(r"^\s*(?:は|が|を)?\s*(?:ちがいます|違います|まちがいです|間違いです|ちがう|違う)?[、。\s]*", "", rest)
                parsed = parse_answer(f, rest, _today(ctx)) if rest else None
                if parsed and parsed.value:
                    return {f.name: parsed.value}
        return {}

    async def _answer(self, ctx: FlowContext, draft: Request, form: FormDefinition, fields: dict[str, str], step: str, action: Action, text: str) -> FlowResult:
        form_field = form.field(step)
        if action.is_form(FormVerb.SKIP) and not form_field.required:
            return await self._ask(ctx, draft, form, {step: ""}, None)
        parsed = parse_answer(form_field, text, _today(ctx))
        if action.kind == ActionKind.TEXT and (parsed.error or form_field.type in FREE_TEXT) and self.courtesy(text):
            # 「ありがとうございます」 between two questions is not the answer: not ご関係, not an
            # unreadable date. The question again, without an error.
            return await self._ask(ctx, draft, form, {}, step)
        if parsed.declined:
            if form_field.refusal:
                await request_service.refuse(ctx.session, request=draft, now=ctx.now, field=step)
                ctx.conversation.awaiting = None
                return self._result(draft, form_field.refusal, [], form, outcome="refused")
            return await self._ask(ctx, draft, form, {}, step, lead=f"{form_field.label}がないと受け付けられません。")
        # Whatever else the answer gives fills the other missing fields (asked nothing twice).
        others = {
            k: v for k, v in extract(form, text, _today(ctx)).items()
            if k not in fields and k != step and form.field(k).type != form_field.type and form.asked(form.field(k), {**fields, step: parsed.value or ""})
        }
        told, heard = self._told_again(form, fields, step, text)
        moved = next((target for given, target in form_field.answer_of.items() if given in others and target not in fields), None)
        if moved and parsed.value:
            # The answer is someone else's (form_field.answer_of): kept as theirs, and this
            # question asked again.
            lead = f"{form.field(moved).label}を「{parsed.value}」と受け取りました。"
            return await self._ask(ctx, draft, form, {**others, **told, moved: parsed.value}, step, lead=lead)
        if parsed.error:
            return await self._unreadable(ctx, draft, form, {**others, **told}, step, lead=heard or _hint(form_field, parsed.error))
        found = {**others, **told, step: parsed.value or ""}
        for f in form.fields:
            source = found.get(f.copy_kana_from or "")
            if f.copy_kana_from and f.name not in fields and f.name not in found and source and parse_answer(f, source, _today(ctx)).value:
                found[f.name] = parse_answer(f, source, _today(ctx)).value or ""
        return await self._ask(ctx, draft, form, found, None, lead=heard)

    async def _unreadable(self, ctx: FlowContext, draft: Request, form: FormDefinition, found: dict[str, str], step: str, *, lead: str) -> FlowResult:
        """The question again with what was wrong; from the STUCK_AFTER-th unreadable answer in
        a row, also a way out (a person, and who answers now): an elder who cannot get the date
        into a shape the form reads is not asked the same thing forever."""
        last = await conv_service.last_bot_meta(ctx.session, conversation_id=ctx.conversation.id)  # this turn's reply is not stored yet
        misses = (int(last.get("misses", 0)) if last.get("step") == step else 0) + 1
        stuck = misses >= STUCK_AFTER
        if stuck:
            lead = f"{lead}\n{form.texts.stuck.format(hours=ctx.tenant.handoff_hours_text(ctx.now))}"
        result = await self._ask(ctx, draft, form, found, step, lead=lead)
        result.meta["misses"] = misses
        if stuck:
            result.buttons.append(TALK_TO_HUMAN_BUTTON)
        return result

    def _told_again(self, form: FormDefinition, fields: dict[str, str], step: str, text: str) -> tuple[dict[str, str], str]:
        """Answered fields with a `noted` reply that this answer speaks of again: their newest
        value, and what the bot says to it."""
        hook = self.hooks.get(form.on_record or "")
        again = hook.told_again(text) if hook else {}
        told = {k: v for k, v in again.items() if k in fields and k != step and v in form.field(k).noted}
        return told, "".join(form.field(k).noted[v] for k, v in told.items())

    async def _ask(self, ctx: FlowContext, draft: Request, form: FormDefinition, found: dict[str, str], step: str | None, *, lead: str = "") -> FlowResult:
        fields = {**(draft.fields or {}), **found}
        step = step or _next_step(form, fields, _closed(draft))
        await request_service.update_draft(ctx.session, request=draft, fields=found, step=step, now=ctx.now)
        text, buttons = _question(form, step, fields, closed=_closed(draft), lead=lead)
        return self._result(draft, text, buttons, form)

    async def _record(self, ctx: FlowContext, draft: Request, form: FormDefinition) -> FlowResult:
        hook = self.hooks.get(form.on_record or "")
        status, due = hook.plan(ctx, draft) if hook else (RequestStatus.OPEN, None)
        recorded = await request_service.record(ctx.session, request=draft, form=form, tenant=ctx.tenant, now=ctx.now, status=status, due=due)
        ctx.conversation.awaiting = None
        if not recorded:  # recorded (or given up) by a concurrent turn: claim nothing new
            return self._result(draft, "このご連絡は、すでに受け付けています。", [], form)
        if hook:
            await hook.recorded(ctx, draft)
        closed = not ctx.tenant.ward_office_hours.is_open(ctx.now)
        variant = form.variant(draft.fields or {})
        template = form.texts.recorded_closed if closed and form.texts.recorded_closed else form.texts.recorded
        if form.texts.recorded_late and draft.due_at is not None and draft.due_at <= ctx.now:
            template = form.texts.recorded_late
        template = variant.recorded if variant and variant.recorded else template
        number = (draft.fields or {}).get(form.number_field or "") or draft.number or ""
        text = template.format(due=due_text(draft.due_at), number=number, **ctx.tenant.facts)
        return self._result(draft, text, [], form, outcome="recorded")
