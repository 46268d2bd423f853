"""Console and dashboard sign-in: a signed, expiring session cookie per individual account,
checked on every request against the account (a disabled or reset account is out at once),
and the idle lock (Setagaya 別紙1-1 §14: 離席時にパスワードロック)."""

from __future__ import annotations

import logging
import secrets
import uuid
from typing import Annotated

from fastapi import Depends, HTTPException
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from frontdoor.deps import RuntimeDep, SessionDep
from handoff import accounts
from handoff.models import Counselor, Role

log = logging.getLogger(__name__)

COOKIE = "frontdoor_staff"
LOCK_KEY = "console-lock:{sid}"


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="frontdoor-staff-session")


def _generation(counselor: Counselor) -> str:
    """Changes when the account is disabled or its password reset: older cookies stop working."""
    return counselor.sessions_valid_after.isoformat() if counselor.sessions_valid_after else ""


def issue_cookie(secret: str, counselor: Counselor) -> str:
    return _serializer(secret).dumps({"id": str(counselor.id), "g": _generation(counselor), "sid": secrets.token_urlsafe(12)})


def max_age_s(settings) -> int:  # noqa: ANN001
    """A sign-in lasts one shift (FRONTDOOR_SESSION_HOURS)."""
    return int(settings.session_hours * 3600)


def cookie_counselor_id(secret: str, token: str, *, max_age: int) -> uuid.UUID | None:
    """Whose cookie this is, if it is still valid (logout ends that account's sessions)."""
    try:
        return uuid.UUID(_serializer(secret).loads(token, max_age=max_age)["id"])
    except (BadSignature, SignatureExpired, KeyError, ValueError, TypeError):
        return None


class LoginRequired(Exception):
    """Raised for HTML pages: the app redirects to the login page."""


class PasswordChangeRequired(Exception):
    """After a reset: every page leads to the password form until a new one is chosen."""


class ConsoleLocked(Exception):
    """The console was locked after the counselor left the desk: only unlocking is allowed."""


async def _session_of(request: HTTPConnection, runtime, session) -> tuple[Counselor, str]:  # noqa: ANN001
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    try:
        data = _serializer(runtime.settings.secret_key).loads(token, max_age=max_age_s(runtime.settings))
        counselor = await accounts.get_counselor(session, uuid.UUID(data["id"]))
        if counselor is not None and data.get("g", "") != _generation(counselor):
            counselor = None
    except (BadSignature, SignatureExpired, KeyError, ValueError):
        counselor = None
    if counselor is None:
        raise LoginRequired()
    request.state.staff_sid = str(data.get("sid", ""))
    return counselor, request.state.staff_sid


def session_id(request: HTTPConnection) -> str:
    """The random id of this sign-in (one browser), used for its idle lock; set once the
    cookie has been checked by one of the dependencies below."""
    return getattr(request.state, "staff_sid", "")


async def is_locked(redis, sid: str) -> bool:  # noqa: ANN001
    """Redis unreachable: not locked, so counselors keep answering residents while it is down
    (a failing part degrades service; replies are stored and caught up, issue 12). The
    browser's idle lock (lock.js) still blurs the page; only a reload gets round it meanwhile."""
    if not sid:
        return False
    try:
        return bool(await redis.exists(LOCK_KEY.format(sid=sid)))
    except (RedisError, OSError):
        log.warning("console lock unreadable: Redis is down; treating this console as unlocked")
        return False


async def lock(redis, sid: str, *, ttl_s: int) -> None:  # noqa: ANN001
    if sid:
        await redis.set(LOCK_KEY.format(sid=sid), "1", ex=max(ttl_s, 60))


async def unlock(redis, sid: str) -> None:  # noqa: ANN001
    await redis.delete(LOCK_KEY.format(sid=sid))


async def staff_even_if_locked(request: HTTPConnection, runtime: RuntimeDep, session: SessionDep) -> Counselor:
    """Signed in, whether or not the console is locked: for the alert feed (ids and urgency,
    no personal data) and for unlocking itself."""
    counselor, _ = await _session_of(request, runtime, session)
    if counselor.must_change_password:
        raise PasswordChangeRequired()
    return counselor


async def current_staff(request: HTTPConnection, runtime: RuntimeDep, session: SessionDep) -> Counselor:
    counselor, sid = await _session_of(request, runtime, session)
    if counselor.must_change_password:
        raise PasswordChangeRequired()
    if await is_locked(runtime.redis, sid):
        raise ConsoleLocked()
    return counselor


async def staff_for_password_change(request: HTTPConnection, runtime: RuntimeDep, session: SessionDep) -> Counselor:
    counselor, _ = await _session_of(request, runtime, session)
    return counselor


CurrentStaff = Annotated[Counselor, Depends(current_staff)]
AnyStaff = Annotated[Counselor, Depends(staff_even_if_locked)]
StaffChangingPassword = Annotated[Counselor, Depends(staff_for_password_change)]


def require_roles(*roles: Role):  # noqa: ANN201
    async def _check(staff: CurrentStaff) -> Counselor:
        if staff.role not in roles:
            raise HTTPException(status_code=403, detail="この画面を見る権限がありません。")
        return staff

    return Depends(_check)


# Conversation text: counselors and supervisors only; managers see statistics, never text.
CaseWorker = Annotated[Counselor, require_roles(Role.COUNSELOR, Role.SUPERVISOR)]
Supervisor = Annotated[Counselor, require_roles(Role.SUPERVISOR)]
Manager = Annotated[Counselor, require_roles(Role.MANAGER, Role.SUPERVISOR)]
