"""Starting the Slack bot: settings → Assistant (loaded once) → bolt `App` → Socket Mode or HTTP.

    assistant slack                      Socket Mode (SLACK_APP_TOKEN, SLACK_BOT_TOKEN)
    assistant slack --http --port 3000   Events API, interactivity and /ask at POST /slack/events
                                         (SLACK_BOT_TOKEN, SLACK_SIGNING_SECRET); GET /healthz for probes

HTTP mode serves bolt from a threading `wsgiref` server: one thread per request, so a burst of
deliveries is acknowledged in parallel (bolt's own `app.start()` server handles one request at a
time). Every request passes `inbound`'s checks before bolt reads it: the signature (401 for a bad or
non-numeric timestamp, a stale or forged signature), the size (413) and the shape of the payload
(400), each refusal one log line; that check is the only signature check (bolt's own is off).

Replies in threads are posted by `delivery.ThreadPoster` (429, 5xx and dropped connections retried
within a budget, never posted twice). The client bolt and thread reading use retries connection
errors, 5xx and 429 (honouring Retry-After) with slack_sdk's retry handlers. The de-duplication
store and rate limit come from `state.open_shared_state`: SQLite under the data directory, or Redis
(`ASSISTANT_REDIS_URL`), checked at start-up. Log output passes through a formatter that blanks the
tokens, the signing secret and a Redis password, even in slack_sdk's DEBUG request dumps.
"""

from __future__ import annotations

import logging
import re
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from slack_bolt import App
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_handlers import ConnectionErrorRetryHandler, RateLimitErrorRetryHandler, ServerErrorRetryHandler

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.slack.delivery import DEFAULT_BUDGET, RetryBudget, ThreadPoster
from assistant.slack.feedback import FeedbackStore
from assistant.slack.handlers import register
from assistant.slack.inbound import MAX_BODY_BYTES, Rejection, check_payload, check_signature, for_bolt, payload_problem
from assistant.slack.responder import Ask, Responder
from assistant.slack.settings import SlackSettings
from assistant.slack.state import RateLimit, SeenEvents, open_shared_state, state_path
from assistant.slack.threads import BotIdentity

logger = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"


def run(settings: Settings, *, http: bool, host: str, port: int) -> int:
    """The `assistant slack` command. Raises `ConfigurationError` (non-zero exit) for missing tokens."""
    slack = SlackSettings.from_environment()
    configure_logging(slack)
    slack.require(http=http)  # missing or implausible tokens stop us here, with one clear line
    # An unreachable Redis stops us before the slow part; the SQLite file is only created once the
    # index has loaded, so starting in a folder without an index leaves nothing behind.
    shared_state = open_shared_state(settings, slack) if slack.uses_redis else None
    from assistant.core import Assistant

    bot = Assistant.load(settings)
    shared_state = shared_state or open_shared_state(settings, slack)
    bot.ask("warm-up")  # builds the answerer now rather than during the first question
    app, responder = build_app(settings, slack, ask=bot.ask, shared_state=shared_state)
    logger.info("Answering from %r; claims in %r, rate limit %r", bot, responder.seen, responder.rate_limit)
    try:
        if http:
            serve_http(app, host, port, slack.secret("SLACK_SIGNING_SECRET"))
        else:
            serve_socket_mode(app, slack.secret("SLACK_APP_TOKEN"))
    finally:
        responder.close()
    return 0


def build_app(
    settings: Settings,
    slack: SlackSettings,
    *,
    ask: Ask,
    delivery: RetryBudget = DEFAULT_BUDGET,
    shared_state: tuple[SeenEvents, RateLimit] | None = None,
) -> tuple[App, Responder]:
    """The bolt app with every listener registered, and the `Responder` behind them.

    `ask` is the seam: `Assistant.ask` in production, anything with its signature in a test.
    `delivery` bounds the retries of one reply (tests shorten the waits). `shared_state`: the
    claims and rate limit, when already opened (default: `open_shared_state`). Serve it over HTTP
    with `make_http_server`, which verifies every request's signature before bolt sees it.
    """
    client = web_client(slack)
    bot = identify(client, slack.slack_api_url)
    seen, rate_limit = shared_state or open_shared_state(settings, slack)
    app = App(
        name="article-assistant",
        client=client,
        signing_secret=slack.secret("SLACK_SIGNING_SECRET"),
        # One place verifies signatures: `make_http_server`, before anything is parsed. bolt could
        # not check the bodies it is handed there (a form is re-encoded, see inbound.for_bolt), and
        # Socket Mode needs no signature.
        request_verification_enabled=False,
        process_before_response=False,
    )
    feedback = FeedbackStore(state_path(settings))
    responder = Responder(
        ask=ask,
        client=client,
        bot=bot,
        seen=seen,
        rate_limit=rate_limit,
        feedback=feedback,
        workers=slack.slack_answer_workers,
        poster=ThreadPoster(web_client(slack, retries=False), delivery),
    )
    register(app, responder, feedback, bot)
    return app, responder


