"""Crisis-line hours (issue 15) are data, pinned against the operators' published hours, and
the answer quotes exactly that data (nothing typed twice by hand)."""

from __future__ import annotations

from pathlib import Path

import yaml

DATA = Path(__file__).resolve().parents[2] / "knowledge" / "crisis_lines.yaml"

# The official hours, as published by each operator (checked 2026-12-05):
# よりそいホットライン: 24時間・年中無休 (社会的包摂サポートセンター);
# いのちの電話 ナビダイヤル 10:00–22:00 毎日; フリーダイヤル 16:00–21:00 毎日 and the 10th of
# each month 8:00 to 8:00 the next day (日本いのちの電話連盟); the 統一ダイヤル connects to the
# caller's prefecture, whose hours differ, so none are stated.
OFFICIAL = {
    "0120-279-338": "24時間・年中無休",
    "0570-783-556": "毎日 午前10時から午後10時まで",
    "0120-783-556": "毎日 午後4時から午後9時まで。毎月10日は午前8時から翌日午前8時まで",
    "0570-064-556": "都道府県によってちがいます",
}


def test_crisis_line_data_matches_the_official_hours():
    lines = yaml.safe_load(DATA.read_text(encoding="utf-8"))["lines"]
    assert {line["number"]: line["hours"] for line in lines} == OFFICIAL
    assert all(line["source"] for line in lines)


def test_hours_answer_quotes_every_line(catalog, tenant_facts):
    from knowledge.render import render

    entry = catalog.get("common.crisis_line_hours")
    for facts in tenant_facts.values():
        text = render(entry.answer, facts)
        for number, hours in OFFICIAL.items():
            assert f"{number}" in text and hours in text, number


def test_numbers_in_other_entries_agree_with_the_data(catalog):
    """An entry that names a crisis line uses the number in the data file."""
    numbers = set(OFFICIAL)
    for entry in catalog:
        for line in ("よりそいホットライン", "いのちの電話", "こころの健康相談統一ダイヤル"):
            if line in entry.answer:
                assert any(n in entry.answer for n in numbers), entry.id
