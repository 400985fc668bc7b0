"""clusterbot screening engine: finds unlabelled sensitive data in submitted files.

Pure, synchronous and thread-safe; plain data in, frozen dataclasses out.  Nothing here
logs content or raises on bad input: every failure is a Verdict."""

from .areas import SensitiveAreas
from .engine import screen_bytes, screen_path
from .levels import CATEGORY_LEVEL, LEVELS
from .model import Finding, Limits, Verdict

__all__ = [
    "CATEGORY_LEVEL",
    "LEVELS",
    "Finding",
    "Limits",
    "SensitiveAreas",
    "Verdict",
    "pseudonymize_bytes",
    "screen_bytes",
    "screen_path",
]


def __getattr__(name: str) -> object:
    """pseudonymize_bytes on first use: the screening command does not need the writers."""
    if name == "pseudonymize_bytes":
        from .pseudonymise import pseudonymize_bytes

        return pseudonymize_bytes
    raise AttributeError(name)