def web_client(slack: SlackSettings, *, retries: bool = True) -> WebClient:
    """`retries=False`: a client whose caller retries (`delivery.ThreadPoster`)."""
    token = slack.secret("SLACK_BOT_TOKEN") or None
    base_url = slack.slack_api_url if slack.slack_api_url.endswith("/") else slack.slack_api_url + "/"
    handlers = [
        ConnectionErrorRetryHandler(max_retry_count=2),
        RateLimitErrorRetryHandler(max_retry_count=3),
        ServerErrorRetryHandler(max_retry_count=2),
    ]
    return WebClient(token=token, base_url=base_url, timeout=15, retry_handlers=handlers if retries else [])


def identify(client: WebClient, api_url: str) -> BotIdentity:
    try:
        response = client.auth_test()
    except SlackApiError as exc:
        raise ConfigurationError(f"Slack rejected SLACK_BOT_TOKEN ({exc.response.get('error')}). Check the bot token.") from None
    except OSError as exc:
        raise ConfigurationError(f"Cannot reach the Slack Web API at {api_url} ({exc}). Check SLACK_API_URL and the network.") from None
    return BotIdentity(user_id=response.get("user_id", ""), bot_id=response.get("bot_id", ""))


# -- HTTP ------------------------------------------------------------------------------------------


MAX_CONNECTIONS = 64
"""Connections served at once; one more is closed at once (a thread each, so this bounds threads)."""
READ_TIMEOUT_SECONDS = 10.0
"""A connection that sends nothing for this long is closed (Slack sends a whole request at once)."""


class ThreadingWSGIServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    request_queue_size = 128
    """Listen backlog: a burst of deliveries waits here instead of being refused."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request, client_address) -> None:
        if not self._slots.acquire(blocking=False):
            logger.warning("Refused a connection from %s: %d connections are open already", client_address[0], MAX_CONNECTIONS)
            self.shutdown_request(request)
            return
        super().process_request(request, client_address)

    def process_request_thread(self, request, client_address) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def handle_error(self, request, client_address) -> None:
        """One log line, never a traceback: a stalled or dropped connection is the client's business."""
        error = sys.exc_info()[1]
        logger.warning("Dropped a connection from %s: %s", client_address[0], error.__class__.__name__ if error else "error")


class _LoggingRequestHandler(WSGIRequestHandler):
    timeout = READ_TIMEOUT_SECONDS  # StreamRequestHandler sets it on the socket: reads give up

    def log_message(self, format: str, *args) -> None:  # noqa: A002 (the stdlib's name)
        logger.debug("%s " + format, self.address_string(), *args)


def make_http_server(app: App, host: str, port: int, signing_secret: str) -> ThreadingWSGIServer:
    """The HTTP server for `app` (port 0: any free port; see `.server_port`). Call `serve_forever()`.

    Each POST to EVENTS_PATH passes `inbound`'s checks (size, signature, shape) before bolt reads
    it; a rejected one gets its status and one log line, never a traceback."""
    from slack_bolt.adapter.wsgi.http_request import WsgiHttpRequest
    from slack_bolt.adapter.wsgi.http_response import WsgiHttpResponse
    from slack_bolt.request import BoltRequest

    def wsgi(environ, start_response):
        path, method = environ.get("PATH_INFO"), environ.get("REQUEST_METHOD")
        if path == HEALTH_PATH:
            response = WsgiHttpResponse(200, {"content-type": ["text/plain; charset=utf-8"]}, "ok\n")
        elif path != EVENTS_PATH or method != "POST":
            response = WsgiHttpResponse(404, {"content-type": ["text/plain; charset=utf-8"]}, "Not Found")
        else:
            request = WsgiHttpRequest(environ)
            headers: dict[str, str] = {name: value for name, value in request.get_headers().items() if isinstance(value, str)}
            body, rejection = _read_body(environ)
            rejection = rejection or check_signature(body, headers, signing_secret)
            if rejection is None:
                body = for_bolt(body, headers.get("content-type", ""))
                rejection = check_payload(body, headers.get("content-type", ""))
            if rejection:
                logger.warning("Refused a request to %s with %d: %s", EVENTS_PATH, rejection.status, rejection.reason)
                response = WsgiHttpResponse(rejection.status, {"content-type": ["text/plain; charset=utf-8"]}, rejection.reason)
            else:
                bolt_headers: dict[str, str | Sequence[str]] = dict(headers)
                bolt_response = app.dispatch(BoltRequest(body=body.decode("utf-8"), query=request.query_string, headers=bolt_headers))
                response = WsgiHttpResponse(bolt_response.status, bolt_response.headers, bolt_response.body)
        start_response(response.status, response.get_headers())
        return response.get_body()

    return make_server(host, port, wsgi, server_class=ThreadingWSGIServer, handler_class=_LoggingRequestHandler)


