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

from storage.audiences import AudienceRepo
from storage.directory import UserInfo

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
    repo = AudienceRepo(app.storage)
    orgs = {o.name.lower(): o for o in await repo.organisations()}
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
        aud = await repo.get(name)
        if aud is not None:
            ids = aud.org_ids
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
        frozenset({"list", "org"}),
        True,
        "may go only to the organisations it was made from (org:NAME or a list of them, with those sources declared)",
    ),
    "highly_confidential": LevelRule(
        frozenset({"list", "org"}),
        True,
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
    repo = AudienceRepo(app.storage)
    if op == "list" and not rest:
        await ctx.reply("Named audiences: " + (", ".join(await repo.names()) or "none"))
        return
    if not rest:
        await ctx.reply(usage)
        return
    reply = await _audience_change(app, repo, op, rest)
    if reply is None:
        await ctx.reply(usage)
        return
    if isinstance(reply, _Refusal):
        await ctx.reply(reply.text)
        return
    await ctx.audit("product.audience", None, "done")
    await ctx.reply(reply)


@dataclass(frozen=True)
class _Refusal:
    """A ``!audience`` change that was not made (nothing to audit)."""

    text: str


async def _audience_change(app: Application, repo: AudienceRepo, op: str, rest: list[str]) -> str | _Refusal | None:
    """Carry out ``!audience OP NAME [ORG]``: the reply, a refusal, or None (usage)."""
    name = rest[0]
    aud = await repo.get(name)
    if op == "create":
        if aud is not None or name.lower() in ("all",):
            return _Refusal(f"An audience named {name} already exists.")
        await repo.create(name, app.clock.now())
        return f"Audience {name} created. Add organisations with !audience add {name} ORG"
    if aud is None:
        return _Refusal(f"There is no audience named {name}.")
    if op == "list":
        members = sorted(o.name for o in await repo.organisations() if o.id in aud.org_ids)
        return f"{name}: " + (", ".join(members) or "no organisations")
    if op == "delete":
        await repo.delete(name)
        return f"Audience {name} deleted."
    if op in ("add", "remove") and len(rest) >= 2:
        orgs = {o.name.lower(): o for o in await repo.organisations()}
        org = orgs.get(" ".join(rest[1:]).lower())
        if org is None:
            return _Refusal(f"There is no organisation named {' '.join(rest[1:])}.")
        if op == "add":
            await repo.add_member(aud.id, org.id)
            return f"{org.name} added to {name}."
        await repo.remove_member(aud.id, org.id)
        return f"{org.name} removed from {name}."
    return None
