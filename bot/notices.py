"""Answers the core gives in its own name (not a workflow's), kept in one place so the
handlers and tests that repeat them cannot drift."""

UNKNOWN_SENDER = "Sorry, I don't know you yet. Ask your cluster's Information Management Officer to add you."
#: in an end-to-end-encrypted chat a stranger may also ask to join (handlers/directory_chat.py)
UNKNOWN_SENDER_MAY_JOIN = (
    UNKNOWN_SENDER[:-1] + ", or send !join followed by your organisation's name "
    "(e.g. !join Relief Org) to ask to join as a partner."
)


def unknown_sender(encrypted: bool) -> str:
    return UNKNOWN_SENDER_MAY_JOIN if encrypted else UNKNOWN_SENDER