def _read_body(environ: dict) -> tuple[bytes, Rejection | None]:
    """The request body, unless its Content-Length is not a number or is over MAX_BODY_BYTES (then
    it is not read at all)."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return b"", Rejection(400, "Content-Length is not a number")
    if length > MAX_BODY_BYTES:
        return b"", Rejection(413, f"the body is {length} bytes, more than the {MAX_BODY_BYTES} Slack ever sends")
    return environ["wsgi.input"].read(max(length, 0)), None


def serve_http(app: App, host: str, port: int, signing_secret: str) -> None:
    try:
        server = make_http_server(app, host, port, signing_secret)
    except OSError as exc:
        raise ConfigurationError(f"Cannot listen on {host}:{port} ({exc.strerror or exc}). Is another process using the port?") from None
    _on_sigterm(lambda: threading.Thread(target=server.shutdown, daemon=True).start())
    logger.info("Listening for Slack on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
    with server:
        server.serve_forever()
    logger.info("Stopped")


# -- Socket Mode -----------------------------------------------------------------------------------


def serve_socket_mode(app: App, app_token: str) -> None:
    from time import time

    from slack_bolt.adapter.socket_mode import SocketModeHandler
    from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
    from slack_sdk.socket_mode.response import SocketModeResponse

    class CheckedSocketModeHandler(SocketModeHandler):
        """Every envelope is acknowledged, so Slack does not send it again: a malformed one (the HTTP
        door's shape check, `inbound.payload_problem`) and one the app has no listener for are
        acknowledged and dropped with one log line each."""

        def handle(self, client, req) -> None:
            problem = payload_problem(req.payload)
            if problem is not None:
                logger.warning("Ignored a Socket Mode %s envelope: malformed payload: %s", req.type, problem)
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            started = time()
            response = run_bolt_app(self.app, req)
            if response.status != 200:  # bolt answers 404 for an event nothing listens to, and sends no ack
                logger.warning("Ignored a Socket Mode %s envelope: nothing handles it (status %s)", req.type, response.status)
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            send_response(client, req, response, started)

    def acknowledge_unreadable(client, message: dict, raw_message: str | None) -> None:
        """Runs on every message before slack_sdk turns it into a request. An envelope whose payload
        is not an object (a list, a number, null) or is missing would make slack_sdk raise, log a
        traceback and never acknowledge it: acknowledge it here, log one line, and take its payload
        out so slack_sdk skips it quietly."""
        if not isinstance(message, dict) or "envelope_id" not in message:
            return
        payload = message.get("payload")
        if isinstance(payload, dict | str):
            return
        logger.warning("Ignored a Socket Mode %s envelope: its payload is %s, not an object", str(message.get("type"))[:40], type(payload).__name__)
        client.send_socket_mode_response(SocketModeResponse(envelope_id=str(message["envelope_id"])))
        message.pop("payload", None)

    handler = CheckedSocketModeHandler(app, app_token)
    handler.client.message_listeners.insert(0, acknowledge_unreadable)
    stop = threading.Event()
    _on_sigterm(stop.set)
    try:
        handler.connect()
    except SlackApiError as exc:
        raise ConfigurationError(
            f"Slack rejected SLACK_APP_TOKEN ({exc.response.get('error')}). It must be an app-level token "
            "(xapp-…) with the connections:write scope."
        ) from None
    logger.info("Connected to Slack in Socket Mode")
    try:
        stop.wait()
    finally:
        handler.close()
        logger.info("Stopped")


def _on_sigterm(callback: Callable[[], None]) -> None:
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: callback())


# -- logging ---------------------------------------------------------------------------------------

_TOKEN_PATTERN = re.compile(r"\b(xox[abprse]|xapp)-[A-Za-z0-9-]+")


class RedactingFormatter(logging.Formatter):
    """Blanks the configured secrets and anything shaped like a Slack token, tracebacks included.

    Only a value long enough to be a secret is blanked: blanking a one-letter value would turn every
    occurrence of that letter into "[redacted]". Start-up refuses Slack values that short anyway
    (`settings.implausible`); a short Redis password is only ever printed inside its URL, where
    `state.without_password` masks it."""

    MIN_LENGTH = 8

    def __init__(self, secrets: list[str], fmt: str) -> None:
        super().__init__(fmt)
        self.secrets = sorted({secret for secret in secrets if len(secret) >= self.MIN_LENGTH}, key=len, reverse=True)

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        for secret in self.secrets:
            text = text.replace(secret, "[redacted]")
        return _TOKEN_PATTERN.sub(lambda match: f"{match.group(1)}-[redacted]", text)


def configure_logging(slack: SlackSettings) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(slack.secrets(), "%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(slack.slack_log_level)
    # bolt warns that SLACK_BOT_TOKEN in the environment is unused because we pass our own client
    # (for SLACK_API_URL and the retry handlers); it is the same token, so the warning only confuses.
    logging.getLogger("slack_bolt.App").addFilter(lambda record: "`token` will be unused" not in record.getMessage())
