"""The Redis claims and rate limit against a real `redis-server`, and what happens when Redis is
missing at start-up or dies while the bot runs (see assistant/slack/state.py for the policy)."""

from __future__ import annotations

import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from assistant.slack.state import ClaimUnavailableError, RedisRateLimit, RedisSeenEvents, connect_redis, message_key
from tests.support.bot_process import BOT_TOKEN, SIGNING_SECRET, clean_env, free_port, serve_in_process
from tests.support.servers import RedisServer
from tests.support.slack_fakes import BOT_USER, mention, message_event

pytestmark = pytest.mark.slow  # a real redis-server, and `assistant slack` subprocesses

APOLOGY = "Sorry, something went wrong while I was answering. It has been logged; please try again."


def test_exactly_one_claim_wins_across_clients_and_threads(redis_server):
    stores = [RedisSeenEvents(connect_redis(redis_server.url), prefix="t1:") for _ in range(2)]  # as two machines would
    key = message_key("C1", "1732000000.000100")
    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(lambda n: stores[n % 2].claim(key), range(64)))
    assert results.count(True) == 1
    assert 0 < redis_server.client().ttl(f"t1:seen:{key}") <= 24 * 3600  # claims expire by themselves
    assert stores[1].claim(message_key("C1", "1732000000.000101"))


def test_one_rate_limit_quota_for_all_clients(redis_server):
    limits = [RedisRateLimit(connect_redis(redis_server.url), per_minute=3, window_seconds=60, prefix="t2:") for _ in range(3)]
    waits = [limits[n % 3].wait_seconds("U1") for n in range(5)]
    assert waits[:3] == [0, 0, 0] and all(1 <= wait <= 60 for wait in waits[3:])
    assert limits[0].wait_seconds("U2") == 0  # per user
    assert 0 < redis_server.client().ttl("t2:rate:U1") <= 60  # the counter can never outlive its window
    assert RedisRateLimit(connect_redis(redis_server.url), per_minute=0).wait_seconds("U1") == 0  # 0 turns it off


def test_a_dead_redis_fails_the_claim_and_lets_the_rate_limit_through(tmp_path):
    server = RedisServer(tmp_path).start()
    client = connect_redis(server.url)
    server.stop()
    with pytest.raises(ClaimUnavailableError, match="Cannot reach Redis"):
        RedisSeenEvents(client).claim("k")
    assert RedisRateLimit(client, per_minute=1).wait_seconds("U1") == 0


@pytest.mark.parametrize(
    "url, expected",
    [
        ("redis://:hunter2@127.0.0.1:{port}/0", "Cannot reach Redis at redis://:***@127.0.0.1:{port}/0"),
        ("http://127.0.0.1:{port}", "ASSISTANT_REDIS_URL must look like redis://host:6379/0"),
    ],
    ids=["unreachable", "not-redis"],
)
def test_redis_problems_at_start_up_are_one_clear_line(url, expected, tmp_path):
    port = free_port()
    env = clean_env(ASSISTANT_DATA_DIR=str(tmp_path), SLACK_BOT_TOKEN=BOT_TOKEN, SLACK_SIGNING_SECRET=SIGNING_SECRET, ASSISTANT_REDIS_URL=url.format(port=port))
    command = [sys.executable, "-m", "assistant.cli", "slack", "--http", "--port", "0"]
    result = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert expected.format(port=port) in " ".join(result.stderr.split())
    assert "hunter2" not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_redis_dying_mid_run_means_one_apology_and_no_answer_then_answers_resume(bot, fake_slack, channel, user, tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    try:
        with serve_in_process(tmp_path / "data", fake_slack, bot.ask, redis_url=server.url) as events:
            first = fake_slack.user_message(channel, user + "A", f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
            events.event(mention(first))
            assert "Nezar Patria" in fake_slack.wait_for_posts(channel, first["ts"])[0]["text"]

            server.stop()
            during = fake_slack.user_message(channel, user + "B", f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
            with ThreadPoolExecutor(2) as pool:  # the mention and its `message` twin, on this one process
                assert list(pool.map(lambda event: events.event(event)[0], [mention(during), message_event(during)])) == [200, 200]
            fake_slack.wait_for_posts(channel, during["ts"])

            server.start()  # same port, empty: redis-py reconnects on its own
            after = fake_slack.user_message(channel, user + "C", f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
            events.event(mention(after))
            assert "Nezar Patria" in fake_slack.wait_for_posts(channel, after["ts"])[0]["text"]
            fake_slack.settle(events.event, channel)
    finally:
        server.stop()
    assert [post["text"] for post in fake_slack.posts(channel, during["ts"])] == [APOLOGY]
    assert len(fake_slack.posts(channel)) == 3
