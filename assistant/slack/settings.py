"""Slack settings, read once where the bot starts (`assistant.slack.app.run`) and passed in.

Slack's own variable names, without the `ASSISTANT_` prefix, so a Slack app's usual `.env` works
as is. Secrets are `SecretStr`: they print as `**********` in reprs, tracebacks and logs.
"""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.errors import ConfigurationError

SLACK_API_URL = "https://slack.com/api/"


class SlackSettings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True)

    slack_bot_token: SecretStr | None = None
    """The bot token (`xoxb-…`), OAuth & Permissions page. Always needed."""

    slack_signing_secret: SecretStr | None = None
    """Basic Information → Signing Secret. Needed for `--http` (verifies every request)."""

    slack_app_token: SecretStr | None = None
    """An app-level token (`xapp-…`) with `connections:write`. Needed for Socket Mode."""

    slack_api_url: str = SLACK_API_URL
    """Web API base URL: Slack's own, a GovSlack-style deployment, or a local fake in tests."""

    slack_rate_limit_per_minute: int = 10
    """Questions one user may ask per minute before getting a friendly "slow down" notice."""

    slack_answer_workers: int = 4
    """Threads that answer and post replies. Answering is ~20 ms and GIL-bound; more threads only
    help while replies wait on Slack's API."""

    slack_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"

    redis_url: SecretStr | None = Field(default=None, validation_alias="ASSISTANT_REDIS_URL")
    """`ASSISTANT_REDIS_URL` (e.g. redis://127.0.0.1:6379/0): the de-duplication store and rate limit
    shared by bot processes on several machines. Unset: `slack.sqlite3` under the data directory
    (processes on one machine sharing a data directory) and a per-process rate limit. A secret
    because the URL may carry a password."""

    @field_validator("slack_log_level", mode="before")
    @classmethod
    def _upper_case(cls, value):
        return value.upper() if isinstance(value, str) else value

    @classmethod
    def from_environment(cls) -> SlackSettings:
        """Read the environment / `.env`; a bad value is a `ConfigurationError` naming the variable."""
        try:
            return cls()
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, error['loc'])).upper()}: {error['msg']}" for error in exc.errors())
            raise ConfigurationError(f"Invalid Slack setting: {problems}") from None

    def require(self, *, http: bool) -> None:
        """Raise a `ConfigurationError` naming every variable this mode still needs."""
        needed = ["SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET" if http else "SLACK_APP_TOKEN"]
        missing = [name for name in needed if not self.secret(name).strip()]
        if not missing:
            problems = [problem for name in needed if (problem := implausible(name, self.secret(name)))]
            if problems:
                raise ConfigurationError(" ".join(problems) + " Copy it again from your app's page at https://api.slack.com/apps.")
            return
        mode = "the Events API over HTTP (--http)" if http else "Socket Mode"
        hint = "" if http else " Or run `assistant slack --http` to receive events over HTTP instead."
        raise ConfigurationError(
            f"{' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} not set; {mode} needs "
            f"{'it' if len(missing) == 1 else 'them'}. See docs/slack.md.{hint}"
        )

    def secret(self, name: str) -> str:
        """The value of the secret setting `name` (e.g. "SLACK_APP_TOKEN"), "" when it is not set."""
        value = getattr(self, name.lower())
        return value.get_secret_value() if value is not None else ""

    @property
    def uses_redis(self) -> bool:
        """Claims and rate limits shared through Redis (ASSISTANT_REDIS_URL set), not a local SQLite file."""
        return self.redis_url is not None and bool(self.redis_url.get_secret_value().strip())

    def secrets(self) -> list[str]:
        """The secret values set, for scrubbing them from log output (`app.RedactingFormatter`)."""
        values = [self.slack_bot_token, self.slack_signing_secret, self.slack_app_token]
        secrets = [value.get_secret_value() for value in values if value is not None and value.get_secret_value()]
        password = urlsplit(self.redis_url.get_secret_value()).password if self.redis_url else None
        return secrets + ([password] if password else [])


MIN_SECRET_LENGTH = 16
"""Real values are far longer (a signing secret is 32 hexadecimal characters, a token 50 or more);
anything shorter is a typo or a placeholder."""
TOKEN_PREFIXES = {"SLACK_BOT_TOKEN": "xoxb-", "SLACK_APP_TOKEN": "xapp-"}
_SHAPES = {
    "SLACK_BOT_TOKEN": "a bot token starts with xoxb- (OAuth & Permissions → Bot User OAuth Token)",
    "SLACK_APP_TOKEN": "an app-level token starts with xapp- (Basic Information → App-Level Tokens)",
    "SLACK_SIGNING_SECRET": "a signing secret is 32 hexadecimal characters (Basic Information → App Credentials → Signing Secret)",
}


def implausible(name: str, value: str) -> str | None:
    """Why `value` cannot be a real `name` (never showing the value), or None when it may be.

    Slack's formats are checked loosely: the token prefix, a minimum length, no white space. Slack
    itself says whether a plausible value is right (`auth.test` at start-up; the first signed request)."""
    value = value.strip()
    prefix = TOKEN_PREFIXES.get(name, "")
    if not value.startswith(prefix):
        problem = f"does not start with {prefix}"
    elif len(value) < MIN_SECRET_LENGTH:
        problem = f"is only {len(value)} character{'s' if len(value) != 1 else ''} long"
    elif any(char.isspace() for char in value):
        problem = "contains white space"
    else:
        return None
    return f"{name} {problem}, so it cannot be right: {_SHAPES[name]}."
