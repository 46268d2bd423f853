"""Sending 別紙8-3 / 別紙8-4 to the ward with one action (⑤イ(カ)(ケ)): the form as .xlsx,
through the configured SMTP server, to the ward's addresses in tenant settings (at most two).
The time is recorded only once the SMTP server accepted the mail."""

from __future__ import annotations

import asyncio
import smtplib
import uuid
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.tenants import Tenant
from handoff.missing import service as missing
from handoff.missing.models import MissingPerson
from handoff.missing.sheets import found_sheet, intake_sheet
from handoff.models import Counselor
from handoff.requests.models import Request, RequestEvent, RequestStatus

XLSX = ("application", "vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@dataclass(frozen=True)
class Smtp:
    host: str
    port: int
    sender: str


class MailNotSent(Exception):
    """Nothing was recorded; the message says why, in Japanese, for the console."""


def _send(smtp: Smtp, message: EmailMessage) -> None:
    with smtplib.SMTP(smtp.host, smtp.port, timeout=15) as client:
        client.send_message(message)


async def _checks(session: AsyncSession, request_id: uuid.UUID) -> list[tuple[datetime, str]]:
    rows = await session.scalars(select(RequestEvent).where(RequestEvent.request_id == request_id, RequestEvent.action == "checked").order_by(RequestEvent.id))
    return [(e.at, (e.detail or {}).get("outcome", "")) for e in rows]


@dataclass(frozen=True)
class Form:
    title: str
    number: str
    data: bytes


async def build_form(
    session: AsyncSession, *, request: Request, record: MissingPerson, counselor_id: uuid.UUID, tenant: Tenant, now: datetime, found: bool
) -> Form:
    """別紙8-4 (`found`) or 別紙8-3 as it stands now, with the counselor as 担当者: the same file
    is mailed and downloaded, so a correction made at the call-back is in both."""
    staff = await session.get(Counselor, counselor_id)
    staff_name = staff.display_name if staff else ""
    staff_phone = tenant.facts.get("anshin_call_phone", "")
    number = (request.fields or {}).get("management_no", "")
    if found:
        checks = await _checks(session, request.id)
        data = await asyncio.to_thread(found_sheet, request, record, checks, staff_name=staff_name, staff_phone=staff_phone, now=now)
        return Form("行方不明者発見報告票", number, data)
    data = await asyncio.to_thread(intake_sheet, request, record, staff_name=staff_name, staff_phone=staff_phone)
    return Form("行方不明者受付票", number, data)


async def send_to_ward(session: AsyncSession, *, request_id: uuid.UUID, counselor_id: uuid.UUID, tenant: Tenant, smtp: Smtp, now: datetime) -> int:
    """別紙8-3 while the intake is open, 別紙8-4 once found; returns the number of addresses."""
    config = tenant.missing_person_report
    found = await missing.get(session, request_id)
    if config is None or found is None:
        raise MailNotSent("この相談は、区へ送る行方不明者の受付ではありません。")
    if not smtp.host:
        raise MailNotSent("メールサーバーが設定されていません。区へはお電話で報告し、管理者に連絡してください。")
    request, record = found
    if request.status != RequestStatus.FOUND and not (request.status == RequestStatus.OPEN and record.form_mailed_at is None):
        raise MailNotSent("送る報告票はありません（送信済みか、受付が終わっています）。")
    form = await build_form(session, request=request, record=record, counselor_id=counselor_id, tenant=tenant, now=now, found=request.status == RequestStatus.FOUND)
    title, number, data = form.title, form.number, form.data
    message = EmailMessage()
    message["Subject"] = f"【{title}】管理番号 {number}"
    message["From"] = smtp.sender
    message["To"] = ", ".join(config.emails)
    # The body names no one: the personal data is in the attached form only.
    message.set_content(f"{tenant.facts.get('center_name', '')}です。\n管理番号 {number} の{title}を添付します。\nお電話での報告のあと、お送りしています。\n")
    message.add_attachment(data, maintype=XLSX[0], subtype=XLSX[1], filename=f"{title}_{number}.xlsx")
    try:
        await asyncio.to_thread(_send, smtp, message)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailNotSent("メールを送れませんでした。時間をおいてもう一度お試しください。") from exc
    await missing.mark_mailed(session, request_id=request_id, counselor_id=counselor_id, now=now, recipients=len(config.emails))
    return len(config.emails)
