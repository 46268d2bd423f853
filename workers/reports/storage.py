"""Generate a tenant's monthly report and keep it: the file under data_dir/reports, and a
GeneratedReport row saying who made it and when. Idempotent: generating the same
(tenant, layout, month, format) again replaces the file and updates the one row."""

from __future__ import annotations

import asyncio
import hashlib
import os
from dataclasses import dataclass
from datetime import datetime, time
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import JST
from frontdoor.settings import Settings
from frontdoor.tenants import Tenant
from workers.models import GeneratedReport
from workers.reports import kashiwa_monthly, setagaya_besshi6
from workers.reports.periods import Month

FORMATS: dict[str, tuple[str, ...]] = {
    setagaya_besshi6.LAYOUT: ("xlsx",),
    kashiwa_monthly.LAYOUT: ("xlsx", "csv"),
}
MEDIA_TYPES = {"xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "csv": "text/csv; charset=utf-8"}


class UnsupportedFormat(ValueError):
    pass


def formats_for(tenant: Tenant) -> tuple[str, ...]:
    return FORMATS.get(tenant.report_layout, ())


def check_format(tenant: Tenant, fmt: str) -> None:
    if fmt not in formats_for(tenant):
        raise UnsupportedFormat(f"{tenant.id} ({tenant.report_layout}) has no {fmt!r} report; use {formats_for(tenant)}")


async def build(session: AsyncSession, *, tenant: Tenant, month: Month, fmt: str) -> bytes:
    """The report's bytes, computed from the database now (not stored)."""
    check_format(tenant, fmt)
    # Fixed document date (the month's last day) so equal figures give equal bytes.
    stamp = datetime.combine(month.last_day, time(23, 59), JST)
    # Rendering (openpyxl) is CPU work: a worker thread, so a download in the web process
    # does not stall the event loop (issue 9).
    if tenant.report_layout == setagaya_besshi6.LAYOUT:
        data = await setagaya_besshi6.collect(session, tenant_id=tenant.id, month=month)
        return await asyncio.to_thread(setagaya_besshi6.render_xlsx, data, stamp=stamp)
    data = await kashiwa_monthly.collect(session, tenant_id=tenant.id, month=month)
    if fmt == "xlsx":
        return await asyncio.to_thread(kashiwa_monthly.render_xlsx, data, stamp=stamp)
    return await asyncio.to_thread(kashiwa_monthly.render_csv, data)


def reports_dir(settings: Settings) -> Path:
    return (settings.data_dir / "reports").resolve()


def download_name(tenant: Tenant, month: Month, fmt: str) -> str:
    return f"{tenant.id}-{tenant.report_layout}-{month}.{fmt}"


def _write_atomic(path: Path, content: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + f".{os.getpid()}.tmp")
    tmp.write_bytes(content)
    os.replace(tmp, path)


@dataclass(frozen=True)
class Stored:
    report: GeneratedReport
    content: bytes
    changed: bool  # False when the figures (hence the bytes) were already stored


async def generate(
    session: AsyncSession, *, settings: Settings, tenant: Tenant, month: Month, fmt: str, generated_by: str, now: datetime
) -> Stored:
    """Build, store the file, upsert the row, commit."""
    content = await build(session, tenant=tenant, month=month, fmt=fmt)
    checksum = hashlib.sha256(content).hexdigest()
    relative = f"{tenant.id}/{download_name(tenant, month, fmt)}"
    _write_atomic(reports_dir(settings) / relative, content)
    key = dict(tenant_id=tenant.id, layout=tenant.report_layout, month=str(month), format=fmt)
    row = await session.scalar(select(GeneratedReport).filter_by(**key))
    changed = row is None or row.checksum != checksum
    if row is None:
        row = GeneratedReport(**key, checksum=checksum, size=len(content), path=relative, generated_by=generated_by, generated_at=now)
        session.add(row)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # a concurrent run inserted it first; update that row instead
            row = await session.scalar(select(GeneratedReport).filter_by(**key))
            assert row is not None
    row.checksum, row.size, row.path = checksum, len(content), relative
    row.generated_by, row.generated_at = generated_by, now
    await session.commit()
    return Stored(row, content, changed)


async def generate_all(
    session: AsyncSession, *, settings: Settings, tenant: Tenant, month: Month, generated_by: str, now: datetime
) -> list[Stored]:
    return [
        await generate(session, settings=settings, tenant=tenant, month=month, fmt=fmt, generated_by=generated_by, now=now)
        for fmt in formats_for(tenant)
    ]


async def stored(session: AsyncSession, *, tenant: Tenant, month: Month, fmt: str) -> GeneratedReport | None:
    return await session.scalar(
        select(GeneratedReport).filter_by(tenant_id=tenant.id, layout=tenant.report_layout, month=str(month), format=fmt)
    )


async def history(session: AsyncSession, *, tenant_id: str, limit: int = 24) -> list[GeneratedReport]:
    stmt = (
        select(GeneratedReport)
        .where(GeneratedReport.tenant_id == tenant_id)
        .order_by(GeneratedReport.month.desc(), GeneratedReport.format)
        .limit(limit)
    )
    return list(await session.scalars(stmt))


def read(settings: Settings, report: GeneratedReport) -> bytes | None:
    path = reports_dir(settings) / report.path
    return path.read_bytes() if path.is_file() else None
