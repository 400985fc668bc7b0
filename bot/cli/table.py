"""The declarations the command table is made of, and the argparse parser built from them.

A :class:`Command` names its path (``"admin user add"``), its help, its arguments
(:class:`Arg` positional, :class:`Opt` options, each with its help text) and the function
that runs it; a :class:`Group` is a path with subcommands; a :class:`Mounted` entry lets
a package that also runs standalone (``bot.screening``) declare its own commands.
Every command that reads a config gets the same ``--config`` option.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

Runner = Callable[[argparse.Namespace], int]


class Arg:
    """A positional argument: ``Arg("user", help="Matrix id")``; the keywords are
    :meth:`argparse.ArgumentParser.add_argument`'s (``choices``, ``type``...)."""

    def __init__(self, *flags: str, help: str, **options: Any) -> None:
        if not help:
            raise ValueError(f"{flags[0]}: every argument has a help text")
        self.flags = flags
        self.help = help
        self.options = options

    def add_to(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument(*self.flags, help=self.help, **self.options)


class Opt(Arg):
    """An option: ``Opt("--role", help=..., required=True, choices=ROLES)``."""


#: the option of every command that reads the config file
CONFIG = Opt("--config", "-c", default=None, help="config file (default: clusterbot.toml, or $CLUSTERBOT_CONFIG)")


def resolve(target: Callable[..., Any] | str) -> Any:
    """A function, or ``"module:name"`` imported when first needed (so ``clusterbot --help``
    never loads the demo's homeserver code)."""
    if not isinstance(target, str):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


@dataclass(frozen=True)
class Group:
    """A command with subcommands: ``Group("admin user", help=...)``."""

    path: str
    help: str


@dataclass(frozen=True)
class Command:
    """One command. ``exclusive``: ``main`` holds the deployment lock exclusively before it
    runs (maintenance that must not run beside the bot or another command)."""

    path: str
    help: str
    run: Runner | str
    args: tuple[Arg, ...] = ()
    config: bool = True
    exclusive: bool = False
    aliases: tuple[str, ...] = field(default=())

    def __call__(self, args: argparse.Namespace) -> int:
        return int(resolve(self.run)(args) or 0)


@dataclass(frozen=True)
class Mounted:
    """Commands declared by their own package, which also runs them standalone: its
    ``register(subparsers)`` is called with the subcommands of ``parent`` ("" = top level)
    and must add exactly ``names``."""

    parent: str
    names: tuple[str, ...]
    register: Callable[[Any], None] | str


Entry = Group | Command | Mounted


def build_parser(table: Iterable[Entry], **parser_options: Any) -> argparse.ArgumentParser:
    """The parser for ``table`` (parents before their children). A parsed command's
    namespace has ``func`` (what runs it) and, for a table command, ``entry``."""
    parser = argparse.ArgumentParser(**parser_options)
    groups = {"": parser.add_subparsers(dest="command", required=True, metavar="COMMAND")}
    for entry in table:
        if isinstance(entry, Mounted):
            sub = groups[entry.parent]
            resolve(entry.register)(sub)
            missing = [n for n in entry.names if n not in sub.choices]
            if missing:
                raise ValueError(f"{entry.register} did not add {missing}")
            continue
        parent, _, name = entry.path.rpartition(" ")
        if isinstance(entry, Group):
            p = groups[parent].add_parser(name, help=entry.help)
            groups[entry.path] = p.add_subparsers(dest=f"{name}_command", required=True, metavar="COMMAND")
            continue
        p = groups[parent].add_parser(name, help=entry.help, aliases=list(entry.aliases))
        for arg in entry.args:
            arg.add_to(p)
        if entry.config:
            CONFIG.add_to(p)
        p.set_defaults(func=entry, entry=entry)
    return parser
