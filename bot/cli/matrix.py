"""The Matrix side: ``matrix identity|reset-identity|reset-device``, ``admin device trust``
and ``admin identity trust`` (moved here from ``bot/transports/matrix_cli.py``).

``matrix reset-device`` and ``matrix reset-identity`` are declared ``exclusive`` in the
command table: ``main`` holds the deployment lock for them before they run. These
commands read the transport secrets (the Matrix password logs in)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from bot.cli.deployment import load
from bot.cli.errors import CliError


def _config(args: argparse.Namespace) -> Any:
    return load(args, transport_secrets=True)


def cmd_reset_device(args: argparse.Namespace) -> int:
    from bot.transports.matrix import reset_device

    cfg = _config(args)
    if not args.yes:
        print(
            "This logs the bot in as a NEW Matrix device and deletes the old one. Partners will see a new "
            "device; messages encrypted only for the old device cannot be read any more.\n"
            "Stop the running bot first. Re-run with --yes to continue.",
            file=sys.stderr,
        )
        return 2
    new_device = asyncio.run(reset_device(cfg.matrix, asyncio.run(_last_device(cfg))))
    print(f"New device {new_device} is ready; the old device was deleted. Start the bot again.")
    return 0


async def _last_device(cfg: Any) -> str | None:
    """The device the bot last ran as, from the database (the store folder may be gone)."""
    import json

    from storage.opening import check_database
    from storage.store import MATRIX_DEVICE_SETTING, Storage

    await check_database(cfg.storage.database_url)
    store = await Storage.open(cfg.storage.database_url, cfg.storage.blob_dir, cfg.storage.master_key_file)
    try:
        record = await store.get_setting(MATRIX_DEVICE_SETTING)
    finally:
        await store.close()
    try:
        ran = json.loads(record) if record else None
        return str(ran["device_id"]) if ran and ran.get("user_id") == cfg.matrix.user_id else None
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def cmd_device_trust(args: argparse.Namespace) -> int:
    from bot.transports.matrix import trust_device

    cfg = _config(args)
    print(trust_device(cfg.matrix, args.user_id, args.device_id, args.fingerprint))
    return 0


def cmd_identity(args: argparse.Namespace) -> int:
    """Print the bot's master key fingerprint (what the cluster publishes for partners)."""
    from bot.transports.matrix.crosssign import fingerprint
    from bot.transports.matrix.identity import held_master

    cfg = _config(args)
    master = held_master(cfg.matrix.store_dir)
    if master is None:
        raise CliError("the bot has no cross-signing identity yet; `clusterbot run` creates it on its first start")
    print(f"{cfg.matrix.user_id} master key fingerprint: {fingerprint(master)}")
    return 0


def cmd_reset_identity(args: argparse.Namespace) -> int:
    from bot.transport import TransportError
    from bot.transports.matrix.admin import reset_identity_cli
    from bot.transports.matrix.state import StoreMismatchError

    cfg = _config(args)
    explanation = (
        "This replaces the bot's Matrix cryptographic identity (its cross-signing keys). Every partner's "
        "app will show that the bot's identity CHANGED; partners who verified the bot must verify it again, "
        "and you must publish the new fingerprint. Do this only if the old keys are lost or compromised. "
        "Stop the running bot first."
    )
    if not args.yes:
        if sys.stdin.isatty():
            answer = input(explanation + "\nType 'reset' to continue: ")
            if answer.strip() != "reset":
                raise CliError("nothing changed")
        else:
            print(explanation + " Re-run with --yes to continue.", file=sys.stderr)
            return 2
    try:
        old, new = asyncio.run(reset_identity_cli(cfg))
    except (TransportError, StoreMismatchError) as exc:
        raise CliError(str(exc)) from None
    print(
        f"New identity {new} replaces {old or 'none'}. Publish the new fingerprint; the admin room is told "
        "when the bot starts."
    )
    return 0


def cmd_identity_trust(args: argparse.Namespace) -> int:
    from bot.transports.matrix.state import ensure_store_dir
    from bot.transports.matrix.trust import add_admin_trust_request

    cfg = _config(args)
    master = args.fingerprint.replace(" ", "")
    add_admin_trust_request(ensure_store_dir(cfg.matrix.store_dir), args.user_id, None, None, master=master)
    print(
        f"The identity {args.fingerprint} of {args.user_id} will be trusted (verified) on the bot's next sync "
        "if it is their current one."
    )
    return 0
