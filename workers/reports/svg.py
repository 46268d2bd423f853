"""Server-side inline SVG charts (no scripts, nothing fetched). Every mark carries its value
in a <title> and a data-value attribute, and links to the conversations behind it when a
link is given (roles allowed to see conversation lists only)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from html import escape

from markupsafe import Markup

PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]
WEEKDAYS = "月火水木金土日"


def _wrap(mark: str, href: str | None) -> str:
    return f'<a href="{escape(href)}">{mark}</a>' if href else mark


def _svg(width: int, height: int, label: str, body: str) -> Markup:
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" role="img" '
        f'aria-label="{escape(label)}" font-family="sans-serif" font-size="12">{body}</svg>'
    )


def bar_chart(items: Sequence[tuple[str, int, str | None]], *, label: str, width: int = 520, unit: str = "件", left: int = 130) -> Markup:
    """Horizontal bars: (label, value, link or None)."""
    row_h, right = 24, 60
    height = row_h * len(items) + 8
    top = max([v for _, v, _ in items] + [1])
    parts = []
    for i, (name, value, href) in enumerate(items):
        y = 4 + i * row_h
        w = (width - left - right) * value / top
        bar = (
            f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 8}" fill="{PALETTE[0]}" '
            f'data-label="{escape(name)}" data-value="{value}"><title>{escape(name)}: {value}{unit}</title></rect>'
        )
        parts.append(f'<text x="{left - 6}" y="{y + row_h / 2 + 4}" text-anchor="end">{escape(name)}</text>')
        parts.append(_wrap(bar, href))
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + row_h / 2 + 4}">{value}</text>')
    return _svg(width, height, label, "".join(parts))


def heat_map(counts: dict[tuple[int, int], int], *, label: str, link: Callable[[int, int], str | None] | None = None) -> Markup:
    """Weekday (rows, Monday first) × hour of day (columns)."""
    cell, left, top_pad = 24, 28, 18
    width, height = left + cell * 24 + 4, top_pad + cell * 7 + 4
    top = max(list(counts.values()) + [1])
    parts = [f'<text x="{left + h * cell + cell / 2}" y="12" text-anchor="middle">{h}</text>' for h in range(0, 24, 3)]
    for w in range(7):
        parts.append(f'<text x="{left - 6}" y="{top_pad + w * cell + cell / 2 + 4}" text-anchor="end">{WEEKDAYS[w]}</text>')
        for h in range(24):
            n = counts.get((w, h), 0)
            shade = 0.06 + 0.94 * n / top if n else 0.0
            rect = (
                f'<rect class="cell" x="{left + h * cell}" y="{top_pad + w * cell}" width="{cell - 2}" height="{cell - 2}" '
                f'fill="#c0392b" fill-opacity="{shade:.2f}" stroke="#eee" data-weekday="{w}" data-hour="{h}" data-value="{n}">'
                f"<title>{WEEKDAYS[w]}曜 {h}時台: {n}件</title></rect>"
            )
            parts.append(_wrap(rect, link(w, h) if link and n else None))
    return _svg(width, height, label, "".join(parts))


def stacked_columns(
    months: Sequence[str], series: dict[str, Sequence[int]], *, label: str, link: Callable[[str, str], str | None] | None = None
) -> Markup:
    """One column per month, stacked by category, with a legend."""
    width, height, left, bottom, legend_w = 640, 260, 40, 24, 130
    plot_w, plot_h = width - left - legend_w, height - bottom - 10
    totals = [sum(values[i] for values in series.values()) for i in range(len(months))]
    top = max(totals + [1])
    col_w = plot_w / max(len(months), 1)
    parts = [f'<text x="{left - 4}" y="14" text-anchor="end">{top}</text>', f'<text x="{left - 4}" y="{10 + plot_h}" text-anchor="end">0</text>']
    for i, month in enumerate(months):
        y = 10 + plot_h
        for j, (name, values) in enumerate(series.items()):
            h = plot_h * values[i] / top
            y -= h
            if values[i]:
                rect = (
                    f'<rect class="seg" x="{left + i * col_w + 4:.1f}" y="{y:.1f}" width="{col_w - 8:.1f}" height="{h:.1f}" '
                    f'fill="{PALETTE[j % len(PALETTE)]}" data-month="{month}" data-label="{escape(name)}" data-value="{values[i]}">'
                    f"<title>{month} {escape(name)}: {values[i]}件</title></rect>"
                )
                parts.append(_wrap(rect, link(month, name) if link else None))
        parts.append(f'<text x="{left + i * col_w + col_w / 2:.1f}" y="{height - 6}" text-anchor="middle">{month[2:]}</text>')
    for j, name in enumerate(series):
        y = 14 + j * 18
        parts.append(f'<rect x="{width - legend_w + 6}" y="{y - 10}" width="12" height="12" fill="{PALETTE[j % len(PALETTE)]}"/>')
        parts.append(f'<text x="{width - legend_w + 24}" y="{y}">{escape(name)}</text>')
    return _svg(width, height, label, "".join(parts))
