"""The history of one missing-person intake in Japanese, for the case page: who did what when
(Setagaya 003 ⑤; the events are the request's `request_event` rows). Field values are never in
the events, only their names, shown here by their form labels."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from handoff.requests import service as request_service
from handoff.requests.models import RequestEvent

SILENT = {"started", "fields", "next_check"}  # bookkeeping steps, not work anyone did


@dataclass(frozen=True)
class Entry:
    at: datetime
    who: str
    text: str


def describe(event: RequestEvent, labels: dict[str, str]) -> str:
    d = event.detail or {}
    fields = "、".join(labels.get(name, name) for name in d.get("fields", []))
    texts = {
        "recorded": "受付を記録（管理番号を付番）",
        "callback_intake": "翌開庁日の折り返し電話：まだ見つかっていない（受付を続ける）",
        "callback_found": "翌開庁日の折り返し電話：見つかっていた（対応終了）",
        "ward_phoned": "区へ電話で発見を報告" if d.get("found") else "区へ電話で受付を報告",
        "form_mailed": f"別紙8-3を区へメールで送信（{d.get('recipients', '')}か所）",
        "ward_reported": "区への受付報告が完了（次は毎日の状況確認）",
        "check_due": f"状況確認（{d.get('n', '')}回目）が今日の作業に",
        "check_asked": "チャットで状況確認の質問を送信",
        "checked": f"状況確認（{d.get('n', '')}回目）：" + ("確認を断られた" if d.get("outcome") == "refused" else "まだ見つかっていない"),
        "consult_ward": "区と翌日以降の対応を協議するよう表示",
        "edited": f"別紙8-3を修正：{fields}",
        "found": "発見の連絡を電話で受付（別紙8-4）" if d.get("via") == "phone" else "発見の連絡をチャットで受付（別紙8-4）",
        "found_mailed": "別紙8-4を区へメールで送信（対応終了）",
        "ended_by_ward": "区から発見の連絡（対応終了）",
        "deadline_near": "期限まもなくの通知",
        "deadline_missed": "期限超過の通知",
    }
    return texts.get(event.action, event.action)


async def history(session: AsyncSession, *, request_id: uuid.UUID, names: dict[uuid.UUID, str], labels: dict[str, str]) -> list[Entry]:
    """Newest first; who is the counselor's display name (empty for the bot or the reporter)."""
    events = await request_service.events(session, request_id=request_id)
    return [Entry(e.at, names.get(e.actor_id, "") if e.actor_id else "", describe(e, labels)) for e in reversed(events) if e.action not in SILENT]
