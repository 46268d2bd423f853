"""Tenant files: validated at load; staffed hours with national holidays and 12/29–1/3."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from frontdoor.clock import JST
from frontdoor.settings import Settings
from frontdoor.tenants import load_tenants
from knowledge.catalog import load_catalog
from knowledge.render import render


@pytest.fixture(scope="module")
def tenants():  # noqa: ANN201
    return load_tenants(Settings(_env_file=None).tenants_dir)


@pytest.mark.parametrize(
    ("moment", "staffed"),
    [
        (datetime(2026, 11, 24, 8, 29, tzinfo=JST), False),  # Tuesday, before 8:30
        (datetime(2026, 11, 24, 8, 30, tzinfo=JST), True),
        (datetime(2026, 11, 24, 17, 14, tzinfo=JST), True),
        (datetime(2026, 11, 24, 17, 15, tzinfo=JST), False),  # 002 §3(2): until 17:15
        (datetime(2026, 11, 28, 10, 0, tzinfo=JST), False),  # Saturday
        (datetime(2026, 11, 23, 10, 0, tzinfo=JST), False),  # 勤労感謝の日 (from jpholiday)
        (datetime(2026, 12, 29, 10, 0, tzinfo=JST), False),  # year-end closure 12/29–1/3
        (datetime(2027, 1, 4, 10, 0, tzinfo=JST), True),
        (datetime(2026, 9, 22, 10, 0, tzinfo=JST), False),  # 国民の休日 between two holidays
    ],
)
def test_kashiwa_staffed_hours(tenants, moment, staffed):  # noqa: ANN001
    assert tenants.get("kashiwa").is_staffed(moment) is staffed


def test_setagaya_line_is_staffed_around_the_clock_but_ward_office_is_not(tenants):  # noqa: ANN001
    setagaya = tenants.get("setagaya")
    new_year = datetime(2027, 1, 1, 3, 0, tzinfo=JST)
    assert setagaya.is_staffed(new_year)  # 003 ②イ(ア): 年中無休24時間
    assert not setagaya.ward_office_hours.is_open(new_year)  # 003 ⑤イ: 開庁時間


def test_next_opening_is_said_in_japanese(tenants):  # noqa: ANN001
    kashiwa = tenants.get("kashiwa")
    assert kashiwa.staffed_hours.next_opening_text(datetime(2026, 12, 28, 18, 0, tzinfo=JST)) == "1月4日（月）午前8時30分"


def test_bad_tenant_file_is_refused(tmp_path: Path):
    good = yaml.safe_load((Settings(_env_file=None).tenants_dir / "kashiwa.yaml").read_text(encoding="utf-8"))
    good["staffed_hours"]["weekdays"] = [7]
    (tmp_path / "kashiwa.yaml").write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_tenants(tmp_path)
    good["staffed_hours"]["weekdays"] = [0]
    good["id"] = "osaka"
    (tmp_path / "kashiwa.yaml").write_text(yaml.safe_dump(good, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValueError, match="must match"):
        load_tenants(tmp_path)


def test_the_ways_to_a_person_are_said_as_each_tenant_offers_them(tenants):  # noqa: ANN001
    """common.talk_to_human said 「お電話や面談なども選べます」 to Setagaya too, which answers by
    phone and FAX only (003 §1(2)②イ(ウ)); its route buttons were already right."""
    answer = load_catalog().get("common.talk_to_human").answer
    for tenant in tenants.all():
        said = render(answer, tenant.facts)
        for route, word in (("phone", "電話"), ("face_to_face", "面談"), ("email", "メール")):
            assert (word in said) == (route in tenant.routes), (tenant.id, route)
