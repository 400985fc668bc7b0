"""Public ids people type and read (S-0042 submission, Q-0017 ticket, P-0003 product,
I-0005 incident, J-0002 join request): one formatter and one parser, instead of `S-{id:04d}`
written out in every workflow."""

from __future__ import annotations

SUBMISSION, TICKET, PRODUCT, INCIDENT, JOIN = "S", "Q", "P", "I", "J"
_MAX = 10**9


def public_id(prefix: str, number: int) -> str:
    return f"{prefix}-{number:04d}"


def parse_public_id(prefix: str, text: str) -> int | None:
    """'S-0042', 's-42' or '42' -> 42 for prefix 'S'; None for anything else."""
    t = text.strip().upper().removeprefix(prefix + "-")
    return int(t) if t.isdigit() and 0 < int(t) < _MAX else None


def sub_id(n: int) -> str:
    return public_id(SUBMISSION, n)


def ticket_id(n: int) -> str:
    return public_id(TICKET, n)


def product_id(n: int) -> str:
    return public_id(PRODUCT, n)


def incident_id(n: int) -> str:
    return public_id(INCIDENT, n)


def join_id(n: int) -> str:
    return public_id(JOIN, n)
