"""Forms out as .xlsx in the seeds' layouts and headings (issue 13 "Forms out"): 別紙3 per
request, 別紙4 as a monthly list, 別紙9 per complaint, and the quarterly 休止者リスト
(Setagaya 003 §1(2)③コ: 氏名, 連絡先, 利用回数, 休止開始日). What the system does not hold
stays an honest blank."""

from __future__ import annotations

from datetime import date, datetime

from frontdoor.clock import to_jst
from handoff.requests.forms import FormDefinition
from handoff.requests.models import Request
from handoff.requests.values import display
from workers.reports import xlsx

CHAT = "チャットで受付（本人確認は担当者が行う）"


def _value(form: FormDefinition, request: Request, name: str) -> str:
    fields = request.fields or {}
    try:
        return display(form.field(name), fields.get(name))
    except KeyError:
        return fields.get(name) or ""


def _local(value: datetime | None) -> str:
    return to_jst(value).strftime("%Y/%m/%d %H:%M") if value else ""


def besshi3(form: FormDefinition, request: Request, *, stamp: datetime) -> bytes:
    """電話訪問利用内容変更報告書（別紙3）: only the changed items are filled in."""
    wb = xlsx.new_workbook()
    ws = xlsx.sheet(wb, "別紙3", widths={1: 24, 2: 50})
    row = xlsx.heading(ws, 1, "電話訪問利用内容変更報告書（別紙3）", size=13)
    rows = [
        ["受付日時", _local(request.recorded_at or request.created_at)],
        ["受付方法", CHAT],
        ["利用者氏名", _value(form, request, "name")],
        ["フリガナ", _value(form, request, "kana")],
        ["電話番号", _value(form, request, "phone")],
        ["変更項目", _value(form, request, "changes")],
    ]
    changes = (request.fields or {}).get("changes", "")
    for f in form.fields:
        if f.ask_if and form.asked(f, {"changes": changes}):
            rows.append([f"変更後の{f.label}" if not f.label.startswith("新しい") else f.label, _value(form, request, f.name)])
    xlsx.table(ws, row, ["項目", "内容"], rows, wrap=True)
    return xlsx.to_bytes(wb, stamp=stamp)


def besshi4(form: FormDefinition, requests: list[Request], *, month: str, stamp: datetime) -> bytes:
    """電話訪問利用登録抹消報告書（別紙4）: the month's cancellations, one row each."""
    wb = xlsx.new_workbook()
    ws = xlsx.sheet(wb, "別紙4", widths={1: 18, 2: 16, 3: 16, 4: 14, 5: 14, 6: 12, 7: 16, 8: 24})
    row = xlsx.heading(ws, 1, f"電話訪問利用登録抹消報告書（別紙4） {month}", size=13)
    rows = [
        [_local(r.recorded_at), _value(form, r, "name"), _value(form, r, "kana"), _value(form, r, "date"), _value(form, r, "reason"),
         _value(form, r, "reporter"), _value(form, r, "phone"), form.staff_task(r.fields or {}) or ""]
        for r in requests
    ]
    row = xlsx.table(ws, row, ["受付日時", "氏名", "フリガナ", "抹消日", "理由", "連絡者", "連絡先", "通知の送付"], rows or [["該当なし"]], wrap=True)
    xlsx.note(ws, row, "受付方法：" + CHAT)
    return xlsx.to_bytes(wb, stamp=stamp)


def besshi9(form: FormDefinition, request: Request, *, stamp: datetime) -> bytes:
    """高齢者サービス苦情報告書（別紙9）: what staff filled in, the rest left blank."""
    wb = xlsx.new_workbook()
    ws = xlsx.sheet(wb, "別紙9", widths={1: 24, 2: 60})
    row = xlsx.heading(ws, 1, "高齢者サービス 苦情報告書（別紙9）", size=13)
    fields = request.fields or {}
    rows = [
        ["受付日", _local(request.recorded_at or request.created_at)],
        ["◆受付方法", fields.get("method", "チャット")],
        ["受付番号", request.number or ""],
        ["◆利用者との関係", fields.get("relation", "")],
        ["◆サービス分類", fields.get("service", "")],
        ["◆苦情内容区分", fields.get("category", "")],
        ["苦情内容主訴", f"【{fields.get('summary', '')}】について" if fields.get("summary") else ""],
        ["苦情内容", fields.get("content", "")],
        ["対応内容", fields.get("response", "")],
        ["◆対応状況区分", fields.get("status_note", "")],
        ["区への電話連絡", fields.get("urgent", "")],
    ]
    xlsx.table(ws, row, ["項目", "内容"], rows, wrap=True)
    return xlsx.to_bytes(wb, stamp=stamp)


def pause_list(form: FormDefinition, requests: list[Request], *, quarter: str, as_of: date, stamp: datetime) -> bytes:
    """休止者リスト: pauses still open (no resume recorded after them), oldest first."""
    wb = xlsx.new_workbook()
    ws = xlsx.sheet(wb, "休止者リスト", widths={1: 18, 2: 18, 3: 16, 4: 12, 5: 14, 6: 14, 7: 12})
    row = xlsx.heading(ws, 1, f"休止者リスト（{quarter}　{as_of:%Y/%m/%d}現在）", size=13)
    rows = [
        [_value(form, r, "name"), _value(form, r, "kana"), _value(form, r, "phone"), "", _value(form, r, "start"), _value(form, r, "until"), _value(form, r, "reason")]
        for r in requests
    ]
    row = xlsx.table(ws, row, ["氏名", "フリガナ", "連絡先", "利用回数", "休止開始日", "再開予定", "理由"], rows or [["該当なし"]])
    xlsx.note(ws, row, "利用回数は本システムに記録がないため空欄です（利用者名簿で確認）。")
    return xlsx.to_bytes(wb, stamp=stamp)
