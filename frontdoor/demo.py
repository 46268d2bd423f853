"""Demo data for a first start: individual demo accounts per tenant, then months of
realistic synthetic conversations (workers/reports/demo_data.py). Safe to run twice."""

from __future__ import annotations

from sqlalchemy import select

from bot import conversations as conv_service
from frontdoor.clock import utc_now
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.settings import Settings
from frontdoor.tenants import load_tenants
from handoff import accounts
from handoff.models import Counselor, Role
from workers.reports import demo_data

# Demo only: README lists these; real deployments create accounts with `frontdoor create-user`.
DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = [
    ("kashiwa", "k.sato", "佐藤 相談員", Role.COUNSELOR, False),
    ("kashiwa", "k.suzuki", "鈴木 相談員（当番）", Role.COUNSELOR, True),
    ("kashiwa", "k.takahashi", "高橋 責任者", Role.SUPERVISOR, True),
    ("kashiwa", "k.manager", "田中 管理者", Role.MANAGER, False),
    ("setagaya", "s.ito", "伊藤 相談員", Role.COUNSELOR, True),
    ("setagaya", "s.watanabe", "渡辺 責任者", Role.SUPERVISOR, True),
    ("setagaya", "s.manager", "山本 管理者", Role.MANAGER, False),
]


# A few conversations happening right now, sent through the real engine, so the console
# shows waiting cases on a first start. Synthetic, written for the demo.
LIVE_EXAMPLES = [
    ("kashiwa", "もう三日もまともに食べてなくて、お金もあと数百円しかありません"),
    ("kashiwa", "窓口って土曜日もあいてますか"),
    ("setagaya", "となりのひとり暮らしのおばあさん、ここ四日ほど雨戸がしまったままで電話にも出ないんです"),
    ("setagaya", "来週の電話訪問、入院するのでお休みにしてほしい"),
]


async def _live_examples(settings: Settings, tenants, session) -> None:  # noqa: ANN001
    from bot.engine import Inbound
    from frontdoor.models import ChannelKind
    from frontdoor.runtime import build_decider, build_engine

    engine = build_engine(settings, tenants, build_decider(settings), relay=None)
    for number, (tenant_id, text) in enumerate(LIVE_EXAMPLES):
        await engine.handle_inbound(session, Inbound(tenant_id, ChannelKind.WEB, f"demo-live-{number:04d}-resident", text))


async def seed_demo(settings: Settings, *, months: int = 4, force: bool = False) -> int:
    tenants = load_tenants(settings.tenants_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.resolved_database_url())  # `frontdoor demo-data` may be the first command run
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            await conv_service.ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
            existing = set((await session.scalars(select(Counselor.login))).all())
            for tenant_id, login, name, role, on_call in DEMO_ACCOUNTS:
                if login not in existing:
                    await accounts.create_counselor(
                        session, tenant_id=tenant_id, login=login, display_name=name, password=DEMO_PASSWORD, role=role, on_call=on_call, demo_mode=True
                    )
            await session.commit()
            added = await demo_data.seed_conversations(
                session, tenants=tenants.all(), now=utc_now(), config=demo_data.DemoConfig(months=months), force=force
            )
            if added:
                await _live_examples(settings, tenants, session)
        if added:
            print(f"デモ用の会話を {added:,} 件登録しました（{months} か月分）。")
    finally:
        await engine.dispose()
    return 0
