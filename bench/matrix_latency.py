"""Matrix latency benchmark against one throwaway Synapse (see bot.devserver).

Measures, in one run:
  (a) a plain encrypted client-to-client echo round trip (user A -> user B -> A),
  (b) ``!help`` answered by the real bot in an encrypted room (A -> bot -> A),
  (c) N partners submitting a small file at the same moment: all answered? lost? total time.
Target: median (b) <= 1.25 x median (a); no loss in (c).

    python bench/matrix_latency.py [--rounds 20] [--partners 50]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bot.demo import BotStack
from bot.devserver import ScriptedUser, SynapseServer


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


async def echo_rounds(a: ScriptedUser, b: ScriptedUser, room: str, rounds: int) -> list[float]:
    times = []
    for i in range(1, rounds + 1):
        t0 = time.perf_counter()
        await a.send_text(room, f"ping {i}")
        await b.wait_for_message(a.user_id, room, count=i, timeout=60)
        await b.send_text(room, f"pong {i}")
        await a.wait_for_message(b.user_id, room, count=i, timeout=60)
        times.append(time.perf_counter() - t0)
    return times


async def help_rounds(a: ScriptedUser, bot_id: str, room: str, rounds: int) -> list[float]:
    times = []
    for i in range(1, rounds + 1):
        t0 = time.perf_counter()
        await a.send_text(room, "!help")
        await a.wait_for_message(bot_id, room, count=i, timeout=60)
        times.append(time.perf_counter() - t0)
    return times


async def burst(hs: SynapseServer, stack: BotStack, base: Path, n: int) -> tuple[int, int, float, int]:
    bot_id = stack.bot_user.user_id
    users = [hs.register_user(f"burst{i}") for i in range(n)]
    await stack.add_users([(u.user_id, "partner", "Relief Org") for u in users])
    clients = [ScriptedUser(hs.url, u, base / f"c{i}") for i, u in enumerate(users)]
    try:
        for chunk in range(0, n, 10):
            await asyncio.gather(*(c.login("bench") for c in clients[chunk:chunk + 10]))
        rooms = await asyncio.gather(*(c.create_room([bot_id]) for c in clients))
        await asyncio.gather(*(c.wait_joined(r, bot_id, timeout=120) for c, r in zip(clients, rooms)))
        data = b"site,households\nA,12\nB,30\n"
        t0 = time.perf_counter()
        await asyncio.gather(*(c.send_file(r, data, "sites.csv", "text/csv") for c, r in zip(clients, rooms)))
        results = await asyncio.gather(*(c.wait_for_message(bot_id, r, timeout=180) for c, r in zip(clients, rooms)),
                                       return_exceptions=True)
        total = time.perf_counter() - t0
        answered = sum(1 for r in results if not isinstance(r, BaseException))
        errors = sum(1 for r in results if not isinstance(r, BaseException) and "went wrong" in str(r.body))
        dupes = sum(max(0, len(c.messages_from(bot_id, r)) - 1) for c, r in zip(clients, rooms))
        return answered, errors, total, dupes
    finally:
        await asyncio.gather(*(c.close() for c in clients))


async def main(rounds: int, partners: int) -> int:
    base = Path(tempfile.mkdtemp(prefix="clusterbot-bench-"))
    with SynapseServer(base / "synapse") as hs:
        bot_u, a_u, b_u = (hs.register_user(n) for n in ("benchbot", "alice", "bob"))
        stack = BotStack(hs, base / "bot", bot_u)
        await stack.start()
        a, b = ScriptedUser(hs.url, a_u, base / "a"), ScriptedUser(hs.url, b_u, base / "b")
        try:
            await stack.add_users([(a_u.user_id, "partner", "Relief Org")])
            await a.login("a")
            await b.login("b")
            peer_room = await a.create_room([b_u.user_id], name="echo")
            await a.wait_joined(peer_room, b_u.user_id)
            bot_room = await a.create_room([bot_u.user_id])
            await a.wait_joined(bot_room, bot_u.user_id)
            await echo_rounds(a, b, peer_room, 2)  # warm-up: Olm/Megolm sessions
            await a.send_text(bot_room, "!help")
            await a.wait_for_message(bot_u.user_id, bot_room, timeout=60)
            a.events.clear()
            b.events.clear()
            echo = await echo_rounds(a, b, peer_room, rounds)
            bot = await help_rounds(a, bot_u.user_id, bot_room, rounds)
            answered, errors, total, dupes = await burst(hs, stack, base / "burst", partners)
        finally:
            await a.close()
            await b.close()
            await stack.stop()
    ma, mb = statistics.median(echo), statistics.median(bot)
    print(f"(a) client echo   median {ma * 1000:7.1f} ms   p90 {pct(echo, 0.9) * 1000:7.1f} ms  (n={rounds})")
    print(f"(b) bot !help     median {mb * 1000:7.1f} ms   p90 {pct(bot, 0.9) * 1000:7.1f} ms  (n={rounds})")
    print(f"    ratio (b)/(a) median {mb / ma:.2f}  (target <= 1.25)")
    print(f"(c) {partners} simultaneous file submissions: {answered} answered, {partners - answered} lost, "
          f"{dupes} duplicate answers, {errors} answered with a handler error, total {total:.1f} s")
    return 0 if answered == partners and dupes == 0 else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--partners", type=int, default=50)
    ns = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # nio warns per missing Olm session; not useful here
    sys.exit(asyncio.run(main(ns.rounds, ns.partners)))
