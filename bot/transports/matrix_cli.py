"""CLI for the Matrix side: ``clusterbot matrix reset-device`` and ``clusterbot admin device trust``.

Registered by ``bot.cli`` through ``register(subparsers, admin)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


def _config(args: argparse.Namespace) -> Any:
    import os

    from bot.config import load_config

    return load_config(args.config or os.environ.get("CLUSTERBOT_CONFIG", "clusterbot.toml"))


def cmd_reset_device(args: argparse.Namespace) -> int:
    from bot.transports.matrix import reset_device

    cfg = _config(args)
    if not args.yes:
        print("This logs the bot in as a NEW Matrix device and deletes the old one. Partners will see a new "
              "device; messages encrypted only for the old device cannot be read any more.\n"
              "Stop the running bot first. Re-run with --yes to continue.", file=sys.stderr)
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
        print("clusterbot: the bot has no cross-signing identity yet; `clusterbot run` creates it on its "
              "first start", file=sys.stderr)
        return 2
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
        "Stop the running bot first.")
    if not args.yes:
        if sys.stdin.isatty():
            answer = input(explanation + "\nType 'reset' to continue: ")
            if answer.strip() != "reset":
                print("clusterbot: nothing changed", file=sys.stderr)
                return 2
        else:
            print(explanation + " Re-run with --yes to continue.", file=sys.stderr)
            return 2
    try:
        old, new = asyncio.run(reset_identity_cli(cfg))
    except (TransportError, StoreMismatchError) as exc:
        print(f"clusterbot: {exc}", file=sys.stderr)
        return 2
    print(f"New identity {new} replaces {old or 'none'}. Publish the new fingerprint; the admin room is told "
          "when the bot starts.")
    return 0


def cmd_identity_trust(args: argparse.Namespace) -> int:
    from bot.transports.matrix.state import ensure_store_dir
    from bot.transports.matrix.trust import add_admin_trust_request

    cfg = _config(args)
    master = args.fingerprint.replace(" ", "")
    add_admin_trust_request(ensure_store_dir(cfg.matrix.store_dir), args.user_id, None, None, master=master)
    print(f"The identity {args.fingerprint} of {args.user_id} will be trusted (verified) on the bot's next sync "
          "if it is their current one.")
    return 0


def register(subparsers: Any, admin: Any = None) -> None:
    matrix = subparsers.add_parser("matrix", help="Matrix device maintenance")
    msub = matrix.add_subparsers(dest="matrix_command", required=True)
    p = msub.add_parser("reset-device", help="log in as a new device and delete the old one (lost store)")
    p.add_argument("--config", default=None, help="config file (default clusterbot.toml or $CLUSTERBOT_CONFIG)")
    p.add_argument("--yes", action="store_true", help="do it (without this, only explain)")
    p.set_defaults(func=cmd_reset_device)
    p = msub.add_parser("identity", help="print the bot's master key fingerprint (publish it for partners)")
    p.add_argument("--config", default=None, help="config file (default clusterbot.toml or $CLUSTERBOT_CONFIG)")
    p.set_defaults(func=cmd_identity)
    p = msub.add_parser("reset-identity", help="replace the bot's cross-signing identity (lost or compromised keys)")
    p.add_argument("--config", default=None, help="config file (default clusterbot.toml or $CLUSTERBOT_CONFIG)")
    p.add_argument("--yes", action="store_true", help="do it without asking")
    p.set_defaults(func=cmd_reset_identity)

    if admin is not None:
        device = admin.add_parser("device", help="Matrix device trust")
        dsub = device.add_subparsers(dest="device_command", required=True)
        t = dsub.add_parser("trust", help="trust a user's Matrix device (verified mode, or a lost old device)")
        t.add_argument("user_id", help="the device's owner, e.g. @pia:example.org")
        t.add_argument("device_id", help="the device id as the user's client shows it (Settings > Sessions)")
        t.add_argument("--fingerprint", help="the device's ed25519 key as shown in the user's client")
        t.add_argument("--config", default=None, help="config file (default clusterbot.toml or $CLUSTERBOT_CONFIG)")
        t.set_defaults(func=cmd_device_trust)
        ident = admin.add_parser("identity", help="Matrix identity trust")
        isub = ident.add_subparsers(dest="identity_command", required=True)
        t = isub.add_parser("trust", help="confirm a user's (changed) cross-signing identity after checking it")
        t.add_argument("user_id", help="e.g. @pia:example.org")
        t.add_argument("fingerprint", help="the user's master key as their client shows it (spaces allowed)")
        t.add_argument("--config", default=None, help="config file (default clusterbot.toml or $CLUSTERBOT_CONFIG)")
        t.set_defaults(func=cmd_identity_trust)
