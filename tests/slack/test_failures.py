"""When things go wrong: the answerer raises, the index is down, Slack says 429 or 500 or drops the
connection (before or after storing the reply), tokens are missing. The bot runs in this process
(its HTTP server on a free port) so a failing `ask` can be injected at the seam `build_app`
exposes; everything else is real."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from assistant.errors import IndexUnavailableError
from assistant.slack.app import RedactingFormatter
from assistant.slack.delivery import EVENT_TYPE, RetryBudget
from tests.support.bot_process import BOT_TOKEN, SIGNING_SECRET, clean_env, copy_index, free_port, serve_in_process
from tests.support.slack_fakes import BOT_USER, DROP_AFTER, DROP_BEFORE, Failure, FakeSlackAPI, mention, sections, wait_until

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def own_slack():
    """A Web API of this module's own: failures injected here cannot hit the subprocess bots."""
    api = FakeSlackAPI().start()
    yield api
    api.stop()


@pytest.fixture(scope="module")
def data_dir(index_dir, tmp_path_factory):
    return copy_index(index_dir, tmp_path_factory.mktemp("in-process"))


QUICK_RETRIES = RetryBudget(attempts=8, seconds=20, backoff=0.05)
"""The production budget's shape with short waits (Retry-After is still honoured as sent)."""


def running_bot(data_dir, api: FakeSlackAPI, ask, delivery: RetryBudget = QUICK_RETRIES):
    return serve_in_process(data_dir, api, ask, delivery)


@pytest.fixture(scope="module")
def real_ask(bot):
    """The session's real Assistant (tests/conftest.py), on the same seed index."""
    return bot.ask


def test_an_answerer_exception_becomes_an_apology_and_a_logged_traceback(data_dir, own_slack, channel, user, caplog):
    def broken_ask(question, history):
        raise RuntimeError("the answerer broke")

    with running_bot(data_dir, own_slack, broken_ask) as events, caplog.at_level(logging.ERROR):
        # "AS" is also an English word: the apology follows the question's language as the answer would.
        asked = own_slack.user_message(channel, user, f"<@{BOT_USER}> Siapa Duta Besar AS?")
        assert events.event(mention(asked))[0] == 200
        [reply] = own_slack.wait_for_posts(channel, asked["ts"])
        assert reply["text"] == "Maaf, terjadi kesalahan saat saya menjawab. Kesalahan sudah dicatat; silakan coba lagi."

        # The bot lives on: the next question is taken (and fails the same way, politely).
        again = own_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(again))
        [reply] = own_slack.wait_for_posts(channel, again["ts"])
        assert reply["text"].startswith("Sorry, something went wrong")
    failures = [record for record in caplog.records if record.exc_info and "the answerer broke" in str(record.exc_info[1])]
    assert len(failures) == 2


def test_index_unavailable_is_said_plainly(data_dir, own_slack, channel, user):
    def index_down(question, history):
        raise IndexUnavailableError("Cannot reach the Chroma server at http://127.0.0.1:9")

    with running_bot(data_dir, own_slack, index_down) as events:
        asked = own_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(asked))
        [reply] = own_slack.wait_for_posts(channel, asked["ts"])
        assert reply["text"] == "The article index is unavailable right now. Please try again in a moment."


@pytest.mark.parametrize("status, headers", [(429, {"Retry-After": "0"}), (503, {})], ids=["rate-limited", "server-error"])
def test_slack_api_errors_are_retried_into_one_reply(data_dir, own_slack, real_ask, channel, user, status, headers):
    own_slack.fail_next("chat.postMessage", status, {"ok": False, "error": "ratelimited" if status == 429 else "internal_error"}, headers)
    with running_bot(data_dir, own_slack, real_ask) as events:
        asked = own_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(asked))
        [reply] = own_slack.wait_for_posts(channel, asked["ts"])
        assert "Nezar Patria" in " ".join(sections(reply))
        own_slack.settle(events.event, channel)
    assert len(own_slack.calls_to("chat.postMessage:failed", channel=channel)) == 1
    assert len(own_slack.posts(channel)) == 1


def test_a_reply_survives_429_500s_and_dropped_connections_and_is_posted_once(data_dir, own_slack, real_ask, channel, user):
    """Rate limited (Retry-After: 1), a 500, a connection dropped before Slack stored the post, a 503,
    then one dropped *after* it was stored: a blind retry would post twice. The bot looks for its
    reply (by metadata) after every failure that may have posted, so exactly one reply lands."""
    own_slack.script(
        "chat.postMessage",
        [
            Failure(429, {"ok": False, "error": "ratelimited"}, {"Retry-After": "1"}),
            Failure(500, {"ok": False, "error": "internal_error"}),
            DROP_BEFORE,
            Failure(503, {"ok": False}),
            DROP_AFTER,
        ],
    )
    own_slack.script("conversations.replies", [Failure(500, {"ok": False, "error": "internal_error"})])  # the first look-up fails too
    with running_bot(data_dir, own_slack, real_ask) as events:
        asked = own_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(asked))
        [reply] = own_slack.wait_for_posts(channel, asked["ts"])
        own_slack.settle(events.event, channel)
    assert "Nezar Patria" in " ".join(sections(reply))
    assert reply["metadata"] == {"event_type": EVENT_TYPE, "event_payload": {"question": f"message:{channel}:{asked['ts']}"}}
    assert len(own_slack.calls_to("chat.postMessage:failed", channel=channel)) == 5
    assert len(own_slack.calls_to("chat.postMessage", channel=channel)) == 1  # stored by the dropped call; never posted again
    assert len(own_slack.posts(channel)) == 1


