"""Every HTTP request from "Slack" checked before bolt reads it: size, signature, shape (and every
Socket Mode envelope: shape).

bolt parses a body before it verifies its signature, and assumes Slack's shapes throughout: a
non-numeric timestamp, a JSON array, `"event": null` or a number where it expects an object raise
deep inside it and become a 500 with a traceback. The HTTP server (`app.make_http_server`) asks
`check_signature` and `check_payload` first and answers with one log line instead:

    body over MAX_BODY_BYTES                                  413
    X-Slack-Request-Timestamp missing or not a number,
    older than five minutes, signature not ours               401  (checked before anything is parsed)
    not UTF-8, not JSON, not a JSON object, a field Slack
    documents with another type (see ENVELOPE), an
    `event_callback` without an event                         400

Socket Mode envelopes come over Slack's own authenticated connection, so only their payload's shape
is checked (`payload_problem`); a malformed one is acknowledged and dropped with one log line
(`app.serve_socket_mode`), so Slack does not send it again.

Fields that are missing but are needed to answer (an event without a channel) are the listeners'
business: they ignore such an event with one log line (`handlers`). A form body is handed to bolt in
a spelling bolt reads correctly (`for_bolt`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Slack's largest payloads (a 40,000-character message with 50 blocks, a view submission) are a
fraction of this; anything bigger is not from Slack."""
MAX_AGE_SECONDS = 5 * 60
"""Slack's own rule for replayed requests."""


@dataclass(frozen=True)
class Rejection:
    status: int
    reason: str
    """For the log, in words: what was wrong (never the body itself)."""


MAX_TIMESTAMP_DIGITS = 12


def check_signature(body: bytes, headers: Mapping[str, str], signing_secret: str, now: float | None = None) -> Rejection | None:
    """Slack's v0 scheme: `X-Slack-Signature` is "v0=" + HMAC-SHA256("v0:{timestamp}:{body}")."""
    timestamp = headers.get("x-slack-request-timestamp", "")
    # Length first: int() of a 5,000-digit string raises (Python's 4,300-digit limit); a Unix time has 10.
    if not (timestamp.isascii() and timestamp.isdigit()) or len(timestamp) > MAX_TIMESTAMP_DIGITS:
        return Rejection(401, "X-Slack-Request-Timestamp is missing or not a number")
    if abs((time.time() if now is None else now) - int(timestamp)) > MAX_AGE_SECONDS:
        return Rejection(401, "X-Slack-Request-Timestamp is more than five minutes away (a replayed request?)")
    expected = "v0=" + hmac.new(signing_secret.encode(), b"v0:" + timestamp.encode() + b":" + body, hashlib.sha256).hexdigest()
    # WSGI hands headers over as latin-1 strings; compare bytes so any header value compares safely.
    if not hmac.compare_digest(expected.encode(), headers.get("x-slack-signature", "").encode("latin-1")):
        return Rejection(401, "X-Slack-Signature does not match SLACK_SIGNING_SECRET")
    return None


