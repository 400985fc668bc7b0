"""A small fake Telegram Bot API server for end-to-end tests of the Telegram transport.

It speaks HTTP on 127.0.0.1 (random port) so the real python-telegram-bot library and
httpx do the talking, and implements only what the transport uses: ``getMe``,
``getUpdates`` (long poll, honours ``offset`` like Telegram: an update is confirmed
by asking for a higher offset), ``sendMessage``, ``deleteMessage`` and ``getFile``
(recorded, so tests can prove it was *not* called). Error shapes follow the real API
(``{"ok": false, "error_code": ..., "description": ...}``).

Test hooks: ``push_text`` / ``push_document`` / ``push_photo`` queue updates;
``push_raw`` queues an update exactly as given (e.g. a malformed one PTB cannot parse);
``replay`` re-delivers an already confirmed update; ``fail_next`` makes the next
getUpdates calls answer 500 or drop the connection; ``bad_json_next`` makes the next
non-empty getUpdates answers cut-off (invalid) JSON that still holds the updates' content;
``wait_handled`` waits until the bot has confirmed an update (the transport confirms only
after handling it), which is the deterministic "the bot is done with it" point.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777000111
MAX_TEXT = 4096


@dataclass
class SentMessage:
    chat_id: str
    message_id: int
    text: str
    reply_to: int | None


@dataclass
class FakeTelegram:
    token: str = "123:ABC"
    sent: list[SentMessage] = field(default_factory=list)
    deleted: list[tuple[str, int]] = field(default_factory=list)
    calls: list[str] = field(default_factory=list)
    # ("sendMessage" | "deleteMessage", chat id, message id) in the order they took effect
    history: list[tuple[str, str, int]] = field(default_factory=list)
    deny_delete: bool = False  # like a group where the bot is not an admin
    port: int = 0

    def __post_init__(self) -> None:
        self._updates: list[dict[str, Any]] = []  # unconfirmed, in id order
        self._replays: list[dict[str, Any]] = []  # returned once whatever the offset
        self._confirmed_below = 0  # every update id below this is confirmed
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._messages: dict[str, set[int]] = {}  # chat -> message ids that exist
        self._changed = asyncio.Condition()
        self._failures: dict[str, list[str]] = {}
        self._bad_json = 0  # getUpdates answers with a batch to send as invalid JSON
        self._closing = False
        self._runner: web.AppRunner | None = None

    # ------------------------------------------------------------------ lifecycle

    async def start(self) -> FakeTelegram:
        app = web.Application()
        app.router.add_route("POST", "/bot{token}/{method}", self._api)
        app.router.add_route("GET", "/bot{token}/{method}", self._api)
        self._runner = web.AppRunner(app, shutdown_timeout=2.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = int(self._runner.addresses[0][1])
        return self

    async def close(self) -> None:
        self._closing = True
        async with self._changed:
            self._changed.notify_all()  # wake long polls so shutdown is immediate
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/bot"

    # ------------------------------------------------------------------ test hooks

    def _user(self, user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User{user_id}"}

    def _chat(self, chat_id: int, chat_type: str) -> dict[str, Any]:
        if chat_type == "private":
            return {"id": chat_id, "type": "private", "first_name": f"User{chat_id}"}
        return {"id": chat_id, "type": chat_type, "title": "A group"}

    async def push_message(
        self,
        user_id: int,
        fields: dict[str, Any],
        *,
        chat_id: int | None = None,
        chat_type: str = "private",
        message_id: int | None = None,
    ) -> dict[str, Any]:
        """Queue a message update from ``user_id``; returns the update (for ``replay``).

        ``message_id`` re-sends an existing message under a new update id.
        """
        chat = user_id if chat_id is None else chat_id
        mid = next(self._message_ids) if message_id is None else message_id
        self._messages.setdefault(str(chat), set()).add(mid)
        update = {
            "update_id": next(self._update_ids),
            "message": {
                "message_id": mid,
                "date": int(time.time()),
                "chat": self._chat(chat, chat_type),
                "from": self._user(user_id),
                **fields,
            },
        }
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    async def push_text(self, user_id: int, text: str, **kw: Any) -> dict[str, Any]:
        return await self.push_message(user_id, {"text": text}, **kw)

    async def push_document(
        self,
        user_id: int,
        filename: str = "beneficiaries.xlsx",
        mimetype: str = "application/octet-stream",
        caption: str | None = None,
        **kw: Any,
    ) -> dict[str, Any]:
        doc = {
            "file_id": "DOC-1",
            "file_unique_id": "U-DOC-1",
            "file_name": filename,
            "mime_type": mimetype,
            "file_size": 1234,
        }
        fields: dict[str, Any] = {"document": doc}
        if caption is not None:
            fields["caption"] = caption
        return await self.push_message(user_id, fields, **kw)

    async def push_photo(self, user_id: int, caption: str | None = None, **kw: Any) -> dict[str, Any]:
        sizes = [{"file_id": f"PH-{w}", "file_unique_id": f"U-PH-{w}", "width": w, "height": w} for w in (90, 800)]
        fields: dict[str, Any] = {"photo": sizes}
        if caption is not None:
            fields["caption"] = caption
        return await self.push_message(user_id, fields, **kw)

    async def push_raw(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Queue ``payload`` as an update as it is (only ``update_id`` is added): malformed on purpose."""
        update = {"update_id": next(self._update_ids), **payload}
        async with self._changed:
            self._updates.append(update)
            self._changed.notify_all()
        return update

    def bad_json_next(self, count: int = 1) -> None:
        """The next ``count`` getUpdates answers that carry updates are cut off: invalid JSON, same content.

        Applied when the answer is sent (not when the request arrives), so a long poll already
        waiting is affected too and the broken body really holds the pending messages.
        """
        self._bad_json += count

    async def replay(self, update: dict[str, Any]) -> None:
        """Deliver ``update`` again even though it was confirmed (a server-side glitch)."""
        async with self._changed:
            self._replays.append(update)
            self._changed.notify_all()

    def fail_next(self, count: int, mode: str = "500", method: str = "getUpdates") -> None:
        """Make the next ``count`` calls of ``method`` fail: ``"500"`` or ``"drop"`` (connection closed)."""
        assert mode in ("500", "drop")
        self._failures.setdefault(method, []).extend([mode] * count)

    def open_chat(self, user_id: int) -> None:
        """The user pressed Start earlier, so the bot may write to them."""
        self._messages.setdefault(str(user_id), set())

    @property
    def confirmed_below(self) -> int:
        """Every update id below this has been confirmed by the bot."""
        return self._confirmed_below

    def texts(self, chat_id: int | str | None = None) -> list[str]:
        return [m.text for m in self.sent if chat_id is None or m.chat_id == str(chat_id)]

    async def wait_handled(self, update: dict[str, Any], timeout: float = 10.0) -> None:
        """Wait until the bot confirmed ``update`` (it confirms only after handling it)."""
        await self._wait(lambda: self._confirmed_below > update["update_id"], timeout)

    async def wait_sent(self, count: int, timeout: float = 10.0) -> list[SentMessage]:
        await self._wait(lambda: len(self.sent) >= count, timeout)
        return self.sent

    async def _wait(self, predicate: Any, timeout: float) -> None:
        async def go() -> None:
            async with self._changed:
                await self._changed.wait_for(predicate)

        await asyncio.wait_for(go(), timeout)

    # ------------------------------------------------------------------ the API

    @staticmethod
    def _error(code: int, description: str) -> web.Response:
        return web.json_response({"ok": False, "error_code": code, "description": description}, status=code)

    @staticmethod
    def _ok(result: Any) -> web.Response:
        return web.json_response({"ok": True, "result": result})

    @staticmethod
    async def _params(request: web.Request) -> dict[str, Any]:
        """PTB sends form fields whose non-string values are JSON encoded."""
        if request.content_type == "application/json":
            return dict(await request.json())
        params: dict[str, Any] = {}
        for key, value in (await request.post()).items():
            if not isinstance(value, str):
                continue
            try:
                params[key] = json.loads(value)
            except ValueError:
                params[key] = value
        return params

    async def _api(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return self._error(401, "Unauthorized")
        method = request.match_info["method"]
        self.calls.append(method)
        params = await self._params(request)
        failures = self._failures.get(method)
        if failures:
            if failures.pop(0) == "drop":
                assert request.transport is not None
                request.transport.close()
                raise asyncio.CancelledError  # aiohttp: abandon the handler without a response
            return self._error(500, "Internal Server Error")
        handler = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "sendMessage": self._send_message,
            "deleteMessage": self._delete_message,
            "getFile": self._get_file,
        }.get(method)
        if handler is None:
            return self._error(404, "Not Found: method not found")
        return await handler(request, params)

    async def _get_me(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        return self._ok(
            {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "Cluster Bot",
                "username": "cluster_test_bot",
                "can_join_groups": True,
                "can_read_all_group_messages": False,
                "supports_inline_queries": False,
            }
        )

    async def _get_updates(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        async with self._changed:
            if offset > self._confirmed_below:
                self._confirmed_below = offset
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                self._changed.notify_all()

            def ready() -> bool:
                return self._closing or bool(self._updates) or bool(self._replays)

            try:
                await asyncio.wait_for(self._changed.wait_for(ready), timeout)
            except TimeoutError:
                pass
            batch = (self._replays + self._updates)[:limit]
            self._replays.clear()
        if batch and self._bad_json > 0:
            self._bad_json -= 1
            body = json.dumps({"ok": True, "result": batch})
            return web.Response(text=body[:-3], content_type="application/json")  # cut off: invalid JSON
        return self._ok(batch)

    async def _send_message(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        chat_id = str(params["chat_id"])
        text = str(params.get("text", ""))
        if chat_id not in self._messages:
            return self._error(400, "Bad Request: chat not found")
        if not text:
            return self._error(400, "Bad Request: message text is empty")
        if len(text.encode("utf-16-le")) // 2 > MAX_TEXT:
            return self._error(400, "Bad Request: message is too long")
        reply = params.get("reply_parameters") or {}
        reply_to = reply.get("message_id") if isinstance(reply, dict) else None
        if reply_to is None and params.get("reply_to_message_id"):
            reply_to = int(params["reply_to_message_id"])
        if (
            reply_to is not None
            and reply_to not in self._messages[chat_id]
            and not reply.get("allow_sending_without_reply")
        ):
            return self._error(400, "Bad Request: message to be replied not found")
        mid = next(self._message_ids)
        self._messages[chat_id].add(mid)
        async with self._changed:
            self.sent.append(SentMessage(chat_id, mid, text, reply_to))
            self.history.append(("sendMessage", chat_id, mid))
            self._changed.notify_all()
        chat = self._chat(int(chat_id), "private")
        return self._ok(
            {
                "message_id": mid,
                "date": int(time.time()),
                "chat": chat,
                "from": {"id": BOT_ID, "is_bot": True, "first_name": "Cluster Bot"},
                "text": text,
            }
        )

    async def _delete_message(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        chat_id, mid = str(params["chat_id"]), int(params["message_id"])
        if mid not in self._messages.get(chat_id, set()):
            return self._error(400, "Bad Request: message to delete not found")
        if self.deny_delete:
            return self._error(400, "Bad Request: message can't be deleted")
        self._messages[chat_id].discard(mid)
        self.deleted.append((chat_id, mid))
        self.history.append(("deleteMessage", chat_id, mid))
        return self._ok(True)

    async def _get_file(self, request: web.Request, params: dict[str, Any]) -> web.StreamResponse:
        return self._ok(
            {
                "file_id": params.get("file_id"),
                "file_unique_id": "U",
                "file_size": 1234,
                "file_path": "documents/file_1.bin",
            }
        )
