"""Confidential reporting of data incidents, and their handling by coordinators.

Reporting is a dialog (one question at a time, ``!back`` and ``!cancel`` always
work, only the description is required). An anonymous report is stored without
the reporter's user id or chat; the audit log records only that a report was
made. Either way the reporter gets a receipt, shown once, to follow up from any
chat with ``!status``.

Anonymity against someone holding the database, the logs and the master key:

* the draft is kept only in memory (``Dialog.in_memory``): a keyed hash of the
  conversation, even sealed, can be recomputed for every known user and room with
  the master key. A restart loses the draft; the reporter is told so up front and,
  after a restart, when their next answer arrives;
* an anonymous report's times are stored to the hour (storage/incidents.py), and its
  audit entries (and those of every ``!status``) are written by the sweep after the
  hour they happened in has ended, sorted, so neither their time nor their place in
  the chain sits next to the reporter's own entries (``AnonymousAudit``);
* receipt guesses are limited per sender and overall, in memory (``ReceiptGuard``);
  the coordinators are told about repeated failures, with counts only.

Handling follows the humanitarian data incident steps: notification (ack),
classification, treatment, closure, learning. Unacknowledged reports are
reminded and then escalated by the periodic sweep; closed cases are shredded
after the retention period, with a notice first.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.clock import as_utc
from bot.conversation import ActiveDialog, ConversationEngine, Dialog
from handlers.common import first_word
from handlers.incident_dialog import (
    DRAFT_IN_MEMORY,
    INCIDENT_HINT,
    received,
    report_steps,
    suggest_severity,
)
from handlers.incident_privacy import (
    RECEIPT_TRIES_OVERALL,
    RECEIPT_TRIES_PER_SENDER,
    RECEIPT_WINDOW,
    AnonymousAudit,
    ReceiptGuard,
)
from storage import ids
from storage.incidents import (
    SEVERITIES,
    IncidentRepo,
    IncidentView,
    check_receipt,
    format_receipt,
    hash_receipt,
    new_receipt_secret,
    parse_receipt,
    to_the_hour,
)

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

log = logging.getLogger(__name__)


class Incidents:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.repo = IncidentRepo(app.storage)
        self.guard = ReceiptGuard()
        self.anonymous_audit = AnonymousAudit(app, self.repo)
        self._alerted_at: datetime | None = None

    # ------------------------------------------------------------------ the reporting dialog

    def dialog(self) -> Dialog:
        return Dialog(
            name="report",
            start="what",
            steps=report_steps(),
            on_finish=self.finish_report,
            timeout=timedelta(minutes=self.app.config.incidents.draft_timeout_minutes),
            on_timeout=self.draft_timed_out,
            in_memory=True,
            intro=DRAFT_IN_MEMORY,
        )

    async def draft_timed_out(self, engine: ConversationEngine, active: ActiveDialog) -> None:
        """Ask once whether to continue; the second time, shred the draft."""
        transport, chat = active.reply_to.get("transport"), active.reply_to.get("chat_id")
        if not active.data.get("_asked"):
            active.data["_asked"] = True
            await engine.save(active)  # extends the deadline once
            text = (
                "Your incident report draft has been waiting. Reply to the last question to continue, "
                "or send !cancel. If I hear nothing, I will destroy the draft."
            )
        else:
            await engine.discard(active.key)
            text = "Your unfinished incident report draft was destroyed after no reply. Send !report to start again."
        if transport and chat:
            try:
                await self.app.send_text(transport, chat, text)
            except Exception as exc:  # noqa: BLE001 - the draft decision stands even if the notice fails
                log.warning("draft timeout notice not delivered: %s", type(exc).__name__)

    async def finish_report(self, ctx: Context, data: dict[str, Any]) -> None:
        anonymous = bool(data.get("anonymous"))
        body = {k: data.get(k) for k in ("what", "when", "data", "ongoing", "actions", "contact")}
        severity = suggest_severity(body)
        secret = new_receipt_secret()
        receipt_hash = await asyncio.to_thread(hash_receipt, secret)
        inc_id = await self.repo.create(
            body,
            anonymous=anonymous,
            reporter_id=None if anonymous else ctx.user.id,
            severity=severity,
            receipt_hash=receipt_hash,
        )
        case = f"{ids.incident_id(inc_id)}"
        if not anonymous:
            await ctx.audit("incident.report", case, "done")
        # an anonymous report's entry is written by the sweep after this hour (AnonymousAudit)
        receipt = format_receipt(inc_id, secret)
        await ctx.reply(
            f"Thank you. Your report {case} was sent to the coordinators"
            + (" anonymously" if anonymous else "")
            + f".\nYour receipt code (shown only this once, keep it safe): {receipt}\n"
            f"Check on it from any chat with: !status {receipt}\n"
            f"Add information with: !status {receipt} add TEXT"
        )
        who = (
            "anonymous"
            if anonymous
            else f"from {ctx.user.matrix_id or ctx.user.telegram_id} ({ctx.user.org_name or ctx.role})"
        )
        now = self.app.clock.now()
        await self.app.post_room(
            "coordinator",
            f"New data incident report {case}, suggested severity {severity}, received "
            f"{received(to_the_hour(now) if anonymous else now, anonymous)}, {who}. Read it with !incident {case}; "
            f"acknowledge with !incident {case} ack",
        )

    async def cmd_report(self, ctx: Context, args: str) -> None:
        if not await ctx.is_encrypted():
            await ctx.reply(
                "This chat is not end-to-end encrypted. For a confidential report, open an encrypted direct chat "
                "with me on Matrix and send !report there."
            )
            return
        await self.app.conversations.begin(ctx, "report")

    async def offer_report(self, ctx: Context, text: str) -> None:
        await ctx.reply(
            "It sounds like something may have gone wrong with data. If you want to report it, send !report: "
            "I ask a few short questions, and you can stay anonymous. Nothing is recorded unless you do."
        )

    def recently_started(self, _text: str) -> bool:
        """Within the time a draft could have lived: a draft may have been lost in the restart."""
        timeout = timedelta(minutes=self.app.config.incidents.draft_timeout_minutes)
        return self.app.clock.now() < self.app.conversations.started_at + 2 * timeout  # asked once, then destroyed

    async def after_restart(self, ctx: Context, text: str) -> None:
        """Free text soon after a start: perhaps an answer to a report question whose draft was lost."""
        lines = ["I only understand commands. Send !help to see what you can do."]
        if await ctx.is_encrypted() and self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) is None:
            lines.append(
                "If you were answering my questions for an incident report: I was restarted at "
                f"{self.app.conversations.started_at:%H:%M} UTC and that draft was lost, because I keep report "
                "drafts only in memory (so that nobody with access to the server can tell who is writing one). "
                "I'm sorry. Send !report to start again."
            )
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------------ follow-up by receipt

    async def find_by_receipt(self, ctx: Context, text: str) -> IncidentView | None:
        parsed = parse_receipt(text)
        if parsed is None:  # not a receipt at all: nothing to guess with, nothing checked
            self.anonymous_audit.later("anonymous", "incident.status", None, "denied")
            await ctx.reply("I can't find a report with that receipt code. Check it and try again.")
            return None
        sender, now = f"{ctx.msg.transport}:{ctx.msg.sender_id}", self.app.clock.now()
        refusal = self.guard.refusal(sender, now)
        if refusal is not None:
            self.anonymous_audit.later("anonymous", "incident.status", None, "denied")
            await ctx.reply(
                "Too many wrong receipt codes came from you in the last hour, so I did not check this one. "
                "Please try again in an hour."
                if refusal == "sender"
                else "Too many wrong receipt codes were tried on this bot in the last hour, so I am not checking "
                "any for now. Please try again in an hour; the coordinators have been told."
            )
            await self.alert_coordinators()
            return None
        token = self.guard.attempt(sender, now)
        stored = await self.repo.receipt_hash(parsed[0])
        right = False
        if stored is not None:
            right = await asyncio.to_thread(check_receipt, parsed[1], stored)
        if right:
            self.guard.forgive(sender, token)
            return await self.repo.get(parsed[0])
        self.anonymous_audit.later("anonymous", "incident.status", None, "denied")
        await ctx.reply("I can't find a report with that receipt code. Check it and try again.")
        await self.alert_coordinators()
        return None

    async def alert_coordinators(self) -> None:
        """Repeated wrong receipt codes: counts only, at most once an hour."""
        now = self.app.clock.now()
        if not self.guard.worrying():
            return
        if self._alerted_at is not None and now < self._alerted_at + RECEIPT_WINDOW:
            return
        self._alerted_at = now
        tries, senders = len(self.guard.overall), len(self.guard.by_sender)
        await self.app.post_room(
            "coordinator",
            f"Receipt codes: {tries} wrong receipt code{'s' if tries != 1 else ''} tried with !status in the last "
            f"hour, from {senders} sender{'s' if senders != 1 else ''}. Someone may be guessing. I refuse further "
            f"tries without checking them from a sender after {RECEIPT_TRIES_PER_SENDER} wrong ones in an hour, "
            f"and from everyone after {RECEIPT_TRIES_OVERALL}. Nobody is named here, and I do not store who tried. "
            "(At most one such notice an hour.)",
        )

    async def cmd_status(self, ctx: Context, args: str) -> None:
        receipt, rest = first_word(args)
        if not receipt:
            await ctx.reply("Usage: !status RECEIPT, or !status RECEIPT add TEXT")
            return
        view = await self.find_by_receipt(ctx, receipt)
        if view is None:
            return
        action, more = first_word(rest)
        encrypted = await ctx.is_encrypted()
        if action.lower() == "add" and not encrypted:
            await ctx.reply(
                "This chat is not end-to-end encrypted, so please don't add details here. "
                "Send the same command in an encrypted chat with me on Matrix."
            )
            return
        if action.lower() == "add":
            if not more:
                await ctx.reply("Add what? !status RECEIPT add TEXT")
                return
            # stored to the hour; its audit entry is written after the hour (AnonymousAudit)
            await self.repo.add_event(view.id, "info", "reporter", more[:8000], coarse=True)
            await ctx.reply(f"Added to {view.public_id}. The coordinators have been told.")
            await self.app.post_room("coordinator", f"New information from the reporter on {view.public_id}.")
            return
        self.anonymous_audit.later("reporter", "incident.status", view.public_id, "allowed")
        lines = [f"{view.public_id}: {view.state}" + (f", classified {view.severity}" if view.acked_at else "")]
        if not encrypted:
            lines.append("Messages about your report are shown only in an end-to-end encrypted chat.")
            await ctx.reply("\n".join(lines))
            return
        for ev in view.events:
            if ev.kind == "reply":
                lines.append(f"{ev.created_at:%Y-%m-%d %H:%M} coordinators: {ev.text}")
            elif ev.kind == "info":
                lines.append(f"{received(ev.created_at, True)} you added: {ev.text}")
        await ctx.reply("\n".join(lines))

    # ------------------------------------------------------------------ coordinators

    async def cmd_incidents(self, ctx: Context, args: str) -> None:
        await ctx.audit("incident.list", None, "allowed")
        rows = await self.repo.list(states=("new", "acknowledged", "classified", "treatment"))
        if not rows:
            await ctx.reply("No open incident reports.")
            return
        lines = [
            f"{ids.incident_id(r.id)}: {r.state}, severity {r.severity}, received "
            f"{received(as_utc(r.created_at), r.anonymous)}" + (", anonymous" if r.anonymous else "")
            for r in rows
        ]
        await ctx.reply("Open incident reports:\n" + "\n".join(lines))

    async def cmd_incident(self, ctx: Context, args: str) -> None:
        case, rest = first_word(args)
        m = re.fullmatch(r"(?i)I-?(\d{1,9})", case)
        view = await self.repo.get(int(m.group(1))) if m else None
        if view is None:
            await ctx.reply("I can't find that incident. Use !incidents to list open ones.")
            return
        if not await ctx.is_encrypted():
            await ctx.deny("incident.manage", view.public_id, "Incident reports are only shown in encrypted chats.")
            return
        action, text = first_word(rest)
        action = action.lower()
        if not action:
            await ctx.audit("incident.read", view.public_id, "allowed")
            await ctx.reply(await self.render(view))
            return
        handlers = {
            "ack": self._ack,
            "classify": self._classify,
            "treat": self._note("treatment", "treatment"),
            "close": self._close,
            "learn": self._note("learning", None),
            "reply": self._reply,
        }
        handler = handlers.get(action)
        if handler is None:
            await ctx.reply(
                "Use: ack | classify LOW|MEDIUM|HIGH|CRITICAL | treat TEXT | close TEXT | learn TEXT | reply TEXT"
            )
            return
        await ctx.audit(f"incident.{action}", view.public_id, "allowed")
        await handler(ctx, view, text)

    async def render(self, view: IncidentView) -> str:
        b = view.body
        who = "anonymous"
        if not view.anonymous and view.reporter_id is not None:
            user = await self.app.directory.by_id(view.reporter_id)
            who = f"{user.matrix_id or user.telegram_id} ({user.org_name or user.role})" if user else "a removed user"
        lines = [
            f"{view.public_id} — {view.state}, severity {view.severity}, received "
            f"{received(view.created_at, view.anonymous)}",
            f"Reporter: {who}; wants to hear back by {b.get('contact') or 'receipt'}",
            f"What happened: {b.get('what')}",
            f"When: {b.get('when') or '-'}",
            f"Data and people: {b.get('data') or '-'}",
            f"Still happening: {b.get('ongoing') or '-'}",
            f"Done so far: {b.get('actions') or '-'}",
        ]
        for ev in view.events:
            lines.append(f"{received(ev.created_at, ev.kind == 'info')} [{ev.kind}, {ev.actor_role}] {ev.text}")
        return "\n".join(lines)

    async def _ack(self, ctx: Context, view: IncidentView, text: str) -> None:
        if view.acked_at is not None:
            await ctx.reply(f"{view.public_id} was already acknowledged.")
            return
        await self.repo.update(view.id, acked_at=self.app.clock.now(), state="acknowledged")
        await self.repo.add_event(view.id, "ack", ctx.role, "acknowledged")
        await ctx.reply(f"{view.public_id} acknowledged.")
        await self.tell_reporter(view, f"Your report {view.public_id} has been acknowledged by the coordinators.")

    async def _classify(self, ctx: Context, view: IncidentView, text: str) -> None:
        level = text.strip().upper()
        if level not in SEVERITIES:
            await ctx.reply("Classify as LOW, MEDIUM, HIGH or CRITICAL.")
            return
        fields: dict[str, Any] = {"severity": level, "state": "classified"}
        if view.acked_at is None:
            fields["acked_at"] = self.app.clock.now()
        await self.repo.update(view.id, **fields)
        await self.repo.add_event(view.id, "classify", ctx.role, level)
        await ctx.reply(f"{view.public_id} classified {level}.")

    def _note(self, kind: str, state: str | None) -> Any:
        async def handler(ctx: Context, view: IncidentView, text: str) -> None:
            if not text:
                await ctx.reply(f"Add a note: !incident {view.public_id} {kind[:5]} TEXT")
                return
            await self.repo.add_event(view.id, kind, ctx.role, text[:8000])
            if state:
                await self.repo.update(view.id, state=state)
            await ctx.reply(f"Noted on {view.public_id}.")

        return handler

    async def _close(self, ctx: Context, view: IncidentView, text: str) -> None:
        await self.repo.add_event(view.id, "closure", ctx.role, text[:8000] or "closed")
        await self.repo.update(view.id, state="closed", closed_at=self.app.clock.now())
        days = self.app.config.incidents.closed_retention_days
        await ctx.reply(f"{view.public_id} closed. It will be destroyed after {days} days (a notice comes first).")
        await self.tell_reporter(view, f"Your report {view.public_id} has been closed by the coordinators.")

    async def _reply(self, ctx: Context, view: IncidentView, text: str) -> None:
        if not text:
            await ctx.reply(f"Reply with: !incident {view.public_id} reply TEXT")
            return
        await self.repo.add_event(view.id, "reply", ctx.role, text[:8000])
        reached = await self.tell_reporter(view, f"The coordinators replied on {view.public_id}: {text[:8000]}")
        how = "sent to the reporter's encrypted chat" if reached else "stored; the reporter sees it with !status"
        await ctx.reply(f"Reply on {view.public_id} {how}.")

    async def tell_reporter(self, view: IncidentView, text: str) -> bool:
        """Only named reporters who chose 'chat' are contacted directly; never anonymous ones."""
        if view.anonymous or view.reporter_id is None or view.body.get("contact") != "chat":
            return False
        user = await self.app.directory.by_id(view.reporter_id)
        return bool(user and await self.app.send_to_user(user, text, sensitive=True))

    # ------------------------------------------------------------------ deadlines and retention

    async def sweep(self, app: Application) -> None:
        now = app.clock.now()
        cfg = app.config.incidents
        for inc in await self.repo.list(states=("new",)):
            created = inc.created_at if inc.created_at.tzinfo else inc.created_at.replace(tzinfo=now.tzinfo)
            case = f"{ids.incident_id(inc.id)}"
            if inc.escalated_at is None and now >= created + timedelta(hours=cfg.escalate_after_hours):
                await self.escalate(case, inc.severity)
                await self.repo.update(inc.id, escalated_at=now)
                await app.storage.audit("system", "system", "incident.escalate", case, "done")
            elif inc.reminded_at is None and now >= created + timedelta(hours=cfg.ack_deadline_hours):
                await app.post_room(
                    "coordinator",
                    f"Reminder: incident report {case} (suggested severity {inc.severity}) has not been acknowledged "
                    f"after {cfg.ack_deadline_hours:g} hours. Acknowledge with !incident {case} ack",
                )
                await self.repo.update(inc.id, reminded_at=now)
                await app.storage.audit("system", "system", "incident.remind", case, "done")
        retention = timedelta(days=cfg.closed_retention_days)
        notice = timedelta(days=min(7, cfg.closed_retention_days))
        for inc in await self.repo.list(states=("closed",)):
            if inc.closed_at is None:
                continue
            closed = inc.closed_at if inc.closed_at.tzinfo else inc.closed_at.replace(tzinfo=now.tzinfo)
            case = f"{ids.incident_id(inc.id)}"
            if now >= closed + retention:
                await self.repo.shred(inc.id)
                await app.storage.audit("system", "system", "incident.shred", case, "done")
                await app.post_room(
                    "coordinator", f"Closed incident {case} reached its retention time and was destroyed."
                )
            elif inc.retention_warned_at is None and now >= closed + retention - notice:
                await self.repo.update(inc.id, retention_warned_at=now)
                await app.post_room(
                    "coordinator",
                    f"Notice: closed incident {case} will be destroyed on {(closed + retention):%Y-%m-%d}. "
                    "Export what you need for your records (clusterbot incidents export).",
                )

    async def escalate(self, case: str, severity: str | None) -> None:
        text = (
            f"Escalation: data incident report {case} (suggested severity {severity}) has not been acknowledged "
            f"within {self.app.config.incidents.escalate_after_hours:g} hours. Please "
            "make sure a coordinator handles it."
        )
        await self.app.post_room("coordinator", text)
        for contact in self.app.config.incidents.escalation_contacts:
            await self.app.send_to_contact(contact, text)


def register(app: Application) -> None:
    inc = Incidents(app)
    app.state["incidents"] = inc
    app.conversations.register(inc.dialog())
    r = app.router
    r.command("report", "incident.report", "report a data incident confidentially (anonymous if you wish)")(
        inc.cmd_report
    )
    # Works from any chat, but only for people in the directory (not a public command): a
    # per-sender limit on guesses means little when anyone can make new accounts.
    r.command("status", "incident.status", "follow up on your report", usage="RECEIPT [add TEXT]")(inc.cmd_status)
    r.command("incidents", "incident.list", "list open incident reports", sensitive=True)(inc.cmd_incidents)
    r.command(
        "incident",
        "incident.manage",
        "show or handle an incident",
        usage="ID [ack|classify|treat|close|learn|reply ...]",
        sensitive=True,
    )(inc.cmd_incident)
    r.on_text("incident-hint", "incident.report", lambda text: bool(INCIDENT_HINT.search(text)))(inc.offer_report)
    # Any other free text soon after a start (checked after the rules above; keep it the last rule).
    r.on_text("report-draft-lost", "incident.report", inc.recently_started)(inc.after_restart)
    app.services.sweeps["incidents.deadlines"] = inc.sweep
    app.services.sweeps["incidents.anonymous_audit"] = inc.anonymous_audit.flush
