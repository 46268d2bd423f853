"""What a queue row says about a case without opening it (issue 11): kind and who is at
risk (「自傷・本人」), channel, tenant, and a one-line summary of the resident's first words
with names, phone numbers and addresses masked."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.models import Author, Conversation, Message
from frontdoor.models import Channel
from frontdoor.redact import redact
from handoff.models import Case

KIND_SHORT = {
    "overdose": "薬の飲みすぎ", "self_harm": "自傷", "fire": "火事・ガス", "violence": "暴力",
    "medical": "急病", "missing_person": "行方不明", "abuse_dv": "虐待・DV", "basic_needs": "生活困窮",
    "isolation": "安否不明", "worried_about_other": "周りの心配", "request": "相談員を希望",
}
SUBJECT_SHORT = {"self": "本人", "other": "家族・周りから"}
CHANNEL_JA = {"web": "Web", "telegram": "Telegram", "line": "LINE"}
SUMMARY_CHARS = 40

# Beyond frontdoor.redact (numbers, e-mail): a name before an honorific, and street addresses.
_NAME = re.compile(r"[一-龥々ぁ-んァ-ヶー]{1,6}(?=(様|さま|さん|ちゃん|くん|君|氏))")
_ADDRESS = re.compile(r"[一-龥ぁ-んァ-ヶー]{1,8}(都|道|府|県|市|区|町|村)[一-龥ぁ-んァ-ヶー0-9０-９]*?[0-9０-９一二三四五六七八九十]+(丁目|番地|番|号)([0-9０-９\-ー−の]+)?")


def summary_line(text: str) -> str:
    """The first resident message, masked and cut to one line."""
    masked = _NAME.sub("〔氏名〕", _ADDRESS.sub("〔住所〕", redact(text)))
    one_line = " ".join(masked.split())
    return one_line if len(one_line) <= SUMMARY_CHARS else one_line[: SUMMARY_CHARS - 1] + "…"


def what_label(case: Case) -> str:
    kind = KIND_SHORT.get(case.kind or "", "")
    who = SUBJECT_SHORT.get(case.subject or "", "")
    return "・".join(p for p in (kind, who) if p) or "—"


@dataclass(frozen=True)
class QueueRow:
    case: Case
    what: str
    channel: str
    summary: str


async def describe_cases(session: AsyncSession, cases: list[Case]) -> list[QueueRow]:
    """One query for the channels and the first resident message of every listed case."""
    conversation_ids = [c.conversation_id for c in cases]
    if not conversation_ids:
        return []
    channels = dict(
        (await session.execute(
            select(Conversation.id, Channel.kind).join(Channel, Channel.id == Conversation.channel_id).where(Conversation.id.in_(conversation_ids))
        )).all()
    )
    first_ids = (
        select(func.min(Message.id))
        .where(Message.conversation_id.in_(conversation_ids), Message.author == Author.RESIDENT)
        .group_by(Message.conversation_id)
    )
    firsts: dict[uuid.UUID, str] = dict(
        (await session.execute(select(Message.conversation_id, Message.text).where(Message.id.in_(first_ids)))).all()
    )
    return [
        QueueRow(
            case=c,
            what=what_label(c),
            channel=CHANNEL_JA.get(str(channels.get(c.conversation_id, "")), str(channels.get(c.conversation_id, ""))),
            summary=summary_line(firsts.get(c.conversation_id, "")),
        )
        for c in cases
    ]
