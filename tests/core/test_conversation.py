"""Dialogs as state tables: persistence across restarts, back, cancel, timeout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.app import Application
from bot.conversation import END, Dialog, InvalidAnswer, Step
from storage.models import ConversationState, DataKey
from tests.conftest import Harness

FINISHED: list[dict[str, Any]] = []


def install_survey(app: Application) -> None:
    async def name_answer(ctx: Any, text: str, data: dict[str, Any]) -> str:
        if not text.strip():
            raise InvalidAnswer("Please type something.")
        data["what"] = text
        return "count"

    async def count_answer(ctx: Any, text: str, data: dict[str, Any]) -> str:
        if not text.strip().isdigit():
            raise InvalidAnswer("A number, please.")
        data["count"] = int(text)
        return END

    async def finish(ctx: Any, data: dict[str, Any]) -> None:
        FINISHED.append(dict(data))
        await ctx.reply("Thanks, recorded.")

    app.conversations.register(
        Dialog(
            name="survey",
            start="what",
            steps={"what": Step("What happened?", name_answer), "count": Step("How many people?", count_answer)},
            on_finish=finish,
            timeout=timedelta(minutes=10),
        )
    )

    @app.router.command("survey", "help", "test dialog")
    async def start(ctx: Any, args: str) -> None:
        await app.conversations.begin(ctx, "survey")


async def test_dialog_survives_restart_and_is_sealed(harness: Harness) -> None:
    FINISHED.clear()
    assert harness.app is not None
    install_survey(harness.app)
    assert "What happened?" in (await harness.say(Harness.PARTNER, "!survey"))[0]
    assert await harness.say(Harness.PARTNER, "lost a phone with the distribution list") == ["How many people?"]
    async with harness.app.storage.session() as s:
        row = (await s.execute(select(ConversationState))).scalar_one()
        assert b"distribution list" not in row.data_enc
        assert Harness.PARTNER not in row.key
    app = await harness.restart()
    install_survey(app)
    assert await harness.say(Harness.PARTNER, "many") == ["A number, please.\nHow many people?"]
    assert await harness.say(Harness.PARTNER, "120") == ["Thanks, recorded."]
    assert FINISHED == [{"what": "lost a phone with the distribution list", "count": 120}]
    async with app.storage.session() as s:
        assert (await s.execute(select(ConversationState))).first() is None
        # the draft's data key is shredded, not just the row deleted
        assert (
            await s.execute(select(DataKey).where(DataKey.purpose == "conversation"))
        ).scalar_one().wrapped_key is None


async def test_back_and_cancel(harness: Harness) -> None:
    FINISHED.clear()
    assert harness.app is not None
    install_survey(harness.app)
    await harness.say(Harness.PARTNER, "!survey")
    assert "first question" in (await harness.say(Harness.PARTNER, "!back"))[0]
    await harness.say(Harness.PARTNER, "one thing")
    assert await harness.say(Harness.PARTNER, "!back") == ["What happened?"]
    assert await harness.say(Harness.PARTNER, "another thing") == ["How many people?"]
    assert await harness.say(Harness.PARTNER, "!cancel") == ["Cancelled. Nothing was kept."]
    assert FINISHED == []
    assert "only understand commands" in (await harness.say(Harness.PARTNER, "3"))[0]


async def test_dialogs_are_per_sender(harness: Harness) -> None:
    assert harness.app is not None
    install_survey(harness.app)
    await harness.say(Harness.PARTNER, "!survey")
    assert "only understand commands" in (await harness.say(Harness.PARTNER2, "hello"))[0]
    assert await harness.say(Harness.PARTNER, "hello") == ["How many people?"]


async def test_dialog_times_out(harness: Harness) -> None:
    FINISHED.clear()
    assert harness.app is not None
    install_survey(harness.app)
    await harness.say(Harness.PARTNER, "!survey")
    harness.clock.advance(minutes=11)
    replies = await harness.say(Harness.PARTNER, "too late")
    assert "timed out" in replies[0]
    assert FINISHED == []
    # the sweep also finds expired dialogs without a new message
    await harness.say(Harness.PARTNER2, "!survey")
    harness.clock.advance(minutes=11)
    assert len(await harness.app.conversations.expired()) == 1
    await harness.app.run_sweeps()
    assert await harness.app.conversations.expired() == []


async def test_one_senders_messages_stay_in_order_when_accepted_together(harness: Harness) -> None:
    """Transports that do not wait for handling (Matrix) may hand over two answers at once."""
    from bot.events import IncomingMessage

    FINISHED.clear()
    assert harness.app is not None
    install_survey(harness.app)
    await harness.say(Harness.PARTNER, "!survey")
    dm = await harness.transport.direct_chat(Harness.PARTNER)

    def msg(event_id: str, text: str) -> IncomingMessage:
        return IncomingMessage("memory", dm, Harness.PARTNER, event_id, text, encrypted=True, direct=True)

    first = await harness.app.dispatch(msg("$a1", "a generator was stolen"))
    second = await harness.app.dispatch(msg("$a2", "40"))
    assert first is not None and second is not None
    await second
    assert FINISHED == [{"what": "a generator was stolen", "count": 40}]
