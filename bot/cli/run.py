"""``clusterbot run``: everything checked before any transport starts, then the bot.

``run_bot`` is also what ``bot.demo`` and the end-to-end tests start the bot with."""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import signal
import sys
from typing import Any

from bot.cli.deployment import check_database, hold_deployment, load
from bot.cli.errors import CliError
from bot.config import Config, check_files_for_run


def build_transports(cfg: Config, app_hooks: Any) -> list[Any]:
    transports: list[Any] = []
    if cfg.matrix.enabled:
        from bot.transports.matrix import MatrixTransport

        transports.append(
            MatrixTransport(
                cfg.matrix,
                is_known_user=lambda uid: app_hooks.is_known_user(uid, "matrix"),
                audit=functools.partial(app_hooks.audit_hook, transport="matrix"),
                notify_admins=app_hooks.notify_admins,
                is_admin=lambda uid: app_hooks.is_admin(uid, "matrix"),
                rate_limit_messages=False,  # the core's rate-limit step is the one limit on messages
            )
        )
    if cfg.telegram.enabled:
        from bot.transports.telegram import TelegramTransport

        transports.append(TelegramTransport(cfg.telegram, rate_limit_messages=False))  # the core limits messages
    return transports


async def _remember_matrix_device(app: Any) -> None:
    """Record in the database which Matrix device the bot runs as, so that a start with
    the Matrix store folder gone is refused (see :func:`_check_before_run`)."""
    from storage.store import MATRIX_DEVICE_SETTING

    matrix = app.transports.get("matrix")
    if matrix is None:
        return
    try:
        record = json.dumps({"user_id": str(matrix.user_id), "device_id": str(matrix.device_id)})
        await app.storage.put_setting(MATRIX_DEVICE_SETTING, record)
    except Exception:  # noqa: BLE001 - never stops the bot; the next start records it again
        import logging

        logging.getLogger(__name__).warning("could not record the Matrix device id in the database")


async def _check_before_run(cfg: Config) -> None:
    """Everything ``run`` can check before any transport starts, one line each: the
    database, the schema, the blob folder, the master key and the Matrix store."""
    from storage.store import MATRIX_DEVICE_SETTING, Storage

    await check_database(cfg)
    st = cfg.storage
    store = await Storage.open(st.database_url, st.blob_dir, st.master_key_file)  # checks blob_dir and the key
    try:
        record = await store.get_setting(MATRIX_DEVICE_SETTING)
    finally:
        await store.close()
    if not cfg.matrix.enabled or record is None:
        return
    try:
        ran = json.loads(record)
        user_id, device_id = str(ran["user_id"]), str(ran["device_id"])
    except (ValueError, KeyError, TypeError):
        return
    from bot.transports.matrix.state import CREDENTIALS_FILE

    if user_id == cfg.matrix.user_id and not (cfg.matrix.store_dir / CREDENTIALS_FILE).exists():
        raise CliError(
            f"the Matrix store {cfg.matrix.store_dir} is missing or empty, but the bot ran before as {user_id} "
            f"device {device_id}: starting would log in as a new device and trust everyone again on first use; "
            "restore that folder from a backup, or run 'clusterbot matrix reset-device --yes'"
        )


def _start_refused(exc: BaseException) -> CliError | None:
    """A refused start as one line: a refused login (``TransportError``), a lost Matrix
    store or a foreign identity (``StoreMismatchError``); else None."""
    from bot.transport import TransportError

    if not isinstance(exc, TransportError):
        if not isinstance(exc, RuntimeError):
            return None
        from bot.transports.matrix.state import StoreMismatchError  # only loaded when something failed

        if not isinstance(exc, StoreMismatchError):
            return None
    return CliError(f"cannot start: {exc}")


async def _create_app(cfg: Config) -> Any:
    """The application with the real bot's workflows (``handlers.WORKFLOWS``) and transports."""
    from bot.app import Application
    from handlers import WORKFLOWS

    try:
        app = await Application.create(cfg, workflows=WORKFLOWS)
    except RuntimeError:
        await check_database(cfg)  # the schema changed since it was checked: one line, not a traceback
        raise
    app.transports = {t.name: t for t in build_transports(cfg, app)}
    return app


async def _serve(app: Any, stop: asyncio.Event) -> None:
    """Start the transports while listening for ``stop`` (a homeserver that is down at start
    is waited for, and SIGTERM must still stop the bot cleanly meanwhile), then run until
    ``stop``. The caller stops the application."""
    starting = asyncio.create_task(app.start())
    stopping = asyncio.create_task(stop.wait())
    await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
    if not starting.done():
        starting.cancel()
        await asyncio.gather(starting, return_exceptions=True)
    else:
        try:
            starting.result()
        except Exception as exc:
            refused = _start_refused(exc)
            if refused is None:
                raise
            raise refused from None
        await _remember_matrix_device(app)
        print("clusterbot running; Ctrl-C to stop", file=sys.stderr, flush=True)
        await stop.wait()
    stopping.cancel()


async def run_bot(cfg: Config, stop: asyncio.Event | None = None) -> int:
    from bot.logsetup import setup_logging

    setup_logging(cfg.logging.level, cfg.logging.json)
    if not (cfg.matrix.enabled or cfg.telegram.enabled):
        raise CliError("no transport is enabled: enable [matrix] or [telegram] in the config")
    app = await _create_app(cfg)
    stop = stop or asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
        except (NotImplementedError, RuntimeError):
            pass
    try:
        await _serve(app, stop)
    finally:
        await app.stop()
    print("clusterbot stopped", file=sys.stderr)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    cfg = load(args, transport_secrets=True)
    check_files_for_run(cfg)
    if not (cfg.matrix.enabled or cfg.telegram.enabled):
        raise CliError("no transport is enabled: enable [matrix] or [telegram] in the config")
    hold_deployment(cfg, "clusterbot run", "run")  # for the process's whole life

    async def go() -> int:
        await _check_before_run(cfg)
        return await run_bot(cfg)

    return asyncio.run(go())
