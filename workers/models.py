"""Generated monthly reports: which file, for which tenant and month, made by whom and when."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.clock import utc_now
from frontdoor.db import Base, UTCDateTime


class GeneratedReport(Base):
    """One row per (tenant, layout, month, format): regenerating replaces the file and the row."""

    __tablename__ = "generated_report"
    __table_args__ = (UniqueConstraint("tenant_id", "layout", "month", "format", name="uq_generated_report_key"),)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"))
    layout: Mapped[str] = mapped_column(String(32))  # setagaya_besshi6 | kashiwa_monthly
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM", the reported month in Asia/Tokyo
    format: Mapped[str] = mapped_column(String(8))  # xlsx | csv
    # SHA-256 of the file; files are written byte-for-byte reproducibly, so equal data → equal checksum.
    checksum: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    # Relative to settings.data_dir / "reports".
    path: Mapped[str] = mapped_column(String(300))
    # A counselor id (manager who asked) or "beat" / "cli".
    generated_by: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)


class ErasureRecord(Base):
    """One erasure of personal data past its retention period or at the end of a contract
    (Setagaya 別紙1-1 §29: 消去又は廃棄した日時、担当者及び処理内容を区に報告; Kashiwa 002 §9(7))."""

    __tablename__ = "erasure_record"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utc_now)  # 日時
    actor: Mapped[str] = mapped_column(String(100))  # 担当者: a login, or "system"
    target: Mapped[str] = mapped_column(String(32))  # 対象: conversations | messages | cases | requests | audit
    count: Mapped[int] = mapped_column(Integer)  # 件数
    action: Mapped[str] = mapped_column(String(200))  # 処理内容, in Japanese
    before: Mapped[datetime] = mapped_column(UTCDateTime)  # everything older than this was treated
