"""The LangChain retriever adapter and the `kb validate` checks."""

from __future__ import annotations

from langchain_core.retrievers import BaseRetriever

from knowledge.catalog import Catalog
from knowledge.langchain_retriever import KnowledgeRetriever
from knowledge.retrieval import KnowledgeIndex
from knowledge.validate import validate_catalog


def test_retriever_returns_documents(index, tenant_facts):
    retriever = KnowledgeRetriever(index=index, tenant="setagaya", facts=tenant_facts["setagaya"], k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("見守りステッカーの申し込み")
    assert len(docs) == 2
    assert docs[0].metadata["id"] == "setagaya.sticker"
    assert tenant_facts["setagaya"]["anshin_call_phone"] in docs[0].page_content
    assert all(d.metadata["tenant"] in ("setagaya", "common") for d in docs)


async def test_retriever_async_and_unrendered(index):
    retriever = KnowledgeRetriever(index=index, tenant="kashiwa")
    docs = await retriever.ainvoke("メールで相談したい")
    assert docs[0].metadata["id"] == "kashiwa.email_consult"
    assert "{{ facts.center_email }}" in docs[0].page_content


def test_real_catalog_validates(catalog, index, tenant_facts):
    assert validate_catalog(catalog, index, tenant_facts) == []


def test_validate_reports_missing_facts_and_overlapping_examples(catalog, index, index_cache_dir, tenant_facts):
    facts = {t: dict(f) for t, f in tenant_facts.items()}
    del facts["setagaya"]["sos_network_name"]
    problems = validate_catalog(catalog, index, facts)
    assert any("setagaya.sticker" in p and "sos_network_name" in p for p in problems)

    # An entry whose example questions say what another entry says must be reported.
    absence = catalog.get("setagaya.phone_visit_absence")
    change = catalog.get("setagaya.phone_visit_change")
    stolen = change.model_copy(update={"example_questions": (*change.example_questions, *absence.example_questions[:3])})
    # A small catalog keeps the test fast: the phone-visit family plus the common entries.
    family = [e for e in catalog if e.id.startswith("setagaya.phone_visit") or e.tenant == "common"]
    entries = [stolen if e.id == change.id else e for e in family]
    entries = [e.model_copy(update={"example_questions": e.example_questions[3:] + ("電話訪問の不在の連絡を入れたい", "留守の日を知らせておきたい", "不在の届け")}) if e.id == absence.id else e for e in entries]
    overlapping = Catalog(entries)
    # The suite's content-keyed cache: this catalog's re-ranker is fitted once per machine.
    problems = validate_catalog(overlapping, KnowledgeIndex.build(overlapping, index_cache_dir, embedder=index.embedder), tenant_facts)
    assert any("setagaya.phone_visit_change: example" in p for p in problems) or any(
        "retrieves setagaya.phone_visit_change" in p for p in problems
    )
