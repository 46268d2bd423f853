"""openpyxl helpers shared by the report layouts: headings, tables, and reproducible bytes."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Sequence
from datetime import datetime

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

FONT = "游ゴシック"
_THIN = Side(style="thin", color="808080")
BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")
CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
WRAP = Alignment(vertical="top", wrap_text=True)
NOTE_FONT = Font(name=FONT, size=9, color="555555")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralize(value):  # noqa: ANN001, ANN201
    """Text from outside (a resident's first words, a counselor's note) is never a formula in
    Excel: a leading = + - @ tab or CR gets an apostrophe (issue 12; OWASP CSV injection).
    Used for every workbook cell and every CSV field."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def safe_row(values) -> list:  # noqa: ANN001
    return [neutralize(v) for v in values]


def new_workbook() -> Workbook:
    wb = Workbook()
    wb.remove(wb.active)
    return wb


def sheet(wb: Workbook, title: str, *, widths: dict[int, float] | None = None) -> Worksheet:
    ws = wb.create_sheet(title[:31])
    for col, width in (widths or {}).items():
        ws.column_dimensions[get_column_letter(col)].width = width
    return ws


def put(ws: Worksheet, row: int, col: int, value, *, bold: bool = False, size: int = 10, head: bool = False, border: bool = False):  # noqa: ANN001, ANN201
    cell = ws.cell(row=row, column=col, value=neutralize(value))
    cell.data_type = "s" if isinstance(cell.value, str) else cell.data_type
    cell.font = Font(name=FONT, size=size, bold=bold or head)
    if head:
        cell.fill = HEAD_FILL
        cell.alignment = CENTER
    if border or head:
        cell.border = BORDER
    return cell


def heading(ws: Worksheet, row: int, text: str, *, size: int = 11) -> int:
    put(ws, row, 1, text, bold=True, size=size)
    return row + 1


def note(ws: Worksheet, row: int, text: str) -> int:
    ws.cell(row=row, column=1, value=neutralize(text)).font = NOTE_FONT
    return row + 1


def table(ws: Worksheet, row: int, headers: Sequence[str], rows: Iterable[Sequence], *, col: int = 1, wrap: bool = False) -> int:
    """Header row plus data rows, bordered; returns the next free row."""
    for i, value in enumerate(headers):
        put(ws, row, col + i, value, head=True)
    row += 1
    for values in rows:
        for i, value in enumerate(values):
            cell = put(ws, row, col + i, value, border=True)
            if wrap:
                cell.alignment = WRAP
        row += 1
    return row


def to_bytes(wb: Workbook, *, stamp: datetime) -> bytes:
    """Save with fixed document dates and zip timestamps: the same figures give the same bytes
    (so a checksum tells whether a regenerated report changed)."""
    naive = stamp.replace(tzinfo=None)
    wb.properties.created = naive
    wb.properties.modified = naive
    wb.properties.creator = "Frontdoor"
    raw = io.BytesIO()
    # Not wb.save(): it stamps "modified" with the current time.
    ExcelWriter(wb, zipfile.ZipFile(raw, "w", zipfile.ZIP_DEFLATED, allowZip64=True)).save()
    out = io.BytesIO()
    with zipfile.ZipFile(raw) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=(1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            fixed.external_attr = info.external_attr
            dst.writestr(fixed, src.read(info.filename))
    return out.getvalue()
