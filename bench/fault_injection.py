"""Fault injection (issue 12): residents chat over the real web socket while Redis, the worker
and the database are restarted; counts sent / stored / answered / lost and prints them.

The stack is `frontdoor up --no-demo` (uvicorn, Celery worker and beat, its own supervised
redis-server) on a PostgreSQL server of this run (Debian's binaries, a throw-away cluster;
SQLite if they are missing, and then the database is not restarted). Residents behave like the
widget: one outbox each, a message leaves it only when acknowledged (stored), a dropped socket
reconnects with its session and last seen id and sends the head of the outbox again.

Timeline: a baseline with no faults, then Redis killed (SIGKILL, `up` restarts it), the worker
killed (SIGKILL, `up` restarts it), PostgreSQL crashed and restarted (`pg_ctl restart -m
immediate`); then sending stops and outboxes drain. Two residents write an emergency, one just
before the Redis kill and one just before the worker kill: both must still be escalated
(SLA set to 20 s for the run). Reply times in the baseline and in the fault phase are printed as
a ratio. Usage: python bench/fault_injection.py [RESIDENTS]
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import platform
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402
import websockets  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.ext.asyncio import create_async_engine  # noqa: E402

from bot.models import Author, Message  # noqa: E402
from handoff.models import Case, EscalationDelivery  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
PG_BIN = next(iter(sorted(Path("/usr/lib/postgresql").glob("*/bin"))), None) if Path("/usr/lib/postgresql").exists() else None

EVERYDAY = [
    "見守りステッカーってどうやってもらうの",
    "でんわほうもんの日をかえたいです",
    "来週は旅行でるすにします。電話はいりません",
    "ボランティアさんに買い物を手伝ってもらえますか",
    "ひとりぐらしで、夜になるとさみしいです",
    "介護保険のことを聞きたいんだけど、どこに聞けばいい？",
    "あんしんすこやかセンターはどこにありますか",
    "母のことで相談したいです。最近もの忘れがひどくて",
    "ゴミ出しがしんどくなってきた",
    "ありがとう、たすかりました",
]
EMERGENCY = ["父がたおれて息してないみたい。どうしよう", "友達がくすりをたくさん飲んで、いま意識がない"]

BASELINE_S, REDIS_AT, WORKER_AT, DB_AT, STOP_AT, DRAIN_S = 30, 35, 60, 85, 110, 45
# As long as a resident waits before the widget gives up on a socket and reconnects.
ACK_TIMEOUT_S = 45


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


# --- PostgreSQL of this run ---------------------------------------------------------------


class Postgres:
    """A throw-away cluster run as the `postgres` user (initdb refuses root)."""

    def __init__(self, port: int):
        self.port = port
        self.dir = Path(tempfile.mkdtemp(prefix="fd-bench-pg-"))
        self.data = self.dir / "data"
        shutil.chown(self.dir, "postgres", "postgres")

    def _as_postgres(self, *args: str) -> None:
        subprocess.run(["runuser", "-u", "postgres", "--", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def start(self) -> Postgres:
        self._as_postgres(str(PG_BIN / "initdb"), "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "UTF8")
        self._ctl("start")
        self._as_postgres(str(PG_BIN / "createdb"), "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "frontdoor")
        return self

    def _ctl(self, *args: str) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._as_postgres(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-o", options, "-l", str(self.dir / "log"), "-w", *args)

    def crash_restart(self) -> None:
        self._ctl("restart", "-m", "immediate")

    def stop(self) -> None:
        try:
            self._ctl("stop", "-m", "fast")
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

    @property
    def url(self) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/frontdoor"


# --- Residents ------------------------------------------------------------------------------


class Stats:
    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []  # (session, client_id)
        self.acked = 0
        self.answered = 0
        self.reconnects = 0
        self.errors: collections.Counter = collections.Counter()
        self.reply_s = {"baseline": [], "faults": []}


class Resident:
    def __init__(self, url: str, stats: Stats, t0: float, n: int):
        self.url, self.stats, self.t0, self.n = url, stats, t0, n
        self.ws = None
        self.session: str | None = None
        self.last_id = 0
        self.outbox: collections.deque = collections.deque()
        self.awaiting: dict[int, float] = {}  # ack id → when its message was first sent
        self.newest_bot = 0  # a reply can arrive before its ack (caught up on a new socket)
        self.first_sent: dict[str, float] = {}

    def phase(self) -> str:
        return "baseline" if time.monotonic() - self.t0 < BASELINE_S else "faults"

    async def _connect(self) -> None:
        self.ws = await websockets.connect(self.url, open_timeout=10)
        await self.ws.send(json.dumps({"type": "hello", "session": self.session, "last_id": self.last_id}))
        while True:
            event = await self._recv(10)
            if event.get("type") == "welcome":
                self.session = event["session"]
                return

    async def _recv(self, timeout: float) -> dict:
        event = json.loads(await asyncio.wait_for(self.ws.recv(), timeout=timeout))  # type: ignore[union-attr]
        if event.get("type") == "message":
            self.last_id = max(self.last_id, event["id"])
            if event.get("author") == "bot":
                self.newest_bot = max(self.newest_bot, event["id"])
                for ack_id in [a for a in self.awaiting if a < event["id"]]:
                    sent_at = self.awaiting.pop(ack_id)
                    self.stats.answered += 1
                    self.stats.reply_s[self.phase()].append(time.monotonic() - sent_at)
        return event

    async def _drop(self) -> None:
        self.stats.reconnects += 1
        try:
            await self.ws.close()  # type: ignore[union-attr]
        except Exception:  # noqa: BLE001
            pass
        self.ws = None
        await asyncio.sleep(0.5 + random.random())

    async def flush(self, deadline: float) -> None:
        """Send the head of the outbox until it is acknowledged, reconnecting as needed."""
        while self.outbox and time.monotonic() < deadline:
            client_id, text = self.outbox[0]
            try:
                if self.ws is None:
                    await self._connect()
                self.first_sent.setdefault(client_id, time.monotonic())
                await self.ws.send(json.dumps({"type": "message", "client_id": client_id, "text": text}))  # type: ignore[union-attr]
                while True:
                    event = await self._recv(ACK_TIMEOUT_S)
                    if event.get("type") == "ack" and event.get("client_id") == client_id:
                        self.outbox.popleft()
                        self.stats.acked += 1
                        sent_at = self.first_sent.pop(client_id)
                        if self.newest_bot > event["id"]:
                            self.stats.answered += 1
                            self.stats.reply_s[self.phase()].append(time.monotonic() - sent_at)
                        else:
                            self.awaiting[event["id"]] = sent_at
                        break
                    if event.get("type") == "error":
                        self.stats.errors[event.get("code")] += 1
                        await asyncio.sleep(2)
                        break  # send it again
            except (OSError, TimeoutError, websockets.WebSocketException):
                await self._drop()

    async def listen(self, seconds: float) -> None:
        """Read replies for a while (a bot answer may arrive after the ack)."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.awaiting:
            try:
                if self.ws is None:
                    await self._connect()
                await self._recv(max(0.1, end - time.monotonic()))
            except TimeoutError:
                return
            except (OSError, websockets.WebSocketException):
                await self._drop()

    async def run(self, emergency_at: float | None) -> None:
        rng = random.Random(self.n)
        stop = self.t0 + STOP_AT
        while self.session is None:  # the widget says hello before the resident types
            try:
                await self._connect()
            except (OSError, TimeoutError, websockets.WebSocketException):
                await self._drop()
        while time.monotonic() < stop:
            if emergency_at is not None and time.monotonic() - self.t0 >= emergency_at:
                text, emergency_at = EMERGENCY[self.n % 2], None
            else:
                text = rng.choice(EVERYDAY)
            client_id = uuid.uuid4().hex
            self.outbox.append((client_id, text))
            self.stats.sent.append((self.session, client_id))
            await self.flush(stop + DRAIN_S)
            await self.listen(3 + 2 * rng.random())
        await self.flush(stop + DRAIN_S)
        await self.listen(30)


