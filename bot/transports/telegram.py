"""The restricted Telegram fallback (python-telegram-bot's plain ``Bot``, long polling).

Telegram is not end-to-end encrypted for bots, so this transport is deliberately
narrow: it carries commands and short non-sensitive notices, and nothing else.

* Every incoming message is marked ``encrypted=False``; the core then refuses
  sensitive commands and never routes sensitive text here.
* Files (documents, photos, audio, video, voice) are **never downloaded**: the
  transport answers with a refusal and deletes the user's message to limit how long
  the data sits in the chat history. The core never sees them.
* ``send_file`` always raises.
* A command that carries a secret (``/password ID PASSWORD``) is deleted on arrival, before
  the core sees it, and the core gets it without the secret (it refuses it anyway: this
  chat is not encrypted). If Telegram will not delete it, the user is told to.
* An update PTB cannot parse is skipped (logged by update id only) instead of blocking
  polling: Telegram would hand out the same batch forever.

Why not PTB's ``Application``/``Updater``: we have our own router, idempotency and
error boundary; the plain ``Bot`` plus a twenty-line polling loop is smaller and
easier to reason about.

Secrets: PTB puts the bot token in every request URL, in ``repr(Bot)``, in its
DEBUG logs and in the ``InvalidToken`` raised by ``Bot.initialize``. So this module
logs only exception *type names*, update ids and chat ids; raises its own
``TransportError`` outside the ``except`` block (no chained PTB/httpx exception that
could hold the URL); and installs a log filter on PTB's and httpx's loggers that
removes the token and the request payload even if someone turns them up to DEBUG.
PTB logs under names derived from its modules (``telegram._utils.logging.get_logger``):
``telegram.Bot``, ``telegram.request.BaseRequest`` (an invalid JSON answer, whole, at
ERROR), ``telegram.request.HTTPXRequest`` and ``telegram`` itself. A filter on a logger
does not see records of its children, so each of them gets the filter.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import logging
import warnings
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from telegram import Bot, LinkPreviewOptions, Message, ReplyParameters, Update
from telegram.error import BadRequest, Conflict, InvalidToken, RetryAfter, TelegramError
from telegram.warnings import PTBUserWarning

from bot.config import TelegramConfig
from bot.events import IncomingMessage, OutgoingFile
from bot.transport import Capabilities, TransportError, TransportHost, parse_command
from bot.transports.ratelimit import RateLimiter

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_TEXT = 4096  # Telegram's limit per message (counted in UTF-16 code units)
FILE_REFUSAL = (
    "I can't accept files on Telegram: it is not end-to-end encrypted. "
    "Please use the encrypted Matrix chat, or ask the IMO for another secure way."
)
PERSONAL_REFUSAL = (
    "I can't take locations or contact cards on Telegram: they are personal data and this chat is "
    "not end-to-end encrypted. I removed your message. Please use the encrypted Matrix chat."
)
FILE_NOT_DELETED = " I could not remove your file from this chat: please delete it yourself."
RATE_LIMIT_NOTICE = "You are sending messages faster than I can handle. Please wait a minute and try again."
SECRET_NOT_DELETED = (
    "I could not remove your message from this chat: please delete it yourself, and treat that password as exposed."
)
# Commands whose arguments after the first are a secret: the message is deleted on arrival and
# the core gets only the command and its first argument (e.g. the submission id).
SECRET_COMMANDS = frozenset({"password"})
# Message attributes that carry a file; their content is never fetched.
FILE_KINDS = ("document", "photo", "audio", "video", "voice", "video_note", "animation")
# Attributes that are personal data in themselves (a place, a person's phone number): removed too.
PERSONAL_KINDS = ("location", "venue", "contact")
MAX_RETRY_AFTER = 10.0  # a flood-wait longer than this fails the send instead of blocking the caller
_SEEN_MAX = 2048


class _RedactFilter(logging.Filter):
    """Keep the token and message payloads out of PTB's and httpx's log records.

    PTB logs request parameters (message text) and its URLs (with the token) at DEBUG;
    httpx logs every request URL at INFO. For PTB we drop the arguments and keep only
    the constant template; for httpx we keep the line but mask every known token.
    """

    def __init__(self) -> None:
        super().__init__()
        self.tokens: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.name.startswith("telegram"):
            record.args = ()
            record.exc_info = None  # e.g. "Error while parsing updates" carries the raw update
            record.exc_text = None
        msg = record.getMessage()
        for token in self.tokens:
            msg = msg.replace(token, "***")
        record.msg, record.args = msg, ()
        return True


_REDACT = _RedactFilter()
# PTB's logger names as its get_logger() derives them (checked by tests against the installed PTB);
# any other telegram.*, httpx or httpcore logger that exists when polling starts is covered too.
_FILTERED_LOGGERS = (
    "telegram",
    "telegram.Bot",
    "telegram.request.BaseRequest",
    "telegram.request.HTTPXRequest",
    "telegram.ext",
    "telegram.ext.ExtBot",
    "telegram.ext.Updater",
    "telegram.ext.Application",
    "httpx",
    "httpcore",
)
_FILTERED_PREFIXES = ("telegram.", "httpx.", "httpcore.")


def _install_redaction(token: str) -> None:
    _REDACT.tokens.add(token)
    existing = [
        name
        for name, lg in list(logging.Logger.manager.loggerDict.items())
        if isinstance(lg, logging.Logger) and name.startswith(_FILTERED_PREFIXES)
    ]
    for name in (*_FILTERED_LOGGERS, *existing):
        lg = logging.getLogger(name)
        if _REDACT not in lg.filters:
            lg.addFilter(_REDACT)


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-16 code units, preferring line breaks."""

    def units(s: str) -> int:
        return len(s.encode("utf-16-le")) // 2

    parts: list[str] = []
    while units(text) > limit:
        cut = min(len(text), limit)
        while units(text[:cut]) > limit:  # astral characters count twice
            cut -= 1
        newline = text.rfind("\n", 0, cut)
        if newline > cut // 2:
            parts.append(text[:newline])
            text = text[newline + 1 :]
        else:
            parts.append(text[:cut])
            text = text[cut:]
    if text or not parts:
        parts.append(text)
    return parts


