"""Partners' submissions: screening, holding, labels, pseudonymisation, withdrawal, access.

A file sent to the bot is screened in the worker pool before anything else. Clear
or properly labelled files are accepted; unlabelled sensitive files are *held*:
stored sealed, visible to nobody but the submitting organisation, until the
partner labels, pseudonymises or withdraws them, or the hold expires.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.events import OutgoingFile
from bot.policy import Role
from handlers.common import (
    MB,
    first_word,
    format_findings,
    human_size,
    level_in_text,
    level_rank,
    org_label,
    parse_level_word,
    screen,
)
from handlers.submission_replies import (
    accepted_level,
    correct_dialog,
    delete_dialog,
    held_reply,
    result_from,
    submission_caption,
)
from storage import ids
from storage.store import Shredded
from storage.submissions import (
    SubmissionRepo,
    SubmissionView,
    SubState,
    VersionState,
    parse_submission_id,
)

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

log = logging.getLogger(__name__)


class Submissions:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.repo = SubmissionRepo(app.storage)

    # ------------------------------------------------------------------ lookups

    async def load_for(self, ctx: Context, args: str, action: str, *, audit: bool = True) -> SubmissionView | None:
        """Parse an id, check ownership, audit the access (allowed or denied). With audit=False an
        allowed access is not audited here: the caller audits the outcome itself (a refused label is "denied")."""
        sid_text, _ = first_word(args)
        sub_id = parse_submission_id(sid_text)
        if sub_id is None:
            await ctx.reply("Please give a submission id, like S-0042.")
            return None
        view = await self.repo.get(sub_id)
        object_id = f"{ids.sub_id(sub_id)}"
        if view is None or not self.may_access(ctx, view, action):
            # the same answer for "does not exist" and "not yours": ids are not an oracle
            await ctx.deny(action, object_id, f"I can't find a submission {object_id} that you can access.")
            return None
        if audit:
            await ctx.audit(action, object_id, "allowed")
        return view

    def may_access(self, ctx: Context, view: SubmissionView, action: str) -> bool:
        if ctx.role == Role.PARTNER:
            return ctx.user.org_id == view.org_id
        if ctx.role == Role.IMO and action in ("submission.get", "submission.list"):
            return view.state == SubState.ACCEPTED
        return False

    def expiry_for(self, state: str, level: str | None) -> Any:
        now = self.app.clock.now()
        ret = self.app.config.retention
        if state in (SubState.HELD, SubState.LOCKED):
            return now + timedelta(hours=ret.held_hours)
        days = ret.days_by_level.get(level or "public", 0)
        return now + timedelta(days=days) if days > 0 else None

    async def accept(self, sub_id: int, level: str, *, current_version: int | None = None) -> None:
        """The one way a submission becomes accepted (state, level and retention together)."""
        extra = {} if current_version is None else {"current_version": current_version}
        await self.repo.update(
            sub_id, state=SubState.ACCEPTED, level=level, expires_at=self.expiry_for(SubState.ACCEPTED, level), **extra
        )

    async def hold(self, sub_id: int, *, current_version: int | None = None) -> None:
        """The one way a submission is held (until labelled, pseudonymised or withdrawn)."""
        extra = {} if current_version is None else {"current_version": current_version}
        await self.repo.update(sub_id, state=SubState.HELD, expires_at=self.expiry_for(SubState.HELD, None), **extra)

    # ------------------------------------------------------------------ receiving

    async def on_file(self, ctx: Context) -> None:
        active = await self.app.conversations.active_for(ctx)
        correcting = active.data.get("submission_id") if active and active.dialog == "correct" else None
        for index, att in enumerate(ctx.msg.attachments):
            if att.size > self.app.config.screening.max_file_mb * MB:
                await ctx.reply(
                    f"That file is {human_size(att.size)}; the limit is {self.app.config.screening.max_file_mb} MB. "
                    "I did not keep it. Split it, or ask the IMO for another way to share it."
                )
                continue
            label = level_in_text(ctx.msg.text or "")
            if att.size > MB:
                await ctx.reply(f"Received {human_size(att.size)}, screening…")
            verdict = await screen(self.app, att.data, att.filename, label)
            if verdict.verdict == "unreadable":
                await ctx.audit("submission.submit", None, "failed")
                await ctx.reply(
                    f"I could not read that file, so I did not keep it: {verdict.error or 'unknown format'}. "
                    "Please check the file and send it again."
                )
                continue
            if correcting is not None and active is not None:
                await self.store_correction(ctx, int(correcting), att.data, att.filename, att.mimetype, verdict)
                await self.app.conversations.discard(active.key)
                correcting = None
                continue
            source = await self.app.storage.pseudokey("source", ctx.msg.key, str(index))
            await self.store_new(ctx, att.data, att.filename, att.mimetype, verdict, source_key=source)

    async def store_new(
        self, ctx: Context, data: bytes, filename: str, mimetype: str, verdict: Any, *, source_key: str | None = None
    ) -> None:
        result = result_from(verdict)
        if result.verdict in ("clear", "labelled"):
            state, level = SubState.ACCEPTED, accepted_level(result)
        elif result.verdict == "encrypted":
            state, level = SubState.LOCKED, None
        else:
            state, level = SubState.HELD, None
        sub_id = await self.repo.create(
            org_id=ctx.user.org_id or 0,
            submitter_id=ctx.user.id,
            data=data,
            filename=filename,
            mimetype=mimetype,
            result=result,
            state=state,
            level=level,
            expires_at=self.expiry_for(state, level),
            source_key=source_key,
        )
        sid = f"{ids.sub_id(sub_id)}"
        await ctx.audit("submission.submit", sid, "done")
        if state == SubState.ACCEPTED:
            await self.announce_accepted(sub_id)
            await ctx.reply(
                f"{sid} accepted as {level}. Thank you.\n"
                f"Record who may use it: !consent {sid} cluster|agencies|products yes|no"
            )
        elif state == SubState.LOCKED:
            await ctx.reply(
                f"{sid} is password-protected, so I could not screen it. It is held and nobody else can see it.\n"
                f"To have it screened, send: !password {sid} THE-PASSWORD (here, in this encrypted chat). "
                "I delete that message and never store the password. Or !withdraw "
                f"{sid}."
            )
        else:
            await ctx.reply(held_reply(sid, sid, result, first=True))

    async def store_correction(
        self, ctx: Context, sub_id: int, data: bytes, filename: str, mimetype: str, verdict: Any
    ) -> None:
        result = result_from(verdict)
        view = await self.repo.get(sub_id)
        if view is None:
            return
        sid = view.public_id
        n = await self.repo.add_version(
            sub_id,
            kind="correction",
            data=data,
            filename=filename,
            mimetype=mimetype,
            result=result,
            state=VersionState.ACTIVE,
        )
        old = view.current_version
        if result.verdict in ("clear", "labelled"):
            level = accepted_level(result)
            await self.accept(sub_id, level, current_version=n)
            reply = f"{sid} corrected: version {n} accepted as {level}."
            await self.announce_accepted(sub_id, corrected=True)
        else:
            await self.hold(sub_id, current_version=n)
            reply = held_reply(f"{sid} version {n}", sid, result)
        if self.app.config.retention.keep_previous_versions:
            await self.repo.set_version_state(sub_id, old, VersionState.SUPERSEDED)
        else:
            await self.repo.shred_version(sub_id, old)
        await ctx.audit("submission.correct", sid, "done")
        await ctx.reply(reply)

    async def announce_accepted(self, sub_id: int, *, corrected: bool = False) -> None:
        view = await self.repo.get(sub_id)
        if view is None:
            return
        cur = view.current
        cats = ", ".join(c.replace("_", " ") for c in cur.categories) or "none"
        what = "Corrected submission" if corrected else "New submission"
        await self.app.post_room(
            "imo",
            f"{what} {view.public_id} from {await org_label(self.app, view.org_id)}: level {view.level}, "
            f"categories: {cats}, size {human_size(cur.size)}. Fetch with !get {view.public_id}",
        )

    # ------------------------------------------------------------------ commands

    async def cmd_label(self, ctx: Context, args: str) -> None:
        # audited once, with what happened: "done", or "denied" when the label is refused (not applied)
        view = await self.load_for(ctx, args, "submission.label", audit=False)
        if view is None:
            return

        async def refuse(text: str) -> None:
            await ctx.audit("submission.label", view.public_id, "denied")
            await ctx.reply(text)

        _, rest = first_word(args)
        level = parse_level_word(rest.split()[0]) if rest else None
        if level is None:
            await refuse(
                "Say which level: !label S-0042 confidential (public, restricted, confidential, highly_confidential)."
            )
            return
        if view.state not in (SubState.HELD, SubState.ACCEPTED):
            await refuse(f"{view.public_id} is {view.state}; labels apply to held or accepted submissions.")
            return
        cur = view.current
        if level_rank(level) < level_rank(cur.required_level):
            await refuse(
                f"{level} is not enough for {view.public_id}: it contains "
                f"{', '.join(c.replace('_', ' ') for c in cur.categories)}, which needs at least {cur.required_level}. "
                "Label it higher, pseudonymise it or withdraw it."
            )
            return
        if view.state == SubState.ACCEPTED and level_rank(level) < level_rank(view.level):
            await refuse(f"{view.public_id} is already accepted as {view.level}; a label can only raise it.")
            return
        await self.repo.set_version_state(view.id, cur.version, cur.state, label=level)
        was_held = view.state == SubState.HELD
        await self.accept(view.id, level)
        await ctx.audit("submission.label", view.public_id, "done")
        await ctx.reply(
            f"{view.public_id} accepted as {level}."
            + (
                f"\nRecord who may use it: !consent {view.public_id} cluster|agencies|products yes|no"
                if was_held
                else ""
            )
        )
        if was_held:
            await self.announce_accepted(view.id)

    async def cmd_password(self, ctx: Context, args: str) -> None:
        # The message holds a password: remove it from the chat history first, whatever happens
        # next (refused here or below, or accepted), and only then answer. The encryption check
        # is repeated here so that a refusal in a plain room or on Telegram also comes after the
        # deletion (the router's own sensitive-command refusal runs before any handler). Without
        # a password (Telegram's transport has already deleted the message and removed it) there
        # is nothing to remove.
        if first_word(args)[1]:
            deleted = False
            try:
                deleted = await self.app.delete_message(ctx.msg.transport, ctx.msg.chat_id, ctx.msg.event_id)
            except Exception as exc:  # noqa: BLE001 - best effort; the user is told below
                log.warning("could not delete a password message: %s", type(exc).__name__)
            if not deleted:
                await ctx.reply("I could not remove your message with the password: please delete it yourself.")
        if not await ctx.is_encrypted():
            from bot.router import UNENCRYPTED_REFUSAL

            await ctx.audit("submission.password", None, "denied")
            await ctx.reply(UNENCRYPTED_REFUSAL)
            return
        view = await self.load_for(ctx, args, "submission.password")
        if view is None:
            return
        _, password = first_word(args)
        if view.state != SubState.LOCKED or not password:
            await ctx.reply(f"Usage: !password {view.public_id} PASSWORD, for a password-protected submission.")
            return
        filename, _, data = await self.repo.read(view.id, view.current_version)
        verdict = await screen(self.app, data, filename, view.current.label, password=password)
        del password
        if verdict.verdict in ("encrypted", "unreadable"):
            await ctx.reply(f"That password did not open {view.public_id}. Try again, or !withdraw {view.public_id}.")
            return
        # the stored file stays the protected original; only its screening result changes
        result = result_from(verdict)
        await self.repo.set_result(view.id, view.current_version, result)
        if result.verdict in ("clear", "labelled"):
            level = accepted_level(result)
            await self.accept(view.id, level)
            await ctx.reply(
                f"{view.public_id} screened and accepted as {level}. Share the password with the IMO separately."
            )
            await self.announce_accepted(view.id)
        else:
            await self.repo.update(view.id, state=SubState.HELD)
            await ctx.reply(held_reply(view.public_id, view.public_id, result))

    async def cmd_withdraw(self, ctx: Context, args: str) -> None:
        view = await self.load_for(ctx, args, "submission.withdraw")
        if view is None:
            return
        if view.state not in (SubState.HELD, SubState.LOCKED):
            await ctx.reply(
                f"{view.public_id} is {view.state}. To remove an accepted submission use !delete {view.public_id}."
            )
            return
        await self.repo.shred_all(view.id, SubState.WITHDRAWN)
        await ctx.audit("submission.shred", view.public_id, "done")
        await ctx.reply(f"{view.public_id} withdrawn and destroyed. Nobody saw it.")

    async def cmd_pseudonymize(self, ctx: Context, args: str) -> None:
        view = await self.load_for(ctx, args, "submission.pseudonymize")
        if view is None:
            return
        if view.state != SubState.HELD:
            await ctx.reply(f"{view.public_id} is {view.state}; only held submissions are pseudonymised here.")
            return
        from bot.screening.pseudonymise import pseudonymize_bytes
        from handlers.common import screening_limits, sensitive_areas

        filename, mimetype, data = await self.repo.read(view.id, view.current_version)
        key = await self.app.storage.pseudokey("pseudonym-key", "v1")
        out, out_name, verdict = await self.app.run_in_worker(
            pseudonymize_bytes,
            data,
            filename,
            bytes.fromhex(key),
            sensitive_areas=sensitive_areas(self.app),
            limits=screening_limits(self.app),
        )
        if verdict.verdict == "unreadable":
            await ctx.reply(f"I could not pseudonymise {view.public_id}: {verdict.error}.")
            return
        result = result_from(verdict)
        # the copy keeps the input's format (XLSX, DOCX, CSV ...), except a PDF, which comes out as text
        from bot.screening.pseudonymise import FORMATS, format_for_name

        out_format = format_for_name(out_name)
        mimetype = FORMATS[out_format][2] if out_format else mimetype
        n = await self.repo.add_version(
            view.id,
            kind="pseudonymised",
            data=out,
            filename=out_name,
            mimetype=mimetype,
            result=result,
            state=VersionState.PENDING,
        )
        await ctx.reply_file(OutgoingFile(out_name, mimetype, out))
        if result.verdict == "unlabelled_sensitive":
            tail = (
                f"The copy still needs the level {result.required_level}:\n{format_findings(list(result.findings))}\n"
                f"You can still !label {view.public_id} LEVEL or !withdraw {view.public_id}."
            )
        else:
            tail = f"The copy screens as {result.verdict}. Send !accept {view.public_id} to submit this copy instead."
        await ctx.reply(f"Here is a pseudonymised copy of {view.public_id} (version {n}). {tail}")

    async def cmd_accept(self, ctx: Context, args: str) -> None:
        view = await self.load_for(ctx, args, "submission.accept")
        if view is None:
            return
        pending = [v for v in view.versions if v.kind == "pseudonymised" and v.state == VersionState.PENDING]
        if view.state != SubState.HELD or not pending:
            await ctx.reply(f"There is no pseudonymised copy of {view.public_id} waiting. Use !pseudonymize first.")
            return
        v = pending[-1]
        if v.verdict == "unlabelled_sensitive":
            await ctx.reply(
                f"The pseudonymised copy of {view.public_id} still needs the level {v.required_level}. "
                f"Label it (!label {view.public_id} {v.required_level}) or withdraw it."
            )
            return
        level = max([lv for lv in (v.label, v.required_level) if lv] or ["public"], key=level_rank)
        old = view.current_version
        await self.repo.set_version_state(view.id, v.version, "active")
        await self.accept(view.id, level, current_version=v.version)
        await self.repo.shred_version(view.id, old)  # the identifying original was never accepted
        await ctx.reply(
            f"{view.public_id} accepted (pseudonymised copy) as {level}. The original was destroyed.\n"
            f"Record who may use it: !consent {view.public_id} cluster|agencies|products yes|no"
        )
        await self.announce_accepted(view.id)

    async def cmd_get(self, ctx: Context, args: str) -> None:
        # files go only where nobody else reads along: the requester's encrypted direct chat,
        # or (for IMOs) the encrypted IMO room
        # (Context.reply_file sends anything else to the requester's own private chat)
        kind = self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id)
        in_other_staff_room = kind is not None and not (kind == "imo" and ctx.role == Role.IMO)
        if not await ctx.is_encrypted() or in_other_staff_room:
            from bot.router import UNENCRYPTED_REFUSAL

            sub_id = parse_submission_id(first_word(args)[0])
            where = "your private chat with me" + (" or the IMO room" if ctx.role == Role.IMO else "")
            text = UNENCRYPTED_REFUSAL if not await ctx.is_encrypted() else f"I send submissions only in {where}."
            await ctx.deny("submission.get", f"{ids.sub_id(sub_id)}" if sub_id else None, text)
            return
        view = await self.load_for(ctx, args, "submission.get")
        if view is None:
            return
        try:
            filename, mimetype, data = await self.repo.read(view.id, view.current_version)
        except Shredded:
            await ctx.reply(f"{view.public_id} was destroyed; there is nothing to send.")
            return
        await ctx.reply_file(OutgoingFile(filename, mimetype, data))
        await ctx.reply(self.get_caption(view))

    get_caption = staticmethod(submission_caption)

    async def cmd_list(self, ctx: Context, args: str) -> None:
        if ctx.role == Role.PARTNER:
            found = await self.repo.ids_for(org_id=ctx.user.org_id)
        else:
            found = await self.repo.ids_for(states=(SubState.ACCEPTED,))
        await ctx.audit("submission.list", None, "allowed")
        if not found:
            await ctx.reply("No submissions.")
            return
        lines = []
        for sub_id in found[-50:]:
            v = await self.repo.get(sub_id)
            if v is None:
                continue
            lines.append(f"{v.public_id}: {v.state}, level {v.level or '-'}, version {v.current_version}")
        await ctx.reply("\n".join(lines))

    async def cmd_correct(self, ctx: Context, args: str) -> None:
        view = await self.load_for(ctx, args, "submission.correct")
        if view is None:
            return
        if view.state not in (SubState.ACCEPTED, SubState.HELD):
            await ctx.reply(f"{view.public_id} is {view.state}; it cannot be corrected.")
            return
        await self.app.conversations.begin(ctx, "correct", {"submission_id": view.id})

    async def cmd_delete(self, ctx: Context, args: str) -> None:
        view = await self.load_for(ctx, args, "submission.delete")
        if view is None:
            return
        if view.state in (SubState.DELETED, SubState.WITHDRAWN, SubState.EXPIRED):
            await ctx.reply(f"{view.public_id} is already {view.state}.")
            return
        await self.app.conversations.begin(ctx, "delete", {"submission_id": view.id, "sid": view.public_id})

    async def finish_delete(self, ctx: Context, data: dict[str, Any]) -> None:
        sub_id = int(data["submission_id"])
        await self.repo.shred_all(sub_id, SubState.DELETED)
        await ctx.audit("submission.delete", data["sid"], "done")
        await ctx.reply(f"{data['sid']} and all its versions are destroyed. The audit log keeps only that it happened.")

    # ------------------------------------------------------------------ retention

    async def sweep(self, app: Application) -> None:
        now = app.clock.now()
        warn = timedelta(hours=app.config.retention.warn_before_hours)
        for sub_id in await self.repo.due(now, (SubState.HELD, SubState.LOCKED, SubState.ACCEPTED)):
            view = await self.repo.get(sub_id)
            if view is None:
                continue
            final = SubState.EXPIRED if view.state in (SubState.HELD, SubState.LOCKED) else SubState.DELETED
            await self.repo.shred_all(sub_id, final)
            await app.storage.audit("system", "system", "submission.retention_delete", view.public_id, "done")
            await self.tell_submitter(
                view, f"{view.public_id} reached the end of its retention time and was destroyed."
            )
        for sub_id in await self.repo.due(
            now + warn, (SubState.HELD, SubState.LOCKED, SubState.ACCEPTED), unwarned=True
        ):
            view = await self.repo.get(sub_id)
            if view is None or view.expires_at is None:
                continue
            await self.repo.update(sub_id, warned_at=now)
            when = view.expires_at.strftime("%Y-%m-%d %H:%M UTC")
            if view.state == SubState.ACCEPTED:
                text = f"Reminder: {view.public_id} will be deleted on {when} under the retention rules."
            else:
                text = (
                    f"Reminder: {view.public_id} is still held and will be destroyed on {when} "
                    f"unless you !label, !pseudonymize or !withdraw it."
                )
            await self.tell_submitter(view, text)

    async def tell_submitter(self, view: SubmissionView, text: str) -> None:
        if view.submitter_id is None:
            return
        user = await self.app.directory.by_id(view.submitter_id)
        if user is not None:
            await self.app.send_to_user(user, text, sensitive=False)


def register(app: Application) -> None:
    subs = Submissions(app)
    app.state["submissions"] = subs
    r = app.router
    r.on_file("submission.submit")(subs.on_file)
    r.command("label", "submission.label", "label a submission", usage="ID LEVEL", sensitive=True)(subs.cmd_label)
    r.command("password", "submission.password", "unlock a password-protected submission", usage="ID PASSWORD")(
        subs.cmd_password
    )
    r.command(
        "pseudonymize", "submission.pseudonymize", "get a pseudonymised copy of a held file", usage="ID", sensitive=True
    )(subs.cmd_pseudonymize)
    r.command("accept", "submission.accept", "submit the pseudonymised copy instead", usage="ID", sensitive=True)(
        subs.cmd_accept
    )
    r.command("withdraw", "submission.withdraw", "withdraw and destroy a held submission", usage="ID", sensitive=True)(
        subs.cmd_withdraw
    )
    r.command("get", "submission.get", "fetch a submission (encrypted)", usage="ID", sensitive=True)(subs.cmd_get)
    r.command("submissions", "submission.list", "list submissions you can see", sensitive=True)(subs.cmd_list)
    r.command("correct", "submission.correct", "send a corrected version", usage="ID", sensitive=True)(subs.cmd_correct)
    r.command("delete", "submission.delete", "destroy a submission and all its versions", usage="ID", sensitive=True)(
        subs.cmd_delete
    )

    app.conversations.register(correct_dialog(app.config.conversation_timeout_minutes))
    app.conversations.register(delete_dialog(subs.finish_delete))
    app.services.sweeps["submissions.retention"] = subs.sweep
