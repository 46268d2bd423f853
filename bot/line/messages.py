"""Pure translation between the engine's replies and LINE's message objects (no I/O).

LINE's limits (Messaging API reference): a Quick Reply holds at most 13 items, an action
label at most 20 characters, postback data at most 300, a reply or push at most 5 messages.
"""

from __future__ import annotations

import re
import json

from linebot.v3.messaging import PostbackAction, QuickReply, QuickReplyItem, TextMessage

MAX_ITEMS = 13
LABEL_MAX = 20
DATA_MAX = 300
MESSAGES_PER_REQUEST = 5
TEXT_MAX = 5000
_ASIDE = re.compile(r"\s*[（(][^）)]*[）)]\s*")


def short_label(label: str) -> str:
    """A label within LINE's 20 characters that still says what the button does: first drop
    asides in brackets (「ボランティアの訪問援助（電球交換・ごみ出し…）」→「ボランティアの訪問援助」),
    only then cut, and say so with 「…」. The full label still shows as the tapped text."""
    label = " ".join(label.split())
    if len(label) <= LABEL_MAX:
        return label
    bare = _ASIDE.sub("", label).strip()
    if 2 <= len(bare) <= LABEL_MAX:
        return bare
    text = bare if len(bare) >= 2 else label
    return text[: LABEL_MAX - 1] + "…"


def postback_data(action: str, label: str) -> str:
    """The engine's button id plus its full label (the text the resident 'said' by tapping)."""
    for text in (label, short_label(label), ""):
        data = json.dumps({"a": action, "l": text}, ensure_ascii=False, separators=(",", ":"))
        if len(data) <= DATA_MAX:
            return data
    raise ValueError("button id too long for LINE postback data")


def parse_postback(data: str) -> tuple[str, str] | None:
    """(button id, label) from our postback data; None for anything else."""
    try:
        fields = json.loads(data)
    except ValueError:
        return None
    if not isinstance(fields, dict) or not isinstance(fields.get("a"), str) or not fields["a"]:
        return None
    label = fields.get("l")
    return fields["a"], label if isinstance(label, str) and label else fields["a"]


def quick_reply(buttons: list[tuple[str, str]]) -> QuickReply | None:
    items, seen = [], set()
    for action, label in buttons:
        if action in seen:
            continue
        seen.add(action)
        items.append(
            QuickReplyItem(
                action=PostbackAction(label=short_label(label), data=postback_data(action, label), display_text=label[:300])
            )
        )
    return QuickReply(items=items[:MAX_ITEMS]) if items else None


def text_messages(texts: list[str], buttons: list[tuple[str, str]] | None = None) -> list[TextMessage]:
    """One text message per reply; the buttons ride on the last one (LINE shows a Quick
    Reply only under the newest message)."""
    messages = [TextMessage(text=t[:TEXT_MAX]) for t in texts if t]
    if messages and buttons:
        messages[-1].quick_reply = quick_reply(buttons)
    return messages


def batches(messages: list, size: int = MESSAGES_PER_REQUEST) -> list[list]:
    return [messages[i : i + size] for i in range(0, len(messages), size)]
