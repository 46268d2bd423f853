"""The content itself: schema, required topics, placeholders, and wording rules."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from knowledge.catalog import (
    ENTRIES_DIR,
    KASHIWA_CATEGORIES,
    SETAGAYA_CATEGORIES,
    CatalogError,
    load_catalog,
)
from knowledge.render import placeholders

REQUIRED = {
    "setagaya": [
        "anshin_call", "volunteer_help", "phone_visit", "phone_visit_change", "phone_visit_absence",
        "phone_visit_pause", "phone_visit_cancel", "sticker", "sticker_change", "sticker_found",
        "missing_person", "anshin_sukoyaka", "care_consult", "welfare_services", "family_watch",
        "complaint", "volunteer_join",
    ],
    "kashiwa": [
        "general_consult", "office_hours", "face_to_face", "email_consult", "outreach", "complex_household",
        "living_hardship", "elderly_care", "disability", "child_family", "hikikomori", "mental_health",
        "complaint", "privacy",
    ],
    "common": ["emergency", "crisis_lines", "talk_to_human", "greeting"],
}


def test_required_entries_exist(catalog):
    for tenant, names in REQUIRED.items():
        for name in names:
            assert f"{tenant}.{name}" in catalog, f"{tenant}.{name} missing"


def test_every_entry_is_well_formed(catalog):
    for e in catalog:
        assert len(e.example_questions) >= 8, e.id
        assert "seeds/00" in e.source and "§" in e.source, e.id
        if e.tenant == "setagaya" and e.report_category is not None:
            assert e.report_category in SETAGAYA_CATEGORIES
        if e.tenant == "kashiwa":
            assert e.report_category in KASHIWA_CATEGORIES


def test_files_live_under_their_tenant():
    for path in ENTRIES_DIR.rglob("*.yaml"):
        tenant = path.parent.name
        text = path.read_text(encoding="utf-8")
        assert re.search(rf"^tenant: {tenant}$", text, re.M), path
        assert re.search(rf"^id: {tenant}\.{path.stem}$", text, re.M), path


def test_placeholders_exist_for_every_tenant_that_sees_the_entry(catalog, tenant_facts):
    shared = set(tenant_facts["kashiwa"]) & set(tenant_facts["setagaya"])
    for e in catalog:
        used = placeholders(e.answer)
        if e.tenant == "common":
            assert used <= shared, (e.id, used - shared)
        else:
            assert used <= set(tenant_facts[e.tenant]), (e.id, used - set(tenant_facts[e.tenant]))


def test_no_phone_numbers_or_urls_written_into_tenant_entries(catalog):
    """Deployment facts are placeholders; only national numbers may appear literally (in any entry)."""
    national = {"119", "110", "#7119", "0120-279-338", "0570-064-556", "0570-783-556", "0120-783-556", "189", "#8008", "#9110"}
    for e in catalog:
        assert "http" not in e.answer and "@" not in e.answer, e.id
        for number in re.findall(r"#?\d{2,}(?:-\d+)*", e.answer):
            if number in national or re.fullmatch(r"\d{1,3}", number):
                continue
            pytest.fail(f"{e.id}: literal number {number} should be a facts placeholder")


def test_answers_never_claim_an_action_was_taken(catalog):
    """No intake exists yet: the bot tells residents how to do it, never that it was done."""
    claims = re.compile(r"(受け付けました|受付しました|承りました|送りました|お送りしました|登録しました|手配しました|記録しました|連絡しました|お伝えしました|休止しました|変更しました)")
    for e in catalog:
        assert not claims.search(e.answer), (e.id, claims.search(e.answer).group(0))


def test_answers_are_large_text_friendly(catalog):
    for e in catalog:
        for paragraph in e.answer.split("\n\n"):
            assert paragraph.count("\n") <= 6, (e.id, paragraph[:30])
        for line in e.answer.splitlines():
            assert len(line) <= 130, (e.id, line[:30])


def _copy_entries(tmp_path: Path) -> Path:
    root = tmp_path / "entries"
    shutil.copytree(ENTRIES_DIR, root)
    return root


def test_invalid_entry_fails_loading(tmp_path):
    root = _copy_entries(tmp_path)
    path = root / "setagaya" / "sticker.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("report_category: 見守りステッカー", "report_category: 高齢"), encoding="utf-8")
    with pytest.raises(CatalogError, match="report_category"):
        load_catalog(root)


def test_duplicate_ids_fail_loading(tmp_path):
    root = _copy_entries(tmp_path)
    shutil.copy(root / "kashiwa" / "privacy.yaml", root / "kashiwa" / "privacy_copy.yaml")
    with pytest.raises(CatalogError, match="duplicate id"):
        load_catalog(root)


def test_too_few_examples_fail_loading(tmp_path):
    root = _copy_entries(tmp_path)
    path = root / "common" / "thanks.yaml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"example_questions:\n(  - .*\n)+", "example_questions:\n  - ありがとう\n", text)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(CatalogError, match="at least 8"):
        load_catalog(root)


def test_entry_under_wrong_tenant_dir_fails(tmp_path):
    root = _copy_entries(tmp_path)
    shutil.move(root / "kashiwa" / "privacy.yaml", root / "setagaya" / "kprivacy.yaml")
    with pytest.raises(CatalogError, match="stored under setagaya"):
        load_catalog(root)
