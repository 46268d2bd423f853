"""Conversations and messages: storing every turn, and closing idle conversations."""

from __future__ import annotations

import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import (
    Author,
    Conversation,
    ConversationMode,
    ConversationStatus,
    Direction,
    Message,
    ResidentContact,
)
from frontdoor.clock import to_jst
from frontdoor.models import Channel, ChannelKind, TenantRow


def pseudonym(secret: str, channel: ChannelKind, external_id: str) -> str:
    """A stable per-channel id for a resident that does not reveal the channel's own id."""
    digest = hmac.new(secret.encode(), f"{channel}:{external_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:40]


def _insert(session: AsyncSession, model: type):  # noqa: ANN202 - a dialect Insert
    """INSERT with the dialect's ON CONFLICT clause available (PostgreSQL or SQLite)."""
    return (postgresql_insert if session.bind.dialect.name == "postgresql" else sqlite_insert)(model)


async def ensure_tenant_rows(session: AsyncSession, tenants: list[tuple[str, str]]) -> None:
    """Create tenant and channel rows for the configured tenants (idempotent). Several API
    processes start at once on a new database (`uvicorn --workers`, replicas): each inserts
    and ignores what another has just inserted, instead of failing its start-up."""
    if not tenants:
        return
    await session.execute(_insert(session, TenantRow).values([{"id": t, "name": n} for t, n in tenants]).on_conflict_do_nothing())
    rows = [{"tenant_id": t, "kind": kind} for t, _ in tenants for kind in ChannelKind]
    await session.execute(_insert(session, Channel).values(rows).on_conflict_do_nothing())
    await session.commit()


async def channel_id(session: AsyncSession, *, tenant_id: str, kind: ChannelKind) -> int:
    found = await session.scalar(select(Channel.id).where(Channel.tenant_id == tenant_id, Channel.kind == kind))
    if found is None:
        raise LookupError(f"no {kind} channel for tenant {tenant_id}")
    return found


async def get_or_create_contact(
    session: AsyncSession, *, channel_id: int, pseudonym: str, address: str | None
) -> ResidentContact:
    stmt = select(ResidentContact).where(
        ResidentContact.channel_id == channel_id, ResidentContact.pseudonym == pseudonym
    )
    contact = await session.scalar(stmt)
    if contact is not None:
        if address and contact.address != address:
            contact.address = address
        return contact
    contact = ResidentContact(channel_id=channel_id, pseudonym=pseudonym, address=address)
    session.add(contact)
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:  # another turn created it concurrently
        contact = await session.scalar(stmt)
        assert contact is not None
    return contact


def _close(conversation: Conversation) -> None:
    conversation.status = ConversationStatus.CLOSED
    conversation.ended_at = conversation.last_message_at
    conversation.duration_seconds = int((conversation.last_message_at - conversation.started_at).total_seconds())


async def current_conversation(
    session: AsyncSession,
    *,
    tenant_id: str,
    channel_id: int,
    contact_id: uuid.UUID,
    now: datetime,
    idle_after: timedelta,
    outside_hours: bool,
) -> Conversation:
    """The resident's open conversation, or a new one if the last went quiet for too long.

    A conversation a counselor holds is never closed for idleness: the counselor closes it.
    """
    conversation = await session.scalar(
        select(Conversation)
        .where(Conversation.contact_id == contact_id, Conversation.status == ConversationStatus.OPEN)
        .order_by(Conversation.started_at.desc())
        .limit(1)
    )
    if conversation is not None:
        stale = now - conversation.last_message_at > idle_after
        if not stale or conversation.mode == ConversationMode.HUMAN:
            return conversation
        _close(conversation)
    local = to_jst(now)
    conversation = Conversation(
        tenant_id=tenant_id,
        channel_id=channel_id,
        contact_id=contact_id,
        started_at=now,
        last_message_at=now,
        local_date=local.date(),
        local_hour=local.hour,
        outside_hours=outside_hours,
    )
    session.add(conversation)
    await session.flush()
    return conversation


async def _by_channel_message_id(session: AsyncSession, channel_id: int, channel_message_id: str | None) -> Message | None:
    return await session.scalar(
        select(Message).where(Message.channel_id == channel_id, Message.channel_message_id == channel_message_id)
    )


@dataclass(frozen=True)
class Stored:
    message: Message
    duplicate: bool


def _columns(conversation: Conversation, direction: Direction, author: Author, text: str, meta: dict | None, now: datetime) -> dict:
    return {
        "conversation_id": conversation.id, "channel_id": conversation.channel_id, "direction": direction,
        "author": author, "text": text, "meta": meta, "created_at": now,
    }


async def store_inbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    text: str,
    channel_message_id: str | None,
    now: datetime,
    meta: dict | None = None,
) -> Stored:
    """Store a resident's message; a redelivered one (same channel message id) is stored once.

    One INSERT … ON CONFLICT DO NOTHING RETURNING: the unique (channel, channel message id)
    constraint finds a redelivery, or the same update racing in through another worker,
    without a lookup or a savepoint on every turn (issue 9: round trips per turn)."""
    stmt = (
        _insert(session, Message)
        .values(**_columns(conversation, Direction.INBOUND, Author.RESIDENT, text, meta, now), channel_message_id=channel_message_id)
        .on_conflict_do_nothing(index_elements=["channel_id", "channel_message_id"])
        .returning(Message)
    )
    message = await session.scalar(stmt)
    if message is None:
        earlier = await _by_channel_message_id(session, conversation.channel_id, channel_message_id)
        assert earlier is not None
        return Stored(earlier, duplicate=True)
    conversation.last_message_at = now
    return Stored(message, duplicate=False)


