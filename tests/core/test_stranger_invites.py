"""Direct-chat invitations from people outside the directory (so they can `!join`): only
direct chats, one per inviter and STRANGER_INVITES_PER_HOUR overall an hour."""

from __future__ import annotations

from types import SimpleNamespace

from bot.transports.matrix.transport import STRANGER_INVITES_PER_HOUR, MatrixTransport


def _may(host: SimpleNamespace, who: str, direct: bool = True) -> bool:
    invite = SimpleNamespace(content={"membership": "invite", "is_direct": direct})
    return MatrixTransport._stranger_may_invite(host, who, invite)  # type: ignore[arg-type]


def test_only_direct_chats_one_per_inviter_and_a_ceiling_an_hour() -> None:
    host = SimpleNamespace(_stranger_invites=[])
    assert not _may(host, "@a:x", direct=False)  # a group room: never
    assert _may(host, "@a:x")
    assert not _may(host, "@a:x")  # the same person again within the hour
    for i in range(STRANGER_INVITES_PER_HOUR - 1):
        assert _may(host, f"@p{i}:x")
    assert not _may(host, "@late:x")  # the hour's ceiling
    host._stranger_invites = [(t - 3601, who) for t, who in host._stranger_invites]
    assert _may(host, "@late:x")  # an hour later
