"""Setagaya 別紙6「高齢者安心コール 月分実績状況報告書」for the chat channel.

Setagaya 003 §1(2)⑥ウ(イ): one month's results are reported on the ward's form 別紙6.
The sheets mirror the form's sections and headings (seeds/003, the lines after
「年度高齢者安心コール 月分実績状況報告書」). Sections 2–4 (volunteer registrations and
requests by type, phone-visit registrations, sticker registrations) depend on intakes this
system does not record yet: they keep the form's headings and show no rows rather than
invented numbers; only what we do record (sticker inquiries, missing-person reports) fills in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import to_jst
from knowledge import catalog
from workers.reports import queries, request_counts, xlsx
from workers.reports.periods import Month
from frontdoor.redact import Masker
from workers.reports.summary import describe

LAYOUT = "setagaya_besshi6"
CATEGORIES: tuple[str, ...] = catalog.SETAGAYA_CATEGORIES  # 相談, ボランティア, 電話訪問関連, 見守りステッカー, 医療・介護, 問合せ, その他
HOURS = range(24)
MISSING = "missing_person"
NOT_RECORDED = "※この項目の受付記録は本システムにまだありません（受付機能の実装後に自動で集計します）。"
STATUS_JA = {"waiting": "相談員対応待ち", "assigned": "相談員対応中", "in_progress": "相談員対応中", "scheduled": "折り返し予定"}


def fold(counts: dict[str, int]) -> dict[str, int]:
    """Every count under one of the form's categories; anything else is その他."""
    out = dict.fromkeys(CATEGORIES, 0)
    for category, n in counts.items():
        out[category if category in out else queries.UNCATEGORIZED] += n
    return out


class MissingRow(NamedTuple):
    """One line of 別紙6 §5 (開庁時 / 閉庁時), from the intake's records (issue 8)."""

    number: str
    received: str  # 受付日時, or 閉庁時間受電日時 when closed
    closed: bool
    callback_intake: str = ""  # 翌開庁日に電話後の受付日時 (閉庁時)
    reported: str = ""  # 受付時の区への報告完了日時
    checks: int | str = ""  # 状況確認回数
    found_reported: str = ""  # 発見時の区への報告完了日時
    ended_by_ward: str = ""  # 区からの報告により対応を終了した日時

    def cells(self) -> list:
        head = [self.number, self.received] + ([self.callback_intake] if self.closed else [])
        return [*head, self.reported, self.checks, self.found_reported, self.ended_by_ward]


def _at(moment: datetime | None) -> str:
    return to_jst(moment).strftime("%Y/%m/%d %H:%M") if moment else ""


def missing_row(request, record) -> MissingRow:  # noqa: ANN001
    closed = record.closed_call_at is not None
    return MissingRow(
        (request.fields or {}).get("management_no", ""), _at(record.closed_call_at if closed else record.intake_at), closed,
        _at(record.intake_at) if closed else "", _at(record.form_mailed_at), record.checks, _at(record.found_mailed_at), _at(record.ward_call_at),
    )


@dataclass
class Besshi6:
    month: Month
    month_counts: dict[str, int]
    fy_counts: dict[str, int]
    hour_counts: dict[str, list[int]]  # category → 24 counts
    hour_seconds: dict[str, list[int]]
    consultations: list[tuple[str, str, str, str]]  # (受付日時, 内容区分, 概要, 対応結果)
    missing: list[MissingRow] = field(default_factory=list)
    volunteer: list[request_counts.TaskCounts] = field(default_factory=list)  # 2-3, from the request records
    sticker_requests: tuple[int, int] = (0, 0)  # 4-2 対応実績 (month, 年度累計)

    @property
    def total(self) -> int:
        return sum(self.month_counts.values())

    def average_minutes(self, category: str) -> float:
        n = sum(self.hour_counts[category])
        return round(sum(self.hour_seconds[category]) / 60 / n, 1) if n else 0.0


def _outcome(case_status: str | None, outcome: str | None, conversation_status: str) -> str:
    if outcome:
        return outcome
    if case_status:
        return STATUS_JA.get(str(case_status), "相談員対応")
    return "チャットで案内（自動応答）" if str(conversation_status) == "closed" else "チャットで案内中"


