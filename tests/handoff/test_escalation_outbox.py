"""Escalations that cannot silently stop (issue 12 「Emergencies that stop escalating」):
one outbox row per notifier, retried with back-off; the console counts as reached only when
an on-call counselor has it open; repeated, supervisors included, until someone accepts.
Real parts: Redis, a webhook over HTTP (aiohttp), SMTP (aiosmtpd), the console's socket."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import timedelta
from email.header import decode_header, make_header

import pytest
import websockets
from aiohttp import web
from sqlalchemy import select

from bot.engine import Inbound
from frontdoor.clock import utc_now
from frontdoor.models import ChannelKind
from handoff import cases as case_service
from handoff import escalation, presence
from handoff.models import Case, CaseEvent, DeliveryStatus, Role
from handoff.notify import ConsoleNotifier, SmtpNotifier, WebhookNotifier
from handoff.relay import Relay
from tests.handoff.staff import console_client, make_staff

pytestmark = pytest.mark.asyncio

REPEAT = {"emergency": timedelta(minutes=2), "urgent": timedelta(minutes=15)}
BACKOFF = escalation.Backoff(base=timedelta(seconds=20), cap=timedelta(minutes=5))


async def _overdue_emergency(runtime, session, tenant: str, text: str) -> Case:  # noqa: ANN001
    """An emergency written three minutes ago: past its 2-minute SLA, accepted by no one."""
    outcome = await runtime.conversation_engine.handle_inbound(
        session, Inbound(tenant, ChannelKind.WEB, f"outbox-{uuid.uuid4().hex[:12]}", text), now=utc_now() - timedelta(minutes=3)
    )
    assert outcome.urgency == "emergency"
    return await session.scalar(select(Case).where(Case.conversation_id == outcome.conversation_id))


async def _actions(session, case_id) -> list[str]:  # noqa: ANN001
    return [e.action for e in await session.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id))]


class Hook:
    """A webhook receiver that fails with the given statuses first, then accepts."""

    def __init__(self, failures: list[int]):
        self.failures = list(failures)
        self.received: list[dict] = []
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(await request.json())
        if self.failures:
            return web.Response(status=self.failures.pop(0))
        return web.json_response({"ok": True})

    async def __aenter__(self) -> Hook:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}/hook"  # type: ignore[union-attr]
        return self

    async def __aexit__(self, *exc) -> None:  # noqa: ANN002
        await self.runner.cleanup()  # type: ignore[union-attr]


async def test_a_failed_webhook_is_retried_with_backoff_until_it_answers(runtime, session):  # noqa: ANN001
    await make_staff(session, tenant_id="kashiwa", on_call=True, email="toban@example.invalid")
    case = await _overdue_emergency(runtime, session, "kashiwa", "母が階段から落ちて動かない。返事がない")
    now = utc_now()
    async with Hook(failures=[503]) as hook:
        notifiers = [WebhookNotifier(hook.url, "http://console.test")]
        assert await escalation.escalate(session, case_id=case.id, now=now, notifier_names=["webhook"], repeat_after=REPEAT)
        # The level is claimed and its delivery queued in one transaction, before any sending.
        [row] = await escalation.deliveries_of(session, case.id)
        assert (row.notifier, row.status, row.attempts) == ("webhook", DeliveryStatus.PENDING, 0)

        assert (await escalation.deliver_due(session, now=now, notifiers=notifiers, backoff=BACKOFF, case_id=case.id))["retry"] == 1
        [row] = await escalation.deliveries_of(session, case.id)
        assert row.status == DeliveryStatus.PENDING and row.attempts == 1 and row.last_error == "HTTPStatusError"
        assert row.next_attempt_at == now + timedelta(seconds=20)

        # Not yet due: nothing is sent; once the back-off has passed, it is.
        await escalation.deliver_due(session, now=now + timedelta(seconds=10), notifiers=notifiers, backoff=BACKOFF, case_id=case.id)
        assert len(hook.received) == 1
        later = now + timedelta(seconds=21)
        assert (await escalation.deliver_due(session, now=later, notifiers=notifiers, backoff=BACKOFF, case_id=case.id))["sent"] == 1
    [row] = await escalation.deliveries_of(session, case.id)
    assert row.status == DeliveryStatus.SENT and row.sent_at == later and row.attempts == 2
    assert len(hook.received) == 2 and hook.received[1]["case_id"] == str(case.id)
    assert "母" not in json.dumps(hook.received, ensure_ascii=False)  # ids only, never the resident's words
    actions = await _actions(session, case.id)
    assert actions.count("escalated") == 1 and "notify_retry" in actions and "notify_sent" in actions


async def _wait_online(runtime, tenant: str, staff_id) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 10
    while str(staff_id) not in await presence.online_staff(runtime.redis, tenant):
        assert time.monotonic() < deadline, "the console socket did not register its presence"
        await asyncio.sleep(0.1)


async def test_the_console_counts_as_reached_only_when_an_on_call_counselor_has_it_open(runtime, session, live_server):  # noqa: ANN001
    on_call = await make_staff(session, tenant_id="kashiwa", on_call=True)
    colleague = await make_staff(session, tenant_id="kashiwa")  # not on call
    case = await _overdue_emergency(runtime, session, "kashiwa", "友達がくすりをたくさん飲んだって。いま意識がないみたい")
    notifiers = [ConsoleNotifier(Relay(runtime.redis))]
    now = utc_now()
    assert await escalation.escalate(session, case_id=case.id, now=now, notifier_names=["console"], repeat_after=REPEAT)

    # No one has the console open: published, but not counted as reached.
    await escalation.deliver_due(session, now=now, notifiers=notifiers, backoff=BACKOFF, case_id=case.id)
    [row] = await escalation.deliveries_of(session, case.id)
    assert row.status == DeliveryStatus.PENDING and row.last_error == "no_one_online"

    # A colleague who is not on call opens it: still not reached.
    other = await console_client(live_server.base_url, colleague)
    other_ws = await websockets.connect(f"{live_server.ws_url}/console/ws", additional_headers={"Cookie": f"frontdoor_staff={other.cookies['frontdoor_staff']}"})
    await _wait_online(runtime, "kashiwa", colleague.id)
    await escalation.deliver_due(session, now=now + timedelta(seconds=21), notifiers=notifiers, backoff=BACKOFF, case_id=case.id)
    [row] = await escalation.deliveries_of(session, case.id)
    assert row.status == DeliveryStatus.PENDING and row.attempts == 2

    # The on-call counselor opens the queue: the next try reaches them, and their page hears it.
    console = await console_client(live_server.base_url, on_call)
    queue_ws = await websockets.connect(f"{live_server.ws_url}/console/ws", additional_headers={"Cookie": f"frontdoor_staff={console.cookies['frontdoor_staff']}"})
    await _wait_online(runtime, "kashiwa", on_call.id)
    await escalation.deliver_due(session, now=now + timedelta(seconds=62), notifiers=notifiers, backoff=BACKOFF, case_id=case.id)
    [row] = await escalation.deliveries_of(session, case.id)
    assert row.status == DeliveryStatus.SENT and row.attempts == 3
    heard = None
    deadline = time.monotonic() + 10
    while heard is None and time.monotonic() < deadline:
        event = json.loads(await asyncio.wait_for(queue_ws.recv(), timeout=10))
        if event.get("type") == "escalation" and event["case_id"] == str(case.id):
            heard = event
    assert heard and heard["message"].startswith("【緊急】")

    # Closing the page takes the counselor off the list at once.
    await queue_ws.close()
    deadline = time.monotonic() + 10
    while str(on_call.id) in await presence.online_staff(runtime.redis, "kashiwa"):
        assert time.monotonic() < deadline
        await asyncio.sleep(0.1)
    await other_ws.close()
    await console.aclose()
    await other.aclose()


async def test_an_unaccepted_emergency_is_escalated_again_to_supervisors_until_someone_takes_it(runtime, session, inbox):  # noqa: ANN001
    tag = uuid.uuid4().hex[:6]
    counselor = await make_staff(session, tenant_id="setagaya", on_call=True, email=f"oncall-{tag}@example.invalid")
    await make_staff(session, tenant_id="setagaya", role=Role.SUPERVISOR, email=f"boss-{tag}@example.invalid")
    case_id = (await _overdue_emergency(runtime, session, "setagaya", "じいちゃんが倒れていびきかいてる。呼んでも起きない")).id
    port = inbox.port
    notifiers = [SmtpNotifier("127.0.0.1", port, "frontdoor@example.invalid", "http://console.test")]

    async def tick(at) -> bool:  # noqa: ANN001
        """What the beat does every 20 s: escalate what is due, deliver what is due."""
        won = await escalation.escalate(session, case_id=case_id, now=at, notifier_names=["email"], repeat_after=REPEAT)
        await escalation.deliver_due(session, now=at, notifiers=notifiers, backoff=BACKOFF, case_id=case_id)
        return won

    t0 = utc_now()
    assert await tick(t0)
    assert not await tick(t0 + timedelta(minutes=1))  # within the repeat interval: nothing more
    assert await tick(t0 + timedelta(minutes=2, seconds=1))  # still no one: again, wider
    first, second = inbox.mails
    assert f"oncall-{tag}@" in first["To"] and f"boss-{tag}@" not in first["To"]
    assert f"oncall-{tag}@" in second["To"] and f"boss-{tag}@" in second["To"]
    assert "【緊急・再通知】" in str(make_header(decode_header(second["Subject"])))
    assert case_id in await escalation.overdue_case_ids(session, now=t0 + timedelta(minutes=4, seconds=2))

    # Level 3 is claimed, then the counselor takes the case before it is delivered: the
    # notification is cancelled, and the case is no longer under the SLA.
    at = t0 + timedelta(minutes=4, seconds=2)
    assert await escalation.escalate(session, case_id=case_id, now=at, notifier_names=["email"], repeat_after=REPEAT)
    await case_service.take_over(session, case_id=case_id, counselor_id=counselor.id, now=at)
    await session.commit()
    assert (await escalation.deliver_due(session, now=at, notifiers=notifiers, backoff=BACKOFF, case_id=case_id))["cancelled"] == 1
    assert len(inbox.mails) == 2
    later = t0 + timedelta(minutes=30)
    assert case_id not in await escalation.overdue_case_ids(session, now=later)
    assert not await escalation.escalate(session, case_id=case_id, now=later, notifier_names=["email"], repeat_after=REPEAT)
    levels = [(d.level, d.status) for d in await escalation.deliveries_of(session, case_id)]
    assert levels == [(1, DeliveryStatus.SENT), (2, DeliveryStatus.SENT), (3, DeliveryStatus.CANCELLED)]
