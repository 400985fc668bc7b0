"""The Telegram fallback end to end: real python-telegram-bot + httpx against a fake Bot API
server on 127.0.0.1, with the real Application (router, directory, policy, storage).

What these tests pin down is the *restriction*: commands work, anything involving
protected data is refused with an explanation, files are never downloaded and are
deleted, sensitive text is never sent, and the token never shows up in errors or logs.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest

from bot.app import Application
from bot.config import Secret, TelegramConfig, parse_config
from bot.events import IncomingMessage, OutgoingFile
from bot.router import UNENCRYPTED_REFUSAL
from bot.transport import Transport, TransportError
from bot.transports.telegram import (
    FILE_NOT_DELETED,
    FILE_REFUSAL,
    RATE_LIMIT_NOTICE,
    TelegramTransport,
    split_text,
)
from handlers import WORKFLOWS
from storage import migrate
from storage.crypto import KeyRing
from tests.e2e.fake_telegram import FakeTelegram

pytestmark = pytest.mark.e2e

TOKEN = "123:ABC-secret-token"
PARTNER = 12345
STRANGER = 99999


def tg_config(fake: FakeTelegram, token: str = TOKEN) -> TelegramConfig:
    return TelegramConfig(enabled=True, token=Secret(token), base_url=fake.base_url, rate_limit_per_minute=1000)


def fast_transport(fake: FakeTelegram, token: str = TOKEN) -> TelegramTransport:
    return TelegramTransport(tg_config(fake, token), poll_timeout=1, backoff_initial=0.05, backoff_max=0.2)


@dataclass
class TgBot:
    app: Application
    transport: TelegramTransport
    fake: FakeTelegram

    async def say(self, user_id: int, text: str, **kw: Any) -> list[str]:
        """Send ``text`` as ``user_id`` and return what the bot answered (once it is done)."""
        before = len(self.fake.sent)
        update = await self.fake.push_text(user_id, text, **kw)
        await self.fake.wait_handled(update)
        return [m.text for m in self.fake.sent[before:]]


@pytest.fixture
async def fake() -> AsyncIterator[FakeTelegram]:
    server = await FakeTelegram(token=TOKEN).start()
    yield server
    await server.close()


@pytest.fixture
async def tg(tmp_path: Path, sqlite_url: str, fake: FakeTelegram) -> AsyncIterator[TgBot]:
    await migrate.upgrade(sqlite_url)
    key_file = tmp_path / "master.key"
    KeyRing.generate().save(key_file)
    config = parse_config(
        {
            "matrix": {"enabled": False},
            "storage": {
                "database_url": sqlite_url,
                "blob_dir": str(tmp_path / "blobs"),
                "master_key_file": str(key_file),
            },
            "screening": {"workers": 1},
            "bot": {"rate_limit_per_minute": 1000},
        },
        tmp_path,
    )
    transport = fast_transport(fake)
    executor = ThreadPoolExecutor(max_workers=1)
    app = await Application.create(config, transports=[transport], executor=executor, workflows=WORKFLOWS)
    await app.directory.add_org("Relief Org", "protection")
    await app.directory.add_user(str(PARTNER), role="partner", org="Relief Org", transport="telegram")
    await app.start(scheduler=False)
    try:
        yield TgBot(app, transport, fake)
    finally:
        await app.stop()
        executor.shutdown(wait=False)


# --------------------------------------------------------------------------- the bare transport


async def test_incoming_message_shape_and_rate_limit(fake: FakeTelegram) -> None:
    received: list[IncomingMessage] = []

    async def on_message(msg: IncomingMessage) -> None:
        received.append(msg)

    t = TelegramTransport(replace(tg_config(fake), rate_limit_per_minute=2), poll_timeout=1)
    await t.start(on_message)
    try:
        first = await fake.push_text(PARTNER, "hello")
        await fake.push_text(PARTNER, "!help", chat_id=-100777, chat_type="group")
        for _ in range(3):
            await fake.push_text(PARTNER, "more")
        doc = await fake.push_document(PARTNER)  # over the limit: deleted all the same, not explained
        last = await fake.push_text(PARTNER, "more")
        await fake.wait_handled(last)
    finally:
        await t.stop()
    msg = received[0]
    mid = first["message"]["message_id"]
    assert (msg.transport, msg.chat_id, msg.sender_id, msg.event_id) == (
        "telegram",
        str(PARTNER),
        str(PARTNER),
        f"{PARTNER}:{mid}",
    )
    assert msg.text == "hello" and not msg.encrypted and msg.direct and msg.attachments == ()
    assert received[1].chat_id == "-100777" and not received[1].direct
    assert len(received) == 2
    assert fake.texts() == [RATE_LIMIT_NOTICE]  # one notice per window, not one per message
    assert fake.deleted == [(str(PARTNER), doc["message"]["message_id"])]
    assert fake.confirmed_below > last["update_id"]  # stop() confirmed the last batch


async def test_with_a_core_behind_messages_are_limited_once_by_the_core(fake: FakeTelegram) -> None:
    """rate_limit_messages=False (what `clusterbot run` builds): every message reaches the core,
    whose rate-limit step is the one limit; the transport still limits its own refusals."""
    received: list[IncomingMessage] = []

    async def on_message(msg: IncomingMessage) -> None:
        received.append(msg)

    t = TelegramTransport(replace(tg_config(fake), rate_limit_per_minute=2), poll_timeout=1, rate_limit_messages=False)
    await t.start(on_message)
    try:
        for _ in range(4):
            await fake.push_text(PARTNER, "more")
        for _ in range(3):
            await fake.push_document(PARTNER)  # refused here: explained twice, then only deleted
        last = await fake.push_text(PARTNER, "more")
        await fake.wait_handled(last)
    finally:
        await t.stop()
    assert len(received) == 5 and RATE_LIMIT_NOTICE not in fake.texts()
    assert len(fake.deleted) == 3 and len(fake.texts()) == 2


# --------------------------------------------------------------------------- commands


async def test_transport_satisfies_protocol(fake: FakeTelegram) -> None:
    t = fast_transport(fake)
    assert isinstance(t, Transport)
    assert t.name == "telegram"
    assert not t.capabilities.end_to_end_encrypted and not t.capabilities.files
    assert TOKEN not in repr(t)


@pytest.mark.parametrize("command", ["/help", "!help", "/help@cluster_test_bot"])
async def test_help_for_registered_user(tg: TgBot, command: str) -> None:
    [answer] = await tg.say(PARTNER, command)
    assert answer.startswith("You are registered as partner for Relief Org.")
    assert "!mydata" in answer and "(encrypted chat only)" in answer
    sent = tg.fake.sent[-1]
    assert sent.chat_id == str(PARTNER) and sent.reply_to is not None  # answers the user's message


async def test_unknown_user_gets_short_refusal(tg: TgBot) -> None:
    assert await tg.say(STRANGER, "/help") == [
        "Sorry, I don't know you yet. Ask your cluster's Information Management Officer to add you."
    ]


@pytest.mark.parametrize("command", ["!mydata", "/submissions", "!consents"])
async def test_sensitive_command_refused(tg: TgBot, command: str) -> None:
    assert await tg.say(PARTNER, command) == [UNENCRYPTED_REFUSAL]
    assert "not end-to-end encrypted" in UNENCRYPTED_REFUSAL


async def test_group_message_is_not_direct_and_still_restricted(tg: TgBot) -> None:
    [answer] = await tg.say(PARTNER, "!mydata", chat_id=-100555, chat_type="supergroup")
    assert answer == UNENCRYPTED_REFUSAL
    assert tg.fake.sent[-1].chat_id == "-100555"


# --------------------------------------------------------------------------- files


async def test_document_refused_deleted_never_downloaded(tg: TgBot) -> None:
    update = await tg.fake.push_document(PARTNER, caption="!submissions")
    await tg.fake.wait_handled(update)
    assert tg.fake.texts(PARTNER) == [FILE_REFUSAL]
    assert tg.fake.deleted == [(str(PARTNER), update["message"]["message_id"])]
    assert "getFile" not in tg.fake.calls
    # the core never saw it: nothing was audited for this user
    assert not [e for e in await tg.app.storage.audit_entries() if e.action.startswith("submission")]


async def test_location_and_contact_cards_are_removed(tg: TgBot) -> None:
    from bot.transports.telegram import PERSONAL_REFUSAL

    loc = await tg.fake.push_message(PARTNER, {"location": {"latitude": 20.14, "longitude": 92.89}})
    await tg.fake.wait_handled(loc)
    card = await tg.fake.push_message(PARTNER, {"contact": {"phone_number": "+959791234567", "first_name": "Hla"}})
    await tg.fake.wait_handled(card)
    assert tg.fake.texts(PARTNER) == [PERSONAL_REFUSAL, PERSONAL_REFUSAL]
    assert (str(PARTNER), loc["message"]["message_id"]) in tg.fake.deleted
    assert (str(PARTNER), card["message"]["message_id"]) in tg.fake.deleted


async def test_photo_refused_and_explains_when_it_cannot_delete(tg: TgBot) -> None:
    tg.fake.deny_delete = True  # e.g. a group where the bot is not an admin
    update = await tg.fake.push_photo(PARTNER, caption="list of names")
    await tg.fake.wait_handled(update)
    assert tg.fake.texts(PARTNER) == [FILE_REFUSAL + FILE_NOT_DELETED]
    assert tg.fake.deleted == []
    assert "getFile" not in tg.fake.calls


async def test_send_file_always_raises(tg: TgBot) -> None:
    tg.fake.open_chat(PARTNER)
    file = OutgoingFile("report.csv", "text/csv", b"a,b\n")
    with pytest.raises(TransportError, match="not end-to-end encrypted"):
        await tg.transport.send_file(str(PARTNER), file)
    with pytest.raises(TransportError):
        await tg.app.send_file("telegram", str(PARTNER), file)
    assert tg.fake.sent == []


# --------------------------------------------------------------------------- outgoing rules


async def test_sensitive_text_never_goes_to_telegram(tg: TgBot) -> None:
    tg.fake.open_chat(PARTNER)
    user = await tg.app.directory.lookup("telegram", str(PARTNER))
    assert user is not None and user.matrix_id is None
    notice = "Submission S-0001 from Relief Org was accepted (confidential)."
    assert await tg.app.send_to_user(user, notice, sensitive=True) is False
    assert await tg.app.send_to_user(user, notice) is False  # sensitive is the default
    assert tg.fake.sent == [] and "sendMessage" not in tg.fake.calls
    # the same path works for a non-sensitive reminder, which shows the refusal is the rule, not a bug
    assert await tg.app.send_to_user(user, "Reminder: the 4W deadline is Friday.", sensitive=False) is True
    assert tg.fake.texts(PARTNER) == ["Reminder: the 4W deadline is Friday."]


async def test_send_text_splits_long_messages_and_replies(tg: TgBot) -> None:
    tg.fake.open_chat(PARTNER)
    chat = str(PARTNER)
    update = await tg.fake.push_text(STRANGER, "hi", chat_id=PARTNER)  # some message to reply to
    await tg.fake.wait_handled(update)
    before = len(tg.fake.sent)
    text = "\n".join(f"line {i} " + "x" * 90 for i in range(100))  # ~9,800 characters
    mid = await tg.transport.send_text(chat, text, reply_to=f"{chat}:{update['message']['message_id']}")
    parts = tg.fake.sent[before:]
    assert len(parts) == 3 and all(len(p.text) <= 4096 for p in parts)
    assert "\n".join(p.text for p in parts) == text
    assert parts[0].reply_to == update["message"]["message_id"] and parts[1].reply_to is None
    assert mid == f"{chat}:{parts[-1].message_id}"
    await tg.transport.delete_message(chat, mid)
    assert tg.fake.deleted[-1] == (chat, parts[-1].message_id)


def test_split_text_counts_utf16_units() -> None:
    emoji = "\U0001f600" * 3000  # 2 UTF-16 units each
    parts = split_text(emoji)
    assert "".join(parts) == emoji
    assert all(len(p.encode("utf-16-le")) // 2 <= 4096 for p in parts)
    assert split_text("short") == ["short"]


# --------------------------------------------------------------------------- resilience


async def test_polling_survives_errors_and_drops(tg: TgBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="bot.transports.telegram")
    tg.fake.fail_next(3, "500")
    tg.fake.fail_next(2, "drop")
    [answer] = await tg.say(PARTNER, "!help")
    assert answer.startswith("You are registered as partner")
    failures = [r for r in caplog.records if "polling failed" in r.getMessage()]
    assert len(failures) >= 5
    assert tg.transport.running


async def test_replayed_update_is_handled_once(tg: TgBot) -> None:
    update = await tg.fake.push_text(PARTNER, "!help")
    await tg.fake.wait_handled(update)
    assert len(tg.fake.sent) == 1
    # 1) the server hands out an already confirmed update again
    await tg.fake.replay(update)
    # 2) the same message arrives under a new update id (as after a lost confirmation)
    await tg.fake.push_message(PARTNER, {"text": "!help"}, message_id=update["message"]["message_id"])
    marker = await tg.fake.push_text(PARTNER, "/help")
    await tg.fake.wait_handled(marker)
    assert len(tg.fake.sent) == 2  # the original answer and the marker's, nothing for the duplicates


async def test_replayed_file_is_refused_once(tg: TgBot) -> None:
    update = await tg.fake.push_document(PARTNER)
    await tg.fake.wait_handled(update)
    await tg.fake.replay(update)
    marker = await tg.fake.push_text(PARTNER, "!help")
    await tg.fake.wait_handled(marker)
    assert tg.fake.texts(PARTNER).count(FILE_REFUSAL) == 1


async def test_unreachable_at_start_is_not_fatal(fake: FakeTelegram) -> None:
    """Telegram down or blocked must not stop the bot (and with it the Matrix channel)."""
    received: list[IncomingMessage] = []

    async def on_message(msg: IncomingMessage) -> None:
        received.append(msg)

    fake.fail_next(2, "500", method="getMe")
    fake.fail_next(1, "drop", method="getMe")
    t = fast_transport(fake)
    await t.start(on_message)
    try:
        assert t.running
        update = await fake.push_text(PARTNER, "!help")
        await fake.wait_handled(update)
    finally:
        await t.stop()
    assert [m.text for m in received] == ["!help"]
    assert fake.calls.count("getMe") == 4


# --------------------------------------------------------------------------- secrets


async def test_wrong_token_fails_start_without_leaking_it(fake: FakeTelegram, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    wrong = "999:WRONG-token-value"
    transport = fast_transport(fake, wrong)

    async def on_message(msg: Any) -> None:
        raise AssertionError("nothing should arrive")

    with pytest.raises(TransportError, match="rejected") as info:
        await transport.start(on_message)
    rendered = "".join(traceback.format_exception(info.value))
    assert wrong not in rendered and wrong not in repr(info.value)
    assert info.value.__cause__ is None and info.value.__context__ is None
    assert wrong not in caplog.text
    assert not transport.running
    await transport.stop()  # harmless after a failed start


async def test_logs_hold_neither_token_nor_content(tg: TgBot, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # even with PTB and httpx at DEBUG
    secret_text = "names: Aung Aung, Ma Hla; location: Village-42"
    await tg.say(PARTNER, "!help " + secret_text)
    await tg.say(PARTNER, secret_text)
    update = await tg.fake.push_document(PARTNER, filename="Village-42 beneficiaries.xlsx", caption=secret_text)
    await tg.fake.wait_handled(update)
    tg.fake.fail_next(1, "500")
    await tg.say(PARTNER, "!help")
    assert caplog.records, "expected some log output"
    assert TOKEN not in caplog.text
    assert "Village-42" not in caplog.text and "Aung" not in caplog.text


# --------------------------------------------------------------------------- broken answers from the Bot API

SECRET_TEXT = "names: Aung Aung, Ma Hla; location: Village-42"
PHONE = "+959791234567"
CONTENT_MARKERS = ("Aung", "Village-42", PHONE, "9791234567", "Hla Hla")


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """Every logger at DEBUG (even those a logging setup or another test turned down) into caplog."""
    caplog.set_level(logging.DEBUG)
    for name, lg in list(logging.Logger.manager.loggerDict.items()):
        if isinstance(lg, logging.Logger):
            caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
            assert lg.propagate or not lg.handlers, name
            assert not (lg.disabled and name.startswith(("telegram", "httpx", "httpcore", "bot"))), name
    return caplog


def assert_no_content(caplog: pytest.LogCaptureFixture, *extra: str) -> None:
    assert caplog.records, "expected some log output"
    texts = [caplog.text]
    for r in caplog.records:
        texts += [r.getMessage(), repr(r.args), r.exc_text or "", r.stack_info or ""]
        if r.exc_info and r.exc_info[1] is not None:
            texts.append("".join(traceback.format_exception(r.exc_info[1])))
    blob = "\n".join(texts)
    for marker in (*CONTENT_MARKERS, TOKEN, *extra):
        assert marker not in blob, marker


def test_redaction_covers_ptbs_real_logger_names() -> None:
    """PTB names its loggers after the module/class (``telegram._utils.logging.get_logger``):
    ``telegram.request._baserequest`` logs as ``telegram.request.BaseRequest``. A filter on a parent
    logger does not see a child's records, so every one of them needs its own."""
    from bot.transports import telegram as tgmod

    tgmod._install_redaction("1:x")
    names = {
        n
        for n, lg in logging.Logger.manager.loggerDict.items()
        if isinstance(lg, logging.Logger) and (n == "telegram" or n.startswith("telegram."))
    }
    assert {"telegram", "telegram.Bot", "telegram.request.BaseRequest", "telegram.request.HTTPXRequest"} <= names
    for name in names | {"httpx"}:
        assert tgmod._REDACT in logging.getLogger(name).filters, name


