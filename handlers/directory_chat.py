"""Directory management from chat: organisations, users and ``!join`` requests.

Who and where (the policy table grants the commands; this module adds the rest):

* admins, in the **admin room**: ``!org add|list``, ``!user add|remove|role`` for any role,
  ``!users [ORG]``, ``!approve`` / ``!deny`` join requests;
* IMOs, in the **IMO room**: the same, but only for partners (they never create, remove or
  change an admin, IMO or coordinator), and ``!users`` shows partners only;
* anywhere else (a private chat, another room) the commands are refused and audited. They
  are marked sensitive, so the router also refuses them outside end-to-end encrypted chats,
  and the Matrix transport passes on only encrypted events from trusted sessions.

Every change is audited (``directory.*``, with internal ids ``org:N`` / ``user:N``, never
names) and announced in the admin room in one line naming Matrix ids, the role and the
organisation only.

``!join ORG`` is the one thing a sender unknown to the directory can do (a public command,
like ``!link``): from an end-to-end encrypted chat that is not a staff room, rate-limited
per sender and overall (storage/directory.py). The request is stored sealed and posted to
the IMO room as ``J-0003``; an IMO answers ``!approve J-0003`` / ``!deny J-0003``, or simply
replies ``yes`` / ``no`` to the notice. The requester gets the same answer whether or not
the organisation exists (the IMO room is told which). On approval they are added as a
partner of that organisation, audited, announced, and told they can now submit.
"""

from __future__ import annotations

import logging
import re
import shlex
import unicodedata
from collections.abc import Awaitable
from typing import TYPE_CHECKING

from handlers.common import first_word, yes_no
from storage.directory import ROLES, DirectoryError, JoinRequest, RoleRefused

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

log = logging.getLogger(__name__)

ORG = "directory.org"
USER = "directory.user"
USERS = "directory.users"
JOIN = "directory.join"
DECIDE = "directory.approve"

# who manages what, and where: role -> (room kind, roles they may create / remove / change)
MANAGERS: dict[str, tuple[str, tuple[str, ...]]] = {
    "admin": ("admin", ROLES),
    "imo": ("imo", ("partner",)),
}

WRONG_ROOM = (
    "Directory commands work only in the admin room (admins) or the IMO room (IMOs), "
    "so that every change happens where the team can see it."
)
JOIN_USAGE = (
    "To ask to join, send !join followed by your organisation's name, e.g. !join Relief Org. "
    "The cluster's IMO will decide."
)
JOIN_ONLY_PRIVATE = (
    "Please send !join in a private, end-to-end encrypted chat with me (start a direct chat with me on Matrix)."
)
JOIN_SENT = (
    "Thank you. I passed your request ({rid}) to the cluster's Information Management Officer. "
    "You will get a message here once they have decided."
)
JOIN_PENDING = "Your request {rid} is still waiting for the IMO's decision; you will get a message here."
JOIN_TOO_MANY = "Too many join requests. Please wait an hour and try again, or contact your cluster's IMO directly."
JOIN_BUSY = (
    "I cannot take more join requests right now. Please try again later, or contact your cluster's IMO directly."
)
JOIN_APPROVED = (
    "Welcome! The IMO approved your request: you are now registered as a partner of {org}. "
    "You can send me files to submit data (I screen them first). Send !help to see what you can do."
)
JOIN_DENIED = (
    "The IMO did not approve your request to join. If you think this is a mistake, contact your cluster's IMO."
)

MAX_ORG_TEXT = 80
_JOIN_ID = re.compile(r"^J-\d{4,}$", re.IGNORECASE)
_APPROVE = frozenset({"approve", "👍"})
_DENY = frozenset({"deny", "reject"})


def clean_text(text: str, limit: int = MAX_ORG_TEXT) -> str:
    """Free text from a stranger, safe to show in a room: one line, no control characters, bounded."""
    kept = "".join(" " if unicodedata.category(c)[0] in ("C", "Z") else c for c in text)
    one_line = " ".join(kept.split())
    return one_line[:limit]


def _words(args: str) -> list[str]:
    try:
        return shlex.split(args)
    except ValueError:  # an unbalanced quote: take the words as they are
        return args.split()


