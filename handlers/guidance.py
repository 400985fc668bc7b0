"""Guidance relay: partners ask the IMO (!ask), IMOs answer (!reply or a Matrix reply),
and IMOs send guidance notes to an audience, now or at a time (!guidance)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.conversation import END, Dialog, InvalidAnswer, Step
from bot.policy import Role
from handlers.audiences import AudienceError, resolve, split_audience
from handlers.common import first_word, format_findings, org_label, parse_when, screen, yes_no
from storage import ids
from storage.guidance import NoteRepo, TicketRepo, TicketView

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

PERSONAL = {"person_name", "phone_number", "email_address", "national_id", "date_of_birth", "vulnerable_individual"}
TICKET = re.compile(r"(?i)^Q-?(\d{1,9})$")


class Guidance:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.tickets = TicketRepo(app.storage)
        self.notes = NoteRepo(app.storage)

    # ------------------------------------------------------------------ tickets

    async def _ticket(self, ctx: Context, word: str, action: str) -> TicketView | None:
        m = TICKET.match(word.strip())
        t = await self.tickets.get(int(m.group(1))) if m else None
        tid = f"Q-{int(m.group(1)):04d}" if m else None
        if t is None or not self._may(ctx, t):
            await ctx.deny(
                action, tid, f"I can't find a ticket {word.strip() or ''} that you can access.".replace("  ", " ")
            )
            return None
        await ctx.audit(action, tid, "allowed")
        return t

    def _may(self, ctx: Context, t: TicketView) -> bool:
        if ctx.role == Role.IMO:
            return True
        return ctx.role == Role.PARTNER and t.org_id == ctx.user.org_id

    # ------------------------------------------------------------------ asking

    async def cmd_ask(self, ctx: Context, args: str) -> None:
        question = args.strip()
        if len(question) < 3:
            await ctx.reply("Ask your question after the command: !ask How should we label village-level data?")
            return
        verdict = await screen(self.app, question.encode("utf-8"), "question.txt", None)
        personal = [f.to_json() for f in verdict.findings if f.category in PERSONAL]
        if personal:
            await self.app.conversations.begin(
                ctx, "ask_confirm", {"question": question, "findings": format_findings(personal)}
            )
            return
        await self.relay(ctx, question)

    async def relay(self, ctx: Context, question: str) -> None:
        tid = await self.tickets.create(ctx.user.org_id, ctx.user.id, question, self.app.clock.now())
        ticket = f"{ids.ticket_id(tid)}"
        await ctx.audit("guidance.ask", ticket, "done")
        notice = await self.app.post_room(
            "imo",
            f"Question {ticket} from {await org_label(self.app, ctx.user.org_id)}:\n{question}\n"
            f"Answer with !reply {ticket} TEXT (or reply to this message).",
        )
        if notice:
            await self.tickets.set_notice(tid, notice)
        await ctx.reply(f"Your question is ticket {ticket}. The IMO's answer will come to this chat.")

    async def confirm_answer(self, ctx: Context, text: str, data: dict[str, Any]) -> str:
        answer = yes_no(text, yes={"send"})
        if answer is True:
            return END
        if answer is False:
            raise InvalidAnswer("Not sent. Rephrase it with !ask without the personal details, or send !cancel.")
        raise InvalidAnswer("Please answer yes or no.")

    async def confirm_finish(self, ctx: Context, data: dict[str, Any]) -> None:
        await self.relay(ctx, str(data["question"]))

    # ------------------------------------------------------------------ answering

    async def cmd_reply(self, ctx: Context, args: str) -> None:
        word, text = first_word(args)
        t = await self._ticket(ctx, word, "guidance.reply")
        if t is None:
            return
        if not text:
            await ctx.reply(f"Usage: !reply {ids.ticket_id(t.id)} TEXT")
            return
        await self.answer(ctx, t, text)

    async def answer(self, ctx: Context, t: TicketView, text: str) -> None:
        ticket = f"{ids.ticket_id(t.id)}"
        if t.state != "open":
            await ctx.reply(f"{ticket} is closed.")
            return
        await self.tickets.add_message(t.id, ctx.role, text)
        if ctx.role == Role.IMO:
            asker = await self.app.directory.by_id(t.asker_id) if t.asker_id else None
            delivered = bool(
                asker and await self.app.send_to_user(asker, f"The IMO answered {ticket}:\n{text}", sensitive=True)
            )
            await ctx.reply(
                f"Answer to {ticket} " + ("delivered." if delivered else "saved; the partner could not be reached now.")
            )
        else:
            await self.app.post_room(
                "imo", f"Follow-up on {ticket} from {await org_label(self.app, t.org_id)}:\n{text}"
            )
            await ctx.reply(f"Sent to the IMO on {ticket}.")

    async def on_reply(self, ctx: Context) -> bool:
        """A Matrix reply to a ticket notice in the IMO room counts as !reply."""
        if ctx.role != Role.IMO or self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) != "imo":
            return False
        t = await self.tickets.by_notice(ctx.msg.reply_to)
        if t is None:
            return False
        await ctx.audit("guidance.reply", f"{ids.ticket_id(t.id)}", "allowed")
        await self.answer(ctx, t, ctx.msg.text.strip())
        return True

    async def cmd_tickets(self, ctx: Context, args: str) -> None:
        await ctx.audit("guidance.tickets", None, "allowed")
        questions = await self.tickets.open_questions(only_org=ctx.role == Role.PARTNER, org_id=ctx.user.org_id)
        lines = [f"{q.ticket.public_id} ({q.ticket.created_at:%Y-%m-%d}): {q.question[:120]}" for q in questions]
        await ctx.reply("Open tickets:\n" + "\n".join(lines) if lines else "No open tickets.")

    async def cmd_close(self, ctx: Context, args: str) -> None:
        word, _ = first_word(args)
        t = await self._ticket(ctx, word, "guidance.close")
        if t is None:
            return
        await self.tickets.close(t.id, self.app.clock.now())
        await ctx.reply(f"{ids.ticket_id(t.id)} closed.")

    async def sweep(self, app: Application) -> None:
        """Remind the IMO room once about each ticket left unanswered too long."""
        cutoff = app.clock.now() - timedelta(hours=app.config.guidance.reminder_hours)
        due = await self.tickets.claim_reminders(cutoff, app.clock.now())
        for t in due:
            await app.post_room(
                "imo",
                f"Reminder: ticket {ids.ticket_id(t.id)} has had no answer for "
                f"{app.config.guidance.reminder_hours:g} hours. "
                f"Answer with !reply {ids.ticket_id(t.id)} TEXT",
            )
        await self.deliver_due_notes(app)

    # ------------------------------------------------------------------ guidance notes

    async def cmd_guidance(self, ctx: Context, args: str) -> None:
        audience, rest = split_audience(args)
        text, when = rest, None
        m = re.search(r"\s+at\s+(\d{4}-\d{2}-\d{2}(?:[ T]\d{1,2}:\d{2})?|\d{1,2}:\d{2})\s*(?:UTC)?\s*$", rest)
        if m:
            try:
                when = parse_when(m.group(1), self.app.clock.now())
            except ValueError as exc:
                await ctx.reply(f"Not scheduled: {exc}.")
                return
            text = rest[: m.start()]
        if not audience or not text.strip():
            await ctx.reply(
                "Usage: !guidance AUDIENCE TEXT [at 2026-12-01 09:00]  (AUDIENCE: all, "
                "org:NAME, sector:NAME, list:NAME)"
            )
            return
        try:
            recipients = await resolve(self.app, audience)
        except AudienceError as exc:
            await ctx.reply(str(exc))
            return
        if when is None:
            sent = await self.send_note(audience, text.strip())
            await ctx.audit("guidance.note", None, "done")
            await ctx.reply(f"Guidance note sent to {sent} of {len(recipients)} partner(s) in {audience}.")
            return
        await self.notes.schedule(audience, ctx.user.id, text.strip(), when)
        await ctx.audit("guidance.note", None, "done")
        await ctx.reply(f"Guidance note scheduled for {when:%Y-%m-%d %H:%M} UTC to {audience}.")

    async def send_note(self, audience: str, text: str) -> int:
        sent = 0
        for user in await resolve(self.app, audience):
            if await self.app.send_to_user(user, f"Guidance from the IMO:\n{text}", sensitive=False):
                sent += 1
        return sent

    async def deliver_due_notes(self, app: Application) -> None:
        for row in await self.notes.due(app.clock.now()):
            text = await self.notes.claim(row.id)  # claimed before sending: never sent twice
            if text is None:
                continue
            try:
                await self.send_note(row.audience, text)
            except AudienceError:
                continue


def register(app: Application) -> None:
    g = Guidance(app)
    app.state["guidance"] = g
    r = app.router
    r.command("ask", "guidance.ask", "ask the IMO for guidance", usage="TEXT")(g.cmd_ask)
    r.command("reply", "guidance.reply", "answer or follow up on a ticket", usage="Q-ID TEXT", sensitive=True)(
        g.cmd_reply
    )
    r.command("tickets", "guidance.tickets", "list open guidance tickets", sensitive=True)(g.cmd_tickets)
    r.command("close", "guidance.close", "close a ticket", usage="Q-ID")(g.cmd_close)
    r.command("guidance", "guidance.note", "send a guidance note to partners", usage="AUDIENCE TEXT [at TIME]")(
        g.cmd_guidance
    )
    r.reply_handlers.append(g.on_reply)
    app.conversations.register(
        Dialog(
            name="ask_confirm",
            start="confirm",
            steps={
                "confirm": Step(
                    lambda d: (
                        "Your question seems to contain personal data:\n"
                        + str(d["findings"])
                        + "\nSend it to the IMO anyway? (yes / no)"
                    ),
                    g.confirm_answer,
                )
            },
            on_finish=g.confirm_finish,
            timeout=timedelta(minutes=app.config.conversation_timeout_minutes),
        )
    )
    app.services.sweeps["guidance.reminders"] = g.sweep