async def collect(session: AsyncSession, *, tenant_id: str, month: Month) -> Besshi6:
    # 別紙6 1.「電話相談利用実績(5.行方不明発生時の通報受付実績は除く)」: missing-person reports count in §5 only.
    scope = queries.Scope.month(tenant_id, month, exclude_case_kind=MISSING)
    fy = queries.Scope.fiscal_to_date(tenant_id, month, exclude_case_kind=MISSING)
    hour_counts = {c: [0] * 24 for c in CATEGORIES}
    hour_seconds = {c: [0] * 24 for c in CATEGORIES}
    for item in await queries.category_hour_stats(session, scope):
        category = item.category if item.category in hour_counts else queries.UNCATEGORIZED
        hour_counts[category][item.hour] += item.count
        hour_seconds[category][item.hour] += item.seconds
    masker = Masker()
    consultations = []
    for started, category, kind, case_status, outcome, note, status in await queries.consultation_rows(session, scope):
        category = category if category in CATEGORIES else queries.UNCATEGORIZED
        consultations.append((
            to_jst(started).strftime("%m/%d %H:%M"), category,
            await describe(masker, category=category, kind=kind, note=note), _outcome(case_status, outcome, status),
        ))
    # 003 §1(2)⑤イ(イ): 管理番号 is 月-受付順 (the 3rd in October → 10-3).
    missing = [missing_row(request, record) for request, record in await queries.missing_person_intakes(session, tenant_id=tenant_id, month=month)]
    # Cases whose reporter stopped before the intake was recorded: counted, no 管理番号.
    missing += [
        MissingRow("（受付票なし）", _at(created), bool(outside))
        for created, outside, _closed in await queries.missing_person_cases(session, queries.Scope.month(tenant_id, month))
    ]
    return Besshi6(
        month=month,
        month_counts=fold(await queries.category_counts(session, scope)),
        fy_counts=fold(await queries.category_counts(session, fy)),
        hour_counts=hour_counts,
        hour_seconds=hour_seconds,
        consultations=consultations,
        missing=missing,
        volunteer=await request_counts.volunteer_tasks(session, tenant_id=tenant_id, month=month),
        sticker_requests=await request_counts.sticker_requests(session, tenant_id=tenant_id, month=month),
    )


def title(month: Month) -> str:
    return f"令和{month.reiwa_fiscal_year}年度高齢者安心コール　{month.month}月分実績状況報告書"


