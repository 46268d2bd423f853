"""The per-tenant disaster notice (issue 15; seed 003 §1(2)⑥ケ(イ): during an earthquake or
other disaster, gather the ward's current information from its official homepage and do the
utmost to ease residents' worry).

Staff switch it on from the console with a short text and a link they paste from the
ward's page; while it is on, every bot reply starts with it and says plainly that it is the
ward's current information. Switching is compare-and-set on `status` with its `*_at`
column and an event row, so two staff pressing at once cannot both succeed.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, Text, Uuid, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from frontdoor.db import Base, UTCDateTime

MAX_TEXT = 200
ON, OFF = "on", "off"


class DisasterNotice(Base):
    __tablename__ = "disaster_notice"
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), primary_key=True)
    status: Mapped[str] = mapped_column(String(8), default=OFF)
    text: Mapped[str] = mapped_column(Text, default="")
    url: Mapped[str] = mapped_column(String(500), default="")
    switched_on_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    switched_off_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    switched_by: Mapped[uuid.UUID | None] = mapped_column(Uuid, nullable=True)


class DisasterNoticeEvent(Base):
    __tablename__ = "disaster_notice_event"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tenant_id: Mapped[str] = mapped_column(ForeignKey("tenant.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))  # on | off
    staff_id: Mapped[uuid.UUID] = mapped_column(Uuid)
    at: Mapped[datetime] = mapped_column(UTCDateTime)


class NoticeError(ValueError):
    """A Japanese message for the staff member (empty text, a link that is not http(s) …)."""


@dataclass(frozen=True)
class Notice:
    text: str
    url: str

    def lead(self) -> str:
        """What residents read first while the notice is on."""
        lines = ["【災害時のお知らせ】", "区・市からの最新の情報です。", self.text]
        if self.url:
            lines.append(self.url)
        return "\n".join(lines)


def _check(text: str, url: str) -> tuple[str, str]:
    text, url = text.strip(), url.strip()
    if not text:
        raise NoticeError("お知らせの文を入力してください。")
    if len(text) > MAX_TEXT:
        raise NoticeError(f"お知らせの文は{MAX_TEXT}文字以内にしてください。")
    if url and not url.startswith(("https://", "http://")):
        raise NoticeError("リンクは https:// で始まるアドレスを貼り付けてください。")
    return text, url


async def switch_on(session: AsyncSession, *, tenant_id: str, staff_id: uuid.UUID, text: str, url: str, now: datetime) -> bool:
    """Turn the notice on (or update its text while on); False if someone changed it meanwhile."""
    text, url = _check(text, url)
    row = await session.get(DisasterNotice, tenant_id)
    if row is None:
        session.add(DisasterNotice(tenant_id=tenant_id, status=OFF))
        await session.flush()
        row = await session.get(DisasterNotice, tenant_id)
    result = await session.execute(
        update(DisasterNotice)
        .where(DisasterNotice.tenant_id == tenant_id, DisasterNotice.status == row.status)
        .values(status=ON, text=text, url=url, switched_on_at=now, switched_by=staff_id)
    )
    if result.rowcount != 1:
        return False
    session.add(DisasterNoticeEvent(tenant_id=tenant_id, action=ON, staff_id=staff_id, at=now))
    await session.flush()
    return True


async def switch_off(session: AsyncSession, *, tenant_id: str, staff_id: uuid.UUID, now: datetime) -> bool:
    result = await session.execute(
        update(DisasterNotice)
        .where(DisasterNotice.tenant_id == tenant_id, DisasterNotice.status == ON)
        .values(status=OFF, switched_off_at=now, switched_by=staff_id)
    )
    if result.rowcount != 1:
        return False
    session.add(DisasterNoticeEvent(tenant_id=tenant_id, action=OFF, staff_id=staff_id, at=now))
    await session.flush()
    return True


async def current(session: AsyncSession, *, tenant_id: str) -> Notice | None:
    row = (
        await session.execute(select(DisasterNotice.text, DisasterNotice.url).where(DisasterNotice.tenant_id == tenant_id, DisasterNotice.status == ON))
    ).first()
    return Notice(row.text, row.url) if row else None
