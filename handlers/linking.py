"""!link: a user links their Telegram account themselves, with a one-time code.

1. In their private, end-to-end encrypted chat with the bot (Matrix) the user sends
   ``!link telegram`` and gets a code (8 characters, valid 10 minutes, works once).
2. On Telegram they send ``/link CODE`` to the bot. The bot links that Telegram id to the
   user who asked for the code, audits it, and tells both sides.

Holding the code proves control of the encrypted Matrix account; sending it from Telegram
proves control of that Telegram account. Numeric ids typed by someone else prove nothing.
Wrong, expired and used codes get one answer (no oracle) and a Telegram account has 5 tries
an hour. A Telegram account that is already linked is refused in one line.

The command is public (Telegram senders are unknown to the directory until they are linked)
and is *not* marked sensitive for the router: the router would refuse ``/link CODE`` from an
already-linked Telegram account as "not encrypted" before this handler could answer it.
Handing out a code is gated here instead, exactly as the router gates sensitive commands
(audited denial + the same refusal), and additionally only in the private chat.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.notices import unknown_sender
from bot.router import UNENCRYPTED_REFUSAL
from handlers.common import first_word
from storage.directory import LINK_CODE_TTL, LinkError, format_link_code

if TYPE_CHECKING:
    from bot.app import Application
    from bot.router import Context

ACTION = "account.link"
TELEGRAM = "telegram"

USAGE = (
    "To link your Telegram account: send !link telegram here, in our private encrypted chat; "
    "I answer with a one-time code that you then send to me on Telegram as /link CODE."
)
ONLY_PRIVATE = (
    "I give link codes only in our private encrypted chat: nobody else may see them. Send !link telegram there."
)
TELEGRAM_USAGE = (
    "Send /link followed by the code I gave you in our encrypted Matrix chat (ask there with !link telegram)."
)
INVALID = (
    "That code does not work: it is wrong, expired or already used. "
    "Ask for a new one with !link telegram in our encrypted Matrix chat."
)
TOO_MANY = "Too many link attempts from this Telegram account. Please wait an hour, then try again with a new code."
ALREADY_LINKED = (
    "This Telegram account is already linked to a cluster account; nothing changed. Ask your IMO if that is wrong."
)
LINKED_HERE = (
    "Linked: this Telegram account now belongs to your cluster account. I only send short, "
    "non-sensitive notices here; everything else stays in the encrypted Matrix chat."
)
LINKED_THERE = (
    "Your Telegram account was linked to your cluster account just now. I will only send short, "
    "non-sensitive notices there. If this was not you, tell your IMO at once."
)
REPLACED = " It replaces the Telegram account that was linked before."


def code_message(code: str) -> str:
    minutes = int(LINK_CODE_TTL.total_seconds() // 60)
    return (
        f"Your one-time link code: {format_link_code(code)}\n"
        f"Within {minutes} minutes, send /link {format_link_code(code)} to me on Telegram. It works once; "
        "do not share it. A new code replaces this one."
    )


async def issue(app: Application, ctx: Context, word: str) -> None:
    """``!link telegram`` in the encrypted private chat: a one-time code."""
    directory = app.directory
    user = await directory.lookup(ctx.msg.transport, ctx.msg.sender_id)
    if user is None:  # reached as a public command: answer as the router does for strangers
        await app.storage.audit(await app.unknown_actor(ctx.msg.sender_id), "unknown", "access", None, "denied")
        await ctx.reply(unknown_sender(ctx.msg.encrypted))
        return
    if word.lower() != TELEGRAM:
        await ctx.reply(USAGE)
        return
    if not await ctx.is_encrypted():
        await app.storage.audit(user.audit_id, user.role, ACTION, None, "denied")
        await ctx.reply(UNENCRYPTED_REFUSAL)
        return
    if not ctx.msg.direct:
        await app.storage.audit(user.audit_id, user.role, ACTION, None, "denied")
        await ctx.reply(ONLY_PRIVATE)
        return
    code = await directory.issue_link_code(user.id, app.clock.now())
    await app.storage.audit(user.audit_id, user.role, "account.link_code", None, "done")
    await ctx.reply(code_message(code))


async def redeem(app: Application, ctx: Context, word: str) -> None:
    """``/link CODE`` on Telegram: the sender's Telegram account joins their cluster account."""
    directory = app.directory
    sender = ctx.msg.sender_id
    known = await directory.lookup(TELEGRAM, sender)
    if known is not None:
        await app.storage.audit(known.audit_id, known.role, ACTION, None, "denied")
        await ctx.reply(ALREADY_LINKED)
        return
    if not word or word.lower() == TELEGRAM:  # asked for a code here: codes come only from Matrix
        await ctx.reply(TELEGRAM_USAGE)
        return
    actor = await app.unknown_actor(sender)
    now = app.clock.now()
    if not await directory.link_attempt_allowed(sender, now):
        await app.storage.audit(actor, "unknown", ACTION, None, "denied")
        await ctx.reply(TOO_MANY)
        return
    try:
        user, previous = await directory.redeem_link_code(word, sender, now)
    except LinkError as exc:
        await app.storage.audit(actor, "unknown", ACTION, None, "failed")
        await ctx.reply(ALREADY_LINKED if exc.reason == "already_linked" else INVALID)
        return
    await app.storage.audit(user.audit_id, user.role, ACTION, "telegram", "done")
    await ctx.reply(LINKED_HERE)
    replaced = previous is not None and previous != sender
    await app.send_to_user(user, LINKED_THERE + (REPLACED if replaced else ""), sensitive=True)


def register(app: Application) -> None:
    @app.router.command(
        "link",
        ACTION,
        "get a one-time code to link your Telegram account (private encrypted chat only)",
        usage="telegram",
    )
    async def cmd_link(ctx: Context, args: str) -> None:
        word, _ = first_word(args)
        # the account to link is the one on the transport without end-to-end encryption (Telegram)
        if not app.transport(ctx.msg.transport).capabilities.end_to_end_encrypted:
            await redeem(app, ctx, word)
        else:
            await issue(app, ctx, word)

    app.router.public_commands.add("link")

    async def forget_codes(_app: Application) -> None:
        await app.directory.forget_link_codes(app.clock.now())

    app.services.sweeps["linking.expire"] = forget_codes
