"""Running the real bot (`python -m assistant.cli slack …`) as a subprocess, alone or in groups (the
scale tests, benchmarks/load.py), or its HTTP app in this process (to inject an `ask`), and what
tests share about it: its secrets (which must never reach its log) and its environment."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.support.slack_fakes import FakeSlackAPI, SignedEventsClient, wait_until

REPO = Path(__file__).resolve().parents[2]
BOT_TOKEN = "xoxb-1111-2222-testBOTtokenSECRET"
APP_TOKEN = "xapp-1-A0001-3333-testAPPtokenSECRET"
SIGNING_SECRET = "8f14e45fceea167a5a36dedd4bea2543"
SECRETS = (BOT_TOKEN, APP_TOKEN, SIGNING_SECRET)
RATE_LIMIT = 3
"""Questions per user per minute in the tests' HTTP bots; every test but the rate-limit ones uses fresh users."""


def clean_env(**values: str) -> dict:
    """The test process's environment without any Slack or assistant settings, plus `values`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "ASSISTANT_"))}
    env.update(HF_HUB_OFFLINE="1", PYTHONUNBUFFERED="1", **values)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def copy_index(index_dir: Path, data_dir: Path) -> Path:
    """A private data dir per bot: its own copy of the index and its own slack.sqlite3."""
    shutil.copytree(index_dir, data_dir, dirs_exist_ok=True)
    return data_dir


def healthy(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


@dataclass
class BotProcess:
    process: subprocess.Popen
    data_dir: Path
    log_path: Path
    events: SignedEventsClient | None = None

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def check_alive(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the bot exited with {self.process.returncode}:\n{self.log()[-4000:]}")
        return True

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=5)


def start_bot(args: list[str], env: dict, data_dir: Path, log_name: str = "bot.log") -> BotProcess:
    """`assistant slack ARGS` with `env`, working in `data_dir` and logging to `data_dir/log_name`."""
    log_path = data_dir / log_name
    with log_path.open("wb") as log:
        command = [sys.executable, "-m", "assistant.cli", "slack", *args]
        process = subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
    return BotProcess(process, data_dir, log_path)


def start_http_bot(api_url: str, data_dir: Path, *, workdir: Path | None = None, log_name: str = "bot.log", **env: str) -> BotProcess:
    """`assistant slack --http` on a free port with the test tokens, posting to `api_url`, its
    `events` client ready (call `wait_until_healthy`). `env` adds or overrides settings; `workdir`
    (default `data_dir`) is its working directory and log folder."""
    port = free_port()
    settings = {"ASSISTANT_DATA_DIR": str(data_dir), "SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": SIGNING_SECRET, "SLACK_API_URL": api_url}
    bot = start_bot(["--http", "--host", "127.0.0.1", "--port", str(port)], clean_env(**{**settings, **env}), workdir or data_dir, log_name)
    bot.events = SignedEventsClient(f"http://127.0.0.1:{port}/slack/events", SIGNING_SECRET)
    return bot


def wait_until_healthy(bot: BotProcess, timeout: float = 90) -> None:
    """Until GET /healthz answers; fails with the bot's log if it exits first."""
    health = bot.events.url.removesuffix("/slack/events") + "/healthz"
    wait_until(lambda: bot.check_alive() and healthy(health), timeout=timeout, what="the HTTP bot to start")


def finish(bot: BotProcess) -> None:
    """Stop the bot with SIGTERM; it must exit cleanly and its log must hold no secret."""
    code = bot.stop()
    log = bot.log()
    assert not [secret for secret in SECRETS if secret in log], "a secret appeared in the bot's log"
    assert code == 0, f"the bot did not stop cleanly on SIGTERM ({code}):\n{log[-4000:]}"


@contextmanager
def serve_in_process(data_dir: Path, api: FakeSlackAPI, ask, delivery=None, **slack_settings) -> Iterator[SignedEventsClient]:
    """The bot's HTTP app (`build_app` + `make_http_server`) on a free port in this process, with
    `ask` as its answerer; yields a client that sends it signed events. `delivery`: a `RetryBudget`;
    `slack_settings`: extra `SlackSettings` fields (e.g. `redis_url`)."""
    from assistant.settings import Settings
    from assistant.slack.app import build_app, make_http_server
    from assistant.slack.settings import SlackSettings

    settings = Settings(_env_file=None, data_dir=data_dir)
    slack = SlackSettings(slack_bot_token=BOT_TOKEN, slack_signing_secret=SIGNING_SECRET, slack_api_url=api.api_url, _env_file=None, **slack_settings)
    app, responder = build_app(settings, slack, ask=ask, **({"delivery": delivery} if delivery else {}))
    server = make_http_server(app, "127.0.0.1", 0, SIGNING_SECRET)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield SignedEventsClient(f"http://127.0.0.1:{server.server_port}/slack/events", SIGNING_SECRET)
    finally:
        server.shutdown()
        server.server_close()
        responder.close()


def start_http_bots(count: int, workdir: Path, fake_slack: FakeSlackAPI, **env: str) -> list[BotProcess]:
    """`count` bots started at once, each on its own port with its own log folder; `env` is shared
    (give them the same ASSISTANT_DATA_DIR to share one slack.sqlite3). Waits until all answer."""
    bots = []
    for n in range(count):
        folder = workdir / f"bot{n}"
        folder.mkdir(parents=True, exist_ok=True)
        settings = {"SLACK_RATE_LIMIT_PER_MINUTE": str(RATE_LIMIT), **env}
        data_dir = Path(settings.pop("ASSISTANT_DATA_DIR", folder))
        bots.append(start_http_bot(fake_slack.api_url, data_dir, workdir=folder, **settings))
    try:
        for bot in bots:
            wait_until_healthy(bot)
    except BaseException:
        for bot in bots:
            bot.stop()
        raise
    return bots


def stop_bots(bots: list[BotProcess]) -> None:
    """SIGTERM all at once; each must exit cleanly with no secret in its log."""
    with ThreadPoolExecutor(len(bots)) as pool:
        list(pool.map(finish, bots))