# --- The run ---------------------------------------------------------------------------------


def _child(up: subprocess.Popen, marker: str) -> psutil.Process | None:
    for child in psutil.Process(up.pid).children(recursive=True):
        try:
            if marker in " ".join(child.cmdline()):
                return child
        except psutil.NoSuchProcess:
            continue
    return None


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def _count(database_url: str, stats: Stats) -> dict:
    keys = {f"{session[:16]}:{client_id}" for session, client_id in stats.sent}
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            rows = (
                await conn.execute(
                    select(Message.id, Message.conversation_id, Message.channel_message_id).where(
                        Message.author == Author.RESIDENT, Message.channel_message_id.is_not(None)
                    )
                )
            ).all()
            ours = [r for r in rows if r.channel_message_id in keys]
            stored = [r.channel_message_id for r in ours]
            # A stored answer: a bot (or system) message after it in the same conversation.
            answers = (
                await conn.execute(
                    select(Message.conversation_id, func.max(Message.id))
                    .where(Message.author.in_([Author.BOT, Author.SYSTEM]), Message.conversation_id.in_({r.conversation_id for r in ours}))
                    .group_by(Message.conversation_id)
                )
            ).all()
            last_answer = dict(answers)
            answered_db = sum(1 for r in ours if last_answer.get(r.conversation_id, 0) > r.id)
            emergencies = (await conn.execute(select(Case.id, Case.escalation_level).where(Case.urgency == "emergency"))).all()
            deliveries = (await conn.execute(select(func.count()).select_from(EscalationDelivery).where(EscalationDelivery.attempts > 0))).scalar()
    finally:
        await engine.dispose()
    return {"answered_db": answered_db, "stored": len(set(stored)), "duplicates": len(stored) - len(set(stored)), "emergencies": emergencies, "deliveries_tried": deliveries}