def _keywords(words: list[str], keys: tuple[str, ...]) -> tuple[list[str], dict[str, str]] | None:
    """``@a:hs org Relief Org role partner`` -> (['@a:hs'], {'org': 'Relief Org', 'role': 'partner'}).

    Keywords are lower-case, each counts once; a value holding one can be quoted."""
    head: list[str] = []
    found: dict[str, list[str]] = {}
    current: list[str] = head
    for w in words:
        if w in keys and w not in found:  # later ones are part of a value ("Relief org")
            current = found.setdefault(w, [])
        else:
            current.append(w)
    values = {k: " ".join(v) for k, v in found.items()}
    if any(not v for v in values.values()):
        return None
    return head, values


class DirectoryChat:
    def __init__(self, app: Application) -> None:
        self.app = app
        self.directory = app.directory

    # ------------------------------------------------------------------ gate

    async def manager(self, ctx: Context, action: str) -> tuple[str, ...] | None:
        """The roles this sender may manage, or None (told and audited) in the wrong room."""
        rule = MANAGERS.get(ctx.role)
        kind = self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id)
        if rule is None or kind != rule[0]:
            await ctx.deny(action, None, WRONG_ROOM)
            return None
        return rule[1]

    async def announce(self, ctx: Context, line: str) -> None:
        """One line for the admin room (the reply itself when the command came from there)."""
        if self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) == "admin":
            await ctx.reply(line)
            return
        await ctx.reply(f"Done. {line}")
        await self.app.notify_admins(line)

    def who(self, ctx: Context) -> str:
        return f"{ctx.msg.sender_id} ({ctx.role})"

    # ------------------------------------------------------------------ !org

    async def cmd_org(self, ctx: Context, args: str) -> None:
        if await self.manager(ctx, ORG) is None:
            return
        sub, rest = first_word(args)
        if sub.lower() == "list":
            orgs = await self.directory.list_orgs()
            await ctx.audit(ORG, None, "allowed")
            lines = [f"• {o.name}" + (f" (sector {o.sector})" if o.sector else "") for o in orgs]
            await ctx.reply("Organisations:\n" + "\n".join(lines) if lines else "No organisations yet.")
            return
        if sub.lower() != "add" or not rest:
            await ctx.reply("Usage: !org add NAME [sector SECTOR] or !org list")
            return
        parsed = _keywords(_words(rest), ("sector",))
        if parsed is None or not parsed[0]:
            await ctx.reply(
                "Usage: !org add NAME [sector SECTOR] (put a name with spaces in quotes if it says 'sector')"
            )
            return
        name = clean_text(" ".join(parsed[0]))
        sector = clean_text(parsed[1]["sector"], 40) if "sector" in parsed[1] else None
        try:
            org_id = await self.directory.add_org(name, sector)
        except DirectoryError as exc:
            await ctx.audit("directory.org_add", None, "failed")
            await ctx.reply(f"Not added: {exc}.")
            return
        await ctx.audit("directory.org_add", f"org:{org_id}", "done")
        await self.announce(
            ctx, f"Directory: {self.who(ctx)} added organisation {name}" + (f" (sector {sector})." if sector else ".")
        )

    # ------------------------------------------------------------------ !user

    async def cmd_user(self, ctx: Context, args: str) -> None:
        manageable = await self.manager(ctx, USER)
        if manageable is None:
            return
        sub, rest = first_word(args)
        sub = sub.lower()
        if sub == "add":
            await self.user_add(ctx, rest, manageable)
        elif sub == "remove":
            await self.user_remove(ctx, rest, manageable)
        elif sub == "role":
            await self.user_role(ctx, rest, manageable)
        else:
            await ctx.reply(
                "Usage: !user add @id:server org NAME role partner | !user remove @id:server | "
                "!user role @id:server ROLE"
            )

    async def refuse_role(self, ctx: Context, action: str, role: str) -> None:
        await ctx.deny(
            action, None, f"Sorry, IMOs manage partners only; ask an admin (in the admin room) about {role}s."
        )

    def _own(self, ctx: Context, handle: str) -> bool:
        return handle == ctx.msg.sender_id or (ctx.user.matrix_id is not None and handle == ctx.user.matrix_id)

    async def user_add(self, ctx: Context, rest: str, manageable: tuple[str, ...]) -> None:
        parsed = _keywords(_words(rest), ("org", "role"))
        if parsed is None or len(parsed[0]) != 1:
            await ctx.reply("Usage: !user add @id:server org NAME role partner (staff: !user add @id:server role imo)")
            return
        handle, opts = parsed[0][0], parsed[1]
        role = opts.get("role", "partner").lower()
        if role not in ROLES:
            await ctx.reply(f"Not added: the role must be one of {', '.join(ROLES)}.")
            return
        if role not in manageable:
            await self.refuse_role(ctx, "directory.user_add", role)
            return
        org_name = None
        if "org" in opts:
            org = await self.directory.org_matching(opts["org"])
            if org is None:
                await ctx.audit("directory.user_add", None, "failed")
                await ctx.reply(
                    f"Not added: there is no organisation named {clean_text(opts['org'])!r}. "
                    "Add it first with !org add NAME."
                )
                return
            org_name = org.name
        try:
            uid = await self.directory.add_user(handle, role=role, org=org_name)
        except DirectoryError as exc:
            await ctx.audit("directory.user_add", None, "failed")
            await ctx.reply(f"Not added: {str(exc).replace('--org', 'org NAME')}.")
            return
        await ctx.audit("directory.user_add", f"user:{uid}", "done")
        of = f" of {org_name}" if org_name else ""
        await self.announce(ctx, f"Directory: {self.who(ctx)} added {handle} as {role}{of}.")

    async def user_remove(self, ctx: Context, rest: str, manageable: tuple[str, ...]) -> None:
        words = _words(rest)
        if len(words) != 1:
            await ctx.reply("Usage: !user remove @id:server")
            return
        handle = words[0]
        if self._own(ctx, handle):
            await ctx.deny("directory.user_remove", None, "You cannot remove yourself; ask another admin.")
            return
        uid = await self._change(
            ctx, "directory.user_remove", "Not removed", self.directory.remove_user(handle, only_roles=manageable)
        )
        if uid is None:
            return
        await ctx.audit("directory.user_remove", f"user:{uid}", "done")
        await self.announce(ctx, f"Directory: {self.who(ctx)} removed {handle}.")

    async def _change(self, ctx: Context, action: str, failed: str, change: Awaitable[int]) -> int | None:
        """Run a directory change; a refused role or a directory error is answered and audited."""
        try:
            return await change
        except RoleRefused as exc:
            await self.refuse_role(ctx, action, exc.role)
        except DirectoryError as exc:
            await ctx.audit(action, None, "failed")
            await ctx.reply(f"{failed}: {exc}.")
        return None

    async def user_role(self, ctx: Context, rest: str, manageable: tuple[str, ...]) -> None:
        words = _words(rest)
        if len(words) != 2:
            await ctx.reply(f"Usage: !user role @id:server ROLE ({', '.join(ROLES)})")
            return
        handle, role = words[0], words[1].lower()
        if role not in ROLES:
            await ctx.reply(f"Not changed: the role must be one of {', '.join(ROLES)}.")
            return
        if role not in manageable:
            await self.refuse_role(ctx, "directory.user_role", role)
            return
        if self._own(ctx, handle):
            await ctx.deny("directory.user_role", None, "You cannot change your own role; ask another admin.")
            return
        uid = await self._change(
            ctx, "directory.user_role", "Not changed", self.directory.set_role(handle, role, only_roles=manageable)
        )
        if uid is None:
            return
        await ctx.audit("directory.user_role", f"user:{uid}", "done")
        await self.announce(ctx, f"Directory: {self.who(ctx)} set {handle} to {role}.")

    # ------------------------------------------------------------------ !users

    async def cmd_users(self, ctx: Context, args: str) -> None:
        manageable = await self.manager(ctx, USERS)
        if manageable is None:
            return
        org_name = None
        if args.strip():
            org = await self.directory.org_matching(" ".join(_words(args)))
            if org is None:
                await ctx.reply(f"There is no organisation named {clean_text(args)!r}.")
                return
            org_name = org.name
        users = [u for u in await self.directory.list_users(org_name) if u.role in manageable]
        await ctx.audit(USERS, None, "allowed")
        if not users:
            await ctx.reply("Nobody" + (f" in {org_name}." if org_name else " yet."))
            return
        lines = [
            f"• {u.matrix_id or ('telegram ' + (u.telegram_id or '?'))} — {u.role}"
            + (f", {u.org_name}" if u.org_name else "")
            for u in users
        ]
        head = f"Users of {org_name}" if org_name else ("Users" if manageable == ROLES else "Partners")
        await ctx.reply(f"{head} ({len(users)}):\n" + "\n".join(lines))

    # ------------------------------------------------------------------ !join (unknown senders)

    async def cmd_join(self, ctx: Context, args: str) -> None:
        app, msg = self.app, ctx.msg
        known = await self.directory.lookup(msg.transport, msg.sender_id)
        if known is not None:  # the router refuses known senders by the policy table; kept for safety
            await app.storage.audit(known.audit_id, known.role, JOIN, None, "denied")
            await ctx.reply("You are already registered. Send !help to see what you can do.")
            return
        actor = await app.unknown_actor(msg.sender_id)
        if (
            not (msg.encrypted and await app.chat_is_encrypted(msg.transport, msg.chat_id))
            or app.room_kind(msg.transport, msg.chat_id) is not None
        ):
            await app.storage.audit(actor, "unknown", JOIN, None, "denied")
            await ctx.reply(JOIN_ONLY_PRIVATE)
            return
        org_text = clean_text(args)
        if not org_text:
            await ctx.reply(JOIN_USAGE)
            return
        now = app.clock.now()
        limited = await self.directory.join_attempt_allowed(msg.transport, msg.sender_id, now)
        if limited is not None:
            await app.storage.audit(actor, "unknown", JOIN, None, "denied")
            if limited == "overall" and not app.state.get("join.flood_told"):
                app.state["join.flood_told"] = True
                await app.notify_admins(
                    "Directory: many !join requests in the last hour; new ones are refused for now."
                )
            await ctx.reply(JOIN_TOO_MANY)
            return
        rid, created = await self.directory.create_join_request(
            msg.transport, msg.sender_id, msg.chat_id, org_text, now
        )
        if rid is None:
            await app.storage.audit(actor, "unknown", JOIN, None, "denied")
            await ctx.reply(JOIN_BUSY)
            return
        if not created:
            await ctx.reply(JOIN_PENDING.format(rid=rid))
            return
        app.state.pop("join.flood_told", None)
        await app.storage.audit(actor, "unknown", "directory.join_request", rid, "done")
        org = await self.directory.org_matching(org_text)
        exists = (
            f"org {org.name}"
            if org is not None
            else f"org {org_text!r} — no such organisation yet: add it with !org add NAME first, "
            f"or approve into another with !approve {rid} org NAME"
        )
        notice = await app.post_room(
            "imo",
            f"{rid}: {msg.sender_id} asks to join {exists} as partner. "
            f"Reply !approve {rid} or !deny {rid} (or answer yes / no to this message).",
        )
        if notice:
            await self.directory.set_join_notice(rid, notice)
        await ctx.reply(JOIN_SENT.format(rid=rid))

    # ------------------------------------------------------------------ !approve / !deny

    async def cmd_approve(self, ctx: Context, args: str) -> None:
        if await self.decider(ctx) is None:
            return
        rid, rest = first_word(args)
        parsed = _keywords(_words(rest), ("org",)) if rest else ([], {})
        if not _JOIN_ID.match(rid) or parsed is None or parsed[0]:
            await ctx.reply("Usage: !approve J-0003 [org NAME]")
            return
        await self.approve(ctx, rid.upper(), parsed[1].get("org"))

    async def cmd_deny(self, ctx: Context, args: str) -> None:
        if await self.decider(ctx) is None:
            return
        rid, _ = first_word(args)
        if not _JOIN_ID.match(rid):
            await ctx.reply("Usage: !deny J-0003")
            return
        await self.deny(ctx, rid.upper())

    async def decider(self, ctx: Context) -> tuple[str, ...] | None:
        """Admins (admin room) and IMOs (IMO room) decide: both may add partners."""
        return await self.manager(ctx, DECIDE)

    async def approve(self, ctx: Context, rid: str, org_override: str | None) -> None:
        req = await self.directory.join_request(rid)
        if req is None:
            await ctx.reply(f"There is no open join request {rid} (already decided, expired, or mistyped).")
            return
        org = await self.directory.org_matching(org_override or req.org)
        if org is None:
            await ctx.reply(
                f"No organisation named {clean_text(org_override or req.org)!r}. Add it with "
                f"!org add NAME and then !approve {rid}, or approve into another: !approve {rid} org NAME."
            )
            return
        try:
            uid = await self.directory.add_user(req.handle, role="partner", org=org.name, transport=req.transport)
        except DirectoryError as exc:
            await ctx.audit("directory.join_approve", rid, "failed")
            await ctx.reply(f"{rid} not approved: {exc}.")
            return
        if not await self.directory.close_join_request(rid):  # decided by someone else meanwhile
            await self.directory.remove_user(req.handle, req.transport)
            await ctx.reply(f"{rid} was decided by someone else just now; nothing changed.")
            return
        await ctx.audit("directory.join_approve", rid, "done")
        await ctx.audit("directory.user_add", f"user:{uid}", "done")
        await self.announce(
            ctx, f"Directory: {self.who(ctx)} approved {rid}: {req.handle} added as partner of {org.name}."
        )
        await self.tell_requester(req, JOIN_APPROVED.format(org=org.name))

    async def deny(self, ctx: Context, rid: str) -> None:
        req = await self.directory.join_request(rid)
        if req is None or not await self.directory.close_join_request(rid):
            await ctx.reply(f"There is no open join request {rid} (already decided, expired, or mistyped).")
            return
        await ctx.audit("directory.join_deny", rid, "done")
        await self.announce(ctx, f"Directory: {self.who(ctx)} denied {rid} ({req.handle}).")
        await self.tell_requester(req, JOIN_DENIED)

    async def tell_requester(self, req: JoinRequest, text: str) -> None:
        user = await self.directory.lookup(req.transport, req.handle)
        if user is not None and await self.app.send_to_user(user, text, sensitive=False):
            return
        try:  # denied (not in the directory): answer in the chat the request came from
            if await self.app.chat_is_encrypted(req.transport, req.chat_id):
                await self.app.send_text(req.transport, req.chat_id, text)
        except Exception as exc:  # noqa: BLE001 - the decision stands; the requester may ask again
            log.warning("could not tell the requester of %s (%s)", req.public_id, type(exc).__name__)

    async def on_reply(self, ctx: Context) -> bool:
        """``yes`` / ``no`` in reply to a join notice in the IMO (or admin) room."""
        answer = yes_no(ctx.msg.text, yes=_APPROVE, no=_DENY)
        if answer is None or not ctx.msg.reply_to:
            return False
        if self.app.room_kind(ctx.msg.transport, ctx.msg.chat_id) not in ("imo", "admin"):
            return False
        rid = await self.directory.join_request_for_notice(ctx.msg.reply_to)
        if rid is None:
            return False
        from bot.policy import allowed

        if not allowed(ctx.role, DECIDE):
            await ctx.deny(DECIDE, rid, f"Sorry, your role ({ctx.role}) cannot decide join requests.")
            return True
        if await self.decider(ctx) is None:
            return True
        if answer:
            await self.approve(ctx, rid, None)
        else:
            await self.deny(ctx, rid)
        return True

    async def sweep(self, app: Application) -> None:
        for rid in await self.directory.expire_join_requests(app.clock.now()):
            await app.storage.audit("clusterbot", "system", "directory.join_expire", rid, "done")
            await app.post_room("imo", f"Join request {rid} expired without a decision and was deleted.")


