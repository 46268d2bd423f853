"""Case lifecycle. Every change goes through these functions, is compare-and-set on the
status (two counselors clicking "take over" at once can never both win), stamps its *_at
column and appends a CaseEvent, so the full history of who did what when is kept."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, ConversationMode
from handoff.models import Case, CaseEvent, CaseNote, CaseStatus, Counselor, Route
from handoff.urgency import Urgency

OPEN_STATUSES = (CaseStatus.WAITING, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS, CaseStatus.SCHEDULED)


class CaseConflict(Exception):
    """The case changed under us (someone else took it, or it closed)."""


class CaseInvalid(ValueError):
    """The change is missing what the record needs (an outcome, a closing note)."""


# What a closed case may record as its outcome; there is no default (issue 11).
OUTCOMES = ("解決", "情報提供", "関係機関へ紹介", "継続支援", "緊急対応（119/110）", "連絡がとれない", "その他")


def _event(session: AsyncSession, case_id: uuid.UUID, action: str, *, actor_id=None, at: datetime, **detail) -> None:  # noqa: ANN001
    session.add(CaseEvent(case_id=case_id, actor_id=actor_id, action=action, detail=detail or None, at=at))


async def open_case_of(session: AsyncSession, *, conversation_id: uuid.UUID) -> Case | None:
    """The conversation's case that is still open, if any."""
    return await session.scalar(
        select(Case)
        .where(Case.conversation_id == conversation_id, Case.status.in_(OPEN_STATUSES))
        .order_by(Case.created_at.desc())
        .limit(1)
    )


async def open_case_for(
    session: AsyncSession,
    *,
    conversation: Conversation,
    urgency: Urgency,
    kind: str | None,
    route: Route,
    now: datetime,
    sla: timedelta | None,
    outside_hours: bool,
    subject: str | None = None,
) -> tuple[Case, bool]:
    """The conversation's open case, raised to `urgency` if needed, or a new one. Returns (case, created)."""
    case = await open_case_of(session, conversation_id=conversation.id)
    if case is not None:
        if Urgency(case.urgency).rank < urgency.rank:
            _event(session, case.id, "urgency_raised", at=now, old=case.urgency, new=str(urgency))
            case.urgency = str(urgency)
            case.kind = kind or case.kind
            case.subject = subject or case.subject
            if case.status in UNACCEPTED_STATUSES and case.first_human_contact_at is None and sla is not None:
                case.due_at = min(case.due_at, now + sla) if case.due_at else now + sla
                if case.next_escalation_at is not None:  # escalated already: the next one comes sooner
                    case.next_escalation_at = min(case.next_escalation_at, now + sla)
        return case, False
    case = Case(
        tenant_id=conversation.tenant_id,
        conversation_id=conversation.id,
        urgency=str(urgency),
        kind=kind,
        subject=subject,
        route=route,
        status=CaseStatus.WAITING,
        created_at=now,
        due_at=now + sla if sla is not None else None,
        opened_outside_hours=outside_hours,
        labels=[],
    )
    session.add(case)
    await session.flush()
    _event(session, case.id, "opened", at=now, urgency=str(urgency), route=str(route), kind=kind)
    return case, True


async def _cas(
    session: AsyncSession, case_id: uuid.UUID, expected: tuple[CaseStatus, ...], *extra_where, **values  # noqa: ANN002,ANN003
) -> bool:
    result = await session.execute(
        update(Case).where(Case.id == case_id, Case.status.in_(expected), *extra_where).values(**values)
    )
    return result.rowcount == 1


async def get_case(session: AsyncSession, case_id: uuid.UUID) -> Case:
    case = await session.get(Case, case_id, populate_existing=True)
    if case is None:
        raise LookupError(f"case {case_id} not found")
    return case


