"""Operator faults: one line on stderr, exit status 2, never a traceback.

Every fault an operator can cause and fix (a bad config key, a missing key file, an
unknown user, a database that does not answer, a lock held by a running bot) is a
:class:`StartupError`. Errors raised by the commands themselves inherit from it
(:class:`CliError`); the ones raised by the layers below (``bot.config``, ``storage``,
``bot.screening``), which must not depend on the command line, are wrapped into it by
:func:`operator_faults`, the one place that knows them. ``main`` then handles exactly one
type: ``StartupError``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


class StartupError(Exception):
    """A fault the operator can fix: ``clusterbot: <message>`` on stderr, exit status 2.

    The message is one line, names the thing at fault and never holds a secret."""

    exit_code = 2


class CliError(StartupError):
    """A command refused what it was asked (an unknown user, a bad date, the bot running...)."""


class ConfigFault(StartupError):
    """The config file is missing, unreadable or wrong (``bot.config.ConfigError``)."""

    def __init__(self, message: str) -> None:
        super().__init__(f"config error: {message}")


class StorageFault(StartupError):
    """The database, the blob folder or the master key cannot be used
    (``StorageOpenError``, ``MasterKeyError``, ``MasterKeyMismatch``)."""


class GazetteerFault(StartupError):
    """The gazetteer file cannot be read (``bot.screening.GazetteerError``)."""


def _wrappers() -> tuple[tuple[type[BaseException], type[StartupError]], ...]:
    """The errors of the layers below that are operator faults, and what they become.
    Imported only when something failed: a command that works never loads them."""
    from bot.config import ConfigError
    from bot.screening.places import GazetteerError
    from storage.crypto import MasterKeyError
    from storage.opening import StorageOpenError
    from storage.store import MasterKeyMismatch

    return (
        (ConfigError, ConfigFault),
        (StorageOpenError, StorageFault),
        (MasterKeyError, StorageFault),
        (MasterKeyMismatch, StorageFault),
        (GazetteerError, GazetteerFault),
    )


def as_startup_error(exc: BaseException) -> StartupError | None:
    """``exc`` as a :class:`StartupError` when it is an operator fault, else None."""
    if isinstance(exc, StartupError):
        return exc
    for error, wrapper in _wrappers():
        if isinstance(exc, error):
            return wrapper(str(exc))
    return None


@contextmanager
def operator_faults() -> Iterator[None]:
    """Re-raise the operator faults of the layers below as :class:`StartupError`."""
    try:
        yield
    except StartupError:
        raise
    except Exception as exc:
        wrapped = as_startup_error(exc)
        if wrapped is None:
            raise
        raise wrapped from exc
