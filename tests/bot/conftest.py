"""LINE: the real line-bot-sdk v3 client against a local fake Messaging API server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from frontdoor.redis_server import RedisHandle
from frontdoor.settings import Settings
from tests.conftest import LiveServer
from tests.fakes.line_api import FakeLine, body_of, sign


@pytest.fixture
async def fake_line() -> AsyncIterator[FakeLine]:
    fake = FakeLine()
    await fake.start()
    yield fake
    await fake.stop()


def line_settings(settings: Settings, fake: FakeLine, **overrides) -> Settings:  # noqa: ANN003
    return settings.model_copy(
        update={
            "line_channel_secret": fake.channel_secret,
            "line_channel_access_token": fake.access_token,
            "line_api_base_url": fake.base_url,
            "line_tenant": "setagaya",
            "line_push_backoff_seconds": 0.05,
            **overrides,
        }
    )


@pytest.fixture
def line_server(settings: Settings, decider, redis_handle: RedisHandle, fake_line: FakeLine) -> Iterator[LiveServer]:  # noqa: ANN001
    server = LiveServer(line_settings(settings, fake_line), decider, redis_handle).start()
    yield server
    server.stop()


async def post_events(server: LiveServer, fake: FakeLine, *events: dict, signature: str | None = None) -> httpx.Response:
    """POST a webhook body as LINE does, signed with the channel secret unless told otherwise."""
    body = body_of(*events)
    headers = {"Content-Type": "application/json"}
    sig = sign(fake.channel_secret, body) if signature is None else signature
    if sig:
        headers["X-Line-Signature"] = sig
    async with httpx.AsyncClient(base_url=server.base_url, timeout=30) as http:
        return await http.post("/line/webhook", content=body, headers=headers)
