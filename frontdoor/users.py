"""`frontdoor create-user`: individual accounts only; the password is typed, never an argument."""

from __future__ import annotations

import argparse
import getpass
import os

from frontdoor.db import create_engine, session_factory
from frontdoor.settings import Settings
from handoff import accounts
from handoff.models import Role


async def create_user_cli(settings: Settings, args: argparse.Namespace) -> int:
    password = os.environ.get("FRONTDOOR_NEW_USER_PASSWORD") or getpass.getpass("パスワード（10文字以上）: ")
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            try:
                await accounts.create_counselor(
                    session,
                    tenant_id=args.tenant,
                    login=args.login,
                    display_name=args.name,
                    password=password,
                    role=Role(args.role),
                    email=args.email,
                    on_call=args.on_call,
                )
            except accounts.AccountError as exc:
                print(f"error: {exc}")
                return 2
            await session.commit()
    finally:
        await engine.dispose()
    print(f"アカウント {args.login} を作成しました。")
    return 0
