"""`frontdoor ask`: the bot's decision for a question, as JSON, for knowledge authors and
evaluation tools. Field names are a stable contract: topic, urgency, route, reply,
confidence, and since issue 14 risk, check_in, subject and kind (extend, never rename).

`ask_one` previews one message without storing anything; `--conversation` mode
(frontdoor/ask_conversation.py) plays a whole conversation through the real engine."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from bot.decide import Decider, Decision
from frontdoor.clock import utc_now
from frontdoor.tenants import Tenant
from handoff.urgency import Urgency


def triage_fields(decision_or_assessment) -> dict:  # noqa: ANN001
    """risk, check_in, subject and kind of one turn (from a Decision or an Assessment)."""
    a = getattr(decision_or_assessment, "assessment", decision_or_assessment)
    check_in = decision_or_assessment.check_in if isinstance(decision_or_assessment, Decision) else a.check_in
    return {
        "risk": round(float(a.risk), 4),
        "check_in": bool(check_in),
        "subject": a.subject,
        "kind": a.kind,
    }


def ask_one(decider: Decider, tenant: Tenant, text: str) -> dict:
    decision = decider.decide(tenant, text, prior=Urgency.NONE, now=utc_now())
    return {
        "topic": decision.topic,  # reported even when the message is flagged
        "urgency": str(decision.assessment.level),
        # An urgent or emergency message opens a case on the live chat queue first.
        "route": "chat" if decision.flagged else "bot",
        "reply": decision.reply,
        "confidence": decision.confidence,
        **triage_fields(decision),
        "buttons": [{"id": b[0], "label": b[1]} for b in decision.buttons],
    }


def parse_line(number: int, line: str) -> dict:
    """One input line: {"text": ...} or {"action": ..., "label": ...}; ValueError otherwise."""
    try:
        item = json.loads(line)
    except ValueError:
        raise ValueError(f"line {number}: not JSON") from None
    if not isinstance(item, dict):
        raise ValueError(f"line {number}: expected a JSON object")
    text, action = item.get("text"), item.get("action")
    if isinstance(text, str) and text.strip():
        return {"text": text}
    if isinstance(action, str) and action.strip():
        label = item.get("label")
        return {"action": action, "label": label if isinstance(label, str) else ""}
    raise ValueError(f'line {number}: expected a JSON object with a non-empty "text" (or "action")')


def ask_lines(decider: Decider, tenant: Tenant, lines: Iterable[str]) -> Iterator[dict]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = parse_line(number, line)
            if "text" not in item:
                raise ValueError(f'line {number}: expected a JSON object with a non-empty "text"')
        except ValueError as exc:
            yield {"error": str(exc)}
            continue
        yield ask_one(decider, tenant, item["text"])


def write_jsonl(rows: Iterable[dict], out: TextIO = sys.stdout) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
