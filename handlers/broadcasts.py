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
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

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
from storage import ids
from storage.broadcasts import ProductRepo, ProductView
from storage.consent import ConsentLedger
from storage.directory import UserInfo
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
        self.submissions = SubmissionRepo(app.storage)
        self.lineage = Lineage(self.submissions, app.run_in_worker)
        self.products = ProductRepo(app.storage)

    # ------------------------------------------------------------------ drafts

    async def on_file(self, ctx: Context) -> None:
        if self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) != "coordinator":
            await ctx.reply("Send products in the encrypted coordinator room, then use !broadcast there.")
            return
        att = ctx.msg.attachments[0]
        pid = await self.products.create_draft(ctx.user.id, att.filename, att.mimetype, att.data)
        await ctx.audit("product.draft", f"{ids.product_id(pid)}", "done")
        if ctx.msg.text.strip().lower().startswith(("!broadcast", "broadcast")):
            words = ctx.msg.text.strip().split(None, 1)
            await self.cmd_broadcast(ctx, words[1] if len(words) > 1 else "")
            return
        await ctx.reply(
            f"Product draft {ids.product_id(pid)} received. Now: !broadcast AUDIENCE "
            "[at TIME] [sources S-0001,S-0002] [level LEVEL]"
        )

    async def latest_draft(self, ctx: Context) -> ProductView | None:
        return await self.products.latest_draft(ctx.user.id)

    async def read_product(self, p: ProductView) -> tuple[str, bytes]:
        f = await self.products.read_file(p.id)
        return f.name, f.data

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
                raise AudienceError(
                    f"I don't understand {words[i]!r}. Usage: !broadcast AUDIENCE [at TIME] [sources ...] [level LEVEL]"
                )
        return out

    async def consent_problems(self, sources: list[int]) -> list[str]:
        problems = []
        briefs = await self.submissions.briefs(sources)
        for sid in sources:
            sub = briefs.get(sid)
            if sub is None or sub.state != "accepted":
                problems.append(f"{ids.sub_id(sid)} is not an accepted submission")
            elif not await self.ledger.allows(sid, SCOPE):
                problems.append(
                    f"{ids.sub_id(sid)}: its organisation has not consented to the '{SCOPE}' scope (or revoked it)"
                )
        return problems

    async def source_orgs(self, sources: list[int]) -> frozenset[int]:
        """The organisations of the declared source submissions."""
        if not sources:
            return frozenset()
        return frozenset(b.org_id for b in (await self.submissions.briefs(sources)).values())

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
        pid = f"{ids.product_id(draft.id)}"
        name, data = await self.read_product(draft)
        verdict = await screen(self.app, data, name, req["level"])
        if await self._refused_by_screening(ctx, draft.id, verdict):
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
            declare = ",".join(
                f"{ids.sub_id(i)}" for i in sorted({*sources, *(c.submission_id for c in lineage.copies)})
            )
            problems.insert(
                0,
                (
                    "its content comes from stored submission(s) it does not declare: "
                    + "; ".join(c.describe() for c in lineage.copies)
                    + f". Declare them (sources {declare}; their organisations must consent to '{SCOPE}') "
                    "or leave that data out"
                ),
            )
        if problems or aud is None:
            # kept as a draft (no longer awaiting confirmation): once consent is given, the sources
            # declared or the audience/level changed, !broadcast runs every check again on it
            await self._set(draft.id, state="draft")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid}:\n"
                + "\n".join(f"• {p}" for p in problems)
                + "\n"
                + f"The draft {pid} is kept: once that is fixed (consent given, sources declared, another "
                "audience or level), send !broadcast again; there is no need to upload the file again "
                "(uploading another file replaces it)."
            )
            return
        await self.products.prepare(
            draft.id, audience=req["audience"], level=level, scheduled_at=req["when"], sources=sources
        )
        await ctx.reply(self._ready_text(pid, level, req["when"], aud, sources, lineage.compared))

    async def _refused_by_screening(self, ctx: Context, product_id: int, verdict: Any) -> bool:
        """Refuse (reply, audit, keep or drop the draft) a product screening will not let out."""
        pid = f"{ids.product_id(product_id)}"
        if verdict.verdict == "unlabelled_sensitive":
            # fixable without a new upload (say the level), so the draft is kept
            await self._set(product_id, state="draft")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid} because it carries data that needs the level "
                f"{verdict.required_level} but is labelled {verdict.label or 'nowhere'}:\n"
                + format_findings([f.to_json() for f in verdict.findings])
                + f"\nThe draft {pid} is kept: if it really is that sensitive, send !broadcast again with "
                f"level {verdict.required_level} added (no need to upload it again); otherwise upload a "
                "cleaned file, which replaces it."
            )
            return True
        if verdict.verdict in ("encrypted", "unreadable"):
            await self._set(product_id, state="refused")
            await ctx.audit("product.broadcast", pid, "denied")
            await ctx.reply(
                f"Refused: I will not broadcast {pid} because {verdict.error or 'it is password-protected'}.\n"
                f"The draft {pid} was dropped: upload a readable, unprotected file again, then !broadcast."
            )
            return True
        return False

    @staticmethod
    def _ready_text(
        pid: str, level: str, when_at: datetime | None, aud: ResolvedAudience, sources: list[int], compared_n: int
    ) -> str:
        orgs = sorted({u.org_name or "?" for u in aud.users})
        when = f"at {when_at:%Y-%m-%d %H:%M} UTC" if when_at else "now"
        declared = (
            f"{', '.join(f'{ids.sub_id(i)}' for i in sources)} (consent to '{SCOPE}' checked)"
            if sources
            else "none declared"
        )
        compared = (
            f"compared with {compared_n} stored submission(s): no undeclared copy"
            if compared_n
            else "no stored submission to compare with"
        )
        return (
            f"Ready to broadcast {pid} ({level}) {when} to {len(aud.users)} partner(s) in {len(orgs)} organisation(s): "
            f"{', '.join(orgs) or 'none'}.\nLevel {level}: {level_rule(level).text}; {aud.label} fits.\n"
            f"Sources: {declared}; content {compared}.\n"
            "Consent and the audience are checked again before every delivery attempt.\n"
            "Send !confirm to go ahead, or upload another file to start over."
        )

    async def _set(self, product_id: int, *, state: str) -> None:
        await self.products.set_state(product_id, state)

    async def cmd_confirm(self, ctx: Context, args: str) -> None:
        draft = await self.latest_draft(ctx)
        if draft is None or draft.state != "awaiting_confirm":
            await ctx.reply("There is no broadcast waiting for confirmation.")
            return
        pid = f"{ids.product_id(draft.id)}"
        await ctx.audit("product.confirm", pid, "done")
        now = self.app.clock.now()
        scheduled = draft.scheduled_at  # aware UTC (storage.models.UTCDateTime)
        if scheduled is not None and scheduled > now:
            await self._set(draft.id, state="scheduled")
            await ctx.reply(f"{pid} scheduled for {scheduled:%Y-%m-%d %H:%M} UTC. A delivery report follows then.")
            return
        await self.deliver(draft.id)

    # ------------------------------------------------------------------ delivery

    async def deliver(self, product_id: int) -> None:
        """Create delivery rows (once), then attempt every pending one and report."""
        claimed = await self.products.claim_for_delivery(product_id)  # a second sweep or restart: None
        if claimed is None:
            return
        sources, audience, level = list(claimed.sources), claimed.audience, claimed.level
        pid = f"{ids.product_id(product_id)}"
        problems, aud = await self.gate(sources, level, audience)
        if problems or aud is None:
            await self._set(product_id, state="refused")
            await self.app.storage.audit("system", "system", "product.broadcast", pid, "denied")
            await self.app.post_room(
                "coordinator",
                f"{pid} was NOT sent: the checks at delivery time failed:\n" + "\n".join(f"• {p}" for p in problems),
            )
            return
        await self.products.add_deliveries(product_id, [u.id for u in aud.users], self.app.clock.now())
        if await self.attempt(product_id):
            await self.report(product_id)
            return  # stopped: consent withdrawn
        states = {d.state for d in await self.products.deliveries(product_id)}
        # nothing delivered or on its way (all refused at the first attempt): the product was not sent
        await self._set(product_id, state="sent" if states & {"delivered", "pending", "failed"} else "refused")
        await self.report(product_id)

    async def attempt(self, product_id: int) -> bool:
        """Try every due pending delivery once. Before EACH attempt (first or retry) consent for
        every source and the level/audience rule for that recipient are asked again. True when a
        withdrawn consent stopped the product (every pending delivery refused)."""
        p = await self.products.get(product_id)
        due = await self.products.due_deliveries(product_id, self.app.clock.now())
        sources = list(p.sources) if p is not None else []
        if p is None or not due:
            return False
        name, data = await self.read_product(p)
        pid = f"{ids.product_id(product_id)}"
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
            why = (
                None if user is None else (gone if aud is None else recipient_problem(p.level, user, aud, source_orgs))
            )
            if why is not None:
                assert user is not None
                await self._refuse(pid, [d.id], why)
                refused.append(f"• {self._who(user, d.user_id)}: {why}")
                continue
            error = await self._send(user, OutgoingFile(name, p.mimetype, data), pid, p.level)
            await self.products.record_attempt(
                d.id, error, self.app.clock.now(), give_up=user is None, max_attempts=MAX_ATTEMPTS, backoff=retry_delay
            )
            await self.app.storage.audit(
                "system", "system", "product.deliver", pid, "done" if error is None else "failed"
            )
        if withdrawn:
            await self._stop(product_id, withdrawn)
        if refused:
            await self.app.post_room(
                "coordinator",
                f"{pid}: delivery refused for {len(refused)} recipient(s) (not sent, not retried):\n"
                + "\n".join(refused),
            )
        return bool(withdrawn)

    async def _send(self, user: UserInfo | None, file: OutgoingFile, pid: str, level: str) -> str | None:
        """Send the product and its notice to one recipient; the error to record, or None."""
        if user is None:
            return "recipient removed from the directory"
        try:
            await self.app.send_file_to_user(user, file)
            await self.app.send_to_user(user, f"New information product {pid} ({level}) from the cluster coordinators.")
        except Exception as exc:  # noqa: BLE001 - recorded per recipient, retried later
            return delivery_error(exc)
        return None

    async def _stop(self, product_id: int, withdrawn: list[str]) -> None:
        """A source may no longer be used: refuse every pending delivery and the product."""
        pid = f"{ids.product_id(product_id)}"
        pending = await self.products.pending_ids(product_id)
        why = "sources no longer usable: " + "; ".join(withdrawn)
        await self._refuse(pid, pending, why)
        # no longer shared by the bot at all (!products serves only products in state 'sent')
        await self._set(product_id, state="refused")
        await self.app.post_room(
            "coordinator",
            f"{pid}: {len(pending)} pending delivery(ies) refused and stopped, nothing more will be sent:\n"
            + "\n".join(f"• {w}" for w in withdrawn),
        )

    @staticmethod
    def _who(user: Any, user_id: int) -> str:
        return str(user.matrix_id or user.telegram_id) if user is not None else f"user {user_id}"

    async def _refuse(self, pid: str, delivery_ids: list[int], why: str) -> None:
        """Mark still-pending deliveries refused (final: never retried), one audit entry each."""
        done = await self.products.refuse(delivery_ids, why)
        for _ in range(done):
            await self.app.storage.audit("system", "system", "product.deliver", pid, "denied")

    async def report(self, product_id: int) -> None:
        rows = await self.products.deliveries(product_id)
        delivered = sum(r.state == "delivered" for r in rows)
        pending = [r for r in rows if r.state == "pending"]
        failed = [r for r in rows if r.state == "failed"]
        refused = [r for r in rows if r.state == "refused"]
        counts = f"{delivered} delivered, {len(pending)} pending, {len(failed)} failed"
        if refused:
            counts += f", {len(refused)} refused"
        lines = [f"Delivery report {ids.product_id(product_id)}: {counts}."]
        for r in pending + failed:
            user = await self.app.directory.by_id(r.user_id)
            lines.append(f"• {self._who(user, r.user_id)}: {r.state} after {r.attempts} attempt(s): {r.last_error}")
        for r in refused:
            user = await self.app.directory.by_id(r.user_id)
            lines.append(f"• {self._who(user, r.user_id)}: refused: {r.last_error}")
        await self.app.post_room("coordinator", "\n".join(lines))

    async def sweep(self, app: Application) -> None:
        now = app.clock.now()
        scheduled = await self.products.scheduled_due(now)
        retry = await self.products.retries_due(now)
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
        "broadcast",
        "product.broadcast",
        "broadcast the product you uploaded",
        usage="AUDIENCE [at TIME] [sources S-1,S-2] [level LEVEL]",
        sensitive=True,
    )(b.cmd_broadcast)
    r.command("confirm", "product.confirm", "confirm the pending broadcast", sensitive=True)(b.cmd_confirm)

    async def audience(ctx: Context, args: str) -> None:
        await cmd_audience(app, ctx, args)

    r.command("audience", "product.audience", "manage named audiences", usage="list|create|add|remove|delete ...")(
        audience
    )
    app.services.sweeps["broadcasts.deliver"] = b.sweep


def retry_delay(attempts: int) -> timedelta:
    """Wait before the next attempt after ``attempts`` failed ones: 5, 10, 20, 40 minutes."""
    return timedelta(minutes=5 * 2 ** (attempts - 1))


def delivery_error(exc: Exception) -> str:
    """A fixed reason for the delivery record and report: transport errors name room ids."""
    from bot.transport import TransportError

    text = str(exc) if isinstance(exc, TransportError) else ""
    for needle, reason in (
        ("gained other members", "their private chat has other members"),
        ("identity is not confirmed", "their new Matrix identity is not confirmed yet"),
        ("device trust", "their devices could not be verified"),
        ("no end-to-end encrypted chat", "no end-to-end encrypted chat with them"),
        ("not encrypted", "the chat is not end-to-end encrypted"),
    ):
        if needle in text:
            return reason
    return f"send failed ({type(exc).__name__})"