async def test_invalid_json_answer_logs_no_content(tg: TgBot, all_logs: pytest.LogCaptureFixture) -> None:
    """An invalid JSON body from the Bot API: PTB logs it whole at ERROR (BaseRequest). Not here."""
    tg.fake.bad_json_next(1)
    answers = await tg.say(PARTNER, f"!help {SECRET_TEXT}; phone {PHONE}")
    assert answers and answers[0].startswith("You are registered as partner")  # handled after a retry
    assert any("polling failed (TelegramError)" in r.getMessage() for r in all_logs.records)
    # the record that used to carry the whole body was captured (so the check below is not vacuous)
    assert [r.getMessage() for r in all_logs.records if r.name == "telegram.request.BaseRequest"] == [
        'Can not load invalid JSON data: "%s"'
    ]
    assert tg.transport.running
    assert_no_content(all_logs)


async def test_malformed_update_is_skipped_and_logs_no_content(tg: TgBot, all_logs: pytest.LogCaptureFixture) -> None:
    """An update PTB cannot parse (here: a message without chat and date, carrying a contact card)
    must neither stop polling (Telegram would hand it out again forever) nor reach the logs."""
    bad = await tg.fake.push_raw(
        {
            "message": {
                "message_id": 4242,
                "from": {"id": PARTNER, "is_bot": False, "first_name": "Aung Aung"},
                "text": SECRET_TEXT,
                "contact": {"phone_number": PHONE, "first_name": "Hla Hla"},
            }
        }
    )
    answers = await tg.say(PARTNER, "!help")  # the next message is still handled
    assert answers and answers[0].startswith("You are registered as partner")
    assert tg.fake.confirmed_below > bad["update_id"]  # confirmed, so never delivered again
    assert any(f"update {bad['update_id']} could not be read" in r.getMessage() for r in all_logs.records)
    assert any(r.name == "telegram.Bot" and r.levelno == logging.CRITICAL for r in all_logs.records)  # captured
    assert tg.transport.running
    assert_no_content(all_logs)


