"""`frontdoor requests list --tenant T [--status open] --json`: one JSON object per line with
the stable fields `id`, `kind`, `status`, `created_at`, `due_at`, `fields` (issue 13)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict

from frontdoor.db import create_engine, session_factory
from frontdoor.migrate import upgrade_async
from frontdoor.settings import Settings
from frontdoor.tenants import UnknownTenant, load_tenants
from handoff.requests import service as request_service
from handoff.requests.forms import load_forms
from handoff.requests.models import RequestStatus
from handoff.requests.values import display


async def list_requests(settings: Settings, args: argparse.Namespace) -> int:
    try:
        tenant = load_tenants(settings.tenants_dir).get(args.tenant)
    except UnknownTenant:
        print(f"error: unknown tenant {args.tenant!r}", file=sys.stderr)
        return 2
    statuses = None
    if args.status:
        try:
            statuses = (RequestStatus(args.status),)
        except ValueError:
            print(f"error: unknown status {args.status!r} (one of: {', '.join(RequestStatus)})", file=sys.stderr)
            return 2
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    await upgrade_async(settings.resolved_database_url())
    db = create_engine(settings.resolved_database_url())
    forms = load_forms()
    try:
        async with session_factory(db)() as session:
            rows = await request_service.list_requests(session, tenant_id=tenant.id, statuses=statuses)
    finally:
        await db.dispose()
    for row in rows:
        view = request_service.RequestView.of(row)
        if args.json:
            print(json.dumps(asdict(view), ensure_ascii=False))
            continue
        form = forms.get(row.kind) if row.kind in forms else None
        shown = "、".join(f"{f.label}：{display(f, view.fields.get(f.name))}" for f in form.fields) if form else json.dumps(view.fields, ensure_ascii=False)
        print(f"{view.created_at}  {view.kind}  {view.status}  期限 {view.due_at or '-'}  {shown}")
    return 0
