"""What the bot tells a Matrix user when it will not act on, or send to, one of their sessions.

Kept in one place so the wording stays consistent and says what to do *in the user's own
client* (Element's words: session, verify, recovery key), never blaming the wrong side.
"""

from __future__ import annotations

UNDECRYPTABLE_NOTICE = (
    "I could not read your encrypted message: your app did not share its key with me. Please send it "
    "again. If this keeps happening, your app may be set to send only to verified users: open our "
    "chat, tap my name and choose Verify, and compare my fingerprint with the one your cluster "
    "published. An administrator can help."
)
RATE_LIMIT_NOTICE = (
    "You are sending messages faster than I can handle them. Please wait a minute; "
    "I will answer new messages again after that."
)
PLAIN_EVENT_NOTICE = (
    "A message in this encrypted chat arrived unencrypted, so I did not act on it. Messages I act on "
    "must be end-to-end encrypted. If you did not send it, change your password and tell an administrator."
)
UNCONFIRMED_DEVICE_NOTICE = (
    "This message came from a new device on your account that is not confirmed yet, so I did not "
    "act on it. If the device is yours, send `!devices confirm` from one of your existing devices."
)
UNVERIFIED_DEVICE_NOTICE = (
    "This message came from a device I have not verified, so I did not act on it. Verify this device "
    "with me by emoji (an admin compares the emoji with you), or ask an administrator to trust it."
)
UNVERIFIED_IDENTITY_NOTICE = (
    "I do not act on your messages until your identity is verified: in Element open our chat, tap my "
    "name and choose Verify (an administrator compares the emoji with you), or ask an administrator."
)


def unsigned_device_notice(display_name: str, device_id: str) -> str:
    """A session its owner has not verified ("insecure device" in Element)."""
    which = f"{display_name or 'unnamed'} (ID {device_id})" if device_id else "this session"
    return (
        f"Your session {which} is not verified by you, so I do not act on messages from it and I do not "
        "send it encrypted messages. In Element, on that session: Settings > Sessions > Verify this "
        "session (with another signed-in session or your recovery key). If the session is not yours, "
        "sign it out and change your password."
    )


def identity_changed_notice(tofu: bool) -> str:
    how = (
        "If you reset your identity yourself, send `!devices confirm` from a session verified with the new identity."
        if tofu
        else "An administrator must confirm the new identity."
    )
    return (
        "Your Matrix account's cryptographic identity changed. Until it is confirmed I do not act on "
        f"your messages or send you anything. {how} If you did not reset it, change your password now "
        "and tell an administrator."
    )


def refusal_for(verdict_value: str, tofu: bool) -> str:
    """The notice for an incoming event whose sender session is not trusted (by verdict value)."""
    return {
        "unsigned": unsigned_device_notice("", ""),
        "identity changed": identity_changed_notice(tofu),
        "identity not verified": UNVERIFIED_IDENTITY_NOTICE,
        "waiting for confirmation": UNCONFIRMED_DEVICE_NOTICE,
    }.get(verdict_value, UNCONFIRMED_DEVICE_NOTICE if tofu else UNVERIFIED_DEVICE_NOTICE)


def format_emoji(emoji: list[tuple[str, str]]) -> str:
    """The emoji line of an emoji verification posted to the admin room (the tests compare it)."""
    return "  ".join(f"{symbol} {name}" for symbol, name in emoji)
