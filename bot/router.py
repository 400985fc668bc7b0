"""The router: one accepted event in, at most one handler run, always an answer.

:meth:`Router.route` runs the decision chain, the ordered list :meth:`Router.chain`
(each decision in exactly one place). Each step looks at the context and either stops
the message (it answered, ran a handler, or dropped it) or passes it on:

1. ``encryption``: a plain event in an end-to-end encrypted chat is not acted on;
2. ``rate limit``: per sender, with one polite answer;
3. ``directory``: unknown senders get a short refusal, audited (public commands such
   as ``!join`` and ``!link`` run for them);
4. ``dialog``: an active dialog takes free text (and ``!back`` / ``!cancel``);
5. ``file``: files go to the file handler the sender's role may use, in encrypted chats;
6. ``command``: ``!`` or ``/``: unknown ones get a hint, the policy table decides,
   sensitive commands need an end-to-end encrypted chat;
7. ``reply``: a reply to an earlier message (e.g. a ticket notice);
8. ``free text``: the first text rule the sender's role may use;
9. ``fallback``: "I only understand commands".

Before the chain, :class:`bot.app.Application` makes each event idempotent (the durable
inbox) and orders it in its sender's lane; around it sits the error boundary: a handler
exception becomes an apology with a short reference, the traceback goes to the log
without message content. Handlers talk back only through :class:`Context`, which
depends on the small :class:`Outgoing` port (implemented by the application).
"""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, Protocol

from bot.events import IncomingMessage, OutgoingFile
from bot.notices import unknown_sender
from bot.policy import allowed
from bot.transport import parse_command
from storage.directory import UserInfo

log = logging.getLogger(__name__)

CommandHandler = Callable[["Context", str], Awaitable[None]]
FileHandler = Callable[["Context"], Awaitable[None]]
TextMatcher = Callable[[str], bool]
ReplyHandler = Callable[["Context"], Awaitable[bool]]
#: One step of the decision chain: True when the message stops there.
ChainStep = Callable[["Context"], Awaitable[bool]]

UNENCRYPTED_REFUSAL = (
    "This chat is not end-to-end encrypted, so I can't do that here: it involves protected data. "
    "Please send it in an encrypted direct chat with me on Matrix."
)


@dataclass(frozen=True)
class Command:
    name: str
    action: str
    summary: str
    handler: CommandHandler
    usage: str = ""
    sensitive: bool = False


@dataclass(frozen=True)
class TextRule:
    name: str
    action: str
    matches: TextMatcher
    handler: CommandHandler


class Refused(Exception):
    """A handler was stopped after the user was already told why (not an error)."""


class Outgoing(Protocol):
    """The outgoing port a :class:`Context` talks through (the application implements it)."""

    async def send_text(self, transport: str, chat_id: str, text: str, *, reply_to: str | None = None) -> str: ...

    async def send_file(
        self, transport: str, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None
    ) -> str: ...

    async def send_file_to_user(self, user: UserInfo, file: OutgoingFile) -> str: ...

    async def chat_is_encrypted(self, transport: str, chat_id: str) -> bool: ...

    def room_kind(self, transport: str, chat_id: str) -> str | None: ...

    async def audit(self, actor_id: str, role: str, action: str, object_id: str | None, outcome: str) -> None: ...

    async def unknown_actor(self, handle: str) -> str: ...


class Members(Protocol):
    """Who is who (storage.directory.Directory)."""

    async def lookup(self, transport: str, handle: str) -> UserInfo | None: ...


class Dialogs(Protocol):
    """The dialog engine (bot.conversation.ConversationEngine)."""

    async def active_for(self, ctx: Context) -> Any: ...

    async def handle(self, ctx: Context, active: Any, text: str) -> None: ...


