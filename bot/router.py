"""The router: one incoming event in, at most one handler run, always an answer.

Order of decisions for every event (each in exactly one place):

1. idempotency: an event id already processed is dropped (across restarts);
2. rate limit per sender, with a polite answer;
3. the directory: unknown senders get a short refusal, audited;
4. an active dialog takes free text (and ``!back`` / ``!cancel``);
5. commands (``!`` or ``/``): unknown ones get a hint, the policy table decides,
   sensitive commands need an end-to-end encrypted chat;
6. files go to the file handler; other free text to the free-text handlers;
7. the error boundary: a handler exception becomes an apology with a short
   reference, the traceback goes to the log without message content.
"""

from __future__ import annotations

import logging
import secrets
import time
import traceback
from collections import defaultdict, deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from bot.events import IncomingMessage, OutgoingFile
from bot.policy import allowed
from storage.directory import UserInfo

if TYPE_CHECKING:
    from bot.app import Application

log = logging.getLogger(__name__)

CommandHandler = Callable[["Context", str], Awaitable[None]]
FileHandler = Callable[["Context"], Awaitable[None]]
TextMatcher = Callable[[str], bool]
ReplyHandler = Callable[["Context"], Awaitable[bool]]

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


class Context:
    """What a handler may touch: the message, the sender, replies, and the app's services."""

    def __init__(self, app: Application, msg: IncomingMessage, user: UserInfo | None) -> None:
        self.app = app
        self.msg = msg
        self._user = user

    @property
    def user(self) -> UserInfo:
        assert self._user is not None, "handlers only run for known users"
        return self._user

    @property
    def role(self) -> str:
        return self.user.role

    async def reply(self, text: str) -> str:
        return await self.app.send_text(self.msg.transport, self.msg.chat_id, text, reply_to=self.msg.event_id)

    async def reply_file(self, file: OutgoingFile) -> str:
        """Send a file back: only into the bot's own private chat with the sender or a staff room.

        An encrypted group room may still hold people who must not see the file, and a room
        somebody else created may re-admit them later; so outside a configured staff room
        the file goes to the sender's private chat with the bot (which the bot created and
        checks before each send), and the sender is told where it went.
        """
        if not await self.app.chat_is_encrypted(self.msg.transport, self.msg.chat_id):
            await self.reply(UNENCRYPTED_REFUSAL)
            raise Refused("unencrypted chat")
        if self.msg.direct or self.app.room_kind(self.msg.transport, self.msg.chat_id) in ("imo", "coordinator"):
            return await self.app.send_file(self.msg.transport, self.msg.chat_id, file, reply_to=self.msg.event_id)
        sent = await self.app.send_file_to_user(self.user, file)
        await self.reply("I sent the file to our private chat (the only place I send files to you).")
        return sent

    async def audit(self, action: str, object_id: str | None, outcome: str) -> None:
        await self.app.storage.audit(self.user.audit_id, self.user.role, action, object_id, outcome)

    async def deny(self, action: str, object_id: str | None, text: str | None = None) -> None:
        await self.audit(action, object_id, "denied")
        await self.reply(text or "Sorry, your role does not allow that.")

    async def is_encrypted(self) -> bool:
        return self.msg.encrypted and await self.app.chat_is_encrypted(self.msg.transport, self.msg.chat_id)


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
    def __init__(self) -> None:
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


def parse_command(text: str) -> tuple[str, str] | None:
    stripped = text.strip()
    if not stripped or stripped[0] not in "!/":
        return None
    head, _, rest = stripped[1:].partition(" ")
    name = head.split("@", 1)[0].lower()  # Telegram sends /cmd@botname in groups
    if not name:
        return None
    return name, rest.strip()


def error_reference() -> str:
    return "E-" + secrets.token_hex(3).upper()


def log_exception_without_content(ref: str, exc: BaseException) -> None:
    """Log where it failed and the exception type, never the exception text (it may hold content)."""
    tb = traceback.TracebackException.from_exception(exc, capture_locals=False)
    frames = "".join(tb.stack.format())
    log.error("handler failed ref=%s type=%s\n%s", ref, type(exc).__name__, frames)
