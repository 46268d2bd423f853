"""The knowledge index as a LangChain retriever, for an optional LLM chain.

Documents carry the entry's answer (rendered when the tenant's facts are given, so an LLM
never sees raw placeholders) and the entry's metadata, so a chain can cite the entry id.
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from knowledge.render import render
from knowledge.retrieval import KnowledgeIndex


class KnowledgeRetriever(BaseRetriever):
    """`KnowledgeRetriever(index=..., tenant="setagaya", facts={...})`; sync and async via BaseRetriever."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    index: KnowledgeIndex
    tenant: str
    k: int = 3
    facts: dict[str, str] | None = None

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun | None = None, **_: Any
    ) -> list[Document]:
        docs = []
        for match in self.index.search(self.tenant, query, k=self.k):
            entry = match.entry
            body = render(entry.answer, self.facts) if self.facts is not None else entry.answer
            docs.append(
                Document(
                    page_content=f"{entry.title}\n{body}",
                    id=entry.id,
                    metadata={
                        "id": entry.id,
                        "title": entry.title,
                        "score": match.score,
                        "tenant": entry.tenant,
                        "report_category": entry.report_category,
                        "follow_up": entry.follow_up,
                        "source": entry.source,
                    },
                )
            )
        return docs
