"""The case history in Japanese, as counselors and the ward read it (issue 11). Event
actions stay English identifiers in the database; this is their wording."""

from __future__ import annotations

import uuid
from datetime import datetime

from frontdoor.clock import to_jst
from handoff.models import CaseEvent

URGENCY_JA = {"emergency": "緊急", "urgent": "至急", "none": "通常"}
ROUTE_JA = {"chat": "チャット", "phone": "電話", "face_to_face": "面談", "email": "メール"}
NOTIFIER_JA = {"console": "コンソール", "email": "メール", "webhook": "連携先"}
SIMPLE = {
    "taken_over": "対応を開始（会話を引き継ぎ）",
    "handed_back": "自動応答に戻した",
    "note_added": "メモを追加",
    "escalated": "受付の期限を過ぎたため、当番と責任者に知らせた",
}


def _when(value: str | None) -> str:
    try:
        return to_jst(datetime.fromisoformat(value)).strftime("%m/%d %H:%M") if value else ""
    except ValueError:
        return ""


def describe(event: CaseEvent, names: dict[uuid.UUID, str]) -> str:
    """One line of history, e.g. 「受付（至急・チャット）」「終了（結果：情報提供）」."""
    d = event.detail or {}
    action = event.action
    if action in SIMPLE:
        return SIMPLE[action]
    if action == "opened":
        return f"受付（{URGENCY_JA.get(d.get('urgency'), '通常')}・{ROUTE_JA.get(d.get('route'), 'チャット')}）"
    if action == "urgency_raised":
        return f"緊急度を引き上げ（{URGENCY_JA.get(d.get('old'), '')}→{URGENCY_JA.get(d.get('new'), '')}）"
    if action == "transferred":
        to = names.get(uuid.UUID(d["to_id"]), "別の相談員") if d.get("to_id") else "別の相談員"
        return f"担当を{to}に引き継ぎ"
    if action == "scheduled":
        return f"予約（{ROUTE_JA.get(d.get('route'), '')}・{_when(d.get('appointment_at'))}）"
    if action == "closed":
        return f"終了（結果：{d.get('outcome') or '未記入'}）"
    if action == "labels_set":
        return "ラベルを設定（" + "、".join(d.get("labels") or []) + "）" if d.get("labels") else "ラベルを外した"
    if action == "details_given":
        given = [label for key, label in (("phone", "電話番号"), ("email", "メールアドレス")) if d.get(key)]
        return f"相談者が連絡方法を選んだ（{ROUTE_JA.get(d.get('route'), '')}{'・' + '、'.join(given) if given else ''}）"
    if action == "escalation_notified":
        reached = [NOTIFIER_JA.get(n, n) for n in d.get("notified") or []]
        return "エスカレーションを通知（" + ("、".join(reached) or "届いた先なし") + "）"
    return "記録"
