"""Individual counselor accounts (Kashiwa 002 §10(2)オ: identify and authenticate each
user, no shared IDs, unneeded IDs removed). Passwords are stored as Argon2 hashes only.

Every change (disable, enable, reset, cap) is a compare-and-set on the account and writes an
audit row, so the ward can see who changed whose access and when.

Hashing and verifying take tens of milliseconds of CPU by design; they run in a worker
thread (argon2-cffi releases the GIL), never on the event loop (issue 9)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditLog, Case, CaseStatus, Counselor, Role

_hasher = PasswordHasher()
# Verified against when the login is unknown, so both paths take the same time.
_DUMMY_HASH = _hasher.hash("not-a-real-password")
MIN_PASSWORD = 12
# Published in the README for the demo: never a real account's password outside demo mode.
DEMO_PASSWORDS = frozenset({"demo-password-2026"})


class AccountError(ValueError):
    pass


def check_password(password: str, *, login: str, demo_mode: bool = False) -> None:
    """The password policy (issue 11): at least 12 characters, not the login name, not a
    published demo password outside demo mode. Raises AccountError with a Japanese reason."""
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"パスワードは{MIN_PASSWORD}文字以上にしてください。")
    if login and login.lower() in password.lower():
        raise AccountError("パスワードにログインIDを含めないでください。")
    if password in DEMO_PASSWORDS and not demo_mode:
        raise AccountError("デモ用のパスワードは使えません。別のパスワードにしてください。")


def _audit(session: AsyncSession, *, actor: Counselor | None, action: str, account: Counselor, now: datetime) -> None:
    session.add(
        AuditLog(
            counselor_id=actor.id if actor else None,
            tenant_id=account.tenant_id,
            action=action,
            target=f"account:{account.login}" + ("" if actor else " (cli)"),
            at=now,
        )
    )


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
    demo_mode: bool = False,
) -> Counselor:
    check_password(password, login=login, demo_mode=demo_mode)
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
    counselor = await session.get(Counselor, counselor_id, populate_existing=True)
    return counselor if counselor and counselor.active else None


async def by_login(session: AsyncSession, *, login: str) -> Counselor:
    counselor = await session.scalar(select(Counselor).where(Counselor.login == login))
    if counselor is None:
        raise AccountError(f"ログインID {login} のアカウントはありません。")
    return counselor


async def colleagues(session: AsyncSession, *, tenant_id: str) -> list[Counselor]:
    return list(
        await session.scalars(
            select(Counselor)
            .where(Counselor.tenant_id == tenant_id, Counselor.active.is_(True), Counselor.role != Role.MANAGER)
            .order_by(Counselor.display_name)
        )
    )


async def list_accounts(session: AsyncSession, *, tenant_id: str | None) -> list[Counselor]:
    """Every account of a tenant (or all), disabled ones included, for review (§10(2)オ)."""
    stmt = select(Counselor).order_by(Counselor.tenant_id, Counselor.active.desc(), Counselor.login)
    if tenant_id is not None:
        stmt = stmt.where(Counselor.tenant_id == tenant_id)
    return list(await session.scalars(stmt))


async def live_chats_by_counselor(session: AsyncSession, *, tenant_id: str) -> dict[uuid.UUID, int]:
    """How many chats each counselor holds right now (cases in progress)."""
    rows = await session.execute(
        select(Case.assignee_id, func.count())
        .where(Case.tenant_id == tenant_id, Case.status == CaseStatus.IN_PROGRESS, Case.assignee_id.is_not(None))
        .group_by(Case.assignee_id)
    )
    return {row[0]: int(row[1]) for row in rows}


async def disable(session: AsyncSession, *, counselor_id: uuid.UUID, actor: Counselor | None, now: datetime) -> Counselor:
    """Disable an account and end its sessions at once (every request checks the account)."""
    result = await session.execute(
        update(Counselor)
        .where(Counselor.id == counselor_id, Counselor.active.is_(True))
        .values(active=False, disabled_at=now, sessions_valid_after=now)
    )
    account = await session.get(Counselor, counselor_id, populate_existing=True)
    if result.rowcount != 1 or account is None:
        raise AccountError("このアカウントはすでに無効です。")
    _audit(session, actor=actor, action="account_disabled", account=account, now=now)
    return account


async def enable(session: AsyncSession, *, counselor_id: uuid.UUID, actor: Counselor | None, now: datetime) -> Counselor:
    result = await session.execute(
        update(Counselor).where(Counselor.id == counselor_id, Counselor.active.is_(False)).values(active=True, disabled_at=None)
    )
    account = await session.get(Counselor, counselor_id, populate_existing=True)
    if result.rowcount != 1 or account is None:
        raise AccountError("このアカウントはすでに有効です。")
    _audit(session, actor=actor, action="account_enabled", account=account, now=now)
    return account


async def reset_password(
    session: AsyncSession, *, counselor_id: uuid.UUID, temporary: str, actor: Counselor | None, now: datetime, demo_mode: bool = False
) -> Counselor:
    """A temporary password: open sessions end, and the next sign-in must choose a new one."""
    account = await session.get(Counselor, counselor_id, populate_existing=True)
    if account is None:
        raise AccountError("アカウントが見つかりません。")
    check_password(temporary, login=account.login, demo_mode=demo_mode)
    account.password_hash = await asyncio.to_thread(_hasher.hash, temporary)
    account.must_change_password = True
    account.sessions_valid_after = now
    _audit(session, actor=actor, action="password_reset", account=account, now=now)
    return account


async def change_password(
    session: AsyncSession, *, counselor: Counselor, current: str, new: str, now: datetime, demo_mode: bool = False
) -> Counselor:
    """The account holder chooses a new password (after a reset, or at will)."""
    try:
        await asyncio.to_thread(_hasher.verify, counselor.password_hash, current)
    except (VerificationError, InvalidHashError):
        raise AccountError("いまのパスワードが違います。") from None
    if new == current:
        raise AccountError("いまと違うパスワードにしてください。")
    check_password(new, login=counselor.login, demo_mode=demo_mode)
    counselor.password_hash = await asyncio.to_thread(_hasher.hash, new)
    counselor.must_change_password = False
    counselor.password_changed_at = now
    _audit(session, actor=counselor, action="password_changed", account=counselor, now=now)
    return counselor


async def set_chat_cap(
    session: AsyncSession, *, counselor_id: uuid.UUID, cap: int | None, actor: Counselor, now: datetime
) -> Counselor:
    """A supervisor caps a counselor's concurrent live chats (None: no cap)."""
    if cap is not None and not 1 <= cap <= 20:
        raise AccountError("同時に担当できるチャットの数は1から20までで指定してください。")
    account = await session.get(Counselor, counselor_id, populate_existing=True)
    if account is None or account.tenant_id != actor.tenant_id:
        raise AccountError("アカウントが見つかりません。")
    account.max_live_chats = cap
    _audit(session, actor=actor, action="chat_cap_set", account=account, now=now)
    return account


async def verify_password(counselor: Counselor, password: str) -> bool:
    """Unlocking an idle-locked console asks the same person for their password again."""
    try:
        return await asyncio.to_thread(_hasher.verify, counselor.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def end_sessions(session: AsyncSession, *, counselor_id: uuid.UUID, now: datetime) -> None:
    """Logout: every session cookie issued until now stops working."""
    await session.execute(update(Counselor).where(Counselor.id == counselor_id).values(sessions_valid_after=now))
