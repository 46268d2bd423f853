"""Start-up refuses placeholder contact details outside demo mode (issue 15): a resident
must never be told to call 0000 or write to example.invalid."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from frontdoor.runtime import build_runtime
from frontdoor.settings import Settings
from frontdoor.tenants import PlaceholderContacts, load_tenants, refuse_placeholder_contacts

TENANTS = Path(__file__).resolve().parents[1] / "frontdoor" / "tenants"


def test_shipped_demo_contacts_are_refused_outside_demo_mode(tmp_path):
    with pytest.raises(PlaceholderContacts) as caught:
        build_runtime(Settings(data_dir=tmp_path, demo_mode=False))
    message = str(caught.value)
    assert "kashiwa.center_email" in message and "setagaya.anshin_call_phone" in message
    assert "kashiwa.city_welfare_policy_phone" not in message  # a real number is not flagged


def test_real_contacts_pass(tmp_path):
    for path in TENANTS.glob("*.yaml"):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for n, name in enumerate(sorted(data["facts"])):
            value = data["facts"][name]
            if "example.invalid" in value:
                data["facts"][name] = "soudan@city.example.jp"
            elif "0000" in value:
                data["facts"][name] = f"03-5432-{1000 + n}"
        (tmp_path / path.name).write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    refuse_placeholder_contacts(load_tenants(tmp_path))  # does not raise


def test_demo_mode_accepts_the_shipped_placeholders(tmp_path):
    shutil.copytree(TENANTS, tmp_path / "tenants")
    assert Settings(data_dir=tmp_path).demo_mode is True
    load_tenants(tmp_path / "tenants")  # loads; build_runtime only refuses when demo_mode is off
