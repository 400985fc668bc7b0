"""Who may do what: one role x action table, deny by default.

This table is the only place that grants permissions. Handlers add *ownership*
checks on top (a partner sees only their own organisation's submissions), but they
never grant anything the table does not. Every denial is audited by the router.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    PARTNER = "partner"
    IMO = "imo"
    COORDINATOR = "coordinator"
    ADMIN = "admin"


P, I, C, A = Role.PARTNER, Role.IMO, Role.COORDINATOR, Role.ADMIN  # noqa: E741 - a table of roles reads best in one letter each
EVERYONE = frozenset(Role)

# action -> roles allowed. Content of submissions is deliberately NOT granted to
# admins: running the bot is not a reason to read partners' data.
POLICY: dict[str, frozenset[Role]] = {
    "help": EVERYONE,
    "devices": EVERYONE,
    # submissions
    "submission.submit": frozenset({P}),
    "submission.label": frozenset({P}),
    "submission.pseudonymize": frozenset({P}),
    "submission.accept": frozenset({P}),
    "submission.withdraw": frozenset({P}),
    "submission.get": frozenset({P, I}),
    "submission.list": frozenset({P, I}),
    "submission.correct": frozenset({P}),
    "submission.delete": frozenset({P}),
    "submission.password": frozenset({P}),
    # consent and rights
    "consent.record": frozenset({P}),
    "consent.list": frozenset({P}),
    "rights.mydata": frozenset({P}),
    "rights.products": frozenset({P}),
    # guidance
    "guidance.ask": frozenset({P}),
    "guidance.reply": frozenset({P, I}),
    "guidance.tickets": frozenset({P, I}),
    "guidance.close": frozenset({P, I}),
    "guidance.note": frozenset({I}),
    # products
    "product.broadcast": frozenset({C}),
    "product.confirm": frozenset({C}),
    "product.audience": frozenset({C}),
    # incidents
    "incident.report": EVERYONE,
    "incident.status": EVERYONE,
    "incident.list": frozenset({C}),
    "incident.manage": frozenset({C}),
    # linking one's own Telegram account (a code from the encrypted chat; handlers/linking.py)
    "account.link": EVERYONE,
    # administration (chat side; the CLI is for operators on the host)
    "admin.users": frozenset({A}),
    # directory management from chat (handlers/directory_chat.py): admins in the admin room,
    # IMOs in the IMO room and for partners only (the handler narrows rooms and roles)
    "directory.org": frozenset({I, A}),
    "directory.user": frozenset({I, A}),
    "directory.users": frozenset({I, A}),
    "directory.approve": frozenset({I, A}),
    # !join is for people NOT in the directory (a public command, rate-limited in the handler);
    # no role in the directory may use it
    "directory.join": frozenset(),
}


def allowed(role: Role | str | None, action: str) -> bool:
    """Deny by default: unknown roles and unknown actions are refused."""
    if role is None:
        return False
    try:
        r = Role(role)
    except ValueError:
        return False
    return r in POLICY.get(action, frozenset())


def actions_for(role: Role | str) -> list[str]:
    return sorted(a for a in POLICY if allowed(role, a))