def _section1(wb, data: Besshi6) -> None:  # noqa: ANN001
    ws = xlsx.sheet(wb, "1.電話相談利用実績", widths={1: 16, 2: 12, 3: 14})
    xlsx.put(ws, 1, 1, title(data.month), bold=True, size=14)
    xlsx.put(ws, 1, 28, "別紙6")
    row = xlsx.heading(ws, 3, "1.高齢者安心コール電話相談利用実績(5.行方不明発生時の通報受付実績は除く)")
    row = xlsx.note(ws, row, "チャット窓口（ウェブ・LINE・Telegram）の会話を 1 件の入電として集計（集計ルールは README）。")
    row = xlsx.heading(ws, row + 1, "1-1.入電数内訳")
    row = xlsx.table(
        ws, row, ["年度累計", "当月合計", *CATEGORIES],
        [[sum(data.fy_counts.values()), data.total, *(data.month_counts[c] for c in CATEGORIES)]],
    )
    row = xlsx.note(ws, row, f"年度累計の内訳（{data.month.fiscal_start.month}月〜{data.month.month}月）")
    row = xlsx.table(ws, row, ["年度累計", "", *CATEGORIES], [[sum(data.fy_counts.values()), "", *(data.fy_counts[c] for c in CATEGORIES)]])
    row = xlsx.heading(ws, row + 1, "1-2.入電時間")
    headers = ["入電内容", "平均通話時間（分）", "件数・対応時間", *(f"{h}時台" for h in HOURS), "合計"]
    rows = []
    for category in CATEGORIES:
        counts, minutes = data.hour_counts[category], [round(s / 60) for s in data.hour_seconds[category]]
        rows.append([category, data.average_minutes(category), "件数", *counts, sum(counts)])
        rows.append(["", "", "対応時間（分）", *minutes, round(sum(data.hour_seconds[category]) / 60)])
    all_counts = [sum(data.hour_counts[c][h] for c in CATEGORIES) for h in HOURS]
    all_seconds = [sum(data.hour_seconds[c][h] for c in CATEGORIES) for h in HOURS]
    average = round(sum(all_seconds) / 60 / sum(all_counts), 1) if sum(all_counts) else 0.0
    rows.append(["合計", average, "件数", *all_counts, sum(all_counts)])
    rows.append(["", "", "対応時間（分）", *(round(s / 60) for s in all_seconds), round(sum(all_seconds) / 60)])
    start = row + 1
    row = xlsx.table(ws, row, headers, rows)
    for r in range(start, row, 2):  # the category and its average span its two rows, as on the form
        ws.merge_cells(start_row=r, start_column=1, end_row=r + 1, end_column=1)
        ws.merge_cells(start_row=r, start_column=2, end_row=r + 1, end_column=2)
    xlsx.note(ws, row, "平均通話時間＝最初から最後のメッセージまでの時間の平均。日付をまたぐ会話は開始した時間帯に計上。")

    ws3 = xlsx.sheet(wb, "1-3.電話相談内容一覧", widths={1: 14, 2: 14, 3: 64, 4: 24})
    row = xlsx.heading(ws3, 1, "1-3.電話相談内容一覧")
    row = xlsx.note(ws3, row, "概要は相談区分・案件の種類、または相談員の記録（氏名・電話番号・住所等は伏せ字）。相談者の文章は載せません。")
    xlsx.table(ws3, row, ["受付日時", "内容区分", "相談概要", "対応結果"], data.consultations, wrap=True)


