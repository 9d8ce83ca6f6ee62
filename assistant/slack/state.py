"""Where the bot keeps what its processes must share: which messages are claimed, and each user's
question count. Chosen once, where the bot starts (`open_shared_state`).

    one process, or several on one machine    slack.sqlite3 under ASSISTANT_DATA_DIR (give every
                                              process the same data directory); rate limit per process
    several machines                          ASSISTANT_REDIS_URL=redis://host:6379/0: claims
                                              (`SET NX EX`) and one rate-limit quota per user in Redis

Several processes should read one Chroma server (ASSISTANT_CHROMA_URL), so an `assistant ingest`
reaches all of them. Answers and 👍/👎 feedback stay in `slack.sqlite3` under each process's data
directory either way.

When Redis fails:

- **At start-up** (unreachable, wrong password, not a redis:// URL): a `ConfigurationError`, so
  `assistant slack` stops with one clear line and exit code 1 instead of running without
  de-duplication.
- **While running**: a question whose claim cannot be recorded is **not answered** (a second
  reply from another process could not be ruled out). The error is logged and the asker gets a
  short apology ("Sorry, something went wrong … please try again"); each process says it at most
  once per message, so a mention and its `message` twin landing on one process apologise once.
  The rate limit lets questions through while Redis is down. redis-py reconnects by itself, so
  answers resume as soon as Redis is back, without a restart.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit, urlunsplit

from assistant.errors import ConfigurationError
from assistant.settings import Settings
from assistant.slack.dedup import RedisSeenEvents, SeenEvents, SqliteSeenEvents
from assistant.slack.ratelimit import PerUserRateLimit, RateLimit, RedisRateLimit
from assistant.slack.settings import SlackSettings
from assistant.slack.sqlite import state_path

if TYPE_CHECKING:
    from redis import Redis

KEY_PREFIX = "article-assistant:"
REDIS_TIMEOUT_SECONDS = 2.0
"""Connect and read timeout: a Redis that does not answer in 2 s is treated as down."""


def open_shared_state(settings: Settings, slack: SlackSettings) -> tuple[SeenEvents, RateLimit]:
    """The de-duplication store and the rate limit for this deployment (see the module docstring)."""
    if slack.redis_url is None or not slack.redis_url.get_secret_value().strip():
        return SqliteSeenEvents(state_path(settings)), PerUserRateLimit(slack.slack_rate_limit_per_minute)
    client = connect_redis(slack.redis_url.get_secret_value().strip())
    return RedisSeenEvents(client, KEY_PREFIX), RedisRateLimit(client, slack.slack_rate_limit_per_minute, prefix=KEY_PREFIX)


def connect_redis(url: str) -> Redis:
    """A client for `url`, checked with a PING. Raises `ConfigurationError` naming the (password-less) URL."""
    shown = without_password(url)
    if urlsplit(url).scheme not in ("redis", "rediss", "unix"):
        raise ConfigurationError(f"ASSISTANT_REDIS_URL must look like redis://host:6379/0, got {shown!r}.")
    import redis
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import AuthenticationError, RedisError
    from redis.retry import Retry

    try:
        client = redis.Redis.from_url(
            url,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            # Two quick retries ride out a blip; longer outages fail the claim (no answer, an apology).
            retry=Retry(ExponentialBackoff(cap=0.5, base=0.05), retries=2),
            health_check_interval=30,
        )
        client.ping()
    except AuthenticationError as exc:
        raise ConfigurationError(f"Redis at {shown} refused the credentials in ASSISTANT_REDIS_URL ({exc}).") from None
    except (RedisError, ValueError) as exc:
        raise ConfigurationError(
            f"Cannot reach Redis at {shown} ({type(exc).__name__}: {exc}). Check ASSISTANT_REDIS_URL and that redis-server is running."
        ) from None
    return client


def without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))
