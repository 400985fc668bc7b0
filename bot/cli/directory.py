"""The directory: ``admin org add|list`` and ``admin user add|list|remove|set-role|link-telegram``.

Each command is a coroutine ``(Directory, args) -> text``, run by :func:`directory_cmd`
with the storage opened and a ``DirectoryError`` (unknown user, role refused...) as one line.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from bot.cli.deployment import load, open_storage
from bot.cli.errors import CliError

#: the roles ``admin user add --role`` and ``admin user set-role`` accept
ROLES = ("partner", "imo", "coordinator", "admin")


def directory_cmd(
    fn: Callable[[Any, argparse.Namespace], Coroutine[Any, Any, str]],
) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        async def go() -> int:
            from storage.directory import Directory, DirectoryError

            store = await open_storage(load(args))
            try:
                out = await fn(Directory(store), args)
            except DirectoryError as exc:
                raise CliError(str(exc)) from None
            finally:
                await store.close()
            if out:
                print(out)
            return 0

        return asyncio.run(go())

    return run


async def org_add(d: Any, args: argparse.Namespace) -> str:
    org_id = await d.add_org(args.name, args.sector)
    await d.storage.audit("operator", "admin", "admin.org_add", f"org:{org_id}", "done")
    return f"organisation {args.name!r} added"


async def org_list(d: Any, args: argparse.Namespace) -> str:
    return "\n".join(f"{o.name}\t{o.sector or '-'}\t{o.pseudonym}" for o in await d.list_orgs()) or "(no organisations)"


def _telegram_id(value: str) -> str:
    """A Telegram user id: a positive whole number (not the @name)."""
    value = value.strip()
    if not (value.isascii() and value.isdigit() and not value.startswith("0") and len(value) <= 20):
        raise CliError(
            f"Telegram id {value!r} is not valid: a Telegram id is a number, the user's positive "
            "numeric id (not the @name)"
        )
    return value


async def user_add(d: Any, args: argparse.Namespace) -> str:
    transport = "telegram" if args.telegram else "matrix"
    if args.telegram:
        args.user = _telegram_id(args.user)
    uid = await d.add_user(args.user, role=args.role, org=args.org, transport=transport)
    await d.storage.audit("operator", "admin", "admin.user_add", f"user:{uid}", "done")
    return f"user {args.user} added as {args.role}"


async def user_list(d: Any, args: argparse.Namespace) -> str:
    rows = await d.list_users()
    return (
        "\n".join(f"{u.matrix_id or '-'}\t{u.telegram_id or '-'}\t{u.role}\t{u.org_name or '-'}" for u in rows)
        or "(no users)"
    )


async def user_remove(d: Any, args: argparse.Namespace) -> str:
    if args.telegram:
        args.user = _telegram_id(args.user)
    await d.remove_user(args.user, "telegram" if args.telegram else "matrix")
    await d.storage.audit("operator", "admin", "admin.user_remove", None, "done")
    return f"user {args.user} removed"


async def user_set_role(d: Any, args: argparse.Namespace) -> str:
    await d.set_role(args.user, args.role)
    await d.storage.audit("operator", "admin", "admin.user_set_role", None, "done")
    return f"user {args.user} is now {args.role}"


async def user_link_telegram(d: Any, args: argparse.Namespace) -> str:
    args.telegram_id = _telegram_id(args.telegram_id)
    await d.link_telegram(args.user, args.telegram_id)
    return f"user {args.user} linked to Telegram id {args.telegram_id}"