def test_a_reply_is_given_up_within_the_budget_not_posted_blind(data_dir, own_slack, real_ask, channel, user, caplog):
    """Slack answers 500 to every post of this reply: after the budget's three tries the bot logs and
    moves on (no apology either: posts are failing), and the next question is answered normally."""
    own_slack.script("chat.postMessage", [Failure(500, {"ok": False, "error": "internal_error"})] * 3)
    with running_bot(data_dir, own_slack, real_ask, delivery=RetryBudget(attempts=3, seconds=10, backoff=0.05)) as events, caplog.at_level(logging.ERROR):
        asked = own_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(asked))
        wait_until(lambda: any("could not be delivered" in record.getMessage() for record in caplog.records), what="the bot to give up")
        assert own_slack.posts(channel) == []
        assert len(own_slack.calls_to("chat.postMessage:failed", channel=channel)) == 3

        again = own_slack.user_message(channel, user, f"<@{BOT_USER}> Kapan pertemuan berlangsung?")
        events.event(mention(again))
        [reply] = own_slack.wait_for_posts(channel, again["ts"])
        assert "Senin (18/11)" in reply["text"]
        own_slack.settle(events.event, channel)
    assert len(own_slack.posts(channel)) == 1


def run_cli(args: list[str], tmp_path, **env: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "assistant.cli", "slack", *args]
    return subprocess.run(command, env=clean_env(**env), cwd=tmp_path, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    "args, env, missing",
    [([], {"SLACK_BOT_TOKEN": BOT_TOKEN}, "SLACK_APP_TOKEN"), (["--http"], {}, "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET")],
    ids=["socket-mode", "http"],
)
def test_missing_tokens_are_a_clear_error(args, env, missing, tmp_path):
    result = run_cli(args, tmp_path, ASSISTANT_DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 1
    assert missing in result.stderr and "not set" in result.stderr
    assert BOT_TOKEN not in result.stderr + result.stdout


@pytest.mark.parametrize(
    "args, env, expected",
    [
        (["--http"], {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_SIGNING_SECRET": "a"}, "SLACK_SIGNING_SECRET is only 1 character long"),
        (["--http"], {"SLACK_BOT_TOKEN": "xoxp-1111-2222-aUserToken", "SLACK_SIGNING_SECRET": SIGNING_SECRET}, "SLACK_BOT_TOKEN does not start with xoxb-"),
        ([], {"SLACK_BOT_TOKEN": BOT_TOKEN, "SLACK_APP_TOKEN": "xapp-1"}, "SLACK_APP_TOKEN is only 6 characters long"),
    ],
    ids=["one-letter-secret", "user-token", "short-app-token"],
)
def test_values_that_cannot_be_real_are_refused_at_start_up(args, env, expected, tmp_path):
    result = run_cli(args, tmp_path, ASSISTANT_DATA_DIR=str(tmp_path), **env)
    assert result.returncode == 1
    assert expected in result.stderr and "cannot be right" in result.stderr
    assert "Traceback" not in result.stderr
    assert BOT_TOKEN not in result.stderr + result.stdout and SIGNING_SECRET not in result.stderr + result.stdout
    assert not (tmp_path / "slack.sqlite3").exists()  # refused before anything was opened


def test_log_redaction_blanks_whole_secrets_never_single_letters():
    formatter = RedactingFormatter([SIGNING_SECRET, BOT_TOKEN, "a"], "%(message)s")
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "a banana; secret=%s token %s; %sX", (SIGNING_SECRET, BOT_TOKEN, SIGNING_SECRET), None)
    assert formatter.format(record) == "a banana; secret=[redacted] token [redacted]; [redacted]X"


def test_a_rejected_token_or_unreachable_slack_is_a_clear_error(data_dir, own_slack, tmp_path):
    env = dict(ASSISTANT_DATA_DIR=str(data_dir), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET)
    own_slack.fail_next("auth.test", 200, {"ok": False, "error": "invalid_auth"})
    rejected = run_cli(["--http", "--port", "0"], tmp_path, SLACK_API_URL=own_slack.api_url, **env)
    assert rejected.returncode == 1 and "Slack rejected SLACK_BOT_TOKEN (invalid_auth)" in rejected.stderr

    unreachable = run_cli(["--http", "--port", "0"], tmp_path, SLACK_API_URL=f"http://127.0.0.1:{free_port()}/api/", **env)
    assert unreachable.returncode == 1 and "Cannot reach the Slack Web API" in unreachable.stderr
    assert BOT_TOKEN not in rejected.stderr + unreachable.stderr