async def store_outbound(
    session: AsyncSession,
    *,
    conversation: Conversation,
    text: str,
    author: Author,
    now: datetime,
    counselor_id: uuid.UUID | None = None,
    meta: dict | None = None,
) -> Message:
    message = Message(**_columns(conversation, Direction.OUTBOUND, author, text, meta, now), counselor_id=counselor_id)
    session.add(message)
    conversation.last_message_at = max(conversation.last_message_at, now)
    await session.flush()
    return message


async def replies_after(session: AsyncSession, *, message: Message) -> list[Message]:
    """Outbound messages that answered `message` (for a redelivered update)."""
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == message.conversation_id, Message.id > message.id)
        .order_by(Message.id)
    )
    replies: list[Message] = []
    for row in rows:
        if row.direction == Direction.INBOUND:
            break
        replies.append(row)
    return replies


async def history(session: AsyncSession, *, conversation_id: uuid.UUID, after_id: int = 0) -> list[Message]:
    rows = await session.scalars(
        select(Message)
        .where(Message.conversation_id == conversation_id, Message.id > after_id)
        .order_by(Message.id)
    )
    return list(rows)


async def resident_words(session: AsyncSession, *, conversation_id: uuid.UUID) -> list[str]:
    """What the resident has written in this conversation so far, oldest first (the message
    being answered is stored already, so it is the last)."""
    rows = await session.scalars(
        select(Message.text)
        .where(Message.conversation_id == conversation_id, Message.author == Author.RESIDENT)
        .order_by(Message.id)
    )
    return list(rows)


async def last_bot_meta(session: AsyncSession, *, conversation_id: uuid.UUID, before_id: int | None = None) -> dict:
    """What the bot's last reply (before a message, or of all) carried (its meta: a waiting
    reply, a form question asked again)."""
    query = select(Message.meta).where(Message.conversation_id == conversation_id, Message.author == Author.BOT)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    meta = await session.scalar(query.order_by(Message.id.desc()).limit(1))
    return meta or {}


async def last_message_id(session: AsyncSession, *, conversation_id: uuid.UUID) -> int:
    return await session.scalar(select(func.max(Message.id)).where(Message.conversation_id == conversation_id)) or 0


RISK_WINDOW = timedelta(hours=2)  # earlier turns no longer add to the conversation's risk
RISK_TURNS = 6


async def recent_risks(
    session: AsyncSession, *, conversation: Conversation, before_id: int, now: datetime, since: datetime | None = None
) -> list[float]:
    """Triage risks of the resident's recent earlier turns (issue 14 §2: the conversation is
    the unit), newest last; `since` cuts at a settled check-in."""
    start = max(now - RISK_WINDOW, since) if since else now - RISK_WINDOW
    rows = await session.scalars(
        select(Message)
        .where(
            Message.conversation_id == conversation.id,
            Message.direction == Direction.INBOUND,
            Message.id < before_id,
            Message.created_at >= start,
        )
        .order_by(Message.id.desc())
        .limit(RISK_TURNS)
    )
    return [float((m.meta or {}).get("risk", 0.0)) for m in reversed(list(rows))]


def note_risk(message: Message, risk: float) -> None:
    """Keep this turn's risk on the stored message (a number, never text) for later turns."""
    message.meta = {**(message.meta or {}), "risk": round(risk, 4)}


async def end_by_resident(session: AsyncSession, *, conversation_id: uuid.UUID) -> bool:
    """「相談を終える」 on a shared device. A conversation the bot is handling closes now; one a
    counselor holds stays open with them (they close the case). True if this call closed it."""
    conversation = await session.get(Conversation, conversation_id, populate_existing=True)
    closed = False
    if conversation is not None and conversation.status == ConversationStatus.OPEN and conversation.mode == ConversationMode.BOT:
        _close(conversation)
        closed = True
    await session.commit()
    return closed


async def close_idle_conversations(session: AsyncSession, *, now: datetime, idle_after: timedelta) -> int:
    """Close bot-mode conversations quiet for longer than `idle_after`; safe to run twice."""
    cutoff = now - idle_after
    stale = (
        await session.scalars(
            select(Conversation).where(
                Conversation.status == ConversationStatus.OPEN,
                Conversation.mode == ConversationMode.BOT,
                Conversation.last_message_at < cutoff,
            )
        )
    ).all()
    for conversation in stale:
        _close(conversation)
    await session.commit()
    return len(stale)


async def set_mode(
    session: AsyncSession, *, conversation_id: uuid.UUID, mode: ConversationMode, expected: ConversationMode
) -> bool:
    """Compare-and-set the conversation mode; True if this call changed it."""
    result = await session.execute(
        update(Conversation)
        .where(Conversation.id == conversation_id, Conversation.mode == expected)
        .values(mode=mode)
    )
    return result.rowcount == 1
