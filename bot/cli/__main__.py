"""``python -m bot.cli``: the same as the ``clusterbot`` command."""

from bot.cli import main

raise SystemExit(main())
