"""The Chroma server stops while the bot runs, then comes back on the same port with the same data:
the bot says the index is unavailable, keeps running, and answers again without a restart."""

from __future__ import annotations

import pytest

from tests.support.bot_process import start_http_bots, stop_bots
from tests.support.servers import ChromaServer
from tests.support.slack_fakes import BOT_USER, mention

pytestmark = pytest.mark.slow

UNAVAILABLE = "The article index is unavailable right now. Please try again in a moment."


@pytest.fixture
def own_chroma(tmp_path):
    server = ChromaServer(tmp_path / "chroma-server").start()
    yield server
    server.stop()


def test_a_chroma_outage_is_said_plainly_and_answers_resume_without_a_restart(own_chroma, ingest_into, fake_slack, channel, tmp_path):
    ingest_into("outage", server=own_chroma)
    [bot] = start_http_bots(1, tmp_path / "bots", fake_slack, ASSISTANT_CHROMA_URL=own_chroma.url, ASSISTANT_COLLECTION="outage")
    try:

        def ask(user: str) -> str:
            asked = fake_slack.user_message(channel, user, f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
            assert bot.events.event(mention(asked))[0] == 200
            [reply] = fake_slack.wait_for_posts(channel, asked["ts"], timeout=30)
            return reply["text"]

        assert "Nezar Patria" in ask("UOUT1")
        own_chroma.stop()
        assert ask("UOUT2") == UNAVAILABLE
        assert ask("UOUT3") == UNAVAILABLE
        bot.check_alive()

        own_chroma.start()  # same --path, same port
        assert "Nezar Patria" in ask("UOUT4")
        assert "The index is unavailable" in bot.log()  # logged with its cause
    finally:
        stop_bots([bot])