async def take_over(session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime) -> Case:
    """A counselor accepts the case and holds the chat: the bot goes silent at once.
    A counselor at their cap of concurrent live chats (set by a supervisor) is refused."""
    cap = await session.scalar(select(Counselor.max_live_chats).where(Counselor.id == counselor_id))
    if cap is not None:
        held = await session.scalar(
            select(func.count()).select_from(Case).where(
                Case.assignee_id == counselor_id, Case.status == CaseStatus.IN_PROGRESS, Case.id != case_id
            )
        )
        if held >= cap:
            raise CaseConflict(f"同時に担当できるチャットは{cap}件までです。ほかの会話を終えてから引き継いでください。")
    won = await _cas(
        session,
        case_id,
        (CaseStatus.WAITING, CaseStatus.ASSIGNED, CaseStatus.SCHEDULED),
        status=CaseStatus.IN_PROGRESS,
        assignee_id=counselor_id,
        in_progress_at=now,
    )
    if not won:
        current = await get_case(session, case_id)
        if current.status == CaseStatus.IN_PROGRESS and current.assignee_id == counselor_id:
            return current  # a double click by the same counselor
        raise CaseConflict("この案件はすでに他の相談員が対応しています。")
    case = await get_case(session, case_id)
    if case.assigned_at is None:
        case.assigned_at = now
    if case.first_human_contact_at is None:
        case.first_human_contact_at = now
    await session.execute(
        update(Conversation).where(Conversation.id == case.conversation_id).values(mode=ConversationMode.HUMAN)
    )
    _event(session, case_id, "taken_over", actor_id=counselor_id, at=now)
    return case


async def assign(
    session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, actor_id: uuid.UUID, now: datetime
) -> Case:
    """Transfer or reassign: a colleague (or a supervisor) hands the case to someone."""
    case = await get_case(session, case_id)
    if case.status == CaseStatus.CLOSED:
        raise CaseConflict("この案件は終了しています。")
    old = case.assignee_id
    case.assignee_id = counselor_id
    if case.status == CaseStatus.WAITING:
        case.status = CaseStatus.ASSIGNED
    case.assigned_at = case.assigned_at or now
    _event(session, case_id, "transferred", actor_id=actor_id, at=now, from_id=str(old) if old else None, to_id=str(counselor_id))
    return case


async def hand_back_to_bot(session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, now: datetime) -> Case:
    """The counselor lets the bot answer again; the case stays open until closed."""
    case = await get_case(session, case_id)
    await session.execute(
        update(Conversation).where(Conversation.id == case.conversation_id).values(mode=ConversationMode.BOT)
    )
    if case.status == CaseStatus.IN_PROGRESS:
        case.status = CaseStatus.ASSIGNED
    _event(session, case_id, "handed_back", actor_id=counselor_id, at=now)
    return case


async def schedule(
    session: AsyncSession,
    *,
    case_id: uuid.UUID,
    counselor_id: uuid.UUID,
    route: Route,
    appointment_at: datetime,
    now: datetime,
) -> Case:
    """A phone callback or face-to-face appointment is booked."""
    if not await _cas(
        session,
        case_id,
        (CaseStatus.WAITING, CaseStatus.ASSIGNED, CaseStatus.IN_PROGRESS),
        status=CaseStatus.SCHEDULED,
        route=route,
        appointment_at=appointment_at,
        scheduled_at=now,
        assignee_id=counselor_id,
    ):
        raise CaseConflict("この案件は予約できない状態です。")
    case = await get_case(session, case_id)
    case.first_human_contact_at = case.first_human_contact_at or now
    _event(session, case_id, "scheduled", actor_id=counselor_id, at=now, route=str(route), appointment_at=appointment_at.isoformat())
    return case


