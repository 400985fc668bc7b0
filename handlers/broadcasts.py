"""Protected product broadcasts: a coordinator's file, screened, consent-checked, confirmed,
then delivered encrypted to each recipient's direct chat, with a delivery report and retries.

Flow: a file in the coordinator room becomes a draft product (sealed at rest). ``!broadcast
AUDIENCE [at TIME] [sources S-1,S-2] [level LEVEL]`` (or the same words with the file)
screens the product, compares its content with the stored submissions (a product that copies
a submission must declare it as a source: ``storage/products.py``), asks the consent ledger
about every source submission, checks that the product's level fits the audience (the one rule
table is ``LEVEL_RULES`` in ``handlers/audiences.py``) and shows a summary; ``!confirm`` sends it
now or at the scheduled time.

Consent and the level/audience rule are asked again when delivery starts and before EVERY
delivery attempt, retries included: a refused attempt marks that delivery ``refused`` (final,
never retried), is audited (``product.deliver`` denied) and is reported in the coordinator room.
A revocation stops every delivery of the product still pending.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from bot.events import OutgoingFile
from handlers.audiences import (
    AudienceError,
    ResolvedAudience,
    audience_problem,
    cmd_audience,
    level_rule,
    recipient_problem,
    resolve_audience,
    split_args,
)
from handlers.common import format_findings, level_rank, parse_level_word, parse_when, screen
from storage.blobs import new_blob_id
from storage.consent import ConsentLedger
from storage.models import Delivery, Product, ProductSource, Submission
from storage.products import Lineage
from storage.submissions import SubmissionRepo, parse_submission_id

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

SCOPE = "products"
MAX_ATTEMPTS = 5


class Broadcasts:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.ledger = ConsentLedger(app.storage)
        self.lineage = Lineage(SubmissionRepo(app.storage), app.run_in_worker)

    # ------------------------------------------------------------------ drafts

    async def on_file(self, ctx: Context) -> None:
        if self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) != "coordinator":
            await ctx.reply("Send products in the encrypted coordinator room, then use !broadcast there.")
            return
        att = ctx.msg.attachments[0]
        st = self.app.storage
        async with st.session() as s, s.begin():
            dk = await st.new_data_key(s, "product")
            blob_id = new_blob_id()
            await st.put_blob(dk, blob_id, att.data)
            p = Product(
                created_by=ctx.user.id, data_key_id=dk.id, blob_id=blob_id, filename_enc=b"", mimetype=att.mimetype[:100],
                level="public", audience="", state="draft", created_at=st.now(),
            )
            s.add(p)
            await s.flush()
            p.filename_enc = st.seal_text(dk, f"product:{p.id}:filename", att.filename)
            pid = p.id
        await ctx.audit("product.draft", f"P-{pid:04d}", "done")
        if ctx.msg.text.strip().lower().startswith(("!broadcast", "broadcast")):
            words = ctx.msg.text.strip().split(None, 1)
            await self.cmd_broadcast(ctx, words[1] if len(words) > 1 else "")
            return
        await ctx.reply(
            f"Product draft P-{pid:04d} received. Now: !broadcast AUDIENCE [at TIME] [sources S-0001,S-0002] [level LEVEL]"
        )

    async def latest_draft(self, ctx: Context) -> Product | None:
        async with self.app.storage.session() as s:
            return (
                await s.execute(
                    select(Product)
                    .where(Product.created_by == ctx.user.id, Product.state.in_(("draft", "awaiting_confirm")))
                    .order_by(Product.id.desc())
                    .limit(1)
                )
            ).scalar_one_or_none()

    async def read_product(self, p: Product) -> tuple[str, bytes]:
        async with self.app.storage.session() as s:
            dk = await self.app.storage.data_key(s, p.data_key_id)
        name = self.app.storage.open_text(dk, f"product:{p.id}:filename", p.filename_enc or b"")
        assert p.blob_id is not None
        return name, await self.app.storage.get_blob(dk, p.blob_id)

    # ------------------------------------------------------------------ !broadcast

    def parse(self, args: str) -> dict[str, Any]:
        words = split_args(args)
        if not words:
            raise AudienceError("Usage: !broadcast AUDIENCE [at TIME] [sources S-0001,S-0002] [level LEVEL]")
        out: dict[str, Any] = {"audience": words[0], "sources": [], "level": None, "when": None}
        i = 1
        while i < len(words):
            key = words[i].lower()
            if key == "at" and i + 1 < len(words):
                j = i + 2 if i + 2 < len(words) and re.fullmatch(r"\d{1,2}:\d{2}", words[i + 2]) else i + 1
                try:
                    out["when"] = parse_when(" ".join(words[i + 1 : j + 1]), self.app.clock.now())
                except ValueError as exc:
                    raise AudienceError(f"Not scheduled: {exc}.") from None
                i = j + 1
            elif key == "sources" and i + 1 < len(words):
                ids = []
                for token in words[i + 1].split(","):
                    sid = parse_submission_id(token)
                    if sid is None:
                        raise AudienceError(f"{token!r} is not a submission id (like S-0042).")
                    ids.append(sid)
                out["sources"] = ids
                i += 2
            elif key == "level" and i + 1 < len(words):
                out["level"] = parse_level_word(words[i + 1])
                if out["level"] is None:
                    raise AudienceError("Level must be public, restricted, confidential or highly_confidential.")
                i += 2
            else:
                raise AudienceError(f"I don't understand {words[i]!r}. Usage: !broadcast AUDIENCE [at TIME] [sources ...] [level LEVEL]")
        return out

    async def consent_problems(self, sources: list[int]) -> list[str]:
        problems = []
        async with self.app.storage.session() as s:
            for sid in sources:
                sub = await s.get(Submission, sid)
                if sub is None or sub.state != "accepted":
                    problems.append(f"S-{sid:04d} is not an accepted submission")
                elif not await self.ledger.allows(sid, SCOPE):
                    problems.append(
                        f"S-{sid:04d}: its organisation has not consented to the '{SCOPE}' scope (or revoked it)"
                    )
        return problems

    async def source_orgs(self, sources: list[int]) -> frozenset[int]:
        """The organisations of the declared source submissions."""
        if not sources:
            return frozenset()
        async with self.app.storage.session() as s:
            rows = await s.execute(select(Submission.org_id).where(Submission.id.in_(sources)))
            return frozenset(int(o) for o in rows.scalars())

    async def gate(self, sources: list[int], level: str, audience: str) -> tuple[list[str], ResolvedAudience | None]:
        """Consent for every source and the level/audience rule, as they stand now."""
        problems = await self.consent_problems(sources)
        try:
            aud: ResolvedAudience | None = await resolve_audience(self.app, audience)
        except AudienceError as exc:
            return [*problems, str(exc)], None
        assert aud is not None
        rule = audience_problem(level, aud, await self.source_orgs(sources))
        return ([*problems, rule] if rule else problems), aud

    async def cmd_broadcast(self, ctx: Context, args: str) -> None:
        draft = await self.latest_draft(ctx)
        if draft is None:
            await ctx.reply("Upload the product file in the coordinator room first, then !broadcast.")
            return
        try:
            req = self.parse(args)
            await resolve_audience(self.app, req["audience"])
        except AudienceError as exc:
            await ctx.reply(str(exc))
            return
        pid = f"P-{draft.id:04d}"
        name, data = await self.read_product(draft)
        verdict = await screen(self.app, data, name, req["level"])
        if verdict.verdict == "unlabelled_sensitive":
            # fixable without a new upload (say the level), so the draft is kept
            await self._set(draft.id, state="draft")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid} because it carries data that needs the level "
                f"{verdict.required_level} but is labelled {verdict.label or 'nowhere'}:\n"
                + format_findings([f.to_json() for f in verdict.findings])
                + f"\nThe draft {pid} is kept: if it really is that sensitive, send !broadcast again with "
                f"level {verdict.required_level} added (no need to upload it again); otherwise upload a "
                "cleaned file, which replaces it."
            )
            return
        if verdict.verdict in ("encrypted", "unreadable"):
            await self._set(draft.id, state="refused")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid} because {verdict.error or 'it is password-protected'}.\n"
                f"The draft {pid} was dropped: upload a readable, unprotected file again, then !broadcast."
            )
            return
        # the level: what the coordinator said, what the content needs, and any label in the file
        level = max(
            [lv for lv in (req["level"], verdict.required_level, verdict.label) if lv] or ["public"], key=level_rank
        )
        sources: list[int] = req["sources"]
        lineage = await self.lineage.check(data, name, sources)
        del data
        problems, aud = await self.gate(sources, level, req["audience"])
        if lineage.copies:
            declare = ",".join(f"S-{i:04d}" for i in sorted({*sources, *(c.submission_id for c in lineage.copies)}))
            problems.insert(0, (
                "its content comes from stored submission(s) it does not declare: "
                + "; ".join(c.describe() for c in lineage.copies)
                + f". Declare them (sources {declare}; their organisations must consent to '{SCOPE}') "
                "or leave that data out"
            ))
        if problems or aud is None:
            # kept as a draft (no longer awaiting confirmation): once consent is given, the sources
            # declared or the audience/level changed, !broadcast runs every check again on it
            await self._set(draft.id, state="draft")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid}:\n" + "\n".join(f"• {p}" for p in problems) + "\n"
                + f"The draft {pid} is kept: once that is fixed (consent given, sources declared, another "
                "audience or level), send !broadcast again; there is no need to upload the file again "
                "(uploading another file replaces it)."
            )
            return
        async with self.app.storage.session() as s, s.begin():
            p = await s.get(Product, draft.id)
            assert p is not None
            p.audience, p.level, p.state, p.scheduled_at = req["audience"], level, "awaiting_confirm", req["when"]
            for sid in sources:
                if await s.get(ProductSource, (draft.id, sid)) is None:
                    s.add(ProductSource(product_id=draft.id, submission_id=sid))
        orgs = sorted({u.org_name or "?" for u in aud.users})
        when = f"at {req['when']:%Y-%m-%d %H:%M} UTC" if req["when"] else "now"
        declared = (
            f"{', '.join(f'S-{i:04d}' for i in sources)} (consent to '{SCOPE}' checked)" if sources else "none declared"
        )
        compared = (
            f"compared with {lineage.compared} stored submission(s): no undeclared copy"
            if lineage.compared else "no stored submission to compare with"
        )
        await ctx.reply(
            f"Ready to broadcast {pid} ({level}) {when} to {len(aud.users)} partner(s) in {len(orgs)} organisation(s): "
            f"{', '.join(orgs) or 'none'}.\nLevel {level}: {level_rule(level).text}; {aud.label} fits.\n"
            f"Sources: {declared}; content {compared}.\n"
            "Consent and the audience are checked again before every delivery attempt.\n"
            "Send !confirm to go ahead, or upload another file to start over."
        )

    async def _set(self, product_id: int, **fields: Any) -> None:
        await self.app.storage.update_row(Product, product_id, **fields)

    async def cmd_confirm(self, ctx: Context, args: str) -> None:
        draft = await self.latest_draft(ctx)
        if draft is None or draft.state != "awaiting_confirm":
            await ctx.reply("There is no broadcast waiting for confirmation.")
            return
        pid = f"P-{draft.id:04d}"
        await ctx.audit("product.confirm", pid, "done")
        now = self.app.clock.now()
        scheduled = draft.scheduled_at
        if scheduled is not None and (scheduled if scheduled.tzinfo else scheduled.replace(tzinfo=now.tzinfo)) > now:
            await self._set(draft.id, state="scheduled")
            await ctx.reply(f"{pid} scheduled for {scheduled:%Y-%m-%d %H:%M} UTC. A delivery report follows then.")
            return
        await self.deliver(draft.id)

    # ------------------------------------------------------------------ delivery

    async def deliver(self, product_id: int) -> None:
        """Create delivery rows (once), then attempt every pending one and report."""
        async with self.app.storage.session() as s, s.begin():
            p = await s.get(Product, product_id)
            if p is None or p.state not in ("awaiting_confirm", "scheduled"):
                return
            sources = list((await s.execute(select(ProductSource.submission_id).where(ProductSource.product_id == p.id))).scalars())
            p.state = "sending"  # claimed: a second sweep or restart does not start it again
            audience, level = p.audience, p.level
        pid = f"P-{product_id:04d}"
        problems, aud = await self.gate(sources, level, audience)
        if problems or aud is None:
            await self._set(product_id, state="refused")
            await self.app.storage.audit("system", "system", "product.broadcast", pid, "denied")
            await self.app.post_room(
                "coordinator",
                f"{pid} was NOT sent: the checks at delivery time failed:\n" + "\n".join(f"• {p}" for p in problems),
            )
            return
        async with self.app.storage.session() as s, s.begin():
            for u in aud.users:
                s.add(Delivery(product_id=product_id, user_id=u.id, state="pending", attempts=0, next_attempt_at=self.app.clock.now()))
        if await self.attempt(product_id):
            await self.report(product_id)
            return  # stopped: consent withdrawn
        async with self.app.storage.session() as s:
            states = set((await s.execute(select(Delivery.state).where(Delivery.product_id == product_id))).scalars())
        # nothing delivered or on its way (all refused at the first attempt): the product was not sent
        await self._set(product_id, state="sent" if states & {"delivered", "pending", "failed"} else "refused")
        await self.report(product_id)

    async def attempt(self, product_id: int) -> bool:
        """Try every due pending delivery once. Before EACH attempt (first or retry) consent for
        every source and the level/audience rule for that recipient are asked again. True when a
        withdrawn consent stopped the product (every pending delivery refused)."""
        async with self.app.storage.session() as s:
            p = await s.get(Product, product_id)
            due = list(
                (
                    await s.execute(
                        select(Delivery).where(
                            Delivery.product_id == product_id,
                            Delivery.state == "pending",
                            Delivery.next_attempt_at <= self.app.clock.now(),
                        )
                    )
                ).scalars()
            )
            sources = list((await s.execute(select(ProductSource.submission_id).where(ProductSource.product_id == product_id))).scalars())
        if p is None or not due:
            return False
        name, data = await self.read_product(p)
        pid = f"P-{product_id:04d}"
        source_orgs = await self.source_orgs(sources)
        try:
            aud: ResolvedAudience | None = await resolve_audience(self.app, p.audience)
            gone = None
        except AudienceError:
            aud, gone = None, f"the audience {p.audience} no longer exists"
        refused: list[str] = []
        withdrawn: list[str] = []
        for d in due:
            withdrawn = await self.consent_problems(sources)
            if withdrawn:
                break  # consent is product-wide: every pending delivery stops, below
            user = await self.app.directory.by_id(d.user_id)
            why = None if user is None else (gone if aud is None else recipient_problem(p.level, user, aud, source_orgs))
            if why is not None:
                assert user is not None
                await self._refuse(pid, [d.id], why)
                refused.append(f"• {self._who(user, d.user_id)}: {why}")
                continue
            error = None
            if user is None:
                error = "recipient removed from the directory"
            else:
                try:
                    await self.app.send_file_to_user(user, OutgoingFile(name, p.mimetype, data))
                    await self.app.send_to_user(user, f"New information product {pid} ({p.level}) from the cluster coordinators.")
                except Exception as exc:  # noqa: BLE001 - recorded per recipient, retried later
                    error = delivery_error(exc)
            async with self.app.storage.session() as s, s.begin():
                row = await s.get(Delivery, d.id)
                assert row is not None
                row.attempts += 1
                if error is None:
                    row.state, row.delivered_at, row.last_error = "delivered", self.app.clock.now(), None
                else:
                    row.last_error = error
                    if row.attempts >= MAX_ATTEMPTS or user is None:
                        row.state = "failed"
                    else:
                        row.next_attempt_at = self.app.clock.now() + timedelta(minutes=5 * 2 ** (row.attempts - 1))
            await self.app.storage.audit(
                "system", "system", "product.deliver", pid, "done" if error is None else "failed"
            )
        if withdrawn:
            async with self.app.storage.session() as s:
                pending = list((await s.execute(
                    select(Delivery.id).where(Delivery.product_id == product_id, Delivery.state == "pending")
                )).scalars())
            why = "sources no longer usable: " + "; ".join(withdrawn)
            await self._refuse(pid, pending, why)
            # no longer shared by the bot at all (!products serves only products in state 'sent')
            await self._set(product_id, state="refused")
            await self.app.post_room(
                "coordinator",
                f"{pid}: {len(pending)} pending delivery(ies) refused and stopped, nothing more will be sent:\n"
                + "\n".join(f"• {w}" for w in withdrawn),
            )
        if refused:
            await self.app.post_room(
                "coordinator",
                f"{pid}: delivery refused for {len(refused)} recipient(s) (not sent, not retried):\n" + "\n".join(refused),
            )
        return bool(withdrawn)

    @staticmethod
    def _who(user: Any, user_id: int) -> str:
        return str(user.matrix_id or user.telegram_id) if user is not None else f"user {user_id}"

    async def _refuse(self, pid: str, delivery_ids: list[int], why: str) -> None:
        """Mark still-pending deliveries refused (final: never retried), one audit entry each."""
        done = 0
        async with self.app.storage.session() as s, s.begin():
            for did in delivery_ids:
                row = await s.get(Delivery, did)
                if row is not None and row.state == "pending":
                    row.state, row.last_error, row.next_attempt_at = "refused", why[:200], None
                    done += 1
        for _ in range(done):
            await self.app.storage.audit("system", "system", "product.deliver", pid, "denied")

    async def report(self, product_id: int) -> None:
        async with self.app.storage.session() as s:
            rows = list((await s.execute(select(Delivery).where(Delivery.product_id == product_id))).scalars())
        delivered = sum(r.state == "delivered" for r in rows)
        pending = [r for r in rows if r.state == "pending"]
        failed = [r for r in rows if r.state == "failed"]
        refused = [r for r in rows if r.state == "refused"]
        counts = f"{delivered} delivered, {len(pending)} pending, {len(failed)} failed"
        if refused:
            counts += f", {len(refused)} refused"
        lines = [f"Delivery report P-{product_id:04d}: {counts}."]
        for r in pending + failed:
            user = await self.app.directory.by_id(r.user_id)
            lines.append(f"• {self._who(user, r.user_id)}: {r.state} after {r.attempts} attempt(s): {r.last_error}")
        for r in refused:
            user = await self.app.directory.by_id(r.user_id)
            lines.append(f"• {self._who(user, r.user_id)}: refused: {r.last_error}")
        await self.app.post_room("coordinator", "\n".join(lines))

    async def sweep(self, app: Application) -> None:
        now = app.clock.now()
        async with app.storage.session() as s:
            scheduled = list(
                (await s.execute(select(Product.id).where(Product.state == "scheduled", Product.scheduled_at <= now))).scalars()
            )
            retry = list(
                (
                    await s.execute(
                        select(Delivery.product_id)
                        .where(Delivery.state == "pending", Delivery.next_attempt_at <= now)
                        .distinct()
                    )
                ).scalars()
            )
        for pid in scheduled:
            await self.deliver(pid)
        for pid in retry:
            if pid in scheduled:
                continue
            await self.attempt(pid)
            await self.report(pid)


def register(app: Application) -> None:
    b = Broadcasts(app)
    app.state["broadcasts"] = b
    r = app.router
    r.on_file("product.broadcast")(b.on_file)
    r.command(
        "broadcast", "product.broadcast", "broadcast the product you uploaded",
        usage="AUDIENCE [at TIME] [sources S-1,S-2] [level LEVEL]", sensitive=True,
    )(b.cmd_broadcast)
    r.command("confirm", "product.confirm", "confirm the pending broadcast", sensitive=True)(b.cmd_confirm)

    async def audience(ctx: Context, args: str) -> None:
        await cmd_audience(app, ctx, args)

    r.command("audience", "product.audience", "manage named audiences", usage="list|create|add|remove|delete ...")(audience)
    app.services.sweeps["broadcasts.deliver"] = b.sweep


def delivery_error(exc: Exception) -> str:
    """A fixed reason for the delivery record and report: transport errors name room ids."""
    from bot.transport import TransportError

    text = str(exc) if isinstance(exc, TransportError) else ""
    for needle, reason in (("gained other members", "their private chat has other members"),
                           ("identity is not confirmed", "their new Matrix identity is not confirmed yet"),
                           ("device trust", "their devices could not be verified"),
                           ("no end-to-end encrypted chat", "no end-to-end encrypted chat with them"),
                           ("not encrypted", "the chat is not end-to-end encrypted")):
        if needle in text:
            return reason
    return f"send failed ({type(exc).__name__})"
