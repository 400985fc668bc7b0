"""Matrix latency benchmark against one throwaway Synapse (see bot.devserver).

Measures, in one run:
  (a) a plain encrypted client-to-client echo round trip (user A -> user B -> A),
  (b) ``!help`` answered by the real bot in an encrypted room (A -> bot -> A),
  (c) N partners submitting a small file at the same moment: all answered? lost? total time,
  (d) the echo of (a) between two clients on Element's own crypto stack in its strict "exclude insecure
      devices" mode (tests/e2e/strict_client.py: matrix-js-sdk + Rust crypto, cross-signed like Element),
  (e) ``!help`` answered by the bot to such a strict client.
Target: median (b) <= 1.25 x median (a) and median (e) <= 1.25 x median (d); no loss in (c).
(d) and (e) need ``node`` and ``npm ci --prefix tests/e2e/jsclient``; without them one line says they
are skipped and why. The exit status is 1 when (c) lost or duplicated answers or (d)/(e) failed.

    python bench/matrix_latency.py [--rounds 20] [--strict-rounds R] [--partners 50]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

from bot.demo import BotStack
from bot.devserver import ScriptedUser, SynapseServer

if TYPE_CHECKING:
    from tests.e2e.strict_client import Message, StrictClient

REPO_ROOT = Path(__file__).resolve().parent.parent
TARGET_RATIO = 1.25
WAIT_SECONDS = 60.0  # bound on every wait for one message


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def figure(label: str, times: list[float], note: str = "") -> str:
    return (
        f"{label:<17} median {statistics.median(times) * 1000:7.1f} ms   "
        f"p90 {pct(times, 0.9) * 1000:7.1f} ms  (n={len(times)}{note})"
    )


def ratio_line(label: str, slow: list[float], fast: list[float]) -> str:
    ratio = statistics.median(slow) / statistics.median(fast)
    verdict = "PASS" if ratio <= TARGET_RATIO else "FAIL"
    return f"    ratio {label} median {ratio:.2f}  (target <= {TARGET_RATIO}) {verdict}"


# -- (a), (b), (c): matrix-nio clients ----------------------------------------------------------------


async def echo_rounds(a: ScriptedUser, b: ScriptedUser, room: str, rounds: int) -> list[float]:
    times = []
    for i in range(1, rounds + 1):
        t0 = time.perf_counter()
        await a.send_text(room, f"ping {i}")
        await b.wait_for_message(a.user_id, room, count=i, timeout=WAIT_SECONDS)
        await b.send_text(room, f"pong {i}")
        await a.wait_for_message(b.user_id, room, count=i, timeout=WAIT_SECONDS)
        times.append(time.perf_counter() - t0)
    return times


async def help_rounds(a: ScriptedUser, bot_id: str, room: str, rounds: int) -> list[float]:
    times = []
    for i in range(1, rounds + 1):
        t0 = time.perf_counter()
        await a.send_text(room, "!help")
        await a.wait_for_message(bot_id, room, count=i, timeout=WAIT_SECONDS)
        times.append(time.perf_counter() - t0)
    return times


async def burst(hs: SynapseServer, stack: BotStack, base: Path, n: int) -> tuple[int, int, float, int]:
    bot_id = stack.bot_user.user_id
    users = [hs.register_user(f"burst{i}") for i in range(n)]
    await stack.add_users([(u.user_id, "partner", "Relief Org") for u in users])
    clients = [ScriptedUser(hs.url, u, base / f"c{i}") for i, u in enumerate(users)]
    try:
        for chunk in range(0, n, 10):
            await asyncio.gather(*(c.login("bench") for c in clients[chunk : chunk + 10]))
        rooms = await asyncio.gather(*(c.create_room([bot_id]) for c in clients))
        await asyncio.gather(*(c.wait_joined(r, bot_id, timeout=120) for c, r in zip(clients, rooms, strict=False)))
        data = b"site,households\nA,12\nB,30\n"
        t0 = time.perf_counter()
        await asyncio.gather(
            *(c.send_file(r, data, "sites.csv", "text/csv") for c, r in zip(clients, rooms, strict=False))
        )
        results = await asyncio.gather(
            *(c.wait_for_message(bot_id, r, timeout=180) for c, r in zip(clients, rooms, strict=False)),
            return_exceptions=True,
        )
        total = time.perf_counter() - t0
        answers = [r for r in results if not isinstance(r, BaseException)]
        errors = sum(1 for r in answers if "went wrong" in str(getattr(r, "body", "")))
        dupes = sum(max(0, len(c.messages_from(bot_id, r)) - 1) for c, r in zip(clients, rooms, strict=False))
        return len(answers), errors, total, dupes
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


# -- (d), (e): strict Element-stack clients -----------------------------------------------------------


def load_strict_client() -> ModuleType | str:
    """``tests/e2e/strict_client.py``, or why the strict figures cannot be measured here."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    try:
        from tests.e2e import strict_client
    except ImportError as exc:
        return f"tests/e2e/strict_client.py cannot be imported ({exc})"
    return strict_client.skip_reason() or strict_client


