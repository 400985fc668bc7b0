"""Who a guidance note or product goes to: all partners, an organisation, a sector or a named list.

Audience words: ``all`` | ``org:NAME`` | ``sector:NAME`` | ``list:NAME`` (a bare name is
tried as an organisation, then as a list). Named lists are managed with ``!audience``.

``LEVEL_RULES`` below is the one rule for which audiences a product of each level may reach.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

from sqlalchemy import delete, select

from storage.directory import UserInfo
from storage.models import Audience, AudienceMember, Organisation

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context


class AudienceError(Exception):
    pass


@dataclass(frozen=True)
class ResolvedAudience:
    kind: str  # all | org | sector | list
    name: str
    users: tuple[UserInfo, ...]  # active partner users, deduplicated, stable order
    org_ids: frozenset[int]  # the organisations the audience is made of

    @property
    def label(self) -> str:
        return "all" if self.kind == "all" else f"{self.kind}:{self.name}"

    @cached_property
    def user_ids(self) -> frozenset[int]:
        return frozenset(u.id for u in self.users)


async def resolve(app: Application, audience: str) -> list[UserInfo]:
    """Active partner users in the audience (deduplicated, stable order)."""
    return list((await resolve_audience(app, audience)).users)


async def resolve_audience(app: Application, audience: str) -> ResolvedAudience:
    """The audience's kind, its organisations and its active partner users."""
    partners = [u for u in await app.directory.list_users() if u.role == "partner"]
    kind, _, name = audience.partition(":")
    if not name:
        kind, name = "", audience
    kind = kind.lower()
    async with app.storage.session() as s:
        orgs = {o.name.lower(): o for o in (await s.execute(select(Organisation))).scalars()}
        if kind == "" and name.lower() == "all":
            ids = frozenset(o.id for o in orgs.values()) | {u.org_id for u in partners if u.org_id is not None}
            return ResolvedAudience("all", "all", tuple(partners), ids)
        if kind in ("org", "") and name.lower() in orgs:
            org = orgs[name.lower()]
            return ResolvedAudience("org", org.name, tuple(u for u in partners if u.org_id == org.id), frozenset({org.id}))
        if kind == "sector":
            ids = frozenset(o.id for o in orgs.values() if (o.sector or "").lower() == name.lower())
            if not ids:
                raise AudienceError(f"no organisation is in the sector {name!r}")
            return ResolvedAudience("sector", name, tuple(u for u in partners if u.org_id in ids), ids)
        if kind in ("list", ""):
            aud = (await s.execute(select(Audience).where(Audience.name == name))).scalar_one_or_none()
            if aud is not None:
                ids = frozenset(
                    (await s.execute(select(AudienceMember.org_id).where(AudienceMember.audience_id == aud.id))).scalars()
                )
                return ResolvedAudience("list", aud.name, tuple(u for u in partners if u.org_id in ids), ids)
    raise AudienceError(
        f"I don't know the audience {audience!r}. Use all, org:NAME, sector:NAME or list:NAME (see !audience list)."
    )


# ---------------------------------------------------------------------------- level vs audience
#
# THE rule (one place): which audiences a product of each level may reach. It is checked at
# !broadcast, again when a (scheduled) broadcast starts, and before EVERY delivery attempt,
# retries included, for each recipient.
#
#   level                audience kinds allowed       recipients' organisations
#   public               all, sector, list, org       any
#   restricted           list, org                    any (a named list or organisation, never
#                                                     everyone or a whole sector)
#   confidential         list, org                    only the organisations of the product's
#   highly_confidential  list, org                    declared sources (none declared: nobody)


@dataclass(frozen=True)
class LevelRule:
    kinds: frozenset[str]
    source_orgs_only: bool
    text: str


LEVEL_RULES: dict[str, LevelRule] = {
    "public": LevelRule(frozenset({"all", "sector", "list", "org"}), False, "may go to any audience"),
    "restricted": LevelRule(
        frozenset({"list", "org"}), False, "may go only to a named organisation or list (org:NAME, list:NAME)"
    ),
    "confidential": LevelRule(
        frozenset({"list", "org"}), True,
        "may go only to the organisations it was made from (org:NAME or a list of them, with those sources declared)",
    ),
    "highly_confidential": LevelRule(
        frozenset({"list", "org"}), True,
        "may go only to the organisations it was made from (org:NAME or a list of them, with those sources declared)",
    ),
}


def level_rule(level: str | None) -> LevelRule:
    # an unknown level is treated as the strictest one
    return LEVEL_RULES.get(level or "public", LEVEL_RULES["highly_confidential"])


def audience_problem(level: str, audience: ResolvedAudience, source_org_ids: Iterable[int]) -> str | None:
    """One line when a product of ``level`` may not go to ``audience``, else None."""
    rule = level_rule(level)
    if audience.kind not in rule.kinds:
        return f"level {level} {rule.text}; {audience.label} is too wide"
    if rule.source_orgs_only:
        sources = frozenset(source_org_ids)
        if not sources:
            return f"level {level} {rule.text}; no source is declared, so no organisation fits"
        if not audience.org_ids <= sources or any(u.org_id not in sources for u in audience.users):
            return f"level {level} {rule.text}; {audience.label} reaches organisations it was not made from"
    return None


def recipient_problem(
    level: str, user: UserInfo, audience: ResolvedAudience, source_org_ids: Iterable[int]
) -> str | None:
    """Why this recipient may not receive a product of ``level`` now, or None (per delivery attempt)."""
    rule = level_rule(level)
    if audience.kind not in rule.kinds:
        return f"level {level} {rule.text}; {audience.label} is too wide"
    if user.role != "partner" or user.id not in audience.user_ids:
        return f"no longer in the audience {audience.label}"
    if rule.source_orgs_only and user.org_id not in frozenset(source_org_ids):
        return f"level {level}: their organisation is not one the product was made from"
    return None


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
