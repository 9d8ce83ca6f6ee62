"""Starting and stopping groups of real `assistant slack --http` processes for the scale tests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from bot_process import BotProcess, finish, start_http_bot, wait_until_healthy
from slack_fakes import FakeSlackAPI

RATE_LIMIT = 3
"""Questions per user per minute in these bots; tests use fresh users unless testing the limit."""


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
