"""Process-local figures in the Prometheus text format (issue 9): event-loop lag, requests,
turns and the inference queue. Each API process exposes its own on `/internal/metrics`;
Prometheus scrapes every replica. Plain counters in memory are right here: these are
figures about this process, never shared state.

Histograms also keep a window of recent samples, exported as `<name>_recent` quantiles, so a
benchmark or an operator can read "p99 over the last minute" without a Prometheus server.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
RECENT = 4096  # samples kept per histogram for the recent quantiles
QUANTILES = (0.5, 0.95, 0.99)

HELP = {
    "frontdoor_event_loop_lag_seconds": "How late the event loop ran a periodic timer",
    "frontdoor_http_requests_total": "HTTP requests served",
    "frontdoor_http_request_seconds": "HTTP request duration",
    "frontdoor_websockets_open": "Open WebSocket connections",
    "frontdoor_turns_total": "Resident messages handled (stored, decided, answered)",
    "frontdoor_turn_seconds": "Resident message to the bot's reply sent",
    "frontdoor_ack_seconds": "Resident message to its ack (stored)",
    "frontdoor_inference_seconds": "Time in the inference pool, queue wait included",
    "frontdoor_inference_in_flight": "Decisions running or waiting in the pool",
    "frontdoor_inference_queue_depth": "Decisions waiting for a free worker",
    "frontdoor_inference_rejected_total": "Decisions refused with the busy reply (queue full)",
    "frontdoor_inference_workers": "Inference pool size",
    "frontdoor_inference_queue_limit": "Decisions allowed to wait beyond the workers",
    "frontdoor_inference_batches_total": "Jobs sent to the inference pool (one embedding call each)",
    "frontdoor_inference_batched_messages_total": "Messages decided in those jobs",
}


def _key(name: str, labels: dict[str, str]) -> tuple[str, tuple[tuple[str, str], ...]]:
    return name, tuple(sorted(labels.items()))


def _fmt_labels(labels: tuple[tuple[str, str], ...], extra: tuple[tuple[str, str], ...] = ()) -> str:
    items = (*labels, *extra)
    if not items:
        return ""
    return "{" + ",".join(f'{k}="{v}"' for k, v in items) + "}"


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * len(BUCKETS)
        self.total = 0
        self.sum = 0.0
        self.recent: deque[float] = deque(maxlen=RECENT)

    def observe(self, value: float) -> None:
        self.total += 1
        self.sum += value
        self.recent.append(value)
        for i, bound in enumerate(BUCKETS):
            if value <= bound:
                self.counts[i] += 1

    def quantile(self, q: float) -> float:
        ordered = sorted(self.recent)
        if not ordered:
            return 0.0
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Metrics:
    def __init__(self) -> None:
        self.counters: dict[tuple, float] = defaultdict(float)
        self.gauges: dict[tuple, float] = {}
        self.histograms: dict[tuple, Histogram] = defaultdict(Histogram)

    def inc(self, name: str, value: float = 1.0, **labels: str) -> None:
        self.counters[_key(name, labels)] += value

    def set(self, name: str, value: float, **labels: str) -> None:
        self.gauges[_key(name, labels)] = value

    def add(self, name: str, value: float, **labels: str) -> None:
        key = _key(name, labels)
        self.gauges[key] = self.gauges.get(key, 0.0) + value

    def observe(self, name: str, value: float, **labels: str) -> None:
        self.histograms[_key(name, labels)].observe(value)

    def render(self) -> str:
        """The Prometheus text exposition format (version 0.0.4)."""
        lines: list[str] = []
        seen: set[str] = set()

        def head(name: str, kind: str) -> None:
            if name not in seen:
                seen.add(name)
                lines.append(f"# HELP {name} {HELP.get(name, name)}")
                lines.append(f"# TYPE {name} {kind}")

        for (name, labels), value in sorted(self.counters.items()):
            head(name, "counter")
            lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
        for (name, labels), value in sorted(self.gauges.items()):
            head(name, "gauge")
            lines.append(f"{name}{_fmt_labels(labels)} {value:g}")
        for (name, labels), h in sorted(self.histograms.items(), key=lambda kv: kv[0]):
            head(name, "histogram")
            for bound, count in zip(BUCKETS, h.counts):
                lines.append(f"{name}_bucket{_fmt_labels(labels, (('le', f'{bound:g}'),))} {count}")
            lines.append(f"{name}_bucket{_fmt_labels(labels, (('le', '+Inf'),))} {h.total}")
            lines.append(f"{name}_sum{_fmt_labels(labels)} {h.sum:.6f}")
            lines.append(f"{name}_count{_fmt_labels(labels)} {h.total}")
        for (name, labels), h in sorted(self.histograms.items(), key=lambda kv: kv[0]):
            recent = f"{name}_recent"
            head(recent, "summary")
            for q in QUANTILES:
                lines.append(f"{recent}{_fmt_labels(labels, (('quantile', f'{q:g}'),))} {h.quantile(q):.6f}")
            lines.append(f"{recent}_count{_fmt_labels(labels)} {len(h.recent)}")
        return "\n".join(lines) + "\n"


async def watch_loop_lag(metrics: Metrics, *, interval_s: float = 0.05) -> None:
    """Sleep `interval_s` again and again; whatever the wake-up is late by is time the loop
    spent on something else (a blocking call, a long burst of callbacks)."""
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(interval_s)
        metrics.observe("frontdoor_event_loop_lag_seconds", max(0.0, loop.time() - started - interval_s))


def is_internal(host: str | None) -> bool:
    """Loopback and private networks (the load balancer's side); the proxy also refuses the path."""
    if not host:
        return False
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return address.is_loopback or address.is_private


Scope = MutableMapping[str, Any]
ASGIApp = Callable[[Scope, Callable, Callable], Awaitable[None]]


class RequestMetrics:
    """ASGI middleware: counts and times HTTP requests, counts open WebSockets (pure ASGI,
    so WebSocket frames pass through untouched)."""

    def __init__(self, app: ASGIApp, metrics_of: Callable[[], Metrics | None]):
        self.app = app
        self.metrics_of = metrics_of  # the runtime's, once the lifespan has built it

    async def __call__(self, scope: Scope, receive: Callable, send: Callable) -> None:
        metrics = self.metrics_of()
        if metrics is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            metrics.add("frontdoor_websockets_open", 1)
            try:
                await self.app(scope, receive, send)
            finally:
                metrics.add("frontdoor_websockets_open", -1)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: dict) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            klass = f"{status['code'] // 100}xx"
            metrics.inc("frontdoor_http_requests_total", status=klass)
            metrics.observe("frontdoor_http_request_seconds", time.perf_counter() - started)
