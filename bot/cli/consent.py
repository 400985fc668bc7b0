"""The consent ledger: ``consent verify`` and ``consent export``."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import json
import sys
from typing import Any

from bot.cli.deployment import load, open_storage
from bot.cli.errors import CliError
from bot.cli.site import verify_chain


def cmd_consent_verify(args: argparse.Namespace) -> int:
    async def check(store: Any) -> Any:
        from storage.consent import FIELDS
        from storage.models import ConsentDecision

        return await store.verify_chained(ConsentDecision, FIELDS)

    return verify_chain(args, "consent ledger", check)


def cmd_consent_export(args: argparse.Namespace) -> int:
    async def go() -> int:
        from storage.consent import ConsentLedger
        from storage.directory import Directory

        store = await open_storage(load(args))
        try:
            org_id = None
            orgs = {o.id: o.name for o in await Directory(store).list_orgs()}
            if args.org:
                matches = [i for i, n in orgs.items() if n == args.org]
                if not matches:
                    raise CliError(f"no organisation named {args.org!r}")
                org_id = matches[0]
            rows = [
                {
                    "seq": d.seq,
                    "submission": f"S-{d.submission_id:04d}",
                    "organisation": orgs.get(d.org_id, "?"),
                    "scope": d.scope,
                    "decision": "yes" if d.decision else "no",
                    "recorded_by": d.actor_id,
                    "recorded_at": d.ts.isoformat(),
                }
                for d in await ConsentLedger(store).history(org_id=org_id)
            ]
            await store.audit("operator", "admin", "consent.export", None, "done")
        finally:
            await store.close()
        if args.format == "json":  # one JSON array ([] when there is nothing)
            print(json.dumps(rows, ensure_ascii=False, indent=2))
        else:
            buf = io.StringIO()
            writer = csv.DictWriter(
                buf, fieldnames=["seq", "submission", "organisation", "scope", "decision", "recorded_by", "recorded_at"]
            )
            writer.writeheader()
            writer.writerows(rows)
            sys.stdout.write(buf.getvalue())
        return 0

    return asyncio.run(go())
