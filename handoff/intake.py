"""What happens the moment triage flags a message: open (or raise) the case, and tell the
resident honestly what comes next. Also the short follow-up exchange in which the resident
chooses a route and leaves a callback number or an e-mail address.

Kashiwa 002 §7(1): urgent cases caught by the digital channel are connected to
face-to-face, phone or e-mail support. Setagaya 003 §1(2)②キ/③ケ: emergencies are reported
at once; ⑤: a missing person — ask whether 110 has been called, then the intake starts.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation
from frontdoor.tenants import Tenant
from handoff import cases as case_service
from handoff import queues
from handoff.contacts import Contacts
from handoff.missing.police import police_called
from handoff.models import Case, Route
from handoff.replies import first_reply, route_buttons, situation_for
from handoff.triage import Assessment
from handoff.urgency import Urgency

PHONE_RE = re.compile(r"0\d{1,4}[-(（ ]?\d{1,4}[-)） ]?\d{3,4}")
EMAIL_RE = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")

AWAIT_PHONE = "callback_phone"
AWAIT_APPOINTMENT = "appointment"
AWAIT_EMAIL = "email_address"
AWAIT_MISSING_110 = "missing_110"
AWAIT_FIRST_ANSWER = "first_answer"


# What the bot asks for once the resident picks how to be reached, and what it then waits for.
ROUTE_PROMPTS = {
    Route.PHONE: (AWAIT_PHONE, "お電話でご連絡します。\nお電話番号と、つながりやすい時間帯を教えてください。\n（例：090-1234-5678　平日の午後）"),
    Route.FACE_TO_FACE: (AWAIT_APPOINTMENT, "面談のご予約をお受けします。\nご希望の日にちと時間帯、ご連絡先のお電話番号を教えてください。"),
    Route.EMAIL: (AWAIT_EMAIL, "メールでお返事します。\n返信先のメールアドレスを教えてください。"),
}


@dataclass
class HandoffTurn:
    text: str
    buttons: list[tuple[str, str]] = field(default_factory=list)  # (action id, label)
    case: Case | None = None
    route: Route | None = None


@dataclass(frozen=True)
class HandoffPolicy:
    sla_emergency: timedelta
    sla_urgent: timedelta


def _night_line(tenant: Tenant) -> str:
    """The tenant's 24-hour phone line, from its settings (Kashiwa's night line, Setagaya's 安心コール)."""
    return tenant.facts.get("night_line_phone") or tenant.facts.get("anshin_call_phone") or ""


def _on_call_texts(tenant: Tenant, now: datetime) -> tuple[str, str]:
    next_open = tenant.staffed_hours.next_opening_text(now)
    night = _night_line(tenant)
    on_call = "いまは窓口の時間外です。夜間・休日は当番の相談員が対応します。"
    if night:
        on_call += f"24時間の相談電話（{night}）もご利用いただけます。"
    return f"{next_open}以降に、担当の相談員からご連絡します。", on_call


# Setagaya 別紙6 1-1 has no urgency column: flagged calls count as 相談, medical ones as 医療・介護.
SETAGAYA_FLAGGED_CATEGORY = {"medical": "医療・介護", "overdose": "医療・介護"}


def report_category(tenant: Tenant, assessment: Assessment) -> str:
    """The report category of a conversation that opened with a flagged message."""
    if tenant.report_layout == "setagaya_besshi6":
        return SETAGAYA_FLAGGED_CATEGORY.get(assessment.kind or "", "相談")
    return assessment.report_category


def flagged_reply(
    assessment: Assessment, *, tenant: Tenant, contacts: Contacts, now: datetime
) -> tuple[str, list[tuple[str, str]]]:
    """The reply to an urgent or emergency message, and its buttons (handoff/replies.py)."""
    return first_reply(assessment, tenant=tenant, contacts=contacts, now=now)


async def on_flagged(
    session: AsyncSession,
    *,
    conversation: Conversation,
    assessment: Assessment,
    tenant: Tenant,
    contacts: Contacts,
    policy: HandoffPolicy,
    now: datetime,
    reply: tuple[str, list[tuple[str, str]]] | None = None,
) -> HandoffTurn:
    """An urgent or emergency message: a case, and the reply the resident gets at once
    (`reply` when the decider already composed it)."""
    level = assessment.level
    sla = policy.sla_emergency if level == Urgency.EMERGENCY else policy.sla_urgent
    case, _created = await case_service.open_case_for(
        session,
        conversation=conversation,
        urgency=level,
        kind=assessment.kind,
        subject=assessment.subject,
        route=Route.CHAT,
        now=now,
        sla=sla,
        outside_hours=not tenant.is_staffed(now),
    )
    text, buttons = reply or flagged_reply(assessment, tenant=tenant, contacts=contacts, now=now)
    if level == Urgency.EMERGENCY and assessment.missing_person:
        conversation.awaiting = AWAIT_MISSING_110
    elif situation_for(assessment).question:
        # Its answer (「いきは してる」) is for the counselor, not a question for the knowledge base.
        conversation.awaiting = AWAIT_FIRST_ANSWER
    return HandoffTurn(text, buttons, case, Route.CHAT if level == Urgency.EMERGENCY else None)


