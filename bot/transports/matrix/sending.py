"""Sending, below the transport's checks: the encrypted upload of a file and the room send
that settles device trust first. Used by ``transport.py`` (which runs the protected-room and
private-chat guards before either); logs and errors carry room ids only, never content.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import aiohttp
from nio import AsyncClient, LocalProtocolError, RoomSendResponse, UploadResponse
from nio.exceptions import OlmUnverifiedDeviceError

from bot.transport import OUTGOING_TXN, TransportError

if TYPE_CHECKING:
    from bot.events import OutgoingFile
    from bot.transports.matrix.devices import Devices


async def upload_file_content(client: AsyncClient, file: OutgoingFile) -> dict[str, Any]:
    """Upload encrypted (``encrypt=True``); the ``m.file`` content with the ``file`` key info."""
    resp, keys = await client.upload(
        lambda *_: file.data,
        content_type="application/octet-stream",
        filename=None,
        encrypt=True,
        filesize=len(file.data),
    )
    if not isinstance(resp, UploadResponse) or keys is None:
        raise TransportError(f"matrix: upload failed: {getattr(resp, 'status_code', resp)}")
    keys["url"] = resp.content_uri
    return {
        "msgtype": "m.file",
        "body": file.filename,
        "filename": file.filename,
        "info": {"mimetype": file.mimetype, "size": len(file.data)},
        "file": keys,
    }


async def send_settled(
    client: AsyncClient, devices: Devices, lock: asyncio.Lock, chat_id: str, content: dict[str, Any]
) -> str:
    """Apply the device policy, then send; a device that appears in between is classified and
    the send retried (three tries). Returns the event id."""
    for _attempt in range(3):
        devices.apply_policy()
        try:
            async with lock:  # one key share per room at a time
                # the core's stable id for this message: Synapse returns the first event
                # for a resent transaction instead of posting it twice (crash re-runs)
                resp = await client.room_send(
                    chat_id, "m.room.message", content, tx_id=OUTGOING_TXN.get(), ignore_unverified_devices=False
                )
        except OlmUnverifiedDeviceError:
            continue  # a device appeared between policy and share: classify it, retry
        except (TimeoutError, aiohttp.ClientError, OSError, LocalProtocolError) as exc:
            raise TransportError(f"matrix: send to {chat_id} failed: {type(exc).__name__}") from exc
        if isinstance(resp, RoomSendResponse):
            await devices.send_withheld(chat_id)
            return str(resp.event_id)
        raise TransportError(f"matrix: send to {chat_id} failed: {getattr(resp, 'status_code', resp)}")
    raise TransportError(f"matrix: could not settle device trust for {chat_id}")


def sync_filter(timeline_limit: int) -> dict[str, Any]:
    """The sync filter: room timelines up to ``timeline_limit``, all members, no presence."""
    return {
        "room": {"timeline": {"limit": timeline_limit}, "state": {"lazy_load_members": False}},
        "presence": {"not_types": ["*"]},
    }
