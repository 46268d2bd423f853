"""Assembles the long-lived parts from one Settings object. Each process (web app, Celery
worker, CLI) builds its own Runtime; nothing here is a module-level singleton."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from datetime import timedelta

from celery import Celery
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from bot.decide import Decider
from bot.engine import ConversationEngine
from bot.inference import InferencePool
from frontdoor.db import create_engine, session_factory
from frontdoor.metrics import Metrics
from frontdoor.redis_server import RedisHandle, start_redis
from frontdoor.settings import Settings
from frontdoor.tenants import TenantRegistry, load_tenants, refuse_placeholder_contacts
from handoff.contacts import load_contacts
from handoff.intake import HandoffPolicy
from handoff.relay import Relay
from handoff.replies import load_first_replies
from handoff.triage import Triage, default_rules
from handoff.triage.model import load_or_train
from handoff.triage.training import load_examples
from knowledge.catalog import Catalog, load_catalog
from knowledge.embedding import Embedder, load_embedder
from knowledge.rerank import topic_questions
from knowledge.retrieval import KnowledgeIndex
from workers.celery_app import create_celery

log = logging.getLogger(__name__)


def build_triage(settings: Settings, catalog: Catalog, embedder: Embedder | None = None) -> Triage:
    """The rules plus the trained risk model (cached in `cache_dir/triage`, trained on first
    start or when the labelled data changes); the rules alone if the model cannot load.
    `catalog`: its labelled questions teach the model's topic head too."""
    rules = default_rules()
    try:
        embedder = embedder or load_embedder()
        model = load_or_train(load_examples(), rules, embedder, settings.cache_dir, questions=topic_questions(catalog))
        return Triage(rules, model, embedder)
    except Exception:  # an install problem must degrade triage to the rules, not stop the app
        log.exception("the triage model failed to load; triage runs on the rules alone")
        return Triage(rules)


def build_decider(settings: Settings) -> Decider:
    """Knowledge index and triage, sharing one e5 model: each message is embedded once.

    The model gets `inference_threads` OpenMP threads unless OMP_NUM_THREADS says otherwise:
    the app decides many messages at once, and on a busy machine spinning OpenMP threads
    made one embedding five times slower (issue 9, bench/RESULTS.md)."""
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.inference_threads))
    index = KnowledgeIndex.build(load_catalog(), cache_dir=settings.cache_dir)
    return Decider(triage=build_triage(settings, index.catalog, index.embedder), index=index, contacts=load_contacts())


def build_llm(settings: Settings):  # noqa: ANN201
    """The optional on-prem rephrasing model; None (curated text only) unless configured."""
    if not (settings.llm_base_url and settings.llm_model):
        return None
    try:
        from langchain_openai import ChatOpenAI  # optional extra
    except ImportError:
        log.warning("FRONTDOOR_LLM_BASE_URL is set but langchain-openai is not installed; using curated text")
        return None
    return ChatOpenAI(base_url=settings.llm_base_url, model=settings.llm_model, timeout=settings.llm_timeout_s, api_key="none")


def build_engine(
    settings: Settings, tenants: TenantRegistry, decider: Decider, relay: Relay | None, inference: InferencePool | None = None
) -> ConversationEngine:
    policy = HandoffPolicy(
        sla_emergency=timedelta(seconds=settings.sla_emergency_seconds),
        sla_urgent=timedelta(seconds=settings.sla_urgent_seconds),
    )
    return ConversationEngine(
        settings=settings, tenants=tenants, decider=decider, relay=relay, policy=policy, llm=build_llm(settings), inference=inference
    )


@dataclass
class Runtime:
    settings: Settings
    tenants: TenantRegistry
    engine: AsyncEngine
    sessions: async_sessionmaker[AsyncSession]
    redis_handle: RedisHandle
    redis: Redis
    relay: Relay
    decider: Decider
    conversation_engine: ConversationEngine
    inference: InferencePool
    metrics: Metrics
    celery: Celery  # a client only: the web process enqueues, Celery workers run the jobs
    extras: dict = field(default_factory=dict)

    async def aclose(self) -> None:
        self.inference.close()
        await self.redis.aclose()
        await self.engine.dispose()


def build_runtime(settings: Settings, *, decider: Decider | None = None, redis_handle: RedisHandle | None = None) -> Runtime:
    tenants = load_tenants(settings.tenants_dir)
    load_first_replies()  # validated at start-up, not at the first emergency
    if not settings.demo_mode:
        refuse_placeholder_contacts(tenants)
    db_engine = create_engine(
        settings.resolved_database_url(), pool_size=settings.database_pool_size, max_overflow=settings.database_max_overflow
    )
    handle = redis_handle or start_redis(settings)
    redis = Redis.from_url(handle.url, decode_responses=True)
    relay = Relay(redis)
    # Built here first even with a process pool: a first start trains the triage model once,
    # before the workers load it from the cache; the engine keeps the cheap parts (replies
    # for a raised check-in, report categories, the rules for the busy reply) in process.
    decider = decider or build_decider(settings)
    metrics = Metrics()
    inference = InferencePool.from_settings(settings, decider, metrics=metrics)
    conversation_engine = build_engine(settings, tenants, decider, relay, inference)
    celery = create_celery(settings, redis_url=handle.url)
    return Runtime(
        settings=settings,
        tenants=tenants,
        engine=db_engine,
        sessions=session_factory(db_engine),
        redis_handle=handle,
        redis=redis,
        relay=relay,
        decider=decider,
        conversation_engine=conversation_engine,
        inference=inference,
        metrics=metrics,
        celery=celery,
    )
