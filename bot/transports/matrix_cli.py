"""CLI for the Matrix side: ``clusterbot matrix reset-device`` and ``clusterbot admin device trust``.

Registered by ``bot.cli`` through ``register(subparsers, admin)``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any


def _config(args: argparse.Namespace) -> Any:
    from bot.config import load_config

    return load_config(args.config)


def cmd_reset_device(args: argparse.Namespace) -> int:
    from bot.transports.matrix import reset_device

    cfg = _config(args)
    if not args.yes:
        print("This logs the bot in as a NEW Matrix device and deletes the old one. Partners will see a new "
              "device; messages encrypted only for the old device cannot be read any more.\n"
              "Stop the running bot first. Re-run with --yes to continue.", file=sys.stderr)
        return 2
    new_device = asyncio.run(reset_device(cfg.matrix))
    print(f"New device {new_device} is ready; the old device was deleted. Start the bot again.")
    return 0


def cmd_device_trust(args: argparse.Namespace) -> int:
    from bot.transports.matrix import trust_device

    cfg = _config(args)
    print(trust_device(cfg.matrix, args.user_id, args.device_id, args.fingerprint))
    return 0


def register(subparsers: Any, admin: Any = None) -> None:
    matrix = subparsers.add_parser("matrix", help="Matrix device maintenance")
    msub = matrix.add_subparsers(dest="matrix_command", required=True)
    p = msub.add_parser("reset-device", help="log in as a new device and delete the old one (lost store)")
    p.add_argument("--config", required=True)
    p.add_argument("--yes", action="store_true", help="do it (without this, only explain)")
    p.set_defaults(func=cmd_reset_device)

    if admin is not None:
        device = admin.add_parser("device", help="Matrix device trust")
        dsub = device.add_subparsers(dest="device_command", required=True)
        t = dsub.add_parser("trust", help="trust a user's Matrix device (verified mode, or a lost old device)")
        t.add_argument("user_id")
        t.add_argument("device_id")
        t.add_argument("--fingerprint", help="the device's ed25519 key as shown in the user's client")
        t.add_argument("--config", required=True)
        t.set_defaults(func=cmd_device_trust)
