"""The audit log of who saw or changed what, when, from where (Kashiwa 002 §9(3), §10(2);
Setagaya 別紙1-1). Rows are only ever added here; the database refuses updates and deletes
(migration 0004 triggers) except the retention job's recorded erasure."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST, to_jst, utc_now
from handoff.history import describe
from handoff.models import AuditLog, Case, CaseEvent, Counselor

# What each action means, for the audit screen and the ward's CSV.
ACTION_JA = {
    "login": "ログイン",
    "view_case": "案件を閲覧",
    "view_conversation": "会話を閲覧",
    "live_view": "会話をライブ表示",
    "view_request": "申請を閲覧",
    "account_disabled": "アカウントを無効化",
    "account_enabled": "アカウントを有効化",
    "password_reset": "パスワードをリセット",
    "password_changed": "パスワードを変更",
    "chat_cap_set": "同時担当数を設定",
    "unlocked": "離席ロックを解除",
    "view_audit": "監査ログを閲覧",
    "export_audit": "監査ログを出力",
    "erasure": "保存期間を過ぎた情報を消去",
    "download_erasure_record": "消去記録を出力",
    "login_failed": "ログインに失敗",
    "view_worklist": "受付一覧を閲覧",
    "export_request": "申請の様式を出力",
    "export_pause_list": "休止者リストを出力",
    "record_referral": "多機関協働を記録",
    "edit_missing_intake": "行方不明者受付票を修正",
    "missing_found_by_phone": "発見の連絡（電話）を記録",
    "export_missing_form": "行方不明者受付票を出力",
    "view_dashboard": "ダッシュボードを閲覧",
    "download_report": "月次報告を出力",
    "regenerate_report": "月次報告を作り直し",
    "export_csv": "集計CSVを出力",
}


async def record(
    session: AsyncSession,
    *,
    staff: Counselor,
    action: str,
    conversation_id: uuid.UUID | None = None,
    case_id: uuid.UUID | None = None,
    target: str | None = None,
    ip: str | None = None,
    detail: str | None = None,
) -> None:
    session.add(
        AuditLog(
            counselor_id=staff.id,
            tenant_id=staff.tenant_id,
            action=action,
            conversation_id=conversation_id,
            case_id=case_id,
            target=target,
            ip=ip,
            detail=detail,
            at=utc_now(),
        )
    )
    await session.commit()


async def views_of(session: AsyncSession, *, conversation_id: uuid.UUID) -> list[AuditLog]:
    return list(
        await session.scalars(select(AuditLog).where(AuditLog.conversation_id == conversation_id).order_by(AuditLog.id))
    )


@dataclass(frozen=True)
class AuditFilter:
    """The audit screen's filters: a person, a date range in JST, a conversation or case id."""

    person: uuid.UUID | None = None
    date_from: date | None = None
    date_to: date | None = None
    subject: uuid.UUID | None = None  # a conversation or a case


@dataclass(frozen=True)
class AuditRow:
    at: datetime
    who: str
    login: str
    action: str
    action_ja: str
    conversation_id: uuid.UUID | None
    case_id: uuid.UUID | None
    target: str | None
    ip: str | None


def _dates(column, flt: AuditFilter) -> list:  # noqa: ANN001
    where = []
    if flt.date_from:
        where.append(column >= datetime.combine(flt.date_from, time(0), JST))
    if flt.date_to:
        where.append(column < datetime.combine(flt.date_to + timedelta(days=1), time(0), JST))
    return where


async def _case_changes(session: AsyncSession, *, tenant_id: str, flt: AuditFilter, limit: int) -> list[AuditRow]:
    """Who changed which case (take over, transfer, close…): the case history rows that have
    a person behind them, so the ward's audit shows changes beside views."""
    stmt = (
        select(CaseEvent, Case.conversation_id, Counselor.display_name, Counselor.login)
        .join(Case, Case.id == CaseEvent.case_id)
        .join(Counselor, Counselor.id == CaseEvent.actor_id)
        .where(Case.tenant_id == tenant_id, *_dates(CaseEvent.at, flt))
    )
    if flt.person:
        stmt = stmt.where(CaseEvent.actor_id == flt.person)
    if flt.subject:
        stmt = stmt.where(or_(Case.conversation_id == flt.subject, Case.id == flt.subject))
    rows = await session.execute(stmt.order_by(CaseEvent.at.desc()).limit(limit))
    return [
        AuditRow(e.at, name, login, f"case_{e.action}", "案件を変更：" + describe(e, {}), conversation_id, e.case_id, None, None)
        for e, conversation_id, name, login in rows
    ]


async def search(session: AsyncSession, *, tenant_id: str, flt: AuditFilter, limit: int = 1000) -> list[AuditRow]:
    """Views and changes, newest first, only the tenant's own rows (a manager never sees
    another ward's log)."""
    stmt = (
        select(AuditLog, Counselor.display_name, Counselor.login)
        .outerjoin(Counselor, Counselor.id == AuditLog.counselor_id)
        .where(AuditLog.tenant_id == tenant_id)
    )
    stmt = stmt.where(*_dates(AuditLog.at, flt))
    if flt.person:
        stmt = stmt.where(AuditLog.counselor_id == flt.person)
    if flt.subject:
        stmt = stmt.where(or_(AuditLog.conversation_id == flt.subject, AuditLog.case_id == flt.subject))
    rows = await session.execute(stmt.order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(limit))
    views = [
        AuditRow(a.at, name or "（コマンド）", login or "", a.action, ACTION_JA.get(a.action, a.action), a.conversation_id, a.case_id, _what(a), a.ip)
        for a, name, login in rows
    ]
    changes = await _case_changes(session, tenant_id=tenant_id, flt=flt, limit=limit)
    return sorted(views + changes, key=lambda r: r.at, reverse=True)[:limit]


def _what(a: AuditLog) -> str | None:
    """対象: the record seen or changed, and the detail the action keeps (the period of a report,
    the 別紙8-3 items corrected, the address of a failed login)."""
    return " ".join(x for x in (a.target, a.detail) if x) or None


CSV_HEADER = ["日時", "氏名", "ログインID", "操作", "会話ID", "案件ID", "対象", "接続元"]


def to_csv(rows: list[AuditRow]) -> str:
    """The ward's audit export: UTF-8 with BOM so Excel opens the Japanese correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for r in rows:
        writer.writerow(
            [to_jst(r.at).strftime("%Y-%m-%d %H:%M:%S"), r.who, r.login, r.action_ja, r.conversation_id or "", r.case_id or "", r.target or "", r.ip or ""]
        )
    return "\ufeff" + buffer.getvalue()
