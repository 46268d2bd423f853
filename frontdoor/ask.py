"""`frontdoor ask`: the bot's decision for a question, as JSON, for knowledge authors and
evaluation tools. Field names are a stable contract: topic, urgency, route, reply, confidence."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

from bot.decide import Decider
from frontdoor.clock import utc_now
from frontdoor.tenants import Tenant
from handoff.urgency import Urgency


def ask_one(decider: Decider, tenant: Tenant, text: str) -> dict:
    decision = decider.decide(tenant, text, prior=Urgency.NONE, now=utc_now())
    topic = decision.topic
    if topic is None and decision.answer is not None and decision.answer.choices:
        topic = decision.answer.choices[0].entry_id  # a clarifying question: its first choice
    return {
        "topic": topic,
        "urgency": str(decision.assessment.level),
        # An urgent or emergency message opens a case on the live chat queue first.
        "route": "chat" if decision.flagged else "bot",
        "reply": decision.reply,
        "confidence": decision.confidence,
    }


def ask_lines(decider: Decider, tenant: Tenant, lines: Iterable[str]) -> Iterator[dict]:
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            text = item["text"]
            if not isinstance(text, str) or not text.strip():
                raise ValueError
        except (ValueError, KeyError, TypeError):
            yield {"error": f"line {number}: expected a JSON object with a non-empty \"text\""}
            continue
        yield ask_one(decider, tenant, text)


def write_jsonl(rows: Iterable[dict], out: TextIO = sys.stdout) -> None:
    for row in rows:
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        out.flush()