def _seconds(value: Any) -> float:
    """``RetryAfter.retry_after`` is an int or a timedelta depending on PTB settings."""
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)


def _split_event_id(event_id: str) -> tuple[str, int] | None:
    chat, _, mid = event_id.rpartition(":")
    return (chat, int(mid)) if chat and mid.isdigit() else None


class TelegramTransport:
    """The Transport protocol over the Telegram Bot API (see the module docstring for the limits)."""

    name = "telegram"
    capabilities = Capabilities(end_to_end_encrypted=False, files=False, max_file_size=0, can_delete=True)

    def __init__(
        self,
        config: TelegramConfig,
        *,
        poll_timeout: float = 10,
        backoff_initial: float = 1.0,
        backoff_max: float = 60.0,
        rate_limit_messages: bool = True,
    ) -> None:
        if config.token is None:
            raise TransportError("telegram: no bot token configured")
        self.config = config
        self.poll_timeout = poll_timeout
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self._bot: Bot | None = None
        self._task: asyncio.Task[None] | None = None
        self._on_message: TransportHost | None = None
        self._offset: int | None = None
        self._limiter = RateLimiter(config.rate_limit_per_minute)
        # False when a core is behind the transport (its rate-limit step is the one limit on
        # messages); the transport then limits only what it answers itself (file refusals,
        # secret removals). True for a bare transport.
        self._rate_limit_messages = rate_limit_messages
        # Recently handled message keys: protects the transport's own file refusal from a
        # replayed update (the core has its own, persistent idempotency for everything else).
        self._seen: OrderedDict[str, None] = OrderedDict()

    def __repr__(self) -> str:  # never the Bot (its repr holds the token)
        return f"TelegramTransport(running={self.running})"

    @property
    def configured_rooms(self) -> dict[str, str]:
        """Empty: the configured rooms are Matrix rooms (protected content never goes to Telegram)."""
        return {}

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    # ------------------------------------------------------------------ lifecycle

    async def start(self, on_message: TransportHost) -> None:
        """Check the token with ``getMe``, then start long polling; returns once running.

        A rejected token raises ``TransportError`` (an operator must fix it). An unreachable
        Bot API does not: polling starts anyway and retries, see below.
        """
        if self._task is not None:
            raise TransportError("telegram transport already started")
        assert self.config.token is not None
        token = self.config.token.reveal()
        _install_redaction(token)
        kwargs: dict[str, Any] = {}
        base = self.config.base_url
        if base:  # a local Bot API server or a test fake; files are never fetched, but stay local
            kwargs["base_url"] = base
            kwargs["base_file_url"] = base[: -len("bot")] + "file/bot" if base.endswith("/bot") else base
        failure: str | None = None
        try:
            bot = Bot(token, **kwargs)
        except InvalidToken:  # malformed (e.g. empty) token; the message may quote it
            failure = "telegram: the bot token is malformed"
        if failure is not None:
            raise TransportError(failure)
        ready = False
        try:
            await bot.initialize()  # calls getMe; its InvalidToken message quotes the token
            ready = True
        except InvalidToken:
            failure = "telegram: the bot token was rejected by the Bot API (check [telegram] token)"
        except Exception as exc:  # noqa: BLE001 - only the type: PTB/httpx texts may hold the URL
            # Unreachable is not fatal: Telegram may be down or blocked, and failing here would
            # take the (primary, encrypted) Matrix channel down with it. The loop keeps trying.
            log.warning("telegram: Bot API not reachable at start (%s); will keep retrying", type(exc).__name__)
        if failure is not None:
            await self._shutdown_bot(bot)
            raise TransportError(failure)
        self._bot = bot
        self._on_message = on_message
        self._task = asyncio.create_task(self._poll_loop(ready), name="telegram-poll")
        if ready:
            log.info("telegram: polling for bot id %s", bot.id)

    async def stop(self) -> None:
        """Cancel polling, confirm what was handled, close the HTTP clients."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        bot, self._bot = self._bot, None
        if bot is None:
            return
        if self._offset is not None:
            # Confirm the last handled batch so a restart does not see it again.
            try:
                await bot.get_updates(offset=self._offset, timeout=0, limit=1, read_timeout=5)
            except Exception as exc:  # noqa: BLE001 - stopping anyway; a restart is deduplicated
                log.info("telegram: could not confirm the last updates at stop (%s)", type(exc).__name__)
        await self._shutdown_bot(bot)
        self._on_message = None

    @staticmethod
    async def _shutdown_bot(bot: Bot) -> None:
        try:
            await bot.shutdown()
        except Exception as exc:  # noqa: BLE001 - closing anyway
            log.info("telegram: HTTP client did not close cleanly (%s)", type(exc).__name__)

    # ------------------------------------------------------------------ receiving

    async def _poll_loop(self, ready: bool) -> None:
        """Long-poll forever; any error means a bounded exponential backoff, never an exit."""
        delay = self.backoff_initial
        while True:
            bot = self._bot
            assert bot is not None
            try:
                if not ready:
                    await bot.initialize()
                    ready = True
                    log.info("telegram: polling for bot id %s", bot.id)
                updates = await self._fetch(bot)
            except asyncio.CancelledError:
                raise
            except RetryAfter as exc:
                wait = min(max(_seconds(exc.retry_after), delay), self.backoff_max)
                log.warning("telegram: flood control on polling; retrying in %.1fs", wait)
                await asyncio.sleep(wait)
                continue
            except Exception as exc:  # noqa: BLE001 - the loop must survive everything
                # InvalidToken: revoked while running; Conflict: a webhook is set or another
                # instance polls with the same token. Both need an operator, so ERROR.
                level = logging.ERROR if isinstance(exc, InvalidToken | Conflict) else logging.WARNING
                log.log(level, "telegram: polling failed (%s); retrying in %.1fs", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, self.backoff_max)
                continue
            delay = self.backoff_initial
            for update_id, update in updates:
                if self._offset is not None and update_id < self._offset:
                    log.info("telegram: update %d already confirmed; ignored", update_id)
                    continue
                if update is not None:
                    try:
                        await self._handle(update)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:  # noqa: BLE001 - one bad update must not stop the others
                        log.error("telegram: update %d not handled (%s)", update_id, type(exc).__name__)
                # Confirmed by the next getUpdates call (offset = highest id + 1).
                self._offset = update_id + 1

    async def _fetch(self, bot: Bot) -> list[tuple[int, Update | None]]:
        """One long poll: (update id, update) pairs; ``None`` for an update PTB could not read.

        ``Bot.get_updates`` parses the whole batch at once, so one malformed update (PTB logs
        the raw batch, which our filter empties) fails the call again and again: Telegram keeps
        handing out what is not confirmed. Then the batch is read raw once and each update
        parsed on its own; an unreadable one is logged by id and type only, and confirmed.
        Network and API errors (``TelegramError``, including an invalid JSON answer) go to the
        caller's backoff as before.
        """
        try:
            updates = await bot.get_updates(
                offset=self._offset, timeout=max(1, round(self.poll_timeout)), allowed_updates=["message"]
            )
            return [(u.update_id, u) for u in updates]
        except TelegramError:
            raise
        except Exception as exc:  # noqa: BLE001 - PTB could not parse the batch
            log.warning("telegram: could not read a batch of updates (%s); reading them one by one", type(exc).__name__)
        # do_api_request is PTB's public call for a raw result; it warns that get_updates exists,
        # which is exactly what we cannot use here.
        warnings.filterwarnings(
            "ignore", message=r"Please use 'Bot\.getUpdates'", category=PTBUserWarning, module=__name__
        )
        raw = await bot.do_api_request(
            "getUpdates",
            api_kwargs={"offset": self._offset, "timeout": 0, "allowed_updates": ["message"]},
            read_timeout=10,
        )
        result: list[tuple[int, Update | None]] = []
        for item in raw if isinstance(raw, list) else ():
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int) or isinstance(update_id, bool):
                continue  # cannot be confirmed on its own; a later one with an id confirms it
            try:
                result.append((update_id, Update.de_json(item, bot)))
            except Exception as exc:  # noqa: BLE001 - the content stays out of the log
                log.warning("telegram: update %d could not be read (%s); skipped", update_id, type(exc).__name__)
                result.append((update_id, None))
        if not result and raw:
            raise TransportError("telegram: no readable update id in the batch")
        return result

    async def _handle(self, update: Update) -> None:
        message = update.message
        if message is None or message.from_user is None or message.from_user.is_bot:
            log.debug("telegram: update %d is not a user message; ignored", update.update_id)
            return
        chat_id = str(message.chat.id)
        event_id = f"{chat_id}:{message.message_id}"
        if event_id in self._seen:
            log.info("telegram: message %s delivered again; ignored", event_id)
            return
        self._seen[event_id] = None
        while len(self._seen) > _SEEN_MAX:
            self._seen.popitem(last=False)

        sender = str(message.from_user.id)
        text = message.text or ""
        command = parse_command(text) if text else None
        refused_here = any(getattr(message, kind, None) for kind in FILE_KINDS + PERSONAL_KINDS)
        secret = command is not None and command[0] in SECRET_COMMANDS
        limited = (self._rate_limit_messages or refused_here or secret) and not self._limiter.allow(sender)
        if refused_here:
            # Deleted even when rate limited: the data must not stay in the chat; only the
            # explanation is subject to the limit.
            personal = not any(getattr(message, kind, None) for kind in FILE_KINDS)
            await self._refuse_file(
                message, chat_id, event_id, update.update_id, explain=not limited, personal=personal
            )
            return
        if secret:
            # Deleted first, even when rate limited, and the secret never reaches the core.
            assert command is not None
            text = await self._remove_secret(message, chat_id, event_id, update.update_id, command, explain=not limited)
        if limited and self._rate_limit_messages:
            if self._limiter.first_refusal(sender):
                await self._safe_send(chat_id, RATE_LIMIT_NOTICE, reply_to=event_id)
            log.info("telegram: rate limited a sender in chat %s (update %d)", chat_id, update.update_id)
            return
        if not text:
            log.debug("telegram: update %d has no text; ignored", update.update_id)
            return
        assert self._on_message is not None
        handled = await self._on_message(
            IncomingMessage(
                transport=self.name,
                chat_id=chat_id,
                sender_id=sender,
                event_id=event_id,
                dedupe_id=f"update:{update.update_id}",
                text=text,
                encrypted=False,
                direct=message.chat.type == "private",
                reply_to=(f"{chat_id}:{message.reply_to_message.message_id}" if message.reply_to_message else None),
                timestamp=message.date,
            )
        )
        if handled is not None and inspect.isawaitable(handled):
            # confirm the update only once it is handled (Telegram redelivers unconfirmed ones)
            await handled

    async def _delete_incoming(self, message: Message, chat_id: str) -> bool:
        """Delete a user's message (a file, a secret); False when Telegram refused."""
        try:
            await self.delete_message(chat_id, str(message.message_id))
        except TransportError:
            return False
        return True

    async def _refuse_file(
        self,
        message: Message,
        chat_id: str,
        event_id: str,
        update_id: int,
        *,
        explain: bool = True,
        personal: bool = False,
    ) -> None:
        """Never download; delete the user's message first (shortest exposure), then explain."""
        deleted = await self._delete_incoming(message, chat_id)
        log.warning(
            "telegram: refused a file in chat %s (update %d); user's message %s",
            chat_id,
            update_id,
            "deleted" if deleted else "NOT deleted",
        )
        if not explain:
            return
        base = PERSONAL_REFUSAL if personal else FILE_REFUSAL
        text = base if deleted else base + FILE_NOT_DELETED
        await self._safe_send(chat_id, text, reply_to=None if deleted else event_id)

    async def _remove_secret(
        self,
        message: Message,
        chat_id: str,
        event_id: str,
        update_id: int,
        command: tuple[str, str],
        *,
        explain: bool,
    ) -> str:
        """Delete a message holding a secret; return what the core may see (command + first argument)."""
        deleted = await self._delete_incoming(message, chat_id)
        log.warning(
            "telegram: a message holding a secret in chat %s (update %d) was %s",
            chat_id,
            update_id,
            "deleted" if deleted else "NOT deleted",
        )
        if not deleted and explain:
            await self._safe_send(chat_id, SECRET_NOT_DELETED, reply_to=event_id)
        name, args = command
        first = args.split(maxsplit=1)[0] if args.split() else ""
        return f"/{name} {first}".strip()

    async def _safe_send(self, chat_id: str, text: str, *, reply_to: str | None) -> None:
        try:
            await self.send_text(chat_id, text, reply_to=reply_to)
        except TransportError as exc:
            log.warning("telegram: notice to chat %s not delivered (%s)", chat_id, exc)

    # ------------------------------------------------------------------ sending

    async def _api(self, what: str, call: Callable[[], Awaitable[T]]) -> T:
        """Run one Bot API call; map PTB errors to a TransportError without chaining them.

        The error is raised after the ``except`` block on purpose: a chained PTB/httpx
        exception can reference the request URL, which contains the token. One short
        flood-control wait is honoured; longer ones fail the call.
        """
        failure = ""
        for attempt in range(2):
            wait = 0.0
            try:
                return await call()
            except RetryAfter as exc:
                failure, wait = "RetryAfter", _seconds(exc.retry_after)
            except BadRequest as exc:
                failure = "BadRequest: " + ("not found" if "not found" in exc.message.lower() else "rejected")
            except TelegramError as exc:
                failure = type(exc).__name__
            if not wait or wait > MAX_RETRY_AFTER or attempt:
                break
            await asyncio.sleep(wait)
        raise TransportError(f"telegram {what} failed ({failure})")

    def _require_bot(self) -> Bot:
        if self._bot is None:
            raise TransportError("telegram transport is not running")
        return self._bot

    async def send_text(self, chat_id: str, text: str, *, reply_to: str | None = None) -> str:
        """Send plain text (no parse mode, no link previews), split at Telegram's 4096 limit."""
        bot = self._require_bot()
        if not text.strip():
            raise TransportError("telegram: refusing to send an empty message")
        target = _split_event_id(reply_to) if reply_to else None
        reply = (
            ReplyParameters(message_id=target[1], allow_sending_without_reply=True)
            if target and target[0] == chat_id
            else None
        )
        message_id = ""
        for part in split_text(text):
            sent = await self._api(
                "sendMessage",
                functools.partial(
                    bot.send_message,
                    chat_id=chat_id,
                    text=part,
                    reply_parameters=reply,
                    link_preview_options=LinkPreviewOptions(is_disabled=True),
                ),
            )
            message_id = f"{chat_id}:{sent.message_id}"
            reply = None  # only the first part answers the user's message
        return message_id

    async def send_file(self, chat_id: str, file: OutgoingFile, *, reply_to: str | None = None) -> str:
        raise TransportError("Telegram is not end-to-end encrypted; files are never sent there")

    async def delete_message(self, chat_id: str, message_id: str) -> None:
        """Delete a message; accepts our ``chat:message`` event ids or a bare Telegram message id."""
        bot = self._require_bot()
        parsed = _split_event_id(message_id if ":" in message_id else f"{chat_id}:{message_id}")
        if parsed is None or parsed[0] != chat_id:
            raise TransportError("telegram: not a message id of this chat")
        try:
            await self._api(
                "deleteMessage", functools.partial(bot.delete_message, chat_id=chat_id, message_id=parsed[1])
            )
        except TransportError as exc:
            if "not found" in str(exc):  # already gone: that is what we wanted
                return
            raise

    async def is_encrypted(self, chat_id: str) -> bool:
        return False

    async def direct_chat(self, user_id: str) -> str:
        """In Telegram the private chat with a user has the user's id."""
        return user_id