# --------------------------------------------------------------------------- secrets typed into Telegram


@pytest.mark.parametrize(
    "command", ["/password S-0001 hunter2-Secret", "!password@cluster_test_bot S-0001 hunter2-Secret"]
)
async def test_password_message_deleted_before_the_refusal(
    tg: TgBot, all_logs: pytest.LogCaptureFixture, command: str
) -> None:
    update = await tg.fake.push_text(PARTNER, command)
    await tg.fake.wait_handled(update)
    mid = update["message"]["message_id"]
    assert tg.fake.texts(PARTNER) == [UNENCRYPTED_REFUSAL]
    assert tg.fake.deleted == [(str(PARTNER), mid)]
    assert [h[0] for h in tg.fake.history] == ["deleteMessage", "sendMessage"]  # deleted, then answered
    denied = (await tg.app.storage.audit_entries())[-1]
    assert (denied.action, denied.outcome) == ("submission.password", "denied")
    assert_no_content(all_logs, "hunter2")


async def test_password_message_deleted_for_unknown_sender_and_when_rate_limited(fake: FakeTelegram) -> None:
    received: list[IncomingMessage] = []

    async def on_message(msg: IncomingMessage) -> None:
        received.append(msg)

    t = TelegramTransport(replace(tg_config(fake), rate_limit_per_minute=1), poll_timeout=1)
    await t.start(on_message)
    try:
        first = await fake.push_text(STRANGER, "/password S-0007 hunter2-Secret and more")
        second = await fake.push_text(STRANGER, "!password S-0007 hunter2-Again")  # over the limit
        await fake.wait_handled(second)
    finally:
        await t.stop()
    assert [m.text for m in received] == ["/password S-0007"]  # the core never gets the secret
    assert fake.deleted == [
        (str(STRANGER), first["message"]["message_id"]),
        (str(STRANGER), second["message"]["message_id"]),
    ]