async def close(
    session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, outcome: str, note: str, now: datetime
) -> Case:
    """Close with a chosen outcome; urgent and emergency cases also need a closing note, so
    the record says what was done for someone at risk."""
    if outcome not in OUTCOMES:
        raise CaseInvalid("対応の結果を選んでください。")
    current = await get_case(session, case_id)
    if current.urgency in (Urgency.URGENT, Urgency.EMERGENCY) and not note.strip():
        raise CaseInvalid("緊急・至急の案件は、終了の前に対応の記録を書いてください。")
    if not await _cas(session, case_id, OPEN_STATUSES, status=CaseStatus.CLOSED, closed_at=now, outcome=outcome, closing_note=note):
        raise CaseConflict("この案件はすでに終了しています。")
    case = await get_case(session, case_id)
    # A counselor closing the case is the only way the conversation's risk level comes down.
    await session.execute(
        update(Conversation)
        .where(Conversation.id == case.conversation_id)
        .values(mode=ConversationMode.BOT, urgency="none", awaiting=None)
    )
    _event(session, case_id, "closed", actor_id=counselor_id, at=now, outcome=outcome)
    return case


async def add_note(session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, text: str, now: datetime) -> CaseNote:
    note = CaseNote(case_id=case_id, author_id=counselor_id, text=text, created_at=now)
    session.add(note)
    _event(session, case_id, "note_added", actor_id=counselor_id, at=now)
    await session.flush()
    return note


async def set_labels(session: AsyncSession, *, case_id: uuid.UUID, counselor_id: uuid.UUID, labels: list[str], now: datetime) -> Case:
    case = await get_case(session, case_id)
    case.labels = sorted({label.strip() for label in labels if label.strip()})
    _event(session, case_id, "labels_set", actor_id=counselor_id, at=now, labels=case.labels)
    return case


async def record_contact_details(
    session: AsyncSession,
    *,
    case: Case,
    now: datetime,
    route: Route | None = None,
    phone: str | None = None,
    email: str | None = None,
    preferred_time: str | None = None,
) -> None:
    """Details the resident gave the bot for a callback, an appointment or an e-mail reply."""
    if route is not None and route != case.route:
        case.route = route
    if phone:
        case.contact_phone = phone
    if email:
        case.contact_email = email
    if preferred_time:
        case.preferred_time = preferred_time[:200]
    _event(session, case.id, "details_given", at=now, route=str(case.route), phone=bool(phone), email=bool(email))


# A case is under the SLA until a person accepts it: waiting, or assigned / transferred to
# someone who has not yet talked to the resident (issue 12).
UNACCEPTED_STATUSES = (CaseStatus.WAITING, CaseStatus.ASSIGNED)


def unaccepted_clause():  # noqa: ANN201
    return and_(Case.status.in_(UNACCEPTED_STATUSES), Case.first_human_contact_at.is_(None))


async def claim_escalation(
    session: AsyncSession, *, case_id: uuid.UUID, seen_level: int, now: datetime, next_at: datetime
) -> bool:
    """Compare-and-set on the escalation level: each level is claimed once, however often
    the timer fires, and only while the case is still unaccepted and due."""
    result = await session.execute(
        update(Case)
        .where(
            Case.id == case_id,
            unaccepted_clause(),
            Case.escalation_level == seen_level,
            Case.due_at <= now,
            or_(Case.next_escalation_at.is_(None), Case.next_escalation_at <= now),
        )
        .values(
            escalation_level=seen_level + 1,
            escalated_at=func.coalesce(Case.escalated_at, now),
            next_escalation_at=next_at,
        )
    )
    won = result.rowcount == 1
    if won:
        _event(session, case_id, "escalated", at=now, level=seen_level + 1)
    return won


async def record_event(session: AsyncSession, *, case_id: uuid.UUID, action: str, now: datetime, actor_id=None, **detail) -> None:  # noqa: ANN001,ANN003
    _event(session, case_id, action, actor_id=actor_id, at=now, **detail)


async def notes_for(session: AsyncSession, case_id: uuid.UUID) -> list[CaseNote]:
    return list(await session.scalars(select(CaseNote).where(CaseNote.case_id == case_id).order_by(CaseNote.id)))


async def events_for(session: AsyncSession, case_id: uuid.UUID) -> list[CaseEvent]:
    return list(await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)))