def register(app: Application) -> None:
    d = DirectoryChat(app)
    r = app.router
    r.command(
        "org", ORG, "add or list organisations (admin / IMO room)", usage="add NAME [sector S] | list", sensitive=True
    )(d.cmd_org)
    r.command(
        "user",
        USER,
        "add, remove or change a user (admin room; IMO room: partners only)",
        usage="add @id org NAME role partner | remove @id | role @id ROLE",
        sensitive=True,
    )(d.cmd_user)
    r.command("users", USERS, "list the directory (admin room; IMO room: partners)", usage="[ORG]", sensitive=True)(
        d.cmd_users
    )
    r.command("approve", DECIDE, "approve a join request", usage="J-ID [org NAME]", sensitive=True)(d.cmd_approve)
    r.command("deny", DECIDE, "deny a join request", usage="J-ID", sensitive=True)(d.cmd_deny)
    # not sensitive for the router: it would refuse an unknown sender's !join before the handler could
    # explain; the handler checks the chat itself (as handlers/linking.py does)
    r.command("join", JOIN, "ask to be added to the directory (people not registered yet)", usage="ORG")(d.cmd_join)
    r.public_commands.add("join")
    r.reply_handlers.append(d.on_reply)
    app.services.sweeps["directory.join_expire"] = d.sweep
