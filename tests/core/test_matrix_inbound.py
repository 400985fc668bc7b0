"""The pure Matrix inbound conversion (bot/transports/matrix/inbound.py), without Synapse,
and the admission in front of the core (admission.py: what the transport answers itself
and the rate limit it keeps for that).

Events are hand-made the way nio makes them: parsed from the JSON a homeserver sends
(``Event.parse_event``), or, for the content of an ``m.room.encrypted`` event, parsed with
``Event.parse_decrypted_event`` and marked ``decrypted`` as nio's decryption does.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from nio import Event, RoomMessageText
from nio.crypto.attachments import encrypt_attachment

from bot.transports.matrix.admission import Admission
from bot.transports.matrix.inbound import (
    DevicesCommand,
    attachment_from,
    declared_size,
    devices_command,
    is_file_event,
    new_events,
    reply_target,
    strip_reply_fallback,
    to_incoming,
)
from bot.transports.matrix.notices import PLAIN_EVENT_NOTICE, RATE_LIMIT_NOTICE
from bot.transports.matrix.trust import Verdict

ROOM = "!room:example.org"
BOT = "@bot:example.org"
PARTNER = "@partner:example.org"
TS = 1_700_000_000_000


def _source(
    content: dict[str, Any],
    *,
    event_type: str = "m.room.message",
    event_id: str = "$e1",
    sender: str = PARTNER,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "type": event_type,
        "event_id": event_id,
        "sender": sender,
        "origin_server_ts": TS,
        "content": content,
        **extra,
    }


def plain(content: dict[str, Any], **kw: Any) -> Any:
    """An event as it arrives unencrypted."""
    return Event.parse_event(_source(content, **kw))


def decrypted(content: dict[str, Any], **kw: Any) -> Any:
    """An event as nio hands it over after decrypting an ``m.room.encrypted`` event."""
    event = Event.parse_decrypted_event(_source(content, **kw))
    event.decrypted = True
    return event


def convert(event: Any, *, encrypted_room: bool = True, direct: bool = False) -> Any:
    return to_incoming(event, room_id=ROOM, room_encrypted=encrypted_room, direct=direct)


# --------------------------------------------------------------------------- text


def test_text_message_becomes_an_incoming_message() -> None:
    msg = convert(decrypted({"msgtype": "m.text", "body": "!help"}), direct=True)
    assert msg is not None
    assert (msg.transport, msg.chat_id, msg.sender_id, msg.event_id) == ("matrix", ROOM, PARTNER, "$e1")
    assert msg.text == "!help" and msg.attachments == () and msg.reply_to is None
    assert msg.encrypted and msg.direct
    assert msg.timestamp == datetime.fromtimestamp(TS / 1000, tz=UTC)


def test_only_m_text_is_text() -> None:
    # notices are what bots send (the bot's own replies are m.notice): never acted on; nor emotes
    for msgtype in ("m.notice", "m.emote"):
        assert convert(decrypted({"msgtype": msgtype, "body": "hello"})) is None


def test_the_transport_name_can_be_given() -> None:
    event = decrypted({"msgtype": "m.text", "body": "x"})
    msg = to_incoming(event, room_id=ROOM, room_encrypted=True, direct=False, transport="matrix-test")
    assert msg is not None and msg.transport == "matrix-test"


# --------------------------------------------------------------------- encryption


def test_encrypted_only_when_decrypted_in_an_encrypted_room() -> None:
    content = {"msgtype": "m.text", "body": "hi"}
    assert convert(decrypted(content), encrypted_room=True).encrypted
    # a plain event in an encrypted room: the transport refuses it (see admission.py)
    assert not convert(plain(content), encrypted_room=True).encrypted
    # decrypted, but the room (as the client knows it) is not encrypted
    assert not convert(decrypted(content), encrypted_room=False).encrypted
    assert not convert(plain(content), encrypted_room=False).encrypted


# -------------------------------------------------------------------------- replies


def test_reply_fallback_is_stripped_and_the_target_kept() -> None:
    body = "> <@bot:example.org> Your ticket T-0001 is open.\n> Reply to this message.\n\nthanks, done"
    content = {"msgtype": "m.text", "body": body, "m.relates_to": {"m.in_reply_to": {"event_id": "$notice"}}}
    msg = convert(decrypted(content))
    assert msg.text == "thanks, done"
    assert msg.reply_to == "$notice"


def test_quote_without_reply_relation_is_kept_as_written() -> None:
    body = "> quoted line\n\nmy answer"
    msg = convert(decrypted({"msgtype": "m.text", "body": body}))
    assert msg.text == body and msg.reply_to is None


def test_only_the_leading_fallback_block_is_removed() -> None:
    assert strip_reply_fallback("> a\n> b\n\nkeep\n> not a fallback\n\nend") == "keep\n> not a fallback\n\nend"
    assert strip_reply_fallback("no fallback") == "no fallback"
    assert strip_reply_fallback("> unterminated quote") == "> unterminated quote"


def test_reply_target_ignores_other_relations() -> None:
    thread = plain({"msgtype": "m.text", "body": "x", "m.relates_to": {"rel_type": "m.thread", "event_id": "$root"}})
    assert reply_target(thread) is None
    assert convert(thread).reply_to is None


# ---------------------------------------------------------------------------- media


def _encrypted_file(data: bytes, **content: Any) -> tuple[Any, bytes]:
    ciphertext, keys = encrypt_attachment(data)
    body = {
        "msgtype": "m.file",
        "body": "list.csv",
        "filename": "list.csv",
        "info": {"mimetype": "text/csv", "size": len(data)},
        "file": dict(keys, url="mxc://hs/abc"),
        **content,
    }
    return decrypted(body), ciphertext


def test_encrypted_file_is_a_file_message_without_bytes_yet() -> None:
    event, _ciphertext = _encrypted_file(b"a,b\n1,2\n")
    assert is_file_event(event)
    msg = convert(event, direct=True)
    assert msg.text == "" and msg.attachments == () and msg.encrypted and msg.direct
    assert declared_size(event) == 8


def test_encrypted_file_is_decrypted_and_checked() -> None:
    data = b"a,b\n1,2\n"
    event, ciphertext = _encrypted_file(data)
    att = attachment_from(event, ciphertext)
    assert (att.filename, att.mimetype, att.data) == ("list.csv", "text/csv", data)
    assert att.sha256 == hashlib.sha256(data).hexdigest()
    tampered = bytes([ciphertext[0] ^ 1]) + ciphertext[1:]
    with pytest.raises(Exception, match="SHA-256"):
        attachment_from(event, tampered)


def test_plain_media_uses_the_declared_type_and_falls_back() -> None:
    image = plain(
        {
            "msgtype": "m.image",
            "body": "photo.jpg",
            "url": "mxc://hs/img",
            "info": {"mimetype": "image/jpeg", "size": 12},
        }
    )
    assert is_file_event(image) and declared_size(image) == 12
    msg = convert(image, encrypted_room=False)
    assert msg.text == "" and not msg.encrypted
    att = attachment_from(image, b"\xff\xd8jpegbytes")
    assert (att.filename, att.mimetype, att.data) == ("photo.jpg", "image/jpeg", b"\xff\xd8jpegbytes")
    bare = plain({"msgtype": "m.file", "body": "", "url": "mxc://hs/f"})
    assert declared_size(bare) is None
    assert (attachment_from(bare, b"x").filename, attachment_from(bare, b"x").mimetype) == (
        "file",
        "application/octet-stream",
    )


def test_declared_size_must_be_an_integer() -> None:
    odd = plain({"msgtype": "m.file", "body": "f", "url": "mxc://hs/f", "info": {"size": "12"}})
    assert declared_size(odd) is None


# ---------------------------------------------------------------------- other types


def test_unknown_and_non_message_events_are_not_converted() -> None:
    undecryptable = plain(
        {
            "algorithm": "m.megolm.v1.aes-sha2",
            "ciphertext": "AAA",
            "sender_key": "k",
            "session_id": "s",
            "device_id": "D",
        },
        event_type="m.room.encrypted",
    )
    location = plain({"msgtype": "m.location", "body": "here", "geo_uri": "geo:1,2"})
    custom = plain({"anything": 1}, event_type="org.example.custom")
    member = plain({"membership": "join"}, event_type="m.room.member", state_key=PARTNER)
    for event in (undecryptable, location, custom, member):
        assert not is_file_event(event)
        assert convert(event) is None, type(event).__name__


# ------------------------------------------------------------------------ history


def _member(user: str, membership: str, prev: str | None, event_id: str) -> Any:
    unsigned = {"prev_content": {"membership": prev}} if prev else {}
    return plain(
        {"membership": membership},
        event_type="m.room.member",
        state_key=user,
        event_id=event_id,
        sender=user,
        unsigned=unsigned,
    )


def test_history_from_before_the_bot_joined_is_dropped() -> None:
    before = plain({"msgtype": "m.text", "body": "old"}, event_id="$old")
    joined = _member(BOT, "join", "invite", "$join")
    after = plain({"msgtype": "m.text", "body": "new"}, event_id="$new")
    assert [e.event_id for e in new_events([before, joined, after], BOT)] == ["$new"]
    # a profile change (join -> join) or someone else joining does not cut the timeline
    rename = _member(BOT, "join", "join", "$rename")
    other = _member(PARTNER, "join", "invite", "$other")
    events = [before, rename, other, after]
    assert new_events(events, BOT) == events
    assert isinstance(new_events(events, BOT)[0], RoomMessageText)


# ----------------------------------------------------------------------- !devices


def test_devices_command_parsing() -> None:
    assert devices_command("!help") is None
    assert devices_command("please !devices") is None
    assert devices_command("!devices") == DevicesCommand()
    assert devices_command("  !DEVICES  ") == DevicesCommand()
    assert devices_command("!devices confirm") == DevicesCommand(confirm=True)
    assert devices_command("!devices Confirm ABCDEF") == DevicesCommand(confirm=True, device_id="ABCDEF")
    # transaction ids are case-sensitive: kept as written
    assert devices_command("!devices SAS TxN123 Match") == DevicesCommand(sas_args=("TxN123", "Match"))
    assert devices_command("!devices sas") == DevicesCommand(sas_args=())


# ------------------------------------------- admission: what the transport answers itself


class _Host:
    """The transport as admission.py sees it: rooms and a notice sender."""

    def __init__(self, encrypted: bool = True) -> None:
        self.client = SimpleNamespace(rooms={ROOM: SimpleNamespace(encrypted=encrypted)})
        self.notices: list[str] = []

    async def notice(self, chat_id: str, text: str, *, reply_to: str | None = None) -> None:
        self.notices.append(text)


class _Devices:
    def __init__(self) -> None:
        self.commands: list[DevicesCommand] = []

    def sender_verdict(self, event: Any) -> Verdict:
        return Verdict.TRUSTED

    def from_trusted_device(self, event: Any) -> bool:
        return True

    async def command(self, msg: Any, event: Any, command: DevicesCommand) -> None:
        self.commands.append(command)


def _admission(*, rate_limit_messages: bool, per_minute: int = 2) -> tuple[Admission, _Host, _Devices]:
    host, devices = _Host(), _Devices()
    config = SimpleNamespace(device_trust="tofu", rate_limit_per_minute=per_minute)

    async def audit(*_: Any) -> None:
        return None

    admission = Admission(
        host,
        config,
        devices=devices,
        sas=SimpleNamespace(),
        audit=audit,  # type: ignore[arg-type]
        clock=lambda: 0.0,
        rate_limit_messages=rate_limit_messages,
    )
    return admission, host, devices


async def _admit_all(admission: Admission, texts: list[str]) -> list[bool]:
    out = []
    for i, text in enumerate(texts):
        event = decrypted({"msgtype": "m.text", "body": text}, event_id=f"$e{i}")
        out.append(await admission.admit(convert(event), event))
    return out


async def test_with_a_core_that_limits_ordinary_messages_pass_and_only_own_answers_are_limited() -> None:
    admission, host, devices = _admission(rate_limit_messages=False)
    assert await _admit_all(admission, ["a", "b", "c", "d"]) == [True] * 4  # the core limits these
    assert await _admit_all(admission, ["!devices"] * 4) == [False] * 4  # answered here, never passed on
    assert len(devices.commands) == 2  # the other two were over the limit ...
    assert host.notices == [RATE_LIMIT_NOTICE]  # ... with one notice


async def test_a_bare_transport_limits_every_message() -> None:
    admission, host, devices = _admission(rate_limit_messages=True)
    assert await _admit_all(admission, ["a", "b", "!devices", "c"]) == [True, True, False, False]
    assert devices.commands == [] and host.notices == [RATE_LIMIT_NOTICE]


async def test_a_plain_event_in_an_encrypted_room_is_answered_not_passed_on() -> None:
    admission, host, _devices = _admission(rate_limit_messages=False)
    event = plain({"msgtype": "m.text", "body": "!help"})
    assert not await admission.admit(convert(event), event)
    assert host.notices == [PLAIN_EVENT_NOTICE]
