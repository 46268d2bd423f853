"""Emergency and crisis numbers, pinned against the official numbers (issue 4). Third-party
pages misprint some of them; a wrong crisis number in a first reply must fail the build."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from handoff.contacts import CONTACTS_FILE, EmergencyContact, load_contacts

# The official numbers, as published by their operators.
OFFICIAL = {
    "fire_ambulance": ("119",),  # 消防・救急
    "police": ("110",),  # 警察
    "emergency_advice": ("#7119",),  # 救急安心センター
    "police_consultation": ("#9110",),  # 警察相談専用電話
    "child_abuse": ("189",),  # 児童相談所虐待対応ダイヤル
    "dv_navi": ("#8008",),  # DV相談ナビ
    "yorisoi": ("0120-279-338",),  # よりそいホットライン
    "kokoro_dial": ("0570-064-556",),  # こころの健康相談統一ダイヤル
    "inochi_navi": ("0570-783-556",),  # いのちの電話（ナビダイヤル）
    "inochi_free": ("0120-783-556",),  # いのちの電話（フリーダイヤル）
}


def test_numbers_match_the_official_ones() -> None:
    contacts = load_contacts()
    assert {c.id: c.numbers for c in contacts.contacts} == OFFICIAL


def test_names_and_hours_are_there() -> None:
    contacts = load_contacts()
    assert contacts["yorisoi"].name == "よりそいホットライン"
    assert contacts["kokoro_dial"].name == "こころの健康相談統一ダイヤル"
    assert contacts["inochi_navi"].name.startswith("いのちの電話")
    for contact in contacts.contacts:
        assert isinstance(contact, EmergencyContact)
        assert contact.hours and contact.when_to_use
    for contact_id in ("fire_ambulance", "police", "child_abuse", "yorisoi"):
        assert "24時間" in contacts[contact_id].hours
    # the only line offered as "open all night" really is
    assert [c.id for c in contacts.always_open()] == ["yorisoi"]


def test_label() -> None:
    assert load_contacts()["yorisoi"].label() == "よりそいホットライン 0120-279-338（24時間）"


def test_malformed_number_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "contacts.yaml"
    bad.write_text(CONTACTS_FILE.read_text(encoding="utf-8").replace('"0120-279-338"', '"0120-279-33"'), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_contacts(bad)


def test_unknown_kind_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "contacts.yaml"
    bad.write_text(CONTACTS_FILE.read_text(encoding="utf-8").replace("kinds: [fire,", "kinds: [earthquake,"), encoding="utf-8")
    with pytest.raises(ValidationError):
        load_contacts(bad)


def test_unknown_id_raises_key_error() -> None:
    with pytest.raises(KeyError):
        load_contacts()["nosuch"]
