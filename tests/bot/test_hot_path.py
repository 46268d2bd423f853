"""The hot path under load (issue 9): the decision runs in a bounded pool, the ack comes as
soon as the words are stored, a full pool answers "busy" at once (yet still raises an
emergency), and the app reports its own event-loop lag and turn figures."""

from __future__ import annotations

import asyncio
import re
import threading
import uuid
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import httpx
import pytest
from sqlalchemy import func, select

from bot.decide import BUSY_REPLY
from bot.engine import ConversationEngine, Inbound
from bot.inference import InferencePool
from bot.models import Author, Message
from frontdoor.metrics import Metrics
from frontdoor.models import ChannelKind
from handoff.models import Case
from tests.bot.wsclient import ChatClient

pytestmark = pytest.mark.asyncio


def inbound(text: str, tenant: str = "kashiwa") -> Inbound:
    return Inbound(tenant, ChannelKind.WEB, uuid.uuid4().hex, text, channel_message_id=uuid.uuid4().hex)


def engine_with(runtime, pool: InferencePool) -> ConversationEngine:  # noqa: ANN001
    return ConversationEngine(
        settings=runtime.settings, tenants=runtime.tenants, decider=runtime.decider, relay=runtime.relay,
        policy=runtime.conversation_engine.policy, inference=pool,
    )


async def test_ack_comes_after_the_commit_and_before_the_reply(runtime, session):  # noqa: ANN001
    seen: dict = {}

    async def on_stored(message_id: int) -> None:
        async with runtime.sessions() as other:  # another connection sees only committed rows
            stored = await other.get(Message, message_id)
            replies = await other.scalar(
                select(func.count()).select_from(Message).where(Message.conversation_id == stored.conversation_id, Message.author == Author.BOT)
            )
        seen.update(text=stored.text, replies=replies)

    outcome = await runtime.conversation_engine.handle_inbound(session, inbound("ヘルパーさんをたのみたいんやけど"), on_stored=on_stored)
    assert seen == {"text": "ヘルパーさんをたのみたいんやけど", "replies": 0}
    assert outcome.replies and outcome.replies[0].author == "bot"


def gated_pool(runtime, gate: threading.Event, *, workers: int, queue_limit: int) -> InferencePool:  # noqa: ANN001
    """The real decider behind a gate, so the test decides when the busy workers free up."""

    def gated(tenant, text, kwargs):  # noqa: ANN001, ANN202
        def job():  # noqa: ANN202
            gate.wait(30)
            return runtime.decider.decide(tenant, text, **kwargs)

        return job

    return InferencePool(ThreadPoolExecutor(workers), gated, workers=workers, queue_limit=queue_limit, metrics=Metrics(), kind="thread")


async def test_full_pool_answers_busy_at_once_but_still_raises_an_emergency(runtime):  # noqa: ANN001
    gate = threading.Event()
    pool = gated_pool(runtime, gate, workers=1, queue_limit=1)
    engine = engine_with(runtime, pool)

    async def turn(text: str):  # noqa: ANN202
        async with runtime.sessions() as s:
            return await engine.handle_inbound(s, inbound(text))

    running = asyncio.create_task(turn("介護保険の申請はどこでできますか"))
    queued = asyncio.create_task(turn("配食サービスってありますか"))
    while pool.in_flight < 2:
        await asyncio.sleep(0.01)

    # Pool full: an ordinary question gets the busy reply now, its words stored.
    busy = await asyncio.wait_for(turn("おむつの助成について知りたいです"), timeout=10)
    assert [r.text for r in busy.replies] == [BUSY_REPLY]
    # ...but the rules alone still catch a resident in danger: a case, not "try later".
    danger = await asyncio.wait_for(turn("もう死にたい。今から飛び降りる"), timeout=10)
    assert danger.urgency == "emergency" and danger.case_id is not None
    assert all(BUSY_REPLY not in r.text for r in danger.replies)
    async with runtime.sessions() as s:
        assert (await s.get(Message, busy.inbound_id)).text == "おむつの助成について知りたいです"
        assert await s.get(Case, danger.case_id) is not None
    assert "frontdoor_inference_rejected_total 2" in pool.metrics.render()

    gate.set()  # the waiting ones are answered normally once the workers free up
    for done in await asyncio.gather(running, queued):
        assert done.replies and BUSY_REPLY not in done.replies[0].text
    pool.close()


async def test_pool_runs_decisions_concurrently(runtime):  # noqa: ANN001
    """Two workers: two decisions in flight at once, neither waits in the queue."""
    gate = threading.Event()
    pool = gated_pool(runtime, gate, workers=2, queue_limit=0)
    tenant = runtime.tenants.get("setagaya")
    from frontdoor.clock import utc_now
    from handoff.urgency import Urgency

    decide = partial(pool.decide, tenant, prior=Urgency.NONE, now=utc_now())
    tasks = [asyncio.create_task(decide("見守りステッカーがほしい")), asyncio.create_task(decide("電話訪問をお休みしたい"))]
    while pool.in_flight < 2:
        await asyncio.sleep(0.01)
    assert pool.waiting == 0
    gate.set()
    topics = [d.topic for d in await asyncio.gather(*tasks)]
    assert topics[0] and topics[0].startswith("setagaya.sticker") and topics[1] and "phone_visit" in topics[1]
    pool.close()


