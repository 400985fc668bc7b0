"""The ``clusterbot`` command line: the command table, and ``main``.

Every failure an operator can cause (a bad config key, a missing key file, an unknown
user) is a :class:`~bot.cli.errors.StartupError`: one plain line on stderr and exit
status 2, handled here and nowhere else; a check that failed exits 1; never a traceback.

Modules: ``table`` (the declarations and the parser built from them), ``errors``,
``deployment`` (config, lock, storage), ``site`` (init, db, audit, keys), ``consent``,
``directory`` (admin org/user), ``incidents``, ``matrix``, ``run``.
"""

from __future__ import annotations

import argparse
import sys

from bot.cli import consent, directory, incidents, matrix, site
from bot.cli.deployment import hold_deployment, load, release_deployment
from bot.cli.directory import ROLES, directory_cmd
from bot.cli.errors import CliError, StartupError, operator_faults
from bot.cli.run import build_transports, cmd_run, run_bot
from bot.cli.table import Arg, Command, Entry, Group, Mounted, Opt
from bot.cli.table import build_parser as _build_parser

__all__ = ["COMMANDS", "CliError", "StartupError", "build_parser", "build_transports", "main", "run_bot"]

MATRIX_USER = "Matrix id (@name:server)"

# fmt: off
COMMANDS: tuple[Entry, ...] = (
    Command("init", "create a starter config, master key, data folders and the database", site.cmd_init, config=False,
            args=(Arg("dir", help="the new site's folder (created; an existing one must not hold a site)"),
                  Opt("--database-url", help="use this database (postgresql+asyncpg://... or sqlite+aiosqlite:///...) "
                      "instead of SQLite in DIR/data; it must exist and be empty; written into the config"))),
    Command("run", "run the bot", cmd_run),

    Group("db", "database schema"),
    Command("db upgrade", "apply schema migrations (creates a SQLite database that does not exist yet)",
            site.cmd_db_upgrade, exclusive=True),

    Group("audit", "audit log"),
    Command("audit verify", "check the hash chain and its anchored head; exit 1 naming the first bad entry",
            site.cmd_audit_verify),
    Command("audit reanchor", "anchor the current head after restoring an older database (bot stopped)",
            site.cmd_audit_reanchor, exclusive=True),

    Group("keys", "encryption keys"),
    Command("keys rotate", "re-wrap every data key under a new master key (bot stopped)", site.cmd_keys_rotate,
            exclusive=True),

    Group("consent", "the consent ledger"),
    Command("consent verify", "check the ledger's hash chain; exit 1 naming the first bad entry",
            consent.cmd_consent_verify),
    Command("consent export", "export the recorded consent decisions", consent.cmd_consent_export,
            args=(Opt("--org", help="only this organisation's decisions (its name, as in 'admin org list')"),
                  Opt("--format", choices=("csv", "json"), default="csv",
                      help="csv (with a header line) or json (one array); default %(default)s"))),

    Group("incidents", "incident reports"),
    Command("incidents export", "summary of incidents since a date, without reporter identities", incidents.cmd_export,
            args=(Opt("--since", required=True, help="YYYY-MM-DD"),
                  Opt("--format", choices=("csv", "json"), default="csv",
                      help="csv (with a header line) or json (one object a line); default %(default)s"))),

    Group("admin", "organisations, users, devices"),
    Group("admin org", "partner organisations"),
    Command("admin org add", "add an organisation", directory_cmd(directory.org_add),
            args=(Arg("name", help="the organisation's name, e.g. \"Relief Org\""),
                  Opt("--sector", help="its sector, e.g. protection, wash"))),
    Command("admin org list", "list organisations (name, sector, pseudonym)", directory_cmd(directory.org_list)),

    Group("admin user", "the people the bot knows, and their roles"),
    Command("admin user add", "add a user with a role", directory_cmd(directory.user_add),
            args=(Arg("user", help=f"{MATRIX_USER}, or a Telegram user id with --telegram"),
                  Opt("--org", help="the user's organisation (required for partners)"),
                  Opt("--role", required=True, choices=ROLES, help="what the user may do: %(choices)s"),
                  Opt("--telegram", action="store_true", help="USER is a numeric Telegram user id"))),
    Command("admin user list", "list users (Matrix id, Telegram id, role, organisation)",
            directory_cmd(directory.user_list)),
    Command("admin user remove", "remove a user (the audit log keeps that it happened)",
            directory_cmd(directory.user_remove),
            args=(Arg("user", help=f"{MATRIX_USER}, or a Telegram user id with --telegram"),
                  Opt("--telegram", action="store_true", help="USER is a numeric Telegram user id"))),
    Command("admin user set-role", "change a user's role", directory_cmd(directory.user_set_role),
            args=(Arg("user", help=MATRIX_USER),
                  Arg("role", choices=ROLES, help="the new role: %(choices)s"))),
    Command("admin user link-telegram", "let a Matrix user also reach the bot on Telegram",
            directory_cmd(directory.user_link_telegram),
            args=(Arg("user", help=MATRIX_USER),
                  Arg("telegram_id", help="the user's numeric Telegram id (a positive whole number, not the @name)"))),

    Group("admin device", "Matrix device trust"),
    Command("admin device trust", "trust a user's Matrix device (verified mode, or a lost old device)",
            matrix.cmd_device_trust,
            args=(Arg("user_id", help="the device's owner, e.g. @pia:example.org"),
                  Arg("device_id", help="the device id as the user's client shows it (Settings > Sessions)"),
                  Opt("--fingerprint", help="the device's ed25519 key as shown in the user's client"))),
    Group("admin identity", "Matrix identity trust"),
    Command("admin identity trust", "confirm a user's (changed) cross-signing identity after checking it",
            matrix.cmd_identity_trust,
            args=(Arg("user_id", help="e.g. @pia:example.org"),
                  Arg("fingerprint", help="the user's master key as their client shows it (spaces allowed)"))),

    Group("matrix", "Matrix device maintenance"),
    Command("matrix reset-device", "log in as a new device and delete the old one (lost store)",
            matrix.cmd_reset_device, exclusive=True,
            args=(Opt("--yes", action="store_true", help="do it (without this, only explain)"),)),
    Command("matrix identity", "print the bot's master key fingerprint (publish it for partners)",
            matrix.cmd_identity),
    Command("matrix reset-identity", "replace the bot's cross-signing identity (lost or compromised keys)",
            matrix.cmd_reset_identity, exclusive=True,
            args=(Opt("--yes", action="store_true", help="do it without asking"),)),

    # bot.screening is a pure package that also runs standalone: it declares its own arguments
    Mounted("", ("screen", "pseudonymize"), "bot.screening.cli:register"),
    Command("demo", "run a scripted encrypted conversation on a throwaway homeserver", "bot.demo:cmd_demo",
            config=False,
            args=(Opt("--keep", action="store_true",
                      help="after the script, keep the homeserver and bot running and print logins, until Ctrl-C "
                           "or SIGTERM; the folder (it holds secrets) is deleted then, as always"),)),
)
# fmt: on


def build_parser() -> argparse.ArgumentParser:
    return _build_parser(COMMANDS, prog="clusterbot", description="Secure messaging bot for humanitarian clusters.")


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    entry = getattr(args, "entry", None)
    try:
        with operator_faults():
            if entry is not None and entry.exclusive:
                hold_deployment(load(args), entry.path, "exclusive")
            return int(args.func(args) or 0)
    except StartupError as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        return 130
    except Exception as exc:  # noqa: BLE001 - last line of defence: no tracebacks for operators
        from bot.router import error_reference, log_exception_without_content

        ref = error_reference()
        log_exception_without_content(ref, exc)
        print(f"clusterbot: unexpected error ({type(exc).__name__}), reference {ref}", file=sys.stderr)
        return 1
    finally:
        release_deployment()