def check_payload(body: bytes, content_type: str) -> Rejection | None:
    """The body parsed the way bolt will parse it, and its fields checked against `ENVELOPE`."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return Rejection(400, "the body is not UTF-8")
    if not text.strip():
        return Rejection(400, "the body is empty")  # bolt would answer 404 ("no listener")
    try:
        payload = _parse_like_bolt(text, content_type)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        return Rejection(400, f"the body is not valid JSON ({exc})")
    except RecursionError:
        return Rejection(400, "the body is JSON nested too deeply")
    problem = payload_problem(payload)
    return None if problem is None else Rejection(400, f"malformed payload: {problem}")


def payload_problem(payload: Any) -> str | None:
    """What is wrong with a parsed payload (HTTP body, or a Socket Mode envelope's payload) for bolt
    to read it, in words; None when nothing is."""
    problem = misfit(payload, ENVELOPE, "payload")
    if problem is None and payload.get("type") == "event_callback" and not isinstance(payload.get("event"), dict):
        problem = "an event_callback without an event"
    if problem is None and payload.get("actions") == []:  # bolt reads the first action of a click
        problem = "an empty list of actions"
    return problem


def for_bolt(body: bytes, content_type: str) -> bytes:
    """The body as bolt should get it. bolt takes any form body that contains the word "payload" for
    an interactivity payload and, finding no `payload` field, reads nothing: `/ask what payload did
    it carry?` would go unanswered. Percent-encoding the p ("%70ayload") is the same form to any
    reader, and keeps bolt off that path. Call after the signature is checked (it was made over
    the original bytes)."""
    is_form = content_type.split(";")[0].strip() != "application/json" and not body.startswith(b"{")
    if not is_form or b"payload" not in body:
        return body
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
    except UnicodeDecodeError:
        return body  # check_payload refuses it
    return body if "payload" in fields else body.replace(b"payload", b"%70ayload")


def _parse_like_bolt(text: str, content_type: str) -> Any:
    """What `slack_bolt.request.internals.parse_body` makes of a body: JSON when the content type
    says so or the body starts with "{"; else a form, whose `payload` field (interactivity) is JSON."""
    if not text:
        return {}
    if content_type.split(";")[0].strip() == "application/json" or text.startswith("{"):
        return json.loads(text)
    form = dict(parse_qsl(text, keep_blank_values=True))
    if "payload" in text:  # bolt looks for the word anywhere in the body
        return json.loads(form["payload"]) if "payload" in form else {}
    return form


# -- the shapes Slack sends -----------------------------------------------------------------------
# Only fields that bolt or the listeners read, with the JSON types Slack's documentation gives
# them. A field not named here is never checked. Notation: a type; None for JSON null; a dict for
# an object (its named fields checked when present, and `Required` ones must be); a one-item list
# for a list of those; a tuple for "any one of these".


@dataclass(frozen=True)
class Required:
    """A field bolt reads without asking whether it is there."""

    shape: Any


_ID_OBJECT = {"id": str, "team_id": str, "enterprise_id": (str, None)}
_MESSAGE = {
    "type": str,
    "subtype": (str, None),
    "channel": (str, {"id": str}),
    "channel_type": str,
    "user": (str, _ID_OBJECT),
    "user_id": str,
    "user_team": str,
    "team": (str, _ID_OBJECT),
    "bot_id": (str, None),
    "text": str,
    "ts": str,
    "thread_ts": str,
    "event_ts": str,
    "function_execution_id": str,
    "bot_access_token": str,
}
_EVENT = {
    **_MESSAGE,
    "type": Required(str),
    "message": _MESSAGE,
    "previous_message": _MESSAGE,
    "item": {"channel": str, "ts": str},
    "assistant_thread": {"channel_id": str, "thread_ts": str, "user_id": str, "context": dict},
}
ENVELOPE = {
    "type": str,
    "token": str,
    "challenge": str,
    "team_id": str,
    "api_app_id": str,
    "event_id": str,
    "event_time": int,
    "enterprise_id": (str, None),
    "is_enterprise_install": (bool, str),
    "is_ext_shared_channel": bool,
    "context_team_id": (str, None),
    "context_enterprise_id": (str, None),
    "authorizations": [{"team_id": (str, None), "user_id": str, "enterprise_id": (str, None), "is_bot": bool, "is_enterprise_install": bool}],
    "team": (str, _ID_OBJECT, None),
    "user": (str, _ID_OBJECT),
    "enterprise": (str, {"id": str}, None),
    "channel": (str, {"id": str}),
    "user_id": str,
    "channel_id": str,
    "command": str,
    "text": str,
    "trigger_id": str,
    "response_url": str,
    "response_urls": [{"response_url": str}],
    "callback_id": str,
    "actions": [{"action_id": Required(str), "block_id": str, "value": str}],
    "message": _MESSAGE,
    "container": dict,
    "view": {"team_id": str, "app_installed_team_id": str, "callback_id": str},
    "function_data": {"execution_id": str, "inputs": dict},
    "event": _EVENT,
}


def misfit(value: Any, shape: Any, path: str) -> str | None:
    """None when `value` has `shape` (notation above); else where it does not, e.g. "payload.event is null"."""
    if isinstance(shape, tuple):
        return None if any(misfit(value, option, path) is None for option in shape) else f"{path} is {_json_type(value)}"
    if shape is None:
        return None if value is None else f"{path} is {_json_type(value)}"
    if isinstance(shape, dict):
        if not isinstance(value, dict):
            return f"{path} is {_json_type(value)}, not an object"
        for name, field_shape in shape.items():
            if isinstance(field_shape, Required):
                if name not in value:
                    return f"{path}.{name} is missing"
                field_shape = field_shape.shape
            if name in value and (problem := misfit(value[name], field_shape, f"{path}.{name}")):
                return problem
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{path} is {_json_type(value)}, not a list"
        return next((problem for n, item in enumerate(value) if (problem := misfit(item, shape[0], f"{path}[{n}]"))), None)
    return None if isinstance(value, shape) else f"{path} is {_json_type(value)}, not {_json_type(shape())}"


def _json_type(value: Any) -> str:
    # int and float are both JSON numbers; where only a whole number will do, say so ("1.5" is not one).
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", int: "a whole number", float: "a fractional number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)
