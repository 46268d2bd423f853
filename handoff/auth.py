"""Console and dashboard sign-in: a signed, expiring session cookie per individual account,
checked on every request against the account (a disabled account is out at once)."""

from __future__ import annotations

import time
import uuid
from typing import Annotated

from fastapi import Depends, HTTPException
from starlette.requests import HTTPConnection
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from frontdoor.deps import RuntimeDep, SessionDep
from handoff import accounts
from handoff.models import Counselor, Role

COOKIE = "frontdoor_staff"
MAX_AGE_S = 12 * 3600  # one shift


def _serializer(secret: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt="frontdoor-staff-session")


def issue_cookie(secret: str, counselor: Counselor) -> str:
    return _serializer(secret).dumps({"id": str(counselor.id), "iat": time.time()})


def cookie_counselor_id(secret: str, token: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(_serializer(secret).loads(token, max_age=MAX_AGE_S)["id"])
    except (BadSignature, SignatureExpired, KeyError, ValueError, TypeError):
        return None


class LoginRequired(Exception):
    """Raised for HTML pages: the app redirects to the login page."""


async def current_staff(request: HTTPConnection, runtime: RuntimeDep, session: SessionDep) -> Counselor:
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    try:
        data = _serializer(runtime.settings.secret_key).loads(token, max_age=MAX_AGE_S)
        counselor = await accounts.get_counselor(session, uuid.UUID(data["id"]))
        issued = float(data.get("iat", 0))
    except (BadSignature, SignatureExpired, KeyError, ValueError, TypeError):
        counselor = None
    if counselor is None:
        raise LoginRequired()
    # A cookie from before the last logout no longer signs anyone in (issue 12).
    if counselor.sessions_valid_after is not None and issued <= counselor.sessions_valid_after.timestamp():
        raise LoginRequired()
    return counselor


CurrentStaff = Annotated[Counselor, Depends(current_staff)]


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