async def main(n_residents: int) -> int:
    port = _free_port()
    data_dir = Path(tempfile.mkdtemp(prefix="fd-bench-"))
    pg = Postgres(_free_port()).start() if PG_BIN and shutil.which("runuser") else None
    database_url = pg.url if pg else f"sqlite+aiosqlite:///{data_dir / 'frontdoor.sqlite3'}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("FRONTDOOR_")}
    env.update(
        {
            "FRONTDOOR_DATA_DIR": str(data_dir),
            "FRONTDOOR_DATABASE_URL": database_url,
            "FRONTDOOR_PORT": str(port),
            "FRONTDOOR_SLA_EMERGENCY_SECONDS": "20",
            "FRONTDOOR_CACHE_PATH": os.environ.get("FRONTDOOR_CACHE_PATH", str(Path.home() / ".cache" / "frontdoor")),
            "PYTHONUNBUFFERED": "1",
        }
    )
    log(f"starting frontdoor up on {'PostgreSQL' if pg else 'SQLite'}; {n_residents} residents")
    up = subprocess.Popen([sys.executable, "-m", "frontdoor.cli", "up", "--no-demo"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    up_lines: list[str] = []

    async def pump_output() -> None:
        while True:
            line = await asyncio.to_thread(up.stdout.readline)  # type: ignore[union-attr]
            if not line:
                return
            up_lines.append(line.rstrip())
            if "再起動" in line or "停止" in line:
                log(f"up: {line.rstrip()}")

    reader = asyncio.create_task(pump_output())
    try:
        while not any("Ctrl-C" in line for line in up_lines):
            if up.poll() is not None:
                print("\n".join(up_lines))
                return 1
            await asyncio.sleep(0.5)
        stats = Stats()
        t0 = time.monotonic()
        residents = [Resident(f"ws://127.0.0.1:{port}/ws/setagaya", stats, t0, i) for i in range(n_residents)]
        emergency_at = {0: REDIS_AT - 3, 1: WORKER_AT - 3}
        chats = asyncio.gather(*(r.run(emergency_at.get(i)) for i, r in enumerate(residents)))

        async def faults() -> list[str]:
            done = []
            await asyncio.sleep(REDIS_AT)
            redis = _child(up, "redis-server")
            log("fault: Redis killed (SIGKILL)")
            redis.kill()  # type: ignore[union-attr]
            done.append("redis")
            await asyncio.sleep(WORKER_AT - REDIS_AT)
            log("fault: worker killed (SIGKILL)")
            _child(up, " worker ").kill()  # type: ignore[union-attr]
            done.append("worker")
            await asyncio.sleep(DB_AT - WORKER_AT)
            if pg is not None:
                log("fault: PostgreSQL crashed and restarted (pg_ctl restart -m immediate)")
                started = time.monotonic()
                await asyncio.to_thread(pg.crash_restart)
                log(f"PostgreSQL back after {time.monotonic() - started:.1f} s")
                done.append("database")
            else:
                log("SQLite: no database server to restart")
            return done

        injected, _ = await asyncio.gather(faults(), chats)
        # Escalation of the emergencies needs the beat's sweep and the worker: give them time.
        await asyncio.sleep(25)
        counts = await _count(database_url, stats)
        with_health = subprocess.run(["curl", "-s", f"http://127.0.0.1:{port}/healthz"], capture_output=True, text=True).stdout
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        except subprocess.TimeoutExpired:
            up.kill()
        reader.cancel()
        if pg is not None:
            pg.stop()
        shutil.rmtree(data_dir, ignore_errors=True)

    sent = len(stats.sent)
    lost = sent - counts["stored"]
    base, faulty = stats.reply_s["baseline"], stats.reply_s["faults"]

    def pct(values: list[float], q: float) -> float:
        return statistics.quantiles(values, n=100)[q - 1] if len(values) >= 2 else float("nan")

    print(f"\n=== Fault injection (issue 12) — {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f} ===")
    print(f"database: {'PostgreSQL (own cluster)' if pg else 'SQLite'}; faults injected: {', '.join(injected)}")
    print(f"residents {n_residents}, restarts said by up: {sum('再起動しました' in line for line in up_lines)}")
    print(f"sent {sent} | acknowledged {stats.acked} | stored {counts['stored']} | answered {stats.answered} seen by the resident ({counts['answered_db']} with a stored reply) | lost {lost} | stored twice {counts['duplicates']}")
    print(f"socket reconnects {stats.reconnects}; error frames {dict(stats.errors) or 0}")
    print(f"emergencies {len(counts['emergencies'])}, escalated {sum(1 for _, level in counts['emergencies'] if level >= 1)}; escalation deliveries tried {counts['deliveries_tried']}")
    print(f"reply time p50 baseline {pct(base, 50):.2f} s, during faults {pct(faulty, 50):.2f} s (×{pct(faulty, 50) / pct(base, 50):.2f}); "
          f"p95 {pct(base, 95):.2f} s → {pct(faulty, 95):.2f} s (×{pct(faulty, 95) / pct(base, 95):.2f})")
    print(f"/healthz at the end: {with_health}")
    return 0 if lost == 0 else 2


if __name__ == "__main__":
    sys.exit(asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 8)))
