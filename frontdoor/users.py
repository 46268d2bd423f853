"""`frontdoor create-user`: individual accounts only; the password is typed, never an argument."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

import frontdoor.models  # noqa: F401 - registers the tenant table the account refers to
from bot.conversations import ensure_tenant_rows
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.settings import Settings
from frontdoor.tenants import UnknownTenant, load_tenants
from handoff import accounts
from handoff.models import Role


async def create_user_cli(settings: Settings, args: argparse.Namespace) -> int:
    tenants = load_tenants(settings.tenants_dir)
    try:
        tenants.get(args.tenant)
    except UnknownTenant:
        print(f"error: unknown tenant {args.tenant!r} (known: {', '.join(tenants.ids())})")
        return 2
    password = _new_password()
    if password is None:
        print(
            "error: パスワードが入力されませんでした。端末から実行して入力するか、"
            "環境変数 FRONTDOOR_NEW_USER_PASSWORD に設定してください。"
        )
        return 2
    # It may be the first command run on a fresh data directory: schema and tenant rows first.
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.resolved_database_url())
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            await ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
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


def _new_password() -> str | None:
    """Typed at the terminal, or FRONTDOOR_NEW_USER_PASSWORD for scripts; None when neither
    came (a script with no terminal and nothing on stdin), rather than a traceback."""
    if os.environ.get("FRONTDOOR_NEW_USER_PASSWORD"):
        return os.environ["FRONTDOOR_NEW_USER_PASSWORD"]
    if not sys.stdin.isatty():
        # Piped in by a script: one line, read as is (getpass would print English warnings
        # about echo, which cannot happen without a terminal).
        return sys.stdin.readline().rstrip("\r\n") or None
    try:
        return getpass.getpass("パスワード（12文字以上）: ") or None
    except EOFError:
        return None