def figure(text: str, name: str) -> float:
    match = re.search(rf"^{re.escape(name)} ([0-9.e+-]+)$", text, re.MULTILINE)
    assert match, f"{name} missing"
    return float(match.group(1))


async def test_metrics_endpoint_reports_lag_turns_and_queue(live_server):  # noqa: ANN001
    residents = [await ChatClient(f"{live_server.ws_url}/ws/kashiwa").connect() for _ in range(3)]
    for resident, text in zip(residents, ["窓口は何時まで？", "めんだんの予約したい", "ばあちゃんの介護のことで相談"]):
        await resident.send_text(text)
    for resident in residents:
        ack = await resident.next_event("ack")
        assert ack["id"] > 0
        await resident.bot_reply()
        await resident.close()
    async with httpx.AsyncClient(base_url=live_server.base_url) as client:
        response = await client.get("/internal/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE frontdoor_event_loop_lag_seconds histogram" in text
    assert figure(text, "frontdoor_event_loop_lag_seconds_count") > 0
    assert figure(text, 'frontdoor_turns_total{channel="web"}') >= 3
    assert figure(text, 'frontdoor_turn_seconds_count{channel="web"}') >= 3
    assert figure(text, "frontdoor_inference_queue_depth") == 0
    assert figure(text, "frontdoor_inference_workers") == 1
    assert 0 <= figure(text, 'frontdoor_event_loop_lag_seconds_recent{quantile="0.99"}') < 1.0


async def test_metrics_are_not_served_to_the_public_internet(live_server):  # noqa: ANN001
    transport = httpx.ASGITransport(app=live_server.app, client=("133.242.5.9", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://frontdoor.example") as client:
        response = await client.get("/internal/metrics")
    assert response.status_code == 404 and "frontdoor_" not in response.text


async def test_a_dead_worker_process_is_replaced(runtime):  # noqa: ANN001
    """A worker killed mid-decision (out of memory, a crash in the C engine) fails that one
    message (the engine answers with its fallback, the words are stored); the next get a fresh pool."""
    import multiprocessing
    import os
    from concurrent.futures import BrokenExecutor, ProcessPoolExecutor

    def jobs(tenant, text, kwargs):  # noqa: ANN001, ANN202
        return partial(os._exit, 3) if text == "crash" else partial(str.upper, text)

    spawn = multiprocessing.get_context("spawn")
    pool = InferencePool(partial(ProcessPoolExecutor, 1, mp_context=spawn), jobs, workers=1, queue_limit=0, kind="process")
    tenant = runtime.tenants.get("kashiwa")
    with pytest.raises(BrokenExecutor):
        await pool.decide(tenant, "crash")
    assert await pool.decide(tenant, "still here") == "STILL HERE"
    pool.close()


async def test_waiting_messages_are_decided_together_in_one_job(runtime):  # noqa: ANN001
    """Micro-batching (issue 9): while the one worker is busy, the messages that arrive wait;
    when it frees up they go to it as ONE job (one embedding call) and each is decided exactly
    as it would be alone, an emergency included. The queue limit still counts messages."""
    from bot.inference import Busy
    from frontdoor.clock import utc_now
    from handoff.urgency import Urgency

    gate = threading.Event()
    decider = runtime.decider

    def call(tenant, text, kwargs):  # noqa: ANN001, ANN202
        return lambda: gate.wait(30) and decider.decide(tenant, text, **kwargs)

    def batch_call(requests):  # noqa: ANN001, ANN202
        return lambda: gate.wait(30) and decider.decide_batch(list(requests))

    pool = InferencePool(
        ThreadPoolExecutor(1), call, workers=1, queue_limit=3, metrics=Metrics(), kind="thread", batch_call=batch_call, batch_max=8
    )
    tenant, now = runtime.tenants.get("setagaya"), utc_now()
    texts = ["見守りステッカーがほしい", "電話訪問をお休みしたい", "はいしょくサービスってある？", "もう死にたい。今から飛び降りる"]
    tasks = [asyncio.create_task(pool.decide(tenant, texts[0], prior=Urgency.NONE, now=now))]
    while pool.in_flight < 1:
        await asyncio.sleep(0.01)
    tasks += [asyncio.create_task(pool.decide(tenant, t, prior=Urgency.NONE, now=now)) for t in texts[1:]]
    while pool.in_flight < 4:
        await asyncio.sleep(0.01)
    with pytest.raises(Busy):  # one worker + three waiting: full
        await pool.decide(tenant, "おむつの助成について知りたいです", prior=Urgency.NONE, now=now)
    gate.set()
    together = await asyncio.gather(*tasks)
    alone = [decider.decide(tenant, t, prior=Urgency.NONE, now=now) for t in texts]
    assert [(d.assessment, d.reply, d.buttons, d.topic) for d in together] == [(d.assessment, d.reply, d.buttons, d.topic) for d in alone]
    assert together[3].assessment.level == Urgency.EMERGENCY and together[3].raised
    metrics = pool.metrics.render()
    assert figure(metrics, "frontdoor_inference_batches_total") == 2  # the first alone, then three together
    assert figure(metrics, "frontdoor_inference_batched_messages_total") == 4
    pool.close()
