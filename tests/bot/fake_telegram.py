"""A fake Telegram Bot API server: real HTTP on 127.0.0.1, updates injected by tests, calls recorded.

The real application talks to it through PTB's ``base_url``. It implements the methods the bot
uses — ``getMe``, ``deleteWebhook``, ``getUpdates`` (long polling from a queue, honouring
``offset`` and ``timeout``), ``setWebhook``, ``sendMessage``, ``sendChatAction``,
``answerCallbackQuery``, ``editMessageReplyMarkup``, ``editMessageText``, ``answerInlineQuery``,
``setMyCommands``, ``getMyCommands`` — and
behaves like Telegram where it matters to the tests:

* a wrong token gets 401 Unauthorized;
* ``sendMessage`` with HTML that Telegram would refuse gets 400 "can't parse entities";
* ``answerInlineQuery`` checks its results as Telegram does (at most 50, unique ids of at most 64
  bytes, a title, a message of valid HTML within 4096 characters) and keeps them in
  :attr:`FakeTelegram.inline_answers`;
* :meth:`FakeTelegram.fail_next` scripts faults for the next calls of one method: an error status
  (:func:`server_error`, :func:`conflict`, :func:`flood` with ``retry_after``), an answer later than
  the client waits (:func:`slow`: the call is still carried out, as Telegram does when it is merely
  slow), or a connection closed without any answer (:data:`DROP`: the call is not carried out).

Usable inside an async test (:meth:`start` / :meth:`stop`) or from a synchronous one, in a
background thread (:func:`serve_in_thread`).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from aiohttp import web

from tests.bot.telegram_html import InvalidTelegramHtml, parse_telegram_html, utf16_len

TOKEN = "123456:TEST-TOKEN"
BOT_ID = 123456
BOT_USERNAME = "akhbar_test_bot"
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "أخبار", "username": BOT_USERNAME,
            "can_join_groups": True, "can_read_all_group_messages": False, "supports_inline_queries": False}
#: Parameters PTB sends as plain strings; every other parameter is JSON-encoded.
_STRING_PARAMETERS = {"text", "parse_mode", "action", "callback_query_id", "url", "secret_token", "language_code",
                      "inline_query_id"}
#: Longest long-poll wait, whatever the client asks, so a test can never hang on the server.
_MAX_POLL_SECONDS = 5.0
#: Longest wait on stop for requests still being answered (a slow fault), so stopping never hangs.
_SHUTDOWN_SECONDS = 2.0
#: Status recorded for a request the server hung up on without answering.
DROPPED = 0


@dataclass(frozen=True, slots=True)
class Fault:
    """How the server misbehaves on one request; build one with the functions below.

    Attributes:
        status: Answer with this HTTP status and ``description`` instead of carrying out the call.
        description: The error text Telegram would send.
        parameters: ``ResponseParameters`` of the error (``retry_after``).
        delay: Wait this long, then carry out the call and answer as usual.
        drop: Close the connection without answering; the call is not carried out.
    """

    status: int | None = None
    description: str = ""
    parameters: dict[str, Any] | None = None
    delay: float = 0.0
    drop: bool = False

    def payload(self) -> dict[str, Any]:
        """The error body Telegram sends with ``status``."""
        body: dict[str, Any] = {"ok": False, "error_code": self.status, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def server_error(status: int = 500) -> Fault:
    """Telegram failing inside: 500 Internal Server Error (or 502 Bad Gateway, …)."""
    return Fault(status=status, description=HTTPStatus(status).phrase)


def flood(retry_after: int = 1) -> Fault:
    """429 Too Many Requests with the seconds to wait."""
    return Fault(status=429, description=f"Too Many Requests: retry after {retry_after}",
                 parameters={"retry_after": retry_after})


def conflict() -> Fault:
    """409 on ``getUpdates``: another process is polling with the same token."""
    return Fault(status=409, description="Conflict: terminated by other getUpdates request; make sure that only "
                                         "one bot instance is running")


def slow(seconds: float) -> Fault:
    """Carry the call out, but answer only after ``seconds`` (longer than the client waits)."""
    return Fault(delay=seconds)


DROP = Fault(drop=True)


@dataclass(slots=True)
class Call:
    """One Bot API request the server received."""

    method: str
    params: dict[str, Any]
    at: float
    status: int = 200
    result: Any = None

    @property
    def message_id(self) -> int:
        """Id of the message a successful send or edit returned."""
        return int(self.result["message_id"])


class FakeTelegram:
    """The fake server; see the module docstring.

    Args:
        token: The only token accepted.
    """

    def __init__(self, token: str = TOKEN) -> None:
        self.token = token
        self.calls: list[Call] = []
        self.delivered_at: dict[int, float] = {}
        self.commands: list[dict[str, Any]] = []
        #: Successful ``answerInlineQuery`` calls by inline query id.
        self.inline_answers: dict[str, Call] = {}
        #: The parameters of the last ``setWebhook`` (url, secret_token, …); empty when none is set.
        self.webhook: dict[str, Any] = {}
        self.port = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(10_000)
        self._faults: defaultdict[str, deque[Fault]] = defaultdict(deque)
        self._delivered: defaultdict[int, list[Call]] = defaultdict(list)
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._arrived: asyncio.Event | None = None
        self._changed: asyncio.Condition | None = None

    # -- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1."""
        self._loop = asyncio.get_running_loop()
        self._arrived = asyncio.Event()
        self._changed = asyncio.Condition()
        app = web.Application()
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=_SHUTDOWN_SECONDS)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]

    async def stop(self) -> None:
        """Close the server (pending long polls end)."""
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What PTB's ``base_url`` should be."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        """What PTB's ``base_file_url`` should be."""
        return f"http://127.0.0.1:{self.port}/file/bot"

    # -- scripting ----------------------------------------------------------------------------

    def inject(self, update: dict[str, Any]) -> int:
        """Queue an update (its ``update_id`` is assigned here) for the next ``getUpdates``."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        assert self._arrived is not None, "start() the server first"
        self._arrived.set()
        return update_id

    def release_polls(self) -> None:
        """End a pending long poll now (empty), so a client that is stopping need not wait out its timeout."""
        assert self._arrived is not None
        self._arrived.set()

    def fail_next(self, method: str, fault: Fault, count: int = 1) -> None:
        """Misbehave on the next ``count`` calls of ``method`` (after any faults already scripted)."""
        self._faults[method].extend([fault] * count)

    def pending_faults(self, method: str) -> int:
        """Scripted faults of ``method`` not yet applied."""
        return len(self._faults[method])

    def fail_next_sends(self, count: int, retry_after: int = 1) -> None:
        """Answer the next ``count`` sendMessage calls with 429 Too Many Requests."""
        self.fail_next("sendMessage", flood(retry_after), count)

    def requests(self, method: str, status: int | None = 200) -> list[Call]:
        """Recorded calls of ``method`` (by default only the successful ones)."""
        return [c for c in self.calls if c.method == method and (status is None or c.status == status)]

    def sent(self, chat_id: int | None = None) -> list[Call]:
        """Messages delivered (sendMessage answered 200), optionally to one chat (kept per chat: cheap to poll)."""
        return self.requests("sendMessage") if chat_id is None else list(self._delivered[chat_id])

    async def wait_until(self, condition: Callable[[], bool], timeout: float = 10.0) -> bool:
        """Wait until ``condition()`` holds (re-checked at every call received); False after ``timeout``."""
        assert self._changed is not None
        try:
            async with self._changed:
                await asyncio.wait_for(self._changed.wait_for(condition), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_for(self, condition: Callable[[], bool], timeout: float = 10.0) -> None:
        """Wait until ``condition()`` holds (re-checked at every call received), or fail the test."""
        if not await self.wait_until(condition, timeout):
            recent = [(c.method, c.status, str(c.params.get("text", ""))[:60]) for c in self.calls[-8:]]
            raise AssertionError(f"condition not met within {timeout} s; last calls: {recent}")

    async def settle(self, quiet: float = 0.3) -> None:
        """Wait until no request arrived for ``quiet`` seconds (to assert that nothing more comes)."""
        last = -1
        while last != len(self.calls):
            last = len(self.calls)
            await asyncio.sleep(quiet)

    # -- the API ------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _parameters(request)
        if request.match_info["token"] != self.token:
            return await self._record(method, params, 401, {"ok": False, "error_code": 401,
                                                            "description": "Unauthorized"})
        fault = await self._next_fault(method)
        if fault is not None and fault.drop:
            return await self._hang_up(request, method, params)
        if fault is not None and fault.status is not None:
            return await self._record(method, params, fault.status, fault.payload())
        if fault is not None:
            await asyncio.sleep(fault.delay)
        if method == "getUpdates":
            return await self._record(method, params, 200, {"ok": True, "result": await self._poll(params)})
        handler = getattr(self, f"_{method}", None)
        if handler is None:
            return await self._record(method, params, 400, {"ok": False, "error_code": 400,
                                                            "description": f"Bad Request: {method} not faked"})
        status, payload = handler(params)
        return await self._record(method, params, status, payload)

    async def _record(self, method: str, params: dict[str, Any], status: int, payload: dict[str, Any]) -> web.Response:
        call = Call(method, params, time.monotonic(), status, payload.get("result"))
        self.calls.append(call)
        if method == "sendMessage" and status == 200:
            self._delivered[int(params["chat_id"])].append(call)
        if method == "answerInlineQuery" and status == 200:
            self.inline_answers[str(params["inline_query_id"])] = call
        await self._notify()
        return web.json_response(payload, status=status or 500)

    async def _next_fault(self, method: str) -> Fault | None:
        """The fault scripted for this call of ``method``, if any (a test may be waiting for it to be met)."""
        if not self._faults[method]:
            return None
        fault = self._faults[method].popleft()
        await self._notify()
        return fault

    async def _hang_up(self, request: web.Request, method: str, params: dict[str, Any]) -> web.StreamResponse:
        """Close the connection without an answer (recorded with status :data:`DROPPED`)."""
        await self._record(method, params, DROPPED, {})
        assert request.transport is not None
        request.transport.abort()
        return web.Response()  # never reaches the client: the connection is gone

    async def _notify(self) -> None:
        """Wake :meth:`wait_until` to check its condition again."""
        assert self._changed is not None
        async with self._changed:
            self._changed.notify_all()

    async def _poll(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        assert self._arrived is not None
        if not self._updates:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(),
                                       min(float(params.get("timeout") or 0), _MAX_POLL_SECONDS))
        batch = list(self._updates[: int(params.get("limit") or 100)])
        now = time.monotonic()
        for update in batch:
            self.delivered_at.setdefault(update["update_id"], now)
        return batch

    def _getMe(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802 - Bot API name
        return 200, {"ok": True, "result": BOT_USER}

    def _deleteWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        self.webhook = {}
        return 200, {"ok": True, "result": True}

    def _setWebhook(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        self.webhook = dict(params)
        return 200, {"ok": True, "result": True}

    def _setMyCommands(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        self.commands = list(params.get("commands") or [])
        return 200, {"ok": True, "result": True}

    def _getMyCommands(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return 200, {"ok": True, "result": self.commands}

    def _sendChatAction(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return 200, {"ok": True, "result": True}

    def _answerCallbackQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return 200, {"ok": True, "result": True}

    def _sendMessage(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        text = str(params.get("text", ""))
        visible = text
        if params.get("parse_mode") == "HTML":
            try:
                visible = parse_telegram_html(text).text
            except InvalidTelegramHtml as error:
                return 400, {"ok": False, "error_code": 400,
                             "description": f"Bad Request: can't parse entities: {error}"}
        if not visible.strip() or utf16_len(visible) > 4096:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: message is too long or empty"}
        return 200, {"ok": True, "result": self._message(params, visible)}

    def _editMessageReplyMarkup(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        return 200, {"ok": True, "result": self._message(params, "…")}

    def _editMessageText(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        refusal = _html_refusal(str(params.get("text", "")), params.get("parse_mode"))
        if refusal:
            return 400, {"ok": False, "error_code": 400, "description": f"Bad Request: {refusal}"}
        return 200, {"ok": True, "result": self._message(params, str(params["text"]))}

    def _answerInlineQuery(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:  # noqa: N802
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: RESULTS_TOO_MUCH"}
        ids = [str(r.get("id", "")) for r in results]
        if len(set(ids)) != len(ids) or any(not 1 <= len(i.encode()) <= 64 for i in ids):
            return 400, {"ok": False, "error_code": 400, "description": "Bad Request: RESULT_ID_INVALID"}
        for result in results:
            content = result.get("input_message_content") or {}
            refusal = _html_refusal(str(content.get("message_text", "")), content.get("parse_mode"))
            if result.get("type") != "article" or not str(result.get("title", "")).strip() or refusal:
                return 400, {"ok": False, "error_code": 400,
                             "description": f"Bad Request: invalid result: {refusal or 'no title'}"}
        return 200, {"ok": True, "result": True}

    def _message(self, params: dict[str, Any], text: str) -> dict[str, Any]:
        chat_id = int(params["chat_id"]) if "chat_id" in params else 1
        message = {"message_id": int(params.get("message_id") or next(self._message_ids)), "date": int(time.time()),
                   "chat": chat(chat_id), "from": BOT_USER, "text": text}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        return message


def _html_refusal(text: str, parse_mode: object) -> str | None:
    """Why Telegram would refuse this message text ("can't parse entities", too long, empty), or None."""
    visible = text
    if parse_mode == "HTML":
        try:
            visible = parse_telegram_html(text).text
        except InvalidTelegramHtml as error:
            return f"can't parse entities: {error}"
    if not visible.strip() or utf16_len(visible) > 4096:
        return "message is too long or empty"
    return None


def chat(chat_id: int) -> dict[str, Any]:
    """A private chat for positive ids, a supergroup for negative ones (as Telegram numbers them)."""
    if chat_id > 0:
        return {"id": chat_id, "type": "private", "first_name": "قارئ"}
    return {"id": chat_id, "type": "supergroup", "title": "مجموعة أخبار"}


async def _parameters(request: web.Request) -> dict[str, Any]:
    """Decode PTB's form-encoded parameters (strings as they are, everything else JSON)."""
    form = await request.post() if request.can_read_body else {}
    params: dict[str, Any] = dict(request.query)
    for key, value in form.items():
        params[key] = value if key in _STRING_PARAMETERS or not isinstance(value, str) else _json(value)
    return params


def _json(value: str) -> Any:
    try:
        return json.loads(value)
    except json.JSONDecodeError:
        return value


@contextlib.contextmanager
def serve_in_thread(token: str = TOKEN) -> Iterator[FakeTelegram]:
    """Run a :class:`FakeTelegram` on its own event loop in a thread (for synchronous tests)."""
    server = FakeTelegram(token)
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def serve() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        ready.set()
        loop.run_forever()
        loop.run_until_complete(server.stop())
        loop.close()

    thread = threading.Thread(target=serve, name="fake-telegram", daemon=True)
    thread.start()
    assert ready.wait(10), "the fake Bot API did not start"
    try:
        yield server
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
