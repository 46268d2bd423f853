"""Test helpers: individual staff accounts, and a signed-in console client over real HTTP."""

from __future__ import annotations

import re
import uuid

import httpx

from handoff import accounts
from handoff.models import Counselor, Role

PASSWORD = "correct-horse-battery"


async def make_staff(session, *, tenant_id: str, role: Role = Role.COUNSELOR, email: str | None = None, on_call: bool = False) -> Counselor:  # noqa: ANN001
    login = f"t-{role}-{uuid.uuid4().hex[:8]}"
    staff = await accounts.create_counselor(
        session, tenant_id=tenant_id, login=login, display_name=f"試験 {login[-4:]}", password=PASSWORD, role=role, email=email, on_call=on_call
    )
    await session.commit()
    return staff


async def console_client(base_url: str, staff: Counselor) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=base_url, timeout=30, follow_redirects=False)
    response = await client.post("/console/login", data={"login": staff.login, "password": PASSWORD})
    assert response.status_code == 303, response.text
    await use_page_token(client, response.headers["location"])
    return client


async def use_page_token(client: httpx.AsyncClient, path: str) -> None:
    """The CSRF token a signed-in page carries (issue 12), sent as the header console.js sets.
    It is bound to the session cookie, so a client that signs in again must fetch it anew."""
    page = await client.get(path)
    match = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
    assert match, page.text[:500]
    client.headers["X-CSRF-Token"] = match.group(1)
