"""Who a guidance note or product goes to: all partners, an organisation, a sector or a named list.

Audience words: ``all`` | ``org:NAME`` | ``sector:NAME`` | ``list:NAME`` (a bare name is
tried as an organisation, then as a list). Named lists are managed with ``!audience``.
"""

from __future__ import annotations

import re
import shlex
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from storage.directory import UserInfo
from storage.models import Audience, AudienceMember, Organisation

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context


class AudienceError(Exception):
    pass


async def resolve(app: Application, audience: str) -> list[UserInfo]:
    """Active partner users in the audience (deduplicated, stable order)."""
    partners = [u for u in await app.directory.list_users() if u.role == "partner"]
    kind, _, name = audience.partition(":")
    if not name:
        kind, name = "", audience
    kind = kind.lower()
    async with app.storage.session() as s:
        orgs = {o.name.lower(): o for o in (await s.execute(select(Organisation))).scalars()}
        if kind == "" and name.lower() == "all":
            return partners
        if kind in ("org", "") and name.lower() in orgs:
            org_id = orgs[name.lower()].id
            return [u for u in partners if u.org_id == org_id]
        if kind == "sector":
            ids = {o.id for o in orgs.values() if (o.sector or "").lower() == name.lower()}
            if not ids:
                raise AudienceError(f"no organisation is in the sector {name!r}")
            return [u for u in partners if u.org_id in ids]
        if kind in ("list", ""):
            aud = (await s.execute(select(Audience).where(Audience.name == name))).scalar_one_or_none()
            if aud is not None:
                ids = set(
                    (await s.execute(select(AudienceMember.org_id).where(AudienceMember.audience_id == aud.id))).scalars()
                )
                return [u for u in partners if u.org_id in ids]
    raise AudienceError(
        f"I don't know the audience {audience!r}. Use all, org:NAME, sector:NAME or list:NAME (see !audience list)."
    )


def split_audience(args: str) -> tuple[str, str]:
    """The first (possibly quoted) word and the rest, untouched: org:"Relief Org" works."""
    m = re.match(r'\s*((?:[^\s"]*"[^"]*")+[^\s"]*|\S+)\s*(.*)$', args, re.DOTALL)
    if not m:
        return "", ""
    return m.group(1).replace('"', ""), m.group(2)


def split_args(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:
        raise AudienceError("Unbalanced quotes in that command.") from None


async def cmd_audience(app: Application, ctx: Context, args: str) -> None:
    try:
        words = split_args(args)
    except AudienceError as exc:
        await ctx.reply(str(exc))
        return
    usage = (
        "Usage: !audience list [NAME] | !audience create NAME | !audience add NAME ORG | "
        "!audience remove NAME ORG | !audience delete NAME"
    )
    if not words:
        await ctx.reply(usage)
        return
    op, rest = words[0].lower(), words[1:]
    async with app.storage.session() as s, s.begin():
        auds = {a.name: a for a in (await s.execute(select(Audience))).scalars()}
        orgs = {o.name.lower(): o for o in (await s.execute(select(Organisation))).scalars()}
        if op == "list" and not rest:
            await ctx.reply("Named audiences: " + (", ".join(sorted(auds)) or "none"))
            return
        if not rest:
            await ctx.reply(usage)
            return
        name = rest[0]
        if op == "create":
            if name in auds or name.lower() in ("all",):
                await ctx.reply(f"An audience named {name} already exists.")
                return
            s.add(Audience(name=name, created_at=app.clock.now()))
            reply = f"Audience {name} created. Add organisations with !audience add {name} ORG"
        elif name not in auds:
            await ctx.reply(f"There is no audience named {name}.")
            return
        elif op == "list":
            ids = set((await s.execute(select(AudienceMember.org_id).where(AudienceMember.audience_id == auds[name].id))).scalars())
            members = sorted(o.name for o in orgs.values() if o.id in ids)
            reply = f"{name}: " + (", ".join(members) or "no organisations")
        elif op == "delete":
            await s.execute(delete(AudienceMember).where(AudienceMember.audience_id == auds[name].id))
            await s.delete(auds[name])
            reply = f"Audience {name} deleted."
        elif op in ("add", "remove") and len(rest) >= 2:
            org = orgs.get(" ".join(rest[1:]).lower())
            if org is None:
                await ctx.reply(f"There is no organisation named {' '.join(rest[1:])}.")
                return
            if op == "add":
                exists = await s.get(AudienceMember, (auds[name].id, org.id))
                if exists is None:
                    s.add(AudienceMember(audience_id=auds[name].id, org_id=org.id))
                reply = f"{org.name} added to {name}."
            else:
                await s.execute(
                    delete(AudienceMember).where(AudienceMember.audience_id == auds[name].id, AudienceMember.org_id == org.id)
                )
                reply = f"{org.name} removed from {name}."
        else:
            await ctx.reply(usage)
            return
    await ctx.audit("product.audience", None, "done")
    await ctx.reply(reply)
