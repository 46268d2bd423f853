"""One row per missing-person intake, beside its `request` row (kind `missing_person`): the
times 別紙6 §5 reports and the timers need. The request keeps the status and the next deadline
(`due_at`); this row keeps who did what when."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import JSON, Date, ForeignKey, Integer, String, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.db import Base, UTCDateTime


class MissingPerson(Base):
    __tablename__ = "missing_person"
    request_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("request.id"), primary_key=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), index=True)
    # The reporter: a found notice from a new conversation of the same contact finds the case.
    contact_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, index=True)
    closed_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 閉庁時間受電日時 (⑤ウ)
    intake_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 受付日時 / 翌開庁日に電話後の受付日時
    report_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ⑤イ(カ): 30 minutes (or 9:30)
    ward_phoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ward_phoned_by: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    ward_phoned_to: Mapped[str | None] = mapped_column(String(80))  # who at the ward took the call
    form_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 別紙8-3 sent: 受付時の区への報告完了
    checks: Mapped[int] = mapped_column(Integer, default=0)  # 状況確認回数 (⑤イ(キ))
    check_day: Mapped[date | None] = mapped_column(Date)  # the last day a check task was set
    checks_refused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    consult_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the counselor is asked to consult the ward
    found_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the found notice was taken
    found: Mapped[dict | None] = mapped_column(JSON)  # 別紙8-4 items
    found_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_phoned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    found_mailed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # 別紙8-4 sent: 発見時の区への報告完了
    ward_call_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the ward said it was found (⑤イ※)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The deadline the console was last warned about (near / missed), so each alert goes once.
    near_alert_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_alert_for: Mapped[datetime | None] = mapped_column(UTCDateTime)
