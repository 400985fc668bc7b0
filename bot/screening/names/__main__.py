"""``python -m bot.screening.names build`` regenerates ``bot/data/person_names.txt.gz``; without
arguments it prints the load statistics of the name lists."""

from __future__ import annotations

import sys

from .namelists import build_cache, load_stats

if __name__ == "__main__":  # pragma: no cover - maintenance entry point
    if sys.argv[1:] == ["build"]:
        print(build_cache())
    else:
        print(load_stats())