def _section2to4(wb, data: Besshi6) -> None:  # noqa: ANN001
    areas = ["世田谷", "北沢", "玉川", "砧", "烏山", "合計"]
    ws = xlsx.sheet(wb, "2.ボランティア利用実績", widths={1: 22})
    row = xlsx.heading(ws, 1, "2.ボランティア利用実績")
    row = xlsx.note(ws, row, "※2-1・2-2（利用登録）は担当者が電話で行うため、本システムに記録がありません。2-3 はチャットで受け付けた依頼の記録から集計します。")
    row = xlsx.heading(ws, row + 1, "2-1.利用登録世帯数及び登録人数")
    row = xlsx.table(ws, row, ["地域", "当月登録数 世帯", "当月登録数 人数", "今年度累計 世帯", "今年度累計 人数", "事業開始後累計 世帯", "事業開始後累計 人数"], [])
    row = xlsx.note(ws, row, "地域: " + "・".join(areas))
    row = xlsx.heading(ws, row + 1, "2-2.性別・年齢別登録人数内訳")
    row = xlsx.table(ws, row, ["地域", "区分", "合計", "男", "女", "60代", "70代", "80代", "90代", "100代"], [])
    row = xlsx.heading(ws, row + 1, "2-3.ボランティア訪問援助依頼内訳")
    tasks = [[f"ボランティア対応 {t.task}", t.requested_fy, t.requested_month, t.done_fy, t.done_month] for t in data.volunteer]
    totals = [sum(t.requested_fy for t in data.volunteer), sum(t.requested_month for t in data.volunteer), sum(t.done_fy for t in data.volunteer), sum(t.done_month for t in data.volunteer)]
    row = xlsx.table(
        ws, row, ["内容", "依頼件数 年度累計", "依頼件数 当月件数", "対応件数 年度累計", "対応件数 当月件数"],
        [*tasks, ["依頼キャンセル等", "", "", "", ""], ["業者等紹介", "", "", "", ""], ["合計", *totals]],
    )
    row = xlsx.note(ws, row, "依頼キャンセル等・業者等紹介は本システムに記録がないため空欄です。")
    row = xlsx.note(ws, row, f"参考: チャットでのボランティア関連の入電 当月 {data.month_counts['ボランティア']} 件（1-1 に計上済み）")
    xlsx.heading(ws, row + 1, "2-4.ボランティア対応実績詳細")

    ws = xlsx.sheet(wb, "3.電話訪問利用登録実績", widths={1: 22})
    row = xlsx.heading(ws, 1, "3.高齢者安心コール電話訪問利用登録実績")
    row = xlsx.note(ws, row, NOT_RECORDED)
    row = xlsx.heading(ws, row + 1, "3-1.電話訪問利用者登録状況")
    pairs = [f"{a} {b}" for a in ("事業開始後累計", "当月登録", "当月抹消", "当年度累計", "前年度経過月差") for b in ("人数", "世帯")]
    row = xlsx.table(ws, row, ["区分", *pairs], [])
    row = xlsx.heading(ws, row + 1, "3-2.当月実績数")
    row = xlsx.table(ws, row, ["区分", "当月登録者数 人数", "当月登録者数 世帯", "架電 人数", "架電 世帯", "架電不要 人数", "架電不要 世帯"], [])
    row = xlsx.heading(ws, row + 1, "3-3.あんしんすこやかセンター別電話訪問利用者登録状況")

    ws = xlsx.sheet(wb, "4.見守りステッカー登録実績", widths={1: 30, 2: 22})
    row = xlsx.heading(ws, 1, "4.高齢者見守りステッカー登録実績")
    row = xlsx.heading(ws, row + 1, "4-1.高齢者見守りステッカー登録者状況")
    row = xlsx.table(ws, row, ["", "事業開始後累計 人数", "当月登録 人数", "当月抹消 人数", "当年度累計 人数"], [])
    row = xlsx.note(ws, row, NOT_RECORDED)
    row = xlsx.heading(ws, row + 1, "4-2.対応実績数")
    sticker = "見守りステッカー"
    row = xlsx.table(ws, row, ["当月見守りステッカー入電件数", "当年度累計入電件数"], [[data.month_counts[sticker], data.fy_counts[sticker]]])
    row = xlsx.table(ws, row + 1, ["当月対応実績件数", "当年度累計対応実績数"], [list(data.sticker_requests)])
    xlsx.note(ws, row, "入電件数はチャットで見守りステッカーについての会話の件数（1-1 と同じ数え方）。対応実績はチャットで受け付けた申請書・変更申請書の郵送依頼の件数。")


def _section5(wb, data: Besshi6) -> None:  # noqa: ANN001
    ws = xlsx.sheet(wb, "5.行方不明発生時の通報受付実績", widths={1: 12, 2: 20, 3: 20, 4: 20})
    row = xlsx.heading(ws, 1, "5.行方不明発生時の通報受付実績")
    row = xlsx.note(ws, row, "チャットで受け付けた行方不明の通報。受付票（別紙8-3）の記録から集計（報告完了はメール送信の日時）。")
    for label, closed in (("行方不明発生時の通報受付業務（開庁時）", False), ("行方不明発生時の通報受付業務（閉庁時）", True)):
        items = [m for m in data.missing if m.closed == closed]
        row = xlsx.heading(ws, row + 1, label)
        xlsx.put(ws, row, 1, "【受付回数】")
        xlsx.put(ws, row, 2, f"{len(items)} 回")
        row = xlsx.heading(ws, row + 1, "【内訳】")
        if closed:
            headers = ["管理番号", "閉庁時間受電日時", "翌開庁日に電話後の受付日時", "受付時の区への報告完了日時", "状況確認回数", "発見時の区への報告完了日時", "区からの報告により対応を終了した日時"]
        else:
            headers = ["管理番号", "受付日時", "受付時の区への報告完了日時", "状況確認回数", "発見時の区への報告完了日時", "区からの報告により対応を終了した日時"]
        row = xlsx.table(ws, row, headers, [m.cells() for m in items])


def render_xlsx(data: Besshi6, *, stamp: datetime) -> bytes:
    wb = xlsx.new_workbook()
    _section1(wb, data)
    _section2to4(wb, data)
    _section5(wb, data)
    return xlsx.to_bytes(wb, stamp=stamp)