class Context:
    """What a handler may touch: the message, the sender, and replies through the outgoing port."""

    def __init__(self, out: Outgoing, msg: IncomingMessage, user: UserInfo | None = None) -> None:
        self.out = out
        self.msg = msg
        self._user = user

    @property
    def user(self) -> UserInfo:
        assert self._user is not None, "handlers only run for known users"
        return self._user

    @property
    def known(self) -> bool:
        return self._user is not None

    def identify(self, user: UserInfo) -> None:
        self._user = user

    @property
    def role(self) -> str:
        return self.user.role

    @cached_property
    def command(self) -> tuple[str, str] | None:
        """``(name, args)`` when the text is a command."""
        return parse_command(self.msg.text) if self.msg.text else None

    async def reply(self, text: str) -> str:
        return await self.out.send_text(self.msg.transport, self.msg.chat_id, text, reply_to=self.msg.event_id)

    async def reply_file(self, file: OutgoingFile) -> str:
        """Send a file back: only into the bot's own private chat with the sender or a staff room.

        An encrypted group room may still hold people who must not see the file, and a room
        somebody else created may re-admit them later; so outside a configured staff room
        the file goes to the sender's private chat with the bot (which the bot created and
        checks before each send), and the sender is told where it went.
        """
        if not await self.out.chat_is_encrypted(self.msg.transport, self.msg.chat_id):
            await self.reply(UNENCRYPTED_REFUSAL)
            raise Refused("unencrypted chat")
        if self.msg.direct or self.out.room_kind(self.msg.transport, self.msg.chat_id) in ("imo", "coordinator"):
            return await self.out.send_file(self.msg.transport, self.msg.chat_id, file, reply_to=self.msg.event_id)
        sent = await self.out.send_file_to_user(self.user, file)
        await self.reply("I sent the file to our private chat (the only place I send files to you).")
        return sent

    async def audit(self, action: str, object_id: str | None, outcome: str) -> None:
        await self.out.audit(self.user.audit_id, self.user.role, action, object_id, outcome)

    async def deny(self, action: str, object_id: str | None, text: str | None = None) -> None:
        await self.audit(action, object_id, "denied")
        await self.reply(text or "Sorry, your role does not allow that.")

    async def is_encrypted(self) -> bool:
        return self.msg.encrypted and await self.out.chat_is_encrypted(self.msg.transport, self.msg.chat_id)


