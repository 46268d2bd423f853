"""Retention and erasure (issue 11; Setagaya 別紙1-1 §29, Kashiwa 002 §9(7)).

Each tenant file sets how long conversations, messages, cases, requests and the audit log
are kept. Past that, personal data is erased — message text blanked and the rows kept only
for the counts the monthly reports need, contact details and notes removed, audit rows
deleted — and every erasure writes an ErasureRecord (日時、担当者、対象、件数、処理内容)
that a supervisor downloads for the report to the ward. Running twice erases nothing twice.
Reports already generated hold no personal text and are not touched."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, Message, ResidentContact
from frontdoor.clock import to_jst
from frontdoor.tenants import Tenant
from handoff.models import AuditLog, AuditPurgePermit, Case, CaseNote
from handoff.requests.forms import load_forms
from handoff.requests.models import Request, RequestEvent
from knowledge.gaps import KnowledgeGap
from workers.models import ErasureRecord

TARGET_JA = {"conversations": "会話", "messages": "メッセージ", "cases": "案件", "requests": "申請", "audit": "監査ログ"}
ACTION_JA = {
    "messages": "本文を消去（件数のための行のみ保持）",
    "conversations": "相談者の連絡先（チャネルの識別子）を消去（集計のための行のみ保持）",
    "cases": "連絡先・希望時間・メモ・終了記録・ラベルを消去（緊急度・方法・時刻は報告のため保持）",
    "requests": "申し出の氏名・連絡先・住所・日付・自由記述を消去（種類・選択肢・状態は報告のため保持）",
    "audit": "監査ログの行を削除",
}
# Form answers that are categories, not personal data: kept so past reports (別紙6 2-3 by
# type of help, 4-2) still add up after erasure.
KEPT_FIELD_TYPES = ("choice", "choices", "consent")
ERASED_PSEUDONYM = "erased:"


@dataclass(frozen=True)
class Cutoffs:
    """Everything older than these moments is erased; None leaves that kind alone."""

    conversations: datetime | None = None
    messages: datetime | None = None
    cases: datetime | None = None
    requests: datetime | None = None
    audit: datetime | None = None

    @classmethod
    def for_tenant(cls, tenant: Tenant, *, now: datetime) -> Cutoffs:
        r = tenant.retention
        return cls(**{name: now - timedelta(days=getattr(r, name)) for name in TARGET_JA})

    @classmethod
    def everything_before(cls, moment: datetime) -> Cutoffs:
        """The end of a contract: every kind, one date (`frontdoor erase`)."""
        return cls(**{name: moment for name in TARGET_JA})


def _conversations_of(tenant_id: str):  # noqa: ANN202
    return select(Conversation.id).where(Conversation.tenant_id == tenant_id)


async def _erase_messages(session: AsyncSession, tenant_id: str, before: datetime) -> int:
    scope = (Message.conversation_id.in_(_conversations_of(tenant_id)), Message.created_at < before)
    old_messages = select(Message.id).where(*scope)
    # The knowledge-gap log points at the message and keeps a (masked) copy of the question.
    await session.execute(delete(KnowledgeGap).where(KnowledgeGap.tenant_id == tenant_id, KnowledgeGap.message_id.in_(old_messages)))
    result = await session.execute(update(Message).where(*scope, Message.text != "").values(text=""))
    return result.rowcount or 0


async def _erase_contacts(session: AsyncSession, tenant_id: str, before: datetime) -> int:
    """A resident's channel identity goes once every conversation of theirs is past the period."""
    newer = exists().where(Conversation.contact_id == ResidentContact.id, Conversation.started_at >= before)
    mine = exists().where(Conversation.contact_id == ResidentContact.id, Conversation.tenant_id == tenant_id)
    ids = list(
        await session.scalars(
            select(ResidentContact.id).where(mine, ~newer, ~ResidentContact.pseudonym.startswith(ERASED_PSEUDONYM))
        )
    )
    for contact_id in ids:
        await session.execute(
            update(ResidentContact)
            .where(ResidentContact.id == contact_id)
            .values(pseudonym=f"{ERASED_PSEUDONYM}{contact_id.hex}", address=None)
        )
    return len(ids)


