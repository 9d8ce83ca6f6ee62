"""Slack's side of the wire, on 127.0.0.1: a Web API that records calls, a Socket Mode WebSocket
server that sends envelopes and records acks, and a client that signs Events API requests.

These fake Slack's servers, not the bot: the bot under test talks real HTTP and WebSocket to them.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import itertools
import json
import socket
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from websockets.exceptions import ConnectionClosed

BOT_USER = "UBOT0001"
BOT_ID = "BBOT0001"
TEAM = "T0001"
APP_ID = "A0001"


def wait_until(condition: Callable[[], Any], timeout: float = 15.0, interval: float = 0.02, what: str = "condition") -> Any:
    """Poll until `condition()` is truthy and return its value; fail after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


@dataclass
class Call:
    method: str
    params: dict
    token: str | None
    at: float = field(default_factory=time.monotonic)
    """When the fake received it (time.monotonic of this process)."""


@dataclass
class Failure:
    status: int
    body: dict
    headers: dict = field(default_factory=dict)
    drop: str | None = None
    """"before": close the connection without handling the call or answering; "after": handle it
    (a post is stored) and close the connection without answering."""


DROP_BEFORE = Failure(0, {}, drop="before")
DROP_AFTER = Failure(0, {}, drop="after")


class FakeSlackAPI:
    """The Web API methods the bot uses. Messages posted by the bot and messages "typed" by test
    users share one store, so `conversations.replies` returns real threads."""

    def __init__(self, port: int = 0) -> None:
        self.calls: list[Call] = []
        self.messages: list[dict] = []
        self.ws_url = ""
        self._failures: dict[str, list[Failure]] = {}
        self._ts = itertools.count(100)
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", port), self._handler_class())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    # -- lifecycle -------------------------------------------------------------------------------

    def start(self) -> FakeSlackAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_port}"

    @property
    def api_url(self) -> str:
        return f"{self.base}/api/"

    def response_url(self, name: str) -> str:
        return f"{self.base}/response/{name}"

    # -- what tests arrange ------------------------------------------------------------------------

    def next_ts(self) -> str:
        return f"1732000000.{next(self._ts):06d}"

    def user_message(self, channel: str, user: str, text: str, thread_ts: str | None = None) -> dict:
        """A message a person typed (already in Slack's escaped form), stored so threads include it."""
        message = {"type": "message", "channel": channel, "user": user, "text": text, "ts": self.next_ts(), "team": TEAM}
        if thread_ts:
            message["thread_ts"] = thread_ts
        with self._lock:
            self.messages.append(message)
        return dict(message)

    def fail_next(self, method: str, status: int, body: dict | None = None, headers: dict | None = None) -> None:
        self.script(method, [Failure(status, body or {"ok": False, "error": "fake_failure"}, headers or {})])

    def script(self, method: str, faults: list[Failure]) -> None:
        """The next calls of `method` meet these faults, in order (`Failure`, `DROP_BEFORE`,
        `DROP_AFTER`); calls after them are handled normally."""
        with self._lock:
            self._failures.setdefault(method, []).extend(faults)

    # -- what tests check --------------------------------------------------------------------------

    def calls_to(self, method: str, **match) -> list[Call]:
        with self._lock:
            calls = list(self.calls)
        return [call for call in calls if call.method == method and all(call.params.get(k) == v for k, v in match.items())]

    def posts(self, channel: str, thread_ts: str | None = None) -> list[dict]:
        """Messages the bot posted (chat.postMessage, with the ts the fake gave them), oldest first."""
        with self._lock:
            messages = list(self.messages)
        return [
            m for m in messages if m.get("bot_id") == BOT_ID and m["channel"] == channel and (thread_ts is None or m.get("thread_ts") == thread_ts)
        ]

    def responses(self, name: str) -> list[dict]:
        return [call.params for call in self.calls_to("response_url", name=name)]

    def wait_for_posts(self, channel: str, thread_ts: str | None = None, count: int = 1, timeout: float = 15.0) -> list[dict]:
        def posted() -> list[dict]:
            found = self.posts(channel, thread_ts)
            return found if len(found) >= count else []

        return wait_until(posted, timeout, what=f"{count} post(s) in {channel}/{thread_ts}")

    def wait_quiet(self, seconds: float = 0.3, timeout: float = 10.0) -> None:
        """Wait until no Web API call has arrived for `seconds`."""
        seen = {"calls": -1, "since": time.monotonic()}

        def quiet() -> bool:
            count = len(self.calls)
            if count != seen["calls"]:
                seen.update(calls=count, since=time.monotonic())
            return time.monotonic() - seen["since"] >= seconds

        wait_until(quiet, timeout, what="the Web API to go quiet")

    def settle(self, deliver: Callable[[dict], object], channel: str) -> None:
        """Let the bot finish what it was sent: a sentinel mention delivered after everything else
        is answered, then no calls for a short while. Use before asserting that nothing (more) came."""
        sentinel = self.user_message(channel + "Z", "US" + channel, f"<@{BOT_USER}> Kapan pertemuan berlangsung?")
        deliver(mention(sentinel))
        self.wait_for_posts(channel + "Z", sentinel["ts"])
        self.wait_quiet()

    # -- the server --------------------------------------------------------------------------------

    def _handle(self, path: str, query: dict, body: bytes, content_type: str, authorization: str | None) -> tuple[int, dict, dict] | None:
        """(status, body, headers), or None: drop the connection without an answer."""
        params = {key: values[-1] for key, values in query.items()}
        if body:
            if content_type.startswith("application/json"):
                params.update(json.loads(body))
            else:
                params.update({key: values[-1] for key, values in urllib.parse.parse_qs(body.decode()).items()})
        token = authorization.removeprefix("Bearer ") if authorization else params.get("token")
        if path.startswith("/response/"):
            params["name"] = path.removeprefix("/response/")
            self._record(Call("response_url", params, None))
            return 200, {"ok": True}, {}
        method = path.removeprefix("/api/")
        with self._lock:
            failures = self._failures.get(method)
            failure = failures.pop(0) if failures else None
        if failure and failure.drop != "after":
            self._record(Call(method + ":failed", params, token))
            return None if failure.drop else (failure.status, failure.body, failure.headers)
        for name in ("blocks", "metadata"):
            if isinstance(params.get(name), str):
                params[name] = json.loads(params[name])
        result = self._answer(method, params)
        self._record(Call(method, params, token))
        if failure:  # handled, then the answer is lost
            self._record(Call(method + ":failed", params, token))
            return None
        return 200, result, {}

    def _answer(self, method: str, params: dict) -> dict:
        if method == "auth.test":
            return {"ok": True, "url": "https://fake.slack.test/", "team": "Fake", "user": "askbot", "team_id": TEAM, "user_id": BOT_USER, "bot_id": BOT_ID}
        if method == "apps.connections.open":
            return {"ok": True, "url": self.ws_url}
        if method == "chat.postMessage":
            message = {"type": "message", "user": BOT_USER, "bot_id": BOT_ID, "ts": self.next_ts(), **params}
            with self._lock:
                self.messages.append(message)
            return {"ok": True, "channel": params.get("channel"), "ts": message["ts"], "message": message}
        if method == "conversations.replies":
            oldest = params.get("oldest")
            with self._lock:
                thread = [m for m in self.messages if m["channel"] == params.get("channel") and params.get("ts") in (m["ts"], m.get("thread_ts"))]
            if oldest:
                thread = [m for m in thread if m["ts"] > oldest or (m["ts"] == oldest and str(params.get("inclusive")).lower() in ("1", "true"))]
            return {"ok": True, "messages": sorted(thread, key=lambda m: m["ts"]), "has_more": False}
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": self.next_ts()}
        return {"ok": True}

    def _record(self, call: Call) -> None:
        with self._lock:
            self.calls.append(call)

    def _handler_class(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                url = urllib.parse.urlsplit(self.path)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                answer = fake._handle(
                    url.path, urllib.parse.parse_qs(url.query), body, self.headers.get("Content-Type", ""), self.headers.get("Authorization")
                )
                if answer is None:  # a dropped connection: no status line at all
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                status, result, headers = answer
                payload = json.dumps(result).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = _serve

            def log_message(self, format, *args) -> None:  # noqa: A002
                pass

        return Handler


class FakeSocketMode:
    """A Socket Mode WebSocket endpoint: says hello, sends envelopes, records every ack."""

    def __init__(self) -> None:
        self.sent: dict[str, dict] = {}
        self.acks: dict[str, dict] = {}
        self._ids = itertools.count(1)
        self._connection = None
        self._lock = threading.Lock()
        self._loop = asyncio.new_event_loop()
        self._server = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def start(self) -> FakeSocketMode:
        from websockets.asyncio.server import serve

        self._thread.start()

        async def start_server():
            return await serve(self._session, "127.0.0.1", 0, ping_interval=None)

        self._server = asyncio.run_coroutine_threadsafe(start_server(), self._loop).result(10)
        return self

    def stop(self) -> None:
        async def close():
            self._server.close()
            await self._server.wait_closed()

        asyncio.run_coroutine_threadsafe(close(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)

    @property
    def url(self) -> str:
        port = next(iter(self._server.sockets)).getsockname()[1]
        return f"ws://127.0.0.1:{port}/link/?ticket=fake-ticket"

    @property
    def connected(self) -> bool:
        return self._connection is not None

    async def _session(self, connection) -> None:
        self._connection = connection
        await connection.send(json.dumps({"type": "hello", "num_connections": 1, "connection_info": {"app_id": APP_ID}, "debug_info": {"host": "fake"}}))
        try:
            async for raw in connection:
                message = json.loads(raw)
                if "envelope_id" in message:
                    with self._lock:
                        self.acks[message["envelope_id"]] = message
        except ConnectionClosed:  # the bot going away without a close frame is its business
            pass

    def send(self, kind: str, payload: Any, *, retry_attempt: int = 0, accepts_response_payload: bool = False, omit: tuple[str, ...] = ()) -> str:
        """Send one envelope (`events_api`, `slash_commands`, `interactive`); returns its id. `payload`
        may be anything JSON holds (a malformed envelope); `omit` leaves fields out altogether."""
        envelope_id = f"env-{next(self._ids)}"
        envelope = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
            "retry_attempt": retry_attempt,
            "retry_reason": "timeout" if retry_attempt else "",
        }
        envelope = {key: value for key, value in envelope.items() if key not in omit}
        with self._lock:
            self.sent[envelope_id] = envelope
        asyncio.run_coroutine_threadsafe(self._connection.send(json.dumps(envelope)), self._loop).result(5)
        return envelope_id

    def wait_acked(self, envelope_id: str, timeout: float = 5.0) -> dict:
        return wait_until(lambda: self.acks.get(envelope_id), timeout, what=f"ack of {envelope_id}")

    def unacked(self) -> list[str]:
        with self._lock:
            return sorted(set(self.sent) - set(self.acks))


class SignedEventsClient:
    """Sends Events API, slash command and interactivity requests the way Slack does: signed with
    the v0 scheme (HMAC-SHA256 of "v0:{timestamp}:{body}" with the signing secret)."""

    def __init__(self, url: str, signing_secret: str) -> None:
        self.url = url
        self.signing_secret = signing_secret
        self._event_ids = itertools.count(1)

    def sign(self, timestamp: str, body: bytes) -> str:
        base = f"v0:{timestamp}:".encode() + body
        return "v0=" + hmac.new(self.signing_secret.encode(), base, hashlib.sha256).hexdigest()

    def post(
        self, body: bytes, content_type: str, *, headers: dict | None = None, timestamp: int | str | None = None, signature: str | None = None
    ) -> tuple[int, bytes]:
        stamp = str(int(time.time()) if timestamp is None else timestamp)
        request_headers = {
            "Content-Type": content_type,
            "X-Slack-Request-Timestamp": stamp,
            "X-Slack-Signature": signature or self.sign(stamp, body),
            **(headers or {}),
        }
        request = urllib.request.Request(self.url, data=body, headers=request_headers, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def event(self, event: dict, *, event_id: str | None = None, retry_num: int | None = None, **options) -> tuple[int, bytes]:
        body = json.dumps(event_envelope(event, event_id or f"Ev{next(self._event_ids):08d}")).encode()
        headers = {"X-Slack-Retry-Num": str(retry_num), "X-Slack-Retry-Reason": "http_timeout"} if retry_num else None
        return self.post(body, "application/json", headers=headers, **options)

    def command(self, fields: dict) -> tuple[int, bytes]:
        return self.post(urllib.parse.urlencode(fields).encode(), "application/x-www-form-urlencoded")

    def interaction(self, payload: dict) -> tuple[int, bytes]:
        return self.post(urllib.parse.urlencode({"payload": json.dumps(payload)}).encode(), "application/x-www-form-urlencoded")


# -- payloads as Slack sends them -------------------------------------------------------------------


def event_envelope(event: dict, event_id: str) -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "api_app_id": APP_ID,
        "event": event,
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [{"team_id": TEAM, "user_id": BOT_USER, "is_bot": True}],
    }


def mention(message: dict) -> dict:
    """The `app_mention` event for a stored user message."""
    carried = ("user", "text", "ts", "channel", "team", "thread_ts", "bot_id")
    return {"type": "app_mention", "event_ts": message["ts"], **{key: message[key] for key in carried if key in message}}


def message_event(message: dict, channel_type: str = "channel") -> dict:
    return {**message, "event_ts": message["ts"], "channel_type": channel_type}


def slash_command(text: str, *, user: str, channel: str, response_url: str, trigger_id: str) -> dict:
    return {
        "token": "legacy-verification-token",
        "team_id": TEAM,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/ask",
        "text": text,
        "api_app_id": APP_ID,
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def button_click(posted: dict, action_id: str, *, user: str, response_url: str) -> dict:
    """The `block_actions` payload for clicking `action_id` on a message the bot posted."""
    button = next(element for block in posted["blocks"] if block["type"] == "actions" for element in block["elements"] if element["action_id"] == action_id)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": APP_ID,
        "team": {"id": TEAM, "domain": "fake"},
        "container": {"type": "message", "message_ts": posted.get("ts", ""), "channel_id": posted["channel"], "is_ephemeral": False},
        "trigger_id": f"trigger-{time.monotonic_ns()}",
        "channel": {"id": posted["channel"], "name": "general"},
        "message": {"type": "message", "text": posted.get("text", ""), "blocks": posted["blocks"], "ts": posted.get("ts", "")},
        "response_url": response_url,
        "actions": [{"action_id": action_id, "block_id": "feedback", "value": button["value"], "type": "button", "action_ts": str(time.time())}],
    }


# -- reading what the bot posted ----------------------------------------------------------------------


def sections(post: dict) -> list[str]:
    return [block["text"]["text"] for block in post["blocks"] if block["type"] == "section"]


def contexts(post: dict) -> list[str]:
    return [element["text"] for block in post["blocks"] if block["type"] == "context" for element in block["elements"]]
