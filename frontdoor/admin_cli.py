"""`frontdoor users list|disable|enable|reset-password` and `frontdoor erase`: account
management and end-of-contract erasure from the command line (issue 11)."""

from __future__ import annotations

import argparse
import getpass
import os
import secrets
import sys
from datetime import datetime
from zoneinfo import ZoneInfo

import frontdoor.all_models  # noqa: F401 - every table the commands touch
from bot.conversations import ensure_tenant_rows
from frontdoor.clock import to_jst, utc_now
from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.settings import Settings
from frontdoor.tenants import UnknownTenant, load_tenants
from handoff import accounts
from workers import retention

ROLE_JA = {"counselor": "相談員", "supervisor": "責任者", "manager": "管理者"}


async def _with_session(settings: Settings, work):  # noqa: ANN001, ANN202
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.resolved_database_url())
    engine = create_engine(settings.resolved_database_url())
    try:
        async with session_factory(engine)() as session:
            tenants = load_tenants(settings.tenants_dir)
            await ensure_tenant_rows(session, [(t.id, t.name) for t in tenants.all()])
            return await work(session)
    finally:
        await engine.dispose()


async def users_cli(settings: Settings, args: argparse.Namespace) -> int:
    now = utc_now()

    async def work(session) -> int:  # noqa: ANN001
        if args.action == "list":
            rows = await accounts.list_accounts(session, tenant_id=args.tenant)
            print("tenant\tlogin\t氏名\t役割\t状態\t作成")
            for a in rows:
                state = "有効" if a.active else f"無効（{to_jst(a.disabled_at).strftime('%Y-%m-%d')}）" if a.disabled_at else "無効"
                if a.must_change_password:
                    state += "・要パスワード変更"
                print(f"{a.tenant_id}\t{a.login}\t{a.display_name}\t{ROLE_JA[a.role]}\t{state}\t{to_jst(a.created_at).strftime('%Y-%m-%d')}")
            return 0
        if not args.login:
            print("error: --login is required", file=sys.stderr)
            return 2
        try:
            account = await accounts.by_login(session, login=args.login)
            if args.action == "disable":
                await accounts.disable(session, counselor_id=account.id, actor=None, now=now)
                message = f"{args.login} を無効にしました（ログイン中の画面もすぐに使えなくなります）。"
            elif args.action == "enable":
                await accounts.enable(session, counselor_id=account.id, actor=None, now=now)
                message = f"{args.login} を有効にしました。"
            else:
                temporary = os.environ.get("FRONTDOOR_NEW_USER_PASSWORD") or secrets.token_urlsafe(12)
                await accounts.reset_password(session, counselor_id=account.id, temporary=temporary, actor=None, now=now)
                message = f"{args.login} の仮パスワード：{temporary}\n次のログインで新しいパスワードの設定が必要です。"
        except accounts.AccountError as exc:
            print(f"error: {exc}")
            return 2
        await session.commit()
        print(message)
        return 0

    return await _with_session(settings, work)


async def erase_cli(settings: Settings, args: argparse.Namespace, *, stdin=sys.stdin) -> int:  # noqa: ANN001
    """End of a contract (Kashiwa 002 §9(7), Setagaya 別紙1-1 §29): erase every kind of
    record of the tenant older than DATE, after confirmation, and print the record."""
    try:
        load_tenants(settings.tenants_dir).get(args.tenant)
    except UnknownTenant:
        print(f"error: unknown tenant {args.tenant!r}")
        return 2
    try:
        before = datetime.fromisoformat(args.before)
    except ValueError:
        print(f"error: --before {args.before!r} is not a date (e.g. 2027-04-01)")
        return 2
    if before.tzinfo is None:
        before = before.replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    if not args.yes:
        print(f"{args.tenant} の {before:%Y-%m-%d %H:%M} より前の個人情報を消去します。元に戻せません。よろしいですか？ [yes/no]: ", end="", flush=True)
        if stdin.readline().strip().lower() not in ("yes", "y", "はい"):
            print("中止しました。何も消去していません。")
            return 1
    actor = args.by or f"{getpass.getuser()}（コマンド）"

    async def work(session) -> int:  # noqa: ANN001
        made = await retention.erase(
            session, tenant_id=args.tenant, cutoffs=retention.Cutoffs.everything_before(before), actor=actor, now=utc_now()
        )
        print("消去記録（別紙1-1 §29）")
        print("\t".join(retention.CSV_HEADER))
        for row in retention.record_rows(made):
            print("\t".join(row))
        if not made:
            print("消去の対象はありませんでした。")
        return 0

    return await _with_session(settings, work)
