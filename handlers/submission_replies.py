"""What the submissions workflow says and asks, kept apart from what it does: the "held"
answer, the caption of a fetched file, screening results as stored, and the two small
dialogs (sending a correction, confirming a deletion). Used by ``handlers.submissions``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from bot.conversation import END, Dialog, FinishHandler, InvalidAnswer, Step
from handlers.common import format_findings, level_rank, yes_no
from storage.submissions import ScreeningResult, SubmissionView, SubState

if TYPE_CHECKING:
    from bot.router import Context

HELD_NEXT_STEPS = (
    "What you can do now:\n"
    "• !label {sid} LEVEL — if the data really is that sensitive (levels: public, restricted, confidential, "
    "highly_confidential); it is accepted if the level is adequate\n"
    "• !pseudonymize {sid} — I send you a pseudonymised copy; then !accept {sid} submits that copy instead\n"
    "• !withdraw {sid} — I destroy it"
)


def held_reply(what: str, sid: str, result: ScreeningResult, *, first: bool = False) -> str:
    """The one "held" answer: why, what was found, and what the partner can do next."""
    findings = format_findings(list(result.findings))
    if first:
        head = (
            f"{what} is held: it contains data that needs the level {result.required_level}, "
            f"but it is labelled {result.label or 'nowhere'}. Nobody else can see it.\nWhat I found:\n"
        )
    else:
        head = f"{what} is held: it needs the level {result.required_level}.\n"
    return head + findings + "\n" + HELD_NEXT_STEPS.format(sid=sid)


def result_from(verdict: Any) -> ScreeningResult:
    return ScreeningResult(
        verdict=verdict.verdict,
        required_level=verdict.required_level,
        label=verdict.label,
        categories=tuple(verdict.categories),
        findings=tuple(f.to_json() for f in verdict.findings),
    )


def accepted_level(result: ScreeningResult) -> str:
    levels = [lv for lv in (result.label, result.required_level) if lv]
    return max(levels, key=level_rank) if levels else "public"


def submission_caption(view: SubmissionView) -> str:
    head = f"{view.public_id} version {view.current_version}"
    if view.state == SubState.HELD:
        try:
            need = view.current.required_level
        except StopIteration:
            need = None
        return (
            f"{head}: held, not accepted yet. It carries sensitive data without an adequate label"
            + (f" (it needs at least {need})" if need else "")
            + ", so only your organisation can see it and nobody else was told of it. "
            f"!label {view.public_id} LEVEL, !pseudonymize {view.public_id} or !withdraw {view.public_id}."
        )
    if view.state == SubState.LOCKED:
        return (
            f"{head}: locked, not screened yet (password protected), so only your organisation can see it. "
            f"!password {view.public_id} PASSWORD has it screened."
        )
    return f"{head}, level {view.level or 'not set'}."


def _confirm_step() -> Step:
    async def on_answer(ctx: Context, text: str, data: dict[str, Any]) -> str:
        answer = yes_no(text, yes={"confirm"})
        if answer is True:
            return END
        if answer is False:
            raise InvalidAnswer("Nothing was deleted. Send !cancel to stop, or yes to delete.")
        raise InvalidAnswer("Please answer yes or no.")

    return Step(
        prompt=lambda d: (
            f"Delete {d['sid']} and every version of it, for good? Nobody will be able to recover it. Answer yes or no."
        ),
        on_answer=on_answer,
    )


def correct_dialog(timeout_minutes: int) -> Dialog:
    """Waits for the corrected file (``Submissions.on_file`` takes it); text is not an answer."""

    async def correct_answer(ctx: Context, text: str, data: dict[str, Any]) -> str:
        raise InvalidAnswer("Please send the corrected file (or !cancel).")

    async def correct_done(ctx: Context, data: dict[str, Any]) -> None:
        return None

    return Dialog(
        name="correct",
        start="await_file",
        steps={
            "await_file": Step(
                lambda d: f"Send the corrected file for S-{int(d['submission_id']):04d} now.", correct_answer
            )
        },
        on_finish=correct_done,
        timeout=timedelta(minutes=timeout_minutes),
    )


def delete_dialog(on_finish: FinishHandler) -> Dialog:
    """Asks once, yes or no, before a submission and all its versions are destroyed."""
    return Dialog(
        name="delete",
        start="confirm",
        steps={"confirm": _confirm_step()},
        on_finish=on_finish,
        timeout=timedelta(minutes=10),
    )