async def on_person_requested(
    session: AsyncSession, *, conversation: Conversation, tenant: Tenant, now: datetime, lead: str | None
) -> HandoffTurn:
    """A resident asks for a person: a request case (no urgency) and the four ways to be reached."""
    case, _ = await case_service.open_case_for(
        session,
        conversation=conversation,
        urgency=Urgency.NONE,
        kind="request",
        route=Route.CHAT,
        now=now,
        sla=None,
        outside_hours=not tenant.is_staffed(now),
    )
    return offer_routes(tenant, case, lead=lead)


def offer_routes(tenant: Tenant, case: Case, *, lead: str | None = None) -> HandoffTurn:
    """The ways to be reached, as buttons. Also for a resident whose case is already open (a
    flagged message) and who asks for a person again: the reply must show the choices it names."""
    text = (lead or "相談員におつなぎできます。") + "\nご希望の方法を選んでください。"
    return HandoffTurn(text, route_buttons(tenant), case, Route(case.route) if case.route else Route.CHAT)


async def on_route_chosen(
    session: AsyncSession, *, conversation: Conversation, case: Case, route: Route, tenant: Tenant, now: datetime
) -> HandoffTurn:
    if route == Route.CHAT:
        await case_service.record_contact_details(session, case=case, now=now, route=Route.CHAT)
        place = await queues.position(session, case=case)
        wait = await queues.expected_wait(session, case=case, now=now, place=place)
        text = f"相談員におつなぎします。いま{place}番目です。{wait.text()}\nこのままお待ちください。メッセージを続けて送っていただいても大丈夫です。"
        if not tenant.is_staffed(now):
            text += "\n" + _on_call_texts(tenant, now)[1]
        return HandoffTurn(text, [], case, route)
    awaiting, prompt = ROUTE_PROMPTS[route]
    conversation.awaiting = awaiting
    await case_service.record_contact_details(session, case=case, now=now, route=route)
    return HandoffTurn(prompt, [], case, route)


_DASHES = str.maketrans({c: "-" for c in "−‐‑‒–—―ーｰ"})


def _normalized(text: str) -> str:
    """NFKC plus every dash residents type between digits (０９０−１１１１…) as '-'."""
    return unicodedata.normalize("NFKC", text).translate(_DASHES)


def _find(pattern: re.Pattern[str], text: str) -> str | None:
    found = pattern.search(_normalized(text))
    return found.group(0) if found else None


async def on_awaited_reply(
    session: AsyncSession,
    *,
    conversation: Conversation,
    case: Case,
    text: str,
    tenant: Tenant,
    now: datetime,
    earlier: Sequence[str] = (),
) -> HandoffTurn:
    """The resident answers what the bot asked for. The reply confirms only what was recorded.
    `earlier`: the resident's messages before this answer (the police may be named there)."""
    awaiting = conversation.awaiting
    staffed = tenant.is_staffed(now)
    when = "担当の相談員から、できるだけ早くご連絡します。" if staffed else _on_call_texts(tenant, now)[0]
    if awaiting == AWAIT_MISSING_110:
        said = police_called(text)
        called = said if said is not None else any(police_called(t) for t in earlier)
        conversation.awaiting = None
        await case_service.record_contact_details(session, case=case, now=now, preferred_time=None)
        case.labels = sorted(set(case.labels or []) | {"110連絡済" if called else "110未連絡"})
        if called:
            return HandoffTurn("ありがとうございます。相談員が詳しいお話をうかがいます。このままお待ちください。", [], case, Route.CHAT)
        return HandoffTurn(
            "すぐに110番（警察）へ連絡してください。行方不明の届け出は警察が受け付けます。\n"
            "そのあと、このチャットで相談員が詳しいお話をうかがいます。",
            [],
            case,
            Route.CHAT,
        )
    if awaiting == AWAIT_EMAIL:
        email = _find(EMAIL_RE, text)
        if not email:
            return HandoffTurn("メールアドレスが読み取れませんでした。もう一度、例のように送ってください。（例：taro@example.jp）", [], case, Route.EMAIL)
        conversation.awaiting = None
        await case_service.record_contact_details(session, case=case, now=now, email=email)
        return HandoffTurn(f"メールアドレスを受け付けました。{when}", [], case, Route.EMAIL)
    phone = _find(PHONE_RE, text)
    if not phone:
        return HandoffTurn("お電話番号が読み取れませんでした。数字で、もう一度送ってください。（例：090-1234-5678）", [], case, case.route)
    conversation.awaiting = None
    preferred = re.sub(r"^(?:です|になります)[。、,\s]*", "", _normalized(text).replace(phone, "").strip(" 　、,。")).strip() or None
    await case_service.record_contact_details(session, case=case, now=now, phone=phone, preferred_time=preferred)
    # The resident's own times are read back as recorded (「夜9時以降なら出られます」), and at night
    # the 24-hour line is named for what cannot wait until the callback.
    said = f"\nご都合「{preferred[:40]}」も、担当の相談員に伝えます。" if preferred else ""
    night = _night_line(tenant)
    urgent_now = f"\n急ぐときは、24時間の相談電話（{night}）へおかけください。" if not staffed and night else ""
    if awaiting == AWAIT_APPOINTMENT:
        return HandoffTurn(f"面談のご希望を受け付けました。日時が決まりましたら、お電話でお知らせします。{when}{said}{urgent_now}", [], case, Route.FACE_TO_FACE)
    return HandoffTurn(f"お電話のご希望を受け付けました。{when}{said}{urgent_now}", [], case, Route.PHONE)