async def test_password_message_that_cannot_be_deleted_is_explained(tg: TgBot) -> None:
    from bot.transports.telegram import SECRET_NOT_DELETED

    tg.fake.deny_delete = True  # a group where the bot is not an admin
    answers = await tg.say(PARTNER, "/password S-0001 hunter2-Secret", chat_id=-100555, chat_type="supergroup")
    assert answers == [SECRET_NOT_DELETED, UNENCRYPTED_REFUSAL]
    assert tg.fake.deleted == []


# --------------------------------------------------------------------------- linking with a one-time code


@pytest.fixture
async def tg_mx(tmp_path: Path, sqlite_url: str, fake: FakeTelegram) -> AsyncIterator[tuple[TgBot, Any]]:
    """The app with Telegram (real PTB, fake Bot API) and an in-memory stand-in for the Matrix side."""
    from bot.transports.memory import MemoryTransport

    await migrate.upgrade(sqlite_url)
    key_file = tmp_path / "master.key"
    KeyRing.generate().save(key_file)
    config = parse_config(
        {
            "matrix": {"enabled": False},
            "storage": {
                "database_url": sqlite_url,
                "blob_dir": str(tmp_path / "blobs"),
                "master_key_file": str(key_file),
            },
            "screening": {"workers": 1},
            "bot": {"rate_limit_per_minute": 1000},
        },
        tmp_path,
    )
    transport, matrix = fast_transport(fake), MemoryTransport(name="matrix")
    executor = ThreadPoolExecutor(max_workers=1)
    app = await Application.create(config, transports=[matrix, transport], executor=executor, workflows=WORKFLOWS)
    await app.directory.add_org("Relief Org", "protection")
    await app.directory.add_user("@pia:example.org", role="partner", org="Relief Org")
    await app.start(scheduler=False)
    try:
        yield TgBot(app, transport, fake), matrix
    finally:
        await app.stop()
        executor.shutdown(wait=False)