@dataclass
class StrictFigures:
    echo: list[float]
    bot: list[float]
    echo_shielded: int  # measured replies that Element shows with a warning shield
    bot_shielded: int


def _shown(m: Message) -> bool:
    return bool(m["decrypted"])


def _clean(m: Message) -> bool:
    return _shown(m) and (m["shield"] is None or m["shield"]["colour"] == "NONE")


async def _strict_reply(client: StrictClient, sender: str, room: str, seen: set[str]) -> Message:
    """The first *new* message (id not in ``seen``) from ``sender`` in ``room``, once decrypted."""
    return await client.wait_for_message(
        sender, room, predicate=lambda m: m["event_id"] not in seen and _shown(m), timeout=WAIT_SECONDS
    )


def _ids(client: StrictClient, sender: str, room: str) -> set[str]:
    return {m["event_id"] for m in client.messages(sender, room)}


async def strict_echo_rounds(
    a: StrictClient, b: StrictClient, room: str, rounds: int, replies: list[str]
) -> list[float]:
    assert a.user_id is not None and b.user_id is not None
    times = []
    for i in range(1, rounds + 1):
        seen_a, seen_b = _ids(b, a.user_id, room), _ids(a, b.user_id, room)
        t0 = time.perf_counter()
        await a.send_text(room, f"ping {i}")
        await _strict_reply(b, a.user_id, room, seen_a)
        await b.send_text(room, f"pong {i}")
        pong = await _strict_reply(a, b.user_id, room, seen_b)
        times.append(time.perf_counter() - t0)
        replies.append(pong["event_id"])
    return times


async def strict_help_rounds(a: StrictClient, bot_id: str, room: str, rounds: int, replies: list[str]) -> list[float]:
    times = []
    for _ in range(rounds):
        seen = _ids(a, bot_id, room)
        t0 = time.perf_counter()
        await a.send_text(room, "!help")
        answer = await _strict_reply(a, bot_id, room, seen)
        times.append(time.perf_counter() - t0)
        replies.append(answer["event_id"])
    return times


async def strict_phase(
    strict: ModuleType, hs: SynapseServer, stack: BotStack, base: Path, rounds: int
) -> StrictFigures:
    bot_id = stack.bot_user.user_id
    base.mkdir(parents=True, exist_ok=True)
    users = [hs.register_user(n) for n in ("strictalice", "strictbob")]
    await stack.add_users([(users[0].user_id, "partner", "Relief Org")])
    clients: list[StrictClient] = []
    try:
        for u in users:
            client = strict.StrictClient(u.localpart, log_path=base / f"strict-{u.localpart}.log")
            clients.append(client)  # before start(): close() also ends a half-started process
            await client.start()
        a, b = clients
        await asyncio.gather(
            *(
                c.login(hs.url, u.user_id, u.password, device_name=f"Element bench {u.localpart}", auto_join=True)
                for c, u in zip(clients, users, strict=False)
            )
        )
        peer_room = await a.create_dm(users[1].user_id)
        await a.wait_member(peer_room, users[1].user_id, timeout=30)
        bot_room = await a.create_dm(bot_id)
        await a.wait_member(bot_room, bot_id, timeout=30)
        await strict_echo_rounds(a, b, peer_room, 2, [])  # warm-up: room keys shared, devices known
        await strict_help_rounds(a, bot_id, bot_room, 1, [])
        echo_ids: list[str] = []
        bot_ids: list[str] = []
        echo = await strict_echo_rounds(a, b, peer_room, rounds, echo_ids)
        bot = await strict_help_rounds(a, bot_id, bot_room, rounds, bot_ids)
        latest = {m["event_id"]: m for m in a.messages(None, None)}
        return StrictFigures(
            echo,
            bot,
            sum(1 for i in echo_ids if not _clean(latest[i])),
            sum(1 for i in bot_ids if not _clean(latest[i])),
        )
    finally:
        await asyncio.gather(*(c.close() for c in clients), return_exceptions=True)


