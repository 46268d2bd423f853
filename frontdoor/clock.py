"""Aware UTC everywhere; Asia/Tokyo only for display and reports."""

from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo

JST = ZoneInfo("Asia/Tokyo")


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(value: datetime) -> datetime:
    """SQLite drops tzinfo on read; every stored datetime is UTC, so re-attach it."""
    if value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc)


def to_jst(value: datetime) -> datetime:
    return as_utc(value).astimezone(JST)