async def test_link_telegram_with_a_code_from_the_encrypted_chat(tg_mx: tuple[TgBot, Any]) -> None:
    import re

    from handlers.linking import ALREADY_LINKED, INVALID, LINKED_HERE, LINKED_THERE

    tg, matrix = tg_mx
    new_id = 55501
    # an operator-style claim by number alone does nothing: the id is unknown until a code comes from it
    assert (await tg.say(new_id, "/help"))[0].startswith("Sorry, I don't know you yet")
    replies = await matrix.receive("@pia:example.org", "!link telegram")
    code = re.search(r"code: (\S{4}-\S{4})", replies[0].text)
    assert code is not None
    assert await tg.say(new_id, f"/link {code.group(1)}") == [LINKED_HERE]
    dm = await matrix.direct_chat("@pia:example.org")
    assert matrix.texts(dm)[-1] == LINKED_THERE  # told on the encrypted side too
    assert (await tg.say(new_id, "/help"))[0].startswith("You are registered as partner for Relief Org.")
    assert await tg.say(STRANGER, f"/link {code.group(1)}") == [INVALID]  # single use
    assert await tg.say(new_id, "/link AAAA-BBBB") == [ALREADY_LINKED]
    user = await tg.app.directory.lookup("telegram", str(new_id))
    assert user is not None and user.matrix_id == "@pia:example.org"