# -- the run --------------------------------------------------------------------------------------------


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return text.splitlines()[0]


async def main(rounds: int, strict_rounds: int, partners: int) -> int:
    base = Path(tempfile.mkdtemp(prefix="clusterbot-bench-"))
    strict = load_strict_client()
    strict_figures: StrictFigures | None = None
    strict_note = "" if isinstance(strict, ModuleType) else f"(d)/(e) strict-client figures skipped: {strict}"
    with SynapseServer(base / "synapse") as hs:
        async with contextlib.AsyncExitStack() as cleanup:  # closed in reverse order, also on errors
            bot_u, a_u, b_u = (hs.register_user(n) for n in ("benchbot", "alice", "bob"))
            stack = BotStack(hs, base / "bot", bot_u)
            cleanup.push_async_callback(stack.stop)
            await stack.start()
            a, b = ScriptedUser(hs.url, a_u, base / "a"), ScriptedUser(hs.url, b_u, base / "b")
            cleanup.push_async_callback(a.close)
            cleanup.push_async_callback(b.close)
            await stack.add_users([(a_u.user_id, "partner", "Relief Org")])
            await a.login("a")
            await b.login("b")
            peer_room = await a.create_room([b_u.user_id], name="echo")
            await a.wait_joined(peer_room, b_u.user_id)
            bot_room = await a.create_room([bot_u.user_id])
            await a.wait_joined(bot_room, bot_u.user_id)
            await echo_rounds(a, b, peer_room, 2)  # warm-up: Olm/Megolm sessions
            await a.send_text(bot_room, "!help")
            await a.wait_for_message(bot_u.user_id, bot_room, timeout=WAIT_SECONDS)
            a.events.clear()
            b.events.clear()
            echo = await echo_rounds(a, b, peer_room, rounds)
            bot = await help_rounds(a, bot_u.user_id, bot_room, rounds)
            if isinstance(strict, ModuleType):
                try:
                    strict_figures = await strict_phase(strict, hs, stack, base / "strict", strict_rounds)
                except Exception as exc:  # noqa: BLE001 - reported below; the other figures still count
                    strict_note = (
                        f"(d)/(e) strict-client figures FAILED: {_first_line(exc)} (client logs in {base / 'strict'})"
                    )
            answered, errors, total, dupes = await burst(hs, stack, base / "burst", partners)
    print(figure("(a) client echo", echo))
    print(figure("(b) bot !help", bot))
    print(ratio_line("(b)/(a)", bot, echo))
    print(
        f"(c) {partners} simultaneous file submissions: {answered} answered, {partners - answered} lost, "
        f"{dupes} duplicate answers, {errors} answered with a handler error, total {total:.1f} s"
    )
    if strict_figures is None:
        print(strict_note)
    else:
        print(figure("(d) strict echo", strict_figures.echo, f", {strict_figures.echo_shielded} shielded"))
        print(figure("(e) strict !help", strict_figures.bot, f", {strict_figures.bot_shielded} shielded"))
        print(ratio_line("(e)/(d)", strict_figures.bot, strict_figures.echo))
    strict_failed = isinstance(strict, ModuleType) and strict_figures is None
    return 0 if answered == partners and dupes == 0 and not strict_failed else 1


async def run(ns: argparse.Namespace) -> int:
    """:func:`main`, with SIGTERM cancelling it like Ctrl-C does, so every child process is stopped."""
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    return await main(ns.rounds, ns.strict_rounds or ns.rounds, ns.partners)


def positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=positive, default=20)
    parser.add_argument(
        "--strict-rounds", type=positive, default=None, help="rounds for (d) and (e) (default: --rounds)"
    )
    parser.add_argument("--partners", type=int, default=50)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # nio warns per missing Olm session; not useful here
    try:
        sys.exit(asyncio.run(run(args)))
    except KeyboardInterrupt:
        print("interrupted; Synapse and the clients were stopped", file=sys.stderr)
        sys.exit(130)
    except asyncio.CancelledError:  # SIGTERM
        print("terminated; Synapse and the clients were stopped", file=sys.stderr)
        sys.exit(143)