class RateLimiter:
    """Sliding window per sender, in memory (a restart resetting it is harmless)."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self.hits: dict[str, deque[float]] = defaultdict(deque)
        self.warned: set[str] = set()

    def allow(self, key: str) -> bool:
        now = self.clock()
        q = self.hits[key]
        while q and q[0] <= now - 60:
            q.popleft()
        if len(q) >= self.per_minute:
            return False
        q.append(now)
        self.warned.discard(key)
        return True


class Router:
    """The tables handlers register into, and the decision chain that uses them."""

    def __init__(self, members: Members, dialogs: Dialogs, limiter: RateLimiter) -> None:
        self.members = members
        self.dialogs = dialogs
        self.limiter = limiter
        self.commands: dict[str, Command] = {}
        # one file handler per action: the first the sender's role may use takes the file
        self.file_handlers: list[tuple[str, FileHandler]] = []
        # called for non-command text that replies to an earlier message (e.g. a ticket notice)
        self.reply_handlers: list[ReplyHandler] = []
        self.text_rules: list[TextRule] = []
        # commands that senders unknown to the directory may use (they carry their own proof)
        self.public_commands: set[str] = set()

    def command(
        self, name: str, action: str, summary: str, *, usage: str = "", sensitive: bool = False
    ) -> Callable[[CommandHandler], CommandHandler]:
        def deco(fn: CommandHandler) -> CommandHandler:
            if name in self.commands:
                raise ValueError(f"command !{name} registered twice")
            self.commands[name] = Command(name, action, summary, fn, usage, sensitive)
            return fn

        return deco

    def on_file(self, action: str) -> Callable[[FileHandler], FileHandler]:
        def deco(fn: FileHandler) -> FileHandler:
            self.file_handlers.append((action, fn))
            return fn

        return deco

    def file_handler_for(self, role: str) -> tuple[str, FileHandler] | None:
        return next(((a, fn) for a, fn in self.file_handlers if allowed(role, a)), None)

    def on_text(self, name: str, action: str, matches: TextMatcher) -> Callable[[CommandHandler], CommandHandler]:
        def deco(fn: CommandHandler) -> CommandHandler:
            self.text_rules.append(TextRule(name, action, matches, fn))
            return fn

        return deco

    def help_for(self, role: str, encrypted: bool) -> str:
        lines = ["Commands you can use:"]
        for cmd in sorted(self.commands.values(), key=lambda c: c.name):
            if allowed(role, cmd.action):
                usage = f" {cmd.usage}" if cmd.usage else ""
                mark = "" if encrypted or not cmd.sensitive else " (encrypted chat only)"
                lines.append(f"!{cmd.name}{usage} — {cmd.summary}{mark}")
        if self.file_handler_for(role) is not None and allowed(role, "submission.submit"):
            lines.append("Send a file — submit data; I screen it before anyone else can see it.")
        elif self.file_handler_for(role) is not None:
            lines.append("Send a file in the coordinator room — a product to broadcast (then !broadcast).")
        return "\n".join(lines)

    # ------------------------------------------------------------------ the decision chain

    def chain(self) -> list[tuple[str, ChainStep]]:
        """The decisions for every accepted event, in order (the README lists the same names)."""
        return [
            ("encryption", self.drop_plain_in_encrypted_chat),
            ("rate limit", self.rate_limit),
            ("directory", self.identify_sender),
            ("dialog", self.continue_dialog),
            ("file", self.take_file),
            ("command", self.run_command),
            ("reply", self.take_reply),
            ("free text", self.match_text),
            ("fallback", self.explain),
        ]

    async def route(self, ctx: Context) -> str:
        """Run the chain until a step stops the message; returns that step's name."""
        for name, step in self.chain():
            if await step(ctx):
                return name
        raise RuntimeError("the decision chain ended without an answer")  # "fallback" always stops

    async def drop_plain_in_encrypted_chat(self, ctx: Context) -> bool:
        msg = ctx.msg
        if msg.encrypted or not await ctx.out.chat_is_encrypted(msg.transport, msg.chat_id):
            return False
        # One gate for every path (commands, dialog answers, yes/no, replies, files): in an
        # encrypted chat only encrypted events act; a plain one may come from any session
        # holding a stolen password. (The transport also refuses untrusted sessions.)
        log.warning("plain event %s in an encrypted chat not acted on", msg.event_id)
        return True

    async def rate_limit(self, ctx: Context) -> bool:
        key = f"{ctx.msg.transport}:{ctx.msg.sender_id}"
        if self.limiter.allow(key):
            return False
        if key not in self.limiter.warned:
            self.limiter.warned.add(key)
            await ctx.reply("You are sending messages faster than I can handle. Please wait a minute and try again.")
        return True

    async def identify_sender(self, ctx: Context) -> bool:
        msg = ctx.msg
        user = await self.members.lookup(msg.transport, msg.sender_id)
        if user is not None:
            ctx.identify(user)
            return False
        if ctx.command is not None and ctx.command[0] in self.public_commands:
            await self.commands[ctx.command[0]].handler(ctx, ctx.command[1])
            return True
        await ctx.out.audit(await ctx.out.unknown_actor(msg.sender_id), "unknown", "access", None, "denied")
        await ctx.reply(unknown_sender(msg.encrypted))
        return True

    async def continue_dialog(self, ctx: Context) -> bool:
        parsed = ctx.command
        active = await self.dialogs.active_for(ctx)
        if active is not None and (parsed is None or parsed[0] in ("cancel", "back")) and not ctx.msg.attachments:
            await self.dialogs.handle(ctx, active, ctx.msg.text)
            return True
        if parsed is not None and parsed[0] == "cancel":
            await ctx.reply("There is nothing to cancel.")
            return True
        return False

    async def take_file(self, ctx: Context) -> bool:
        if not ctx.msg.attachments:
            return False
        chosen = self.file_handler_for(ctx.role)
        if chosen is None:
            await ctx.deny("submission.submit", None, "Sorry, only partner organisations submit files to me.")
            return True
        action, handler = chosen
        if not await ctx.is_encrypted():
            await ctx.audit(action, None, "denied")
            await ctx.reply(
                "I did not keep that file: this chat is not end-to-end encrypted. "
                "Please send it in an encrypted direct chat with me on Matrix."
            )
            return True
        await handler(ctx)
        return True

    async def run_command(self, ctx: Context) -> bool:
        if ctx.command is None:
            return False
        name, args = ctx.command
        cmd = self.commands.get(name)
        if cmd is None:
            await ctx.reply(f"I don't know the command !{name}. Send !help to see what you can do.")
        elif not allowed(ctx.role, cmd.action):
            await ctx.deny(cmd.action, None, f"Sorry, your role ({ctx.role}) cannot use !{name}.")
        elif cmd.sensitive and not await ctx.is_encrypted():
            await ctx.audit(cmd.action, None, "denied")
            await ctx.reply(UNENCRYPTED_REFUSAL)
        else:
            await cmd.handler(ctx, args)
        return True

    async def take_reply(self, ctx: Context) -> bool:
        if not ctx.msg.reply_to:
            return False
        for reply_handler in self.reply_handlers:
            if await reply_handler(ctx):
                return True
        return False

    async def match_text(self, ctx: Context) -> bool:
        for rule in self.text_rules:
            if allowed(ctx.role, rule.action) and rule.matches(ctx.msg.text):
                await rule.handler(ctx, ctx.msg.text)
                return True
        return False

    async def explain(self, ctx: Context) -> bool:
        await ctx.reply("I only understand commands. Send !help to see what you can do.")
        return True


def error_reference() -> str:
    return "E-" + secrets.token_hex(3).upper()


def log_exception_without_content(ref: str, exc: BaseException) -> None:
    """Log where it failed and the exception type, never the exception text (it may hold content)."""
    tb = traceback.TracebackException.from_exception(exc, capture_locals=False)
    frames = "".join(tb.stack.format())
    log.error("handler failed ref=%s type=%s\n%s", ref, type(exc).__name__, frames)
