"""Run a screening call in a forked child with a wall-clock bound, so a hang or a quadratic
reader fails the test instead of stalling the suite."""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Callable
from typing import Any


def _child(q: Any, fn: Callable[[], Any]) -> None:
    try:
        q.put(("ok", fn()))
    except BaseException as exc:  # noqa: BLE001
        q.put(("err", repr(exc)))


def run_bounded(fn: Callable[[], Any], seconds: float) -> tuple[Any, float]:
    """(result, elapsed seconds); fails if fn does not return within `seconds`."""
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    p = ctx.Process(target=_child, args=(q, fn), daemon=True)
    t0 = time.monotonic()
    p.start()
    try:
        kind, value = q.get(timeout=seconds)
    except Exception:  # noqa: BLE001 - queue.Empty
        p.kill()
        p.join(5)
        raise AssertionError(f"did not finish within {seconds:.0f} s") from None
    elapsed = time.monotonic() - t0
    p.join(5)
    if kind == "err":
        raise AssertionError(f"raised in the child: {value}")
    return value, elapsed
