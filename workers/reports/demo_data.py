"""Months of realistic synthetic conversations so a new user sees real figures at once
(`frontdoor demo-data`, and `frontdoor up` on first start).

Everything is generated in memory and bulk-inserted (one executemany per table), so four
months for both tenants take a few seconds on SQLite. Demo residents have pseudonyms
starting with "demo-", which is how a second run knows the data is already there.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path

import yaml
from sqlalchemy import delete, func, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Conversation, Message, ResidentContact
from frontdoor.clock import JST, as_utc
from frontdoor.models import Channel
from frontdoor.tenants import Tenant
from handoff.models import Case, CaseEvent, CaseNote, Counselor, Role
from handoff.requests.models import Request as ServiceRequest
from handoff.requests.models import RequestEvent
from knowledge.gaps import KnowledgeGap
from workers.reports.periods import Month

MESSAGES_FILE = Path(__file__).with_name("demo_messages.yaml")
PREFIX = "demo-"
# Share of conversations starting in each hour (JST): a daytime peak, an evening bump, a few at night.
HOUR_WEIGHTS = [2, 1, 1, 1, 1, 2, 3, 5, 8, 12, 13, 12, 9, 11, 12, 11, 10, 9, 7, 7, 8, 7, 5, 3]
ROUTE_WEIGHTS = {"phone": 45, "chat": 25, "face_to_face": 15, "email": 15}
OUTCOMES = ["解決", "情報提供", "関係機関へ紹介", "継続支援", "緊急対応（119/110）", "連絡がとれない"]


@dataclass
class DemoConfig:
    months: int = 4
    per_day: tuple[int, int] = (15, 25)
    urgent_rate: float = 0.05
    emergency_rate: float = 0.01
    complaint_rate: float = 0.006
    human_request_rate: float = 0.03
    gap_rate: float = 0.04
    seed: int = 20261101


@dataclass
class _Rows:
    contacts: list[dict] = field(default_factory=list)
    conversations: list[dict] = field(default_factory=list)
    messages: list[dict] = field(default_factory=list)
    cases: list[dict] = field(default_factory=list)
    events: list[dict] = field(default_factory=list)
    gaps: list[tuple[uuid.UUID, str, str, datetime]] = field(default_factory=list)  # (conversation, tenant, question, asked at)
    requests: list[dict] = field(default_factory=list)  # complaints are request records (issue 13)


def load_messages(path: Path = MESSAGES_FILE) -> dict:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    for tenant in ("setagaya", "kashiwa"):
        for name in ("categories", "urgent", "emergency", "complaints", "complaint_responses"):
            if not data[tenant].get(name):
                raise ValueError(f"{path.name}: {tenant}.{name} is empty")
    return data


async def demo_exists(session: AsyncSession, tenant_id: str | None = None) -> bool:
    stmt = select(func.count()).select_from(Conversation).join(ResidentContact, ResidentContact.id == Conversation.contact_id)
    stmt = stmt.where(ResidentContact.pseudonym.like(f"{PREFIX}%"))
    if tenant_id:
        stmt = stmt.where(Conversation.tenant_id == tenant_id)
    return bool(await session.scalar(stmt))


async def remove_demo(session: AsyncSession) -> None:
    """Delete every demo conversation and what hangs off it (for --force)."""
    contacts = select(ResidentContact.id).where(ResidentContact.pseudonym.like(f"{PREFIX}%"))
    conversations = select(Conversation.id).where(Conversation.contact_id.in_(contacts))
    cases = select(Case.id).where(Case.conversation_id.in_(conversations))
    await session.execute(delete(KnowledgeGap).where(KnowledgeGap.conversation_id.in_(conversations)))
    demo_requests = select(ServiceRequest.id).where(ServiceRequest.conversation_id.in_(conversations))
    await session.execute(delete(RequestEvent).where(RequestEvent.request_id.in_(demo_requests)))
    await session.execute(delete(ServiceRequest).where(ServiceRequest.conversation_id.in_(conversations)))
    await session.execute(delete(CaseEvent).where(CaseEvent.case_id.in_(cases)))
    await session.execute(delete(CaseNote).where(CaseNote.case_id.in_(cases)))
    await session.execute(delete(Case).where(Case.conversation_id.in_(conversations)))
    await session.execute(delete(Message).where(Message.conversation_id.in_(conversations)))
    await session.execute(delete(Conversation).where(Conversation.contact_id.in_(contacts)))
    await session.execute(delete(ResidentContact).where(ResidentContact.pseudonym.like(f"{PREFIX}%")))


def _lognormal_seconds(rng: random.Random, median_s: float, sigma: float = 0.6) -> int:
    return max(20, int(rng.lognormvariate(math.log(median_s), sigma)))


class _Generator:
    def __init__(self, tenant: Tenant, texts: dict, channels: dict[str, int], staff: list[uuid.UUID], cfg: DemoConfig, rng: random.Random):
        self.tenant, self.cfg, self.rng = tenant, cfg, rng
        self.common, self.texts = texts, texts[tenant.id]
        self.channels, self.staff = channels, staff
        cats = self.texts["categories"]
        self.categories = list(cats)
        self.weights = [cats[c]["weight"] for c in self.categories]
        self.contacts: dict[str, list[uuid.UUID]] = {kind: [] for kind in channels}
        self.rows = _Rows()

    def _contact(self, kind: str) -> uuid.UUID:
        pool = self.contacts[kind]
        if pool and self.rng.random() < 0.3:  # some residents come back
            return self.rng.choice(pool)
        contact_id = uuid.uuid4()
        pool.append(contact_id)
        self.rows.contacts.append(
            dict(id=contact_id, channel_id=self.channels[kind], pseudonym=f"{PREFIX}{self.tenant.id}-{kind}-{len(pool)}", address=None)
        )
        return contact_id

    def _message(self, conv: dict, at: datetime, author: str, text: str, counselor_id: uuid.UUID | None = None) -> None:
        self.rows.messages.append(
            dict(
                conversation_id=conv["id"], channel_id=conv["channel_id"], direction="inbound" if author == "resident" else "outbound",
                author=author, text=text, channel_message_id=None, counselor_id=counselor_id, meta=None, created_at=at,
            )
        )

    def day(self, day: date, now: datetime) -> None:
        low, high = self.cfg.per_day
        count = self.rng.randint(low, high)
        if day.weekday() >= 5:
            count = int(count * 0.8)
        hours = self.rng.choices(range(24), weights=HOUR_WEIGHTS, k=count)
        for hour in hours:
            start = datetime.combine(day, time(hour, self.rng.randrange(60), self.rng.randrange(60)), JST)
            if start.astimezone(JST) < now.astimezone(JST) - timedelta(minutes=90):
                self.conversation(as_utc(start))

    def conversation(self, started: datetime) -> None:
        rng, cfg = self.rng, self.cfg
        share = rng.random()  # one draw, as before: most residents write on LINE or the web widget
        kind = "telegram" if share < 0.1 else "line" if share < 0.45 else "web"
        local = started.astimezone(JST)
        roll = rng.random()
        category = rng.choices(self.categories, weights=self.weights)[0]
        spec = self.texts["categories"][category]
        conv = dict(
            id=uuid.uuid4(), tenant_id=self.tenant.id, channel_id=self.channels[kind], contact_id=self._contact(kind),
            status="closed", mode="bot", started_at=started, local_date=local.date(), local_hour=local.hour,
            outside_hours=not self.tenant.ward_office_hours.is_open(started), category=category,
            topic=rng.choice(spec["topics"]), urgency="none", awaiting=None,
        )
        at = started
        case = None
        if roll < cfg.emergency_rate + cfg.urgent_rate:
            level = "emergency" if roll < cfg.emergency_rate else "urgent"
            text = rng.choice(self.texts[level])
            conv["urgency"], conv["mode"], conv["topic"] = level, "human", None
            missing = self.tenant.id == "setagaya" and "帰ってきません" in text
            if self.tenant.id == "setagaya":
                conv["category"] = "医療・介護" if "倒れ" in text else "相談"
            case = self._case(conv, started, level, kind="missing_person" if missing else "flagged")
        elif roll < cfg.emergency_rate + cfg.urgent_rate + cfg.complaint_rate:
            text = rng.choice(self.texts["complaints"])
            conv["topic"], conv["category"] = f"{self.tenant.id}.complaint", "その他"
            case = self._case(conv, started, "none", kind="complaint", route="phone")
            case["closing_note"] = rng.choice(self.texts["complaint_responses"])
            case["outcome"] = "苦情対応"
            self.rows.requests.append(dict(
                id=uuid.uuid4(), tenant_id=self.tenant.id, conversation_id=conv["id"], kind="complaint", status="done", origin="chat",
                fields={"content": text, "method": "チャット", "response": case["closing_note"]}, step=None, number=None,
                outside_hours=conv["outside_hours"], created_at=started, updated_at=case["closed_at"], recorded_at=started,
                due_at=started + timedelta(hours=24), closed_at=None, done_at=case["closed_at"], done_by=case["assignee_id"], question_at=None,
            ))
        else:
            text = rng.choice(spec["texts"])
            if rng.random() < cfg.human_request_rate:
                conv["mode"] = "human"
                case = self._case(conv, started, "none", kind="request")
        self._message(conv, at, "resident", text)
        if case is None and rng.random() < cfg.gap_rate and self.common["gaps"].get(self.tenant.id):
            question = rng.choice(self.common["gaps"][self.tenant.id])
            self.rows.messages[-1]["text"] = question
            conv["topic"], conv["category"] = None, None  # uncategorized: counts as その他
            self.rows.gaps.append((conv["id"], self.tenant.id, question, started))
        for turn in range(rng.choice([1, 1, 2, 2, 3, 4])):
            at += timedelta(seconds=rng.randint(3, 15))
            self._message(conv, at, "bot", rng.choice(self.common["bot_replies"]))
            if case is not None and turn == 0 and case.get("first_human_contact_at"):
                at = max(at, case["first_human_contact_at"])
                self._message(conv, at, "counselor", rng.choice(self.common["counselor_replies"]), case.get("assignee_id"))
            if turn:
                at += timedelta(seconds=rng.randint(20, 240))
                self._message(conv, at, "resident", rng.choice(self.common["follow_ups"]))
        conv.update(last_message_at=at, ended_at=at, duration_seconds=int((at - started).total_seconds()))
        self.rows.conversations.append(conv)

    def _case(self, conv: dict, opened: datetime, urgency: str, *, kind: str, route: str | None = None) -> dict:
        rng = self.rng
        route = route or rng.choices(list(ROUTE_WEIGHTS), weights=list(ROUTE_WEIGHTS.values()))[0]
        staffed = self.tenant.is_staffed(opened)
        median = {"emergency": 100, "urgent": 480}.get(urgency, 1500) * (1 if staffed else 2.5)
        contact = opened + timedelta(seconds=_lognormal_seconds(rng, median))
        closed = contact + timedelta(minutes=rng.randint(10, 180))
        case = dict(
            id=uuid.uuid4(), tenant_id=self.tenant.id, conversation_id=conv["id"], urgency=urgency, kind=kind, route=route,
            status="closed", assignee_id=rng.choice(self.staff) if self.staff else None, opened_outside_hours=not staffed,
            created_at=opened, due_at=None, assigned_at=contact, in_progress_at=contact, scheduled_at=None, escalated_at=None,
            closed_at=closed, first_human_contact_at=contact, contact_phone=None, contact_email=None, preferred_time=None,
            appointment_at=None, outcome=rng.choice(OUTCOMES[:4] if urgency == "none" else OUTCOMES), closing_note=None, labels=[],
        )
        if urgency == "emergency" and kind != "missing_person":
            case["outcome"] = "緊急対応（119/110）"
        self.rows.cases.append(case)
        for action, at in (("opened", opened), ("taken_over", contact), ("closed", closed)):
            self.rows.events.append(dict(case_id=case["id"], actor_id=None if action == "opened" else case["assignee_id"], action=action, detail=None, at=at))
        return case


async def _insert(session: AsyncSession, model, rows: list[dict], batch: int = 5000) -> None:  # noqa: ANN001
    for i in range(0, len(rows), batch):
        await session.execute(insert(model), rows[i : i + batch])


async def seed_conversations(
    session: AsyncSession, *, tenants: list[Tenant], now: datetime, config: DemoConfig | None = None, force: bool = False
) -> int:
    """Seed `config.months` full months before the current one, plus this month so far. Returns conversations added."""
    cfg = config or DemoConfig()
    if await demo_exists(session):
        if not force:
            return 0
        await remove_demo(session)
    texts = load_messages()
    rng = random.Random(cfg.seed)
    first = Month.of(now)
    for _ in range(cfg.months):
        first = first.previous()
    total = 0
    for tenant in tenants:
        channels = dict((str(k), i) for k, i in (await session.execute(select(Channel.kind, Channel.id).where(Channel.tenant_id == tenant.id))).all())
        staff = list(await session.scalars(select(Counselor.id).where(Counselor.tenant_id == tenant.id, Counselor.role != Role.MANAGER)))
        gen = _Generator(tenant, texts, channels, staff, cfg, rng)
        day, last = first.first_day, now.astimezone(JST).date()
        while day <= last:
            gen.day(day, now)
            day += timedelta(days=1)
        rows = gen.rows
        await _insert(session, ResidentContact, [dict(r, created_at=now) for r in rows.contacts])
        await _insert(session, Conversation, rows.conversations)
        await _insert(session, Message, rows.messages)
        await _insert(session, Case, rows.cases)
        await _insert(session, CaseEvent, rows.events)
        await _insert(session, ServiceRequest, rows.requests)
        await _record_gaps(session, rows.gaps)
        total += len(rows.conversations)
    await session.commit()
    return total


async def _record_gaps(session: AsyncSession, gaps: list[tuple[uuid.UUID, str, str, datetime]]) -> None:
    """Knowledge gaps point at the resident message the bot could not answer (the first one)."""
    ids = [g[0] for g in gaps]
    first: dict[uuid.UUID, int] = {}
    for i in range(0, len(ids), 500):
        stmt = select(Message.conversation_id, func.min(Message.id)).where(Message.conversation_id.in_(ids[i : i + 500]))
        first.update({c: m for c, m in (await session.execute(stmt.group_by(Message.conversation_id))).all()})
    rows = [
        dict(tenant_id=tenant, message_id=first[conv], conversation_id=conv, normalized=" ".join(q.lower().split()),
             kind="no_match", created_at=asked)
        for conv, tenant, q, asked in gaps
    ]
    await _insert(session, KnowledgeGap, rows)
