"""Re-export of the Synapse runner for tests (it lives in ``bot.devserver`` so that
``clusterbot demo`` and the benchmark work from an installed package)."""

from bot.devserver import (  # noqa: F401
    RegisteredUser,
    ScriptedUser,
    SynapseServer,
    SynapseUnavailable,
    running_synapse,
)
