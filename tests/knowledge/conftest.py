"""Shared fixtures: the real catalog, one index per test session, the tenants' real facts."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from knowledge.catalog import Catalog, load_catalog
from knowledge.retrieval import KnowledgeIndex

ROOT = Path(__file__).resolve().parents[2]
TENANTS_DIR = ROOT / "frontdoor" / "tenants"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog()


@pytest.fixture(scope="session")
def index_cache_dir(settings) -> Path:  # noqa: ANN001
    """The suite's content-keyed cache (the app's own): the labelled questions' vectors and the
    fitted re-ranker are computed once per machine, not once per run."""
    return settings.cache_dir


@pytest.fixture(scope="session")
def index(catalog: Catalog, index_cache_dir: Path) -> KnowledgeIndex:
    return KnowledgeIndex.build(catalog, index_cache_dir)


@pytest.fixture(scope="session")
def tenant_facts() -> dict[str, dict[str, str]]:
    return {
        t: yaml.safe_load((TENANTS_DIR / f"{t}.yaml").read_text(encoding="utf-8"))["facts"]
        for t in ("kashiwa", "setagaya")
    }
