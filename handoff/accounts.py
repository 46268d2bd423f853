"""Individual counselor accounts (Kashiwa 002 §10(2)オ: identify and authenticate each
user, no shared IDs). Passwords are stored as Argon2 hashes only.

Hashing and verifying take tens of milliseconds of CPU by design; they run in a worker
thread (argon2-cffi releases the GIL), never on the event loop (issue 9)."""

from __future__ import annotations

import asyncio
import uuid

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import Counselor, Role

_hasher = PasswordHasher()
# Verified against when the login is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


class AccountError(ValueError):
    pass


async def create_counselor(
    session: AsyncSession,
    *,
    tenant_id: str,
    login: str,
    display_name: str,
    password: str,
    role: Role = Role.COUNSELOR,
    email: str | None = None,
    on_call: bool = False,
) -> Counselor:
    if len(password) < 10:
        raise AccountError("パスワードは10文字以上にしてください。")
    if await session.scalar(select(Counselor.id).where(Counselor.login == login)):
        raise AccountError(f"ログインID {login} はすでに使われています。")
    counselor = Counselor(
        tenant_id=tenant_id,
        login=login,
        display_name=display_name,
        role=role,
        password_hash=await asyncio.to_thread(_hasher.hash, password),
        email=email,
        on_call=on_call,
    )
    session.add(counselor)
    await session.flush()
    return counselor


async def authenticate(session: AsyncSession, *, login: str, password: str) -> Counselor | None:
    counselor = await session.scalar(select(Counselor).where(Counselor.login == login, Counselor.active.is_(True)))
    try:
        await asyncio.to_thread(_hasher.verify, counselor.password_hash if counselor else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    return counselor


async def get_counselor(session: AsyncSession, counselor_id: uuid.UUID) -> Counselor | None:
    counselor = await session.get(Counselor, counselor_id)
    return counselor if counselor and counselor.active else None


async def colleagues(session: AsyncSession, *, tenant_id: str) -> list[Counselor]:
    return list(
        await session.scalars(
            select(Counselor)
            .where(Counselor.tenant_id == tenant_id, Counselor.active.is_(True), Counselor.role != Role.MANAGER)
            .order_by(Counselor.display_name)
        )
    )
