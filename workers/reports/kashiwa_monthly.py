"""Kashiwa monthly report of the digital consultation channel (.xlsx and CSV).

Kashiwa 002 §8(4): the month's results are reported to the city by the 10th of the next
month. Contents: consultations by channel and by the consulter's situation, inside vs
outside office hours (§3(2)), urgent/emergency cases with the route they were connected to
(face-to-face, phone, e-mail, live chat — §7(1)) and the time to first human contact, and
complaints with their content and response (§4(2)カ: クレーム等は内容・対応方法を記録し市に報告).
Each figure for the month and the fiscal year to date (年度累計, April–).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from frontdoor.clock import to_jst
from knowledge import catalog
from workers.reports import queries, request_counts, xlsx
from workers.reports.periods import Month
from frontdoor.redact import Masker
from workers.reports.summary import describe

LAYOUT = "kashiwa_monthly"
SITUATIONS: tuple[str, ...] = catalog.KASHIWA_CATEGORIES  # 高齢, 障害, 子ども・子育て, 生活困窮, こころ, 複合, その他
CHANNELS = {"web": "ウェブチャット（市ホームページ）", "line": "LINE", "telegram": "Telegram"}
ROUTES = {"face_to_face": "面談（対面）", "phone": "電話", "email": "メール", "chat": "ライブチャット"}
URGENCIES = {"emergency": "緊急", "urgent": "至急"}
STATUSES = {"waiting": "待機中", "assigned": "担当決定", "in_progress": "対応中", "scheduled": "予約済み", "closed": "終了"}


@dataclass
class Pair:
    """A figure for the month and for the fiscal year to date."""

    label: str
    month: int
    fiscal: int


@dataclass
class KashiwaMonthly:
    month: Month
    channels: list[Pair]
    situations: list[Pair]
    hours: list[Pair]
    routes: list[tuple[str, str, int, int]]  # (urgency ja, route ja, month, fiscal)
    first_contact: tuple[int, int | None, int | None]  # (n, median s, p90 s) for the month
    flagged: list[tuple[str, str, str, str, str, str]]  # 受付日時, 緊急度, ルート, 初回対応まで, 状況, 結果
    complaints: list[tuple[str, str, str]]  # 受付日時, 内容（要約）, 対応
    complaints_fiscal: int
    referrals: tuple[int, int] = (0, 0)  # §7(2) 多機関協働 (month, 年度累計)

    @property
    def total(self) -> Pair:
        return Pair("合計", sum(p.month for p in self.channels), sum(p.fiscal for p in self.channels))


def _pairs(labels: dict[str, str] | tuple[str, ...], month: dict, fiscal: dict) -> list[Pair]:
    items = labels.items() if isinstance(labels, dict) else ((k, k) for k in labels)
    return [Pair(label, month.get(key, 0), fiscal.get(key, 0)) for key, label in items]


def _fold_situations(counts: dict[str, int]) -> dict[str, int]:
    out = dict.fromkeys(SITUATIONS, 0)
    for key, n in counts.items():
        out[key if key in out else queries.UNCATEGORIZED] += n
    return out


def minutes(seconds: int | None) -> str:
    return "" if seconds is None else f"{seconds / 60:.1f}"


async def collect(session: AsyncSession, *, tenant_id: str, month: Month) -> KashiwaMonthly:
    scope = queries.Scope.month(tenant_id, month)
    fy = queries.Scope.fiscal_to_date(tenant_id, month)
    hours_m, hours_f = await queries.outside_hours_counts(session, scope), await queries.outside_hours_counts(session, fy)
    routes_m, routes_f = await queries.handoffs_by(session, scope), await queries.handoffs_by(session, fy)
    n, quantiles = await queries.first_contact_quantiles(session, scope)
    flagged = [
        (to_jst(created).strftime("%m/%d %H:%M"), URGENCIES.get(urgency, urgency), ROUTES.get(str(route), str(route)),
         minutes(secs), STATUSES.get(str(status), str(status)), outcome or "")
        for created, urgency, _kind, route, status, secs, outcome in await queries.flagged_cases(session, scope)
    ]
    # §4(2)カ: the complaint's own content and the response staff recorded (the request records).
    complaints, complaints_fiscal = await request_counts.complaints(session, tenant_id=tenant_id, month=month)
    # Managers read no resident free text (issue 12): names, places and numbers are masked.
    masker = Masker()
    complaints = [(at, await describe(masker, category="苦情", kind=None, note=content), response) for at, content, response in complaints]
    return KashiwaMonthly(
        month=month,
        channels=_pairs(CHANNELS, await queries.channel_counts(session, scope), await queries.channel_counts(session, fy)),
        situations=_pairs(
            SITUATIONS,
            _fold_situations(await queries.category_counts(session, scope)),
            _fold_situations(await queries.category_counts(session, fy)),
        ),
        hours=[Pair("開庁時間内", hours_m[False], hours_f[False]), Pair("開庁時間外（夜間・休日）", hours_m[True], hours_f[True])],
        routes=[
            (URGENCIES[u], ROUTES[r], routes_m.get((u, r), 0), routes_f.get((u, r), 0)) for u in URGENCIES for r in ROUTES
        ],
        first_contact=(n, quantiles[0.5], quantiles[0.9]),
        flagged=flagged,
        complaints=complaints,
        complaints_fiscal=complaints_fiscal,
        referrals=await request_counts.referrals(session, tenant_id=tenant_id, month=month),
    )


def title(month: Month) -> str:
    return f"令和{month.reiwa_fiscal_year}年度　柏市福祉の総合相談（デジタル相談窓口）　{month.month}月分 実績報告"


def blocks(data: KashiwaMonthly) -> list[tuple[str, list[str], list[list]]]:
    """The report as (heading, headers, rows) blocks: the xlsx and the CSV show the same thing."""
    n, median, p90 = data.first_contact
    pair = lambda items: [[p.label, p.month, p.fiscal] for p in items]  # noqa: E731
    return [
        ("1.相談件数（チャネル別）", ["チャネル", "当月", "年度累計"], pair([*data.channels, data.total])),
        ("2.相談者の状況別件数", ["状況", "当月", "年度累計"], pair([*data.situations, data.total])),
        ("3.開庁時間内外の件数", ["区分", "当月", "年度累計"], pair([*data.hours, data.total])),
        ("4.緊急・至急案件の対応ルート", ["緊急度", "ルート", "当月", "年度累計"], [list(r) for r in data.routes]),
        (
            "4-1.初回対応までの時間（当月・緊急/至急）",
            ["件数", "中央値（分）", "90パーセンタイル（分）"],
            [[n, minutes(median), minutes(p90)]],
        ),
        ("4-2.緊急・至急案件一覧（当月）", ["受付日時", "緊急度", "ルート", "初回対応まで（分）", "状況", "結果"], [list(r) for r in data.flagged]),
        (
            "5.苦情・クレーム（当月）",
            ["受付日時", "内容（要約）", "対応"],
            [list(r) for r in data.complaints] or [["", "該当なし", ""]],
        ),
        ("5-1.苦情・クレーム件数", ["", "当月", "年度累計"], [["苦情・クレーム", len(data.complaints), data.complaints_fiscal]]),
        ("6.多機関協働（つなぎ）件数", ["", "当月", "年度累計"], [["多機関協働", *data.referrals]]),
    ]


NOTES = [
    "相談 1 件＝チャットの会話 1 件。日時はすべて日本時間。日付・時間帯は会話の開始時で数えます（集計ルールは README）。",
    "内容は最初の相談文を要約・匿名化したもの（氏名・電話番号・住所等は伏せ字）。",
]


def render_xlsx(data: KashiwaMonthly, *, stamp: datetime) -> bytes:
    wb = xlsx.new_workbook()
    ws = xlsx.sheet(wb, "月次実績", widths={1: 30, 2: 44, 3: 30, 4: 16, 5: 14, 6: 18})
    xlsx.put(ws, 1, 1, title(data.month), bold=True, size=14)
    row = 2
    for text in NOTES:
        row = xlsx.note(ws, row, text)
    for heading, headers, rows in blocks(data):
        row = xlsx.heading(ws, row + 1, heading)
        row = xlsx.table(ws, row, headers, rows, wrap=True)
    return xlsx.to_bytes(wb, stamp=stamp)


def render_csv(data: KashiwaMonthly) -> bytes:
    """UTF-8 with BOM so Excel opens the Japanese correctly; blocks separated by a blank line."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title(data.month)])
    for heading, headers, rows in blocks(data):
        writer.writerow([])
        writer.writerow([heading])
        writer.writerow(headers)
        writer.writerows(xlsx.safe_row(r) for r in rows)  # no field is ever a formula (issue 12)
    return ("\ufeff" + out.getvalue()).encode("utf-8")
