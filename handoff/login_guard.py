"""Sign-in limiting (issue 12; Kashiwa 002 §10(2)オ). Failures — never successes — are
counted per account and per source address over a window, in the database: it holds with
Redis down, and if the database cannot answer either, sign-in is refused (fail closed).
Keys are keyed hashes of fixed length, so a 1 MB login name costs 32 bytes."""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from handoff.models import AuditLog, Counselor, LoginFailure

WINDOW = timedelta(minutes=5)
PER_ACCOUNT = 10
PER_ADDRESS = 30
KEEP = timedelta(days=1)
MAX_LOGIN_CHARS = 64
MAX_PASSWORD_CHARS = 256


@dataclass(frozen=True)
class Attempt:
    account_key: str
    address_key: str
    address: str


def attempt(secret: str, *, login: str, address: str) -> Attempt:
    def key(kind: str, value: str) -> str:
        return hmac.new(secret.encode(), f"{kind}:{value}".encode("utf-8", "replace"), hashlib.sha256).hexdigest()[:32]

    return Attempt(key("account", login.strip().lower()[: MAX_LOGIN_CHARS + 1]), key("address", address), address[:64])


async def blocked(session: AsyncSession, a: Attempt, *, now: datetime) -> bool:
    since = now - WINDOW
    counts = (
        await session.execute(
            select(
                func.count().filter(LoginFailure.account_key == a.account_key),
                func.count().filter(LoginFailure.address_key == a.address_key),
            ).where(LoginFailure.at >= since, (LoginFailure.account_key == a.account_key) | (LoginFailure.address_key == a.address_key))
        )
    ).one()
    return int(counts[0]) >= PER_ACCOUNT or int(counts[1]) >= PER_ADDRESS


async def failed(session: AsyncSession, a: Attempt, *, login: str, now: datetime) -> None:
    """Count the failure and audit it (the account, if the login name is one, and the address)."""
    counselor_id = await session.scalar(select(Counselor.id).where(Counselor.login == login.strip()[:MAX_LOGIN_CHARS])) if len(login) <= MAX_LOGIN_CHARS else None
    session.add(LoginFailure(account_key=a.account_key, address_key=a.address_key, at=now))
    session.add(AuditLog(counselor_id=counselor_id, action="login_failed", detail=f"address={a.address}", at=now))
    await session.execute(delete(LoginFailure).where(LoginFailure.at < now - KEEP))
    await session.commit()
