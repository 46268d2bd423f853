"""`frontdoor ask --conversation --jsonl`: every input line is the next turn of ONE
resident's conversation, played through the real engine and stored in FRONTDOOR_DATA_DIR
like a web-chat conversation (the console and the reports see it). Each output line is
that turn's `ask` fields plus `buttons`, `case` and `request` (issue 14 §2).

`--at` fixes the clock (office hours / closed hours); later turns advance by TURN_GAP."""

from __future__ import annotations

import json
from dataclasses import asdict
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TextIO

from bot.conversations import ensure_tenant_rows
from bot.engine import Inbound, Outcome
from frontdoor.ask import parse_line, triage_fields
from frontdoor.clock import utc_now
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.models import ChannelKind
from frontdoor.runtime import build_decider, build_engine
from frontdoor.settings import Settings
from frontdoor.tenants import TenantRegistry

TURN_GAP = timedelta(seconds=5)


def turn_fields(outcome: Outcome) -> dict:
    replies = outcome.replies
    a = outcome.assessment
    return {
        "topic": outcome.topic,
        "urgency": outcome.urgency,
        "route": outcome.route,
        "reply": "\n\n".join(r.text for r in replies),
        "confidence": outcome.confidence,
        **(triage_fields(a) if a else {"risk": 0.0, "check_in": False, "subject": "unknown", "kind": None}),
        "check_in": any((r.buttons and any(b[0] == "checkin:yes" for b in r.buttons)) for r in replies),
        "buttons": [{"id": b[0], "label": b[1]} for r in replies for b in r.buttons],
        "case": str(outcome.case_id) if outcome.case_id else None,
        "request": asdict(outcome.request) if outcome.request else None,
    }


async def run_conversation(settings: Settings, tenants: TenantRegistry, tenant_id: str, lines: Iterable[str], out: TextIO, *, at: datetime | None) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.resolved_database_url())
    db = create_engine(settings.resolved_database_url())
    sessions = session_factory(db)
    engine = build_engine(settings, tenants, build_decider(settings), relay=None)
    resident = f"cli-{uuid.uuid4().hex}"
    now = at or utc_now()
    status = 0
    try:
        async with sessions() as session:
            await ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = parse_line(number, line)
            except ValueError as exc:
                out.write(json.dumps({"error": str(exc)}, ensure_ascii=False) + "\n")
                status = 1
                continue
            inbound = Inbound(
                tenant_id, ChannelKind.WEB, resident,
                item.get("text") or item.get("label") or item["action"], action=item.get("action"),
            )
            async with sessions() as session:
                outcome = await engine.handle_inbound(session, inbound, now=now)
            out.write(json.dumps(turn_fields(outcome), ensure_ascii=False) + "\n")
            out.flush()
            now += TURN_GAP
    finally:
        await db.dispose()
    return status
