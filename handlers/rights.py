"""Consent decisions and partners' data rights (!consent, !consents, !mydata, !products)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.events import OutgoingFile
from handlers.common import yes_no
from storage import ids
from storage.audit import AuditTrail
from storage.broadcasts import ProductRepo, ProductView
from storage.consent import SCOPES, ConsentLedger
from storage.store import Shredded

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context
    from handlers.submissions import Submissions

#: how a role reads in a sentence ("by an IMO", "by a partner")
ROLE_PHRASES = {
    "imo": "an IMO",
    "admin": "an admin",
    "partner": "a partner",
    "coordinator": "a coordinator",
    "unknown": "someone unknown to the bot",
    "system": "the bot itself",
}


def role_phrase(role: str | None) -> str:
    role = (role or "unknown").strip()
    if role.lower() in ROLE_PHRASES:
        return ROLE_PHRASES[role.lower()]
    return ("an " if role[:1].lower() in "aeiou" else "a ") + role


_CONSENT_NO = frozenset({"refuse", "revoke"})


class Rights:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.ledger = ConsentLedger(app.storage)
        self.products = ProductRepo(app.storage)
        self.trail = AuditTrail(app.storage)

    @property
    def subs(self) -> Submissions:
        subs: Submissions = self.app.state["submissions"]
        return subs

    async def cmd_consent(self, ctx: Context, args: str) -> None:
        parts = args.split()
        if len(parts) != 3 or parts[1].lower() not in SCOPES or yes_no(parts[2], no=_CONSENT_NO) is None:
            await ctx.reply(f"Usage: !consent S-0042 {'|'.join(SCOPES)} yes|no")
            return
        view = await self.subs.load_for(ctx, parts[0], "consent.record")
        if view is None:
            return
        if view.state != "accepted":
            await ctx.reply(f"{view.public_id} is {view.state}; consent is recorded for accepted submissions.")
            return
        scope, decision = parts[1].lower(), yes_no(parts[2], no=_CONSENT_NO) is True
        seq = await self.ledger.record(view.id, view.org_id, scope, decision, ctx.user.audit_id)
        await ctx.reply(
            f"Recorded (ledger entry {seq}): {view.public_id} may {'now' if decision else 'not'} be used for '{scope}'."
        )

    async def cmd_consents(self, ctx: Context, args: str) -> None:
        await ctx.audit("consent.list", None, "allowed")
        history = await self.ledger.history(org_id=ctx.user.org_id)
        if not history:
            await ctx.reply("No consent decisions recorded yet. Use !consent S-0042 SCOPE yes|no.")
            return
        latest: dict[tuple[int, str], bool] = {}
        for d in history:
            latest[(d.submission_id, d.scope)] = d.decision
        lines = [f"{ids.sub_id(sid)} {scope}: {'yes' if ok else 'no'}" for (sid, scope), ok in sorted(latest.items())]
        await ctx.reply("Current consent decisions:\n" + "\n".join(lines) + f"\n({len(history)} ledger entries in all)")

    async def products_for_org(self, org_id: int | None) -> list[ProductView]:
        return await self.products.sent_for_org(org_id)

    async def cmd_mydata(self, ctx: Context, args: str) -> None:
        await ctx.audit("rights.mydata", None, "allowed")
        org_id = ctx.user.org_id
        sub_ids = await self.subs.repo.ids_for(org_id=org_id)
        lines = [f"Data held for {ctx.user.org_name}:"]
        if not sub_ids:
            lines.append("No submissions.")
        sids = {f"{ids.sub_id(i)}" for i in sub_ids}
        for sid in sub_ids:
            v = await self.subs.repo.get(sid)
            if v is None:
                continue
            lines.append(f"{v.public_id}: {v.state}, level {v.level or '-'}, submitted {v.created_at:%Y-%m-%d}")
            for ver in v.versions:
                lines.append(f"  v{ver.version} ({ver.kind}): {ver.state}, needs {ver.required_level or '-'}")
            consent = await self.ledger.current(sid)
            if consent:
                lines.append(
                    "  consent: " + ", ".join(f"{k} {'yes' if ok else 'no'}" for k, ok in sorted(consent.items()))
                )
        accesses = await self.trail.for_objects(sids)
        shares = await self.products.shares_for_org(org_id)
        if accesses:
            lines.append("Every access and action:")
            for a in accesses[-40:]:
                lines.append(
                    f"  {a.ts:%Y-%m-%d %H:%M} {a.object_id} {a.action} by {role_phrase(a.actor_role)}: {a.outcome}"
                )
        if shares:
            lines.append("Products built from your data:")
            for share in shares:
                lines.append(
                    f"  {ids.product_id(share.product_id)} from {ids.sub_id(share.submission_id)}, "
                    f"shared with {share.delivered} recipients"
                )
        await ctx.reply("\n".join(lines))

    async def cmd_products(self, ctx: Context, args: str) -> None:
        await ctx.audit("rights.products", None, "allowed")
        products = await self.products_for_org(ctx.user.org_id)
        if not products:
            await ctx.reply("No products have been built from your organisation's data yet.")
            return
        for p in products:
            try:
                f = await self.products.read_file(p.id)
            except Shredded:
                continue
            await ctx.reply_file(OutgoingFile(f.name, f.mimetype, f.data))
            await ctx.audit("product.fetch", f"{ids.product_id(p.id)}", "allowed")
        await ctx.reply(f"Sent {len(products)} product(s) built from your data.")


def register(app: Application) -> None:
    rights = Rights(app)
    app.state["rights"] = rights
    r = app.router
    r.command("consent", "consent.record", "record a consent decision", usage="ID SCOPE yes|no", sensitive=True)(
        rights.cmd_consent
    )
    r.command("consents", "consent.list", "list your consent decisions", sensitive=True)(rights.cmd_consents)
    r.command("mydata", "rights.mydata", "what the cluster holds from your organisation", sensitive=True)(
        rights.cmd_mydata
    )
    r.command("products", "rights.products", "get the products built from your data", sensitive=True)(
        rights.cmd_products
    )