async def _erase_cases(session: AsyncSession, tenant_id: str, before: datetime) -> int:
    scope = (Case.tenant_id == tenant_id, Case.created_at < before)
    has_notes = exists().where(CaseNote.case_id == Case.id)
    personal = or_(
        Case.contact_phone.is_not(None), Case.contact_email.is_not(None), Case.preferred_time.is_not(None),
        Case.closing_note.is_not(None), has_notes,
    )
    ids = list(await session.scalars(select(Case.id).where(*scope, personal)))
    if ids:
        await session.execute(delete(CaseNote).where(CaseNote.case_id.in_(ids)))
        await session.execute(
            update(Case).where(Case.id.in_(ids)).values(contact_phone=None, contact_email=None, preferred_time=None, closing_note=None, labels=[])
        )
    return len(ids)


async def _erase_requests(session: AsyncSession, tenant_id: str, before: datetime) -> int:
    """Requests taken in chat keep their kind, status and category answers; names, phones,
    addresses, dates and free text go, and so do the field values copied into their events."""
    forms = load_forms()
    changed = []
    for request in await session.scalars(select(Request).where(Request.tenant_id == tenant_id, Request.created_at < before)):
        form = forms.get(request.kind) if request.kind in forms else None
        kept = {
            name: value
            for name, value in (request.fields or {}).items()
            if form is not None and name in {f.name for f in form.fields if f.type in KEPT_FIELD_TYPES}
        }
        if kept != (request.fields or {}):
            request.fields = kept
            changed.append(request.id)
    if changed:
        await session.execute(update(RequestEvent).where(RequestEvent.request_id.in_(changed)).values(detail=None))
    return len(changed)


async def _erase_audit(session: AsyncSession, tenant_id: str, before: datetime) -> int:
    """The only delete the append-only triggers allow: under a permit, in this transaction."""
    permit = AuditPurgePermit(tenant_id=tenant_id, before=before)
    session.add(permit)
    await session.flush()
    result = await session.execute(delete(AuditLog).where(AuditLog.tenant_id == tenant_id, AuditLog.at < before))
    await session.delete(permit)
    await session.flush()
    return result.rowcount or 0


async def erase(session: AsyncSession, *, tenant_id: str, cutoffs: Cutoffs, actor: str, now: datetime) -> list[ErasureRecord]:
    """Erase what is past each cut-off and record it; commits once, so a failure erases nothing."""
    steps = (
        ("messages", cutoffs.messages, _erase_messages),
        ("conversations", cutoffs.conversations, _erase_contacts),
        ("cases", cutoffs.cases, _erase_cases),
        ("requests", cutoffs.requests, _erase_requests),
        ("audit", cutoffs.audit, _erase_audit),
    )
    made = []
    for target, before, step in steps:
        if before is None:
            continue
        count = await step(session, tenant_id, before)
        if count:
            record = ErasureRecord(tenant_id=tenant_id, at=now, actor=actor, target=target, count=count, action=ACTION_JA[target], before=before)
            session.add(record)
            made.append(record)
    await session.commit()
    return made


async def erase_expired(session: AsyncSession, *, tenants: list[Tenant], now: datetime) -> list[ErasureRecord]:
    """The daily job: every tenant's own periods; the actor is `system`."""
    made = []
    for tenant in tenants:
        made += await erase(session, tenant_id=tenant.id, cutoffs=Cutoffs.for_tenant(tenant, now=now), actor="system", now=now)
    return made


async def records(session: AsyncSession, *, tenant_id: str) -> list[ErasureRecord]:
    return list(await session.scalars(select(ErasureRecord).where(ErasureRecord.tenant_id == tenant_id).order_by(ErasureRecord.id.desc())))


CSV_HEADER = ["日時", "担当者", "対象", "件数", "処理内容", "対象期間（この日時より前）"]


def record_rows(items: list[ErasureRecord]) -> list[list[str]]:
    return [
        [
            to_jst(r.at).strftime("%Y-%m-%d %H:%M"),
            r.actor,
            TARGET_JA.get(r.target, r.target),
            str(r.count),
            r.action,
            to_jst(r.before).strftime("%Y-%m-%d %H:%M"),
        ]
        for r in items
    ]


def records_csv(items: list[ErasureRecord]) -> str:
    """別紙1-1 §29: 消去した日時、担当者及び処理内容 — UTF-8 with BOM for Excel."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    writer.writerows(record_rows(items))
    return "\ufeff" + buffer.getvalue()
