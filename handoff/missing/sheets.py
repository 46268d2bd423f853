"""別紙8-3 行方不明者受付票 and 別紙8-4 行方不明者発見報告票 as .xlsx, in the layout of the
seed (seeds/003 別紙8-3, 別紙8-4), for the mail to the ward (⑤イ(カ)(ケ))."""

from __future__ import annotations

from datetime import datetime
from io import BytesIO

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from frontdoor.clock import to_jst
from handoff.missing.models import MissingPerson
from handoff.requests.models import Request

MENU = ("災害・防犯情報メール", "一人歩きSOSネットワークメール", "安全安心パトロール", "区役所全体での情報共有", "都内・近隣自治体・警視庁への情報提供")
MENU_LABELS = (
    "「災害・防犯情報メール」の配信",
    "世田谷区社会福祉協議会「せたがや一人歩きSOSネットワークメール」の配信",
    "安全安心パトロール（区内）",
    "世田谷区役所全体（あんしんすこやかセンター含む）での情報共有",
    "都内・近隣自治体（都内全域・神奈川・埼玉・千葉・栃木・茨城・群馬）・警視庁への情報提供",
)
# 項目, field, the mail-distribution option (None: 対象外 — never distributed).
PERSON_ROWS = (
    ("氏名（ふりがな）", "person", None), ("性別", "sex", "性別"), ("生年月日", "birth_date", None), ("年齢", "age", "年齢"),
    ("住所", "address", None), ("発生日時", "last_seen_at", "発生日時"), ("行方不明時の場所・状況", "last_seen_place", "場所・状況"),
    ("・本人の行きそうな場所 ・過去に保護された場所", "places", "行きそうな場所"), ("特徴", "features", "特徴"),
    ("服装", "clothes", "服装"), ("持ち物", "belongings", "持ち物"),
)


def reiwa(moment: datetime) -> str:
    local = to_jst(moment)
    return f"令和{local.year - 2018}年{local.month}月{local.day}日"


def _when(moment: datetime | None) -> str:
    if moment is None:
        return ""
    local = to_jst(moment)
    return f"{reiwa(local)} {local.hour}時{local.minute:02d}分"


def _sheet(title: str) -> tuple[Workbook, object]:
    book = Workbook()
    sheet = book.active
    sheet.title = title
    sheet.column_dimensions["A"].width = 34
    sheet.column_dimensions["B"].width = 48
    sheet.column_dimensions["C"].width = 16
    sheet.append([title])
    sheet["A1"].font = Font(size=14, bold=True)
    return book, sheet


def _bytes(book: Workbook) -> bytes:
    for row in book.active.iter_rows():
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    out = BytesIO()
    book.save(out)
    return out.getvalue()


def intake_sheet(request: Request, record: MissingPerson, *, staff_name: str, staff_phone: str) -> bytes:
    """別紙8-3: one row per item of the seed's form; personal data stays in the file."""
    f = request.fields or {}
    book, sheet = _sheet("行方不明者受付票")
    sheet.append([f"受付日：{reiwa(record.intake_at or request.recorded_at or request.created_at)}"])
    sheet.append(["管理番号", f.get("management_no", "")])
    sheet.append(["●通報者"])
    sheet.append(["氏名（ふりがな）", f"{f.get('reporter_name', '')}（{f.get('reporter_kana', '')}）"])
    sheet.append(["行方不明者との関係性", f.get("relationship", ""), "電話番号", f.get("reporter_phone", "")])
    sheet.append(["●警察署への行方不明者発生の110番通報の有無", f.get("called_110", ""), "「無」の場合、切電後すぐに通報・届出するよう案内", "☑" if f.get("called_110") == "無" else ""])
    sheet.append(["●通報者が希望する対応メニュー", "確認事項", "チェック"])
    chosen = f.get("menu", "")
    for option, label in zip(MENU, MENU_LABELS, strict=True):
        sheet.append(["", label, "○" if option in chosen else ""])
    sheet.append(["●行方不明者の情報", "聞き取り内容", "メール配信"])
    birth = f.get("birth", "")
    values = {
        "person": f"{f.get('person_name', '')}（{f.get('person_kana', '')}）", "birth_date": birth if "年" in birth else "",
        "age": birth if "年" not in birth else "", **f,
    }
    mail = f.get("mail_items", "")
    for label, key, option in PERSON_ROWS:
        sheet.append([label, values.get(key, ""), "対象外" if option is None else ("○" if option in mail else "×")])
    sheet.append(["認知症", f.get("dementia", ""), "名前を言えるか", f.get("says_name", "")])
    sheet.append(["住所を言えるか", f.get("says_address", ""), "警察署への行方不明者届", f.get("police_report", "")])
    sheet.append(["その他特記事項", f.get("notes", "")])
    sheet.append(["【高齢安心コール担当者】", f"氏名 {staff_name}", f"電話 {staff_phone}"])
    return _bytes(book)


def found_sheet(request: Request, record: MissingPerson, checks: list[tuple[datetime, str]], *, staff_name: str, staff_phone: str, now: datetime) -> bytes:
    """別紙8-4: the found details, the phone checks made (up to three columns) and, when the
    ward ended the case, its call time (⑤イ※)."""
    f, found = request.fields or {}, record.found or {}
    book, sheet = _sheet("行方不明者発見報告票")
    sheet.append([f"報告日：{reiwa(now)}"])
    sheet.append(["管理番号", f.get("management_no", "")])
    sheet.append(["氏名", f.get("person_name", "")])
    sheet.append(["発見日時", found.get("found_when", "") or _when(record.found_at)])
    sheet.append(["発見時の場所・状況", f"【場所】{found.get('found_place', '')} 【発見者の状況】{found.get('found_state', '')}"])
    notes = found.get("notes", "")
    if found.get("informant"):  # taken by phone: who told us (⑤イ(ク))
        notes = f"連絡者：{found['informant']}" + (f"　{notes}" if notes else "")
    if record.ward_call_at:
        notes = f"区からの発見連絡 {_when(record.ward_call_at)}" + (f"　{notes}" if notes else "")
    sheet.append(["その他特記事項", notes])
    sheet.append(["【電話による状況確認の記録】", "1回目", "2回目", "3回目"])
    shown = checks[:3]
    sheet.append(["確認日時", *[_when(at) for at, _ in shown]])
    sheet.append(["発見の有無", *["有" if outcome == "found" else "無" for _, outcome in shown]])
    sheet.append(["【高齢安心コール担当者】", f"氏名 {staff_name}", f"電話 {staff_phone}"])
    return _bytes(book)
