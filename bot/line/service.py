"""LINE state changes: the webhook inbox and the contact's follow state (plain async services)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot import conversations as conv_service
from bot.line.models import LineEvent
from bot.models import ResidentContact
from frontdoor.models import Channel, ChannelKind


def event_kind(event: dict) -> str:
    kind = str(event.get("type", "unknown"))
    if kind == "message":
        kind += ":" + str((event.get("message") or {}).get("type", "unknown"))
    return kind[:32]


def _kept_payload(event: dict) -> dict:
    """What the inbox keeps until the event is handled. Only text is needed later; an image,
    audio, a location (an address) or a sticker is reduced to its type and never stored."""
    message = event.get("message")
    if isinstance(message, dict) and message.get("type") != "text":
        return {**event, "message": {"type": message.get("type"), "id": message.get("id", "")}}
    return event


async def record(session: AsyncSession, *, tenant_id: str, events: list[dict], now: datetime) -> list[int]:
    """Store each new event (before LINE gets its 200); a redelivered one only counts."""
    new_ids = []
    for event in events:
        event_id = event.get("webhookEventId")
        if not isinstance(event_id, str) or not event_id:
            continue
        existing = await session.scalar(select(LineEvent).where(LineEvent.webhook_event_id == event_id))
        if existing is not None:
            existing.redelivered += 1
            continue
        row = LineEvent(webhook_event_id=event_id[:64], tenant_id=tenant_id, kind=event_kind(event), payload=_kept_payload(event), received_at=now)
        session.add(row)
        try:
            async with session.begin_nested():
                await session.flush()
        except IntegrityError:  # the same event raced in on another request
            continue
        new_ids.append(row.id)
    await session.commit()
    return new_ids


async def unhandled(session: AsyncSession, *, tenant_id: str) -> list[int]:
    """Events stored but never handled (the process stopped in between), oldest first."""
    rows = await session.scalars(
        select(LineEvent.id).where(LineEvent.tenant_id == tenant_id, LineEvent.handled_at.is_(None)).order_by(LineEvent.id)
    )
    return list(rows)


async def mark_handled(session: AsyncSession, *, event_id: int, now: datetime) -> bool:
    """Compare-and-set; the payload goes (the message table keeps the words)."""
    result = await session.execute(
        update(LineEvent).where(LineEvent.id == event_id, LineEvent.handled_at.is_(None)).values(handled_at=now, payload=None)
    )
    await session.commit()
    return result.rowcount == 1


async def contact(session: AsyncSession, *, secret_key: str, tenant_id: str, user_id: str) -> ResidentContact:
    channel_id = await conv_service.channel_id(session, tenant_id=tenant_id, kind=ChannelKind.LINE)
    return await conv_service.get_or_create_contact(
        session, channel_id=channel_id, pseudonym=conv_service.pseudonym(secret_key, ChannelKind.LINE, user_id), address=user_id
    )


async def set_followed(session: AsyncSession, *, contact_id, following: bool, now: datetime) -> bool:  # noqa: ANN001
    """Compare-and-set the follow state: unfollow marks the contact (nothing is deleted
    early; retention rules apply as for every contact), follow clears the mark."""
    stmt = update(ResidentContact).where(ResidentContact.id == contact_id)
    if following:
        stmt = stmt.where(ResidentContact.unfollowed_at.is_not(None)).values(unfollowed_at=None)
    else:
        stmt = stmt.where(ResidentContact.unfollowed_at.is_(None)).values(unfollowed_at=now)
    result = await session.execute(stmt)
    await session.commit()
    return result.rowcount == 1


async def is_unfollowed(session: AsyncSession, *, channel_kind: ChannelKind, address: str) -> bool:
    found = await session.scalar(
        select(ResidentContact.unfollowed_at)
        .join(Channel, Channel.id == ResidentContact.channel_id)
        .where(Channel.kind == channel_kind, ResidentContact.address == address, ResidentContact.unfollowed_at.is_not(None))
        .limit(1)
    )
    return found is not None
