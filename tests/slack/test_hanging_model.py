"""The Slack bot with the optional LLM answerer while its model endpoint hangs: every question still
gets the extractive answer, none holds an answer worker longer than ASSISTANT_LLM_TIMEOUT, and once
the endpoint answers again so does the model. The bot's HTTP app runs in this process (so the LLM
settings can be given) against the fake Slack Web API; the model endpoint is the OpenAI-compatible
server of tests/llm_server.py, reached through the real `langchain-openai` client."""

from __future__ import annotations

import json
import time

import pytest

from tests.llm_server import FakeChatCompletions, Reply
from tests.support.bot_process import copy_index, serve_in_process
from tests.support.slack_fakes import BOT_USER, mention, sections

pytest.importorskip("langchain_openai", reason="the LLM tests need the dev extra (pip install -e '.[dev]')")

pytestmark = pytest.mark.slow

TIMEOUT = 2.0
WORKERS = 2
QUESTIONS = 5
"""More questions than answer workers: without a deadline the later ones would wait behind hung calls."""


@pytest.fixture
def model_server():
    server = FakeChatCompletions().start()
    yield server
    server.stop()


def test_a_hanging_model_endpoint_does_not_stop_the_bot_answering(index_dir, fake_slack, model_server, channel, tmp_path, monkeypatch):
    from assistant.core import Assistant
    from assistant.settings import Settings

    monkeypatch.setenv("OPENAI_BASE_URL", model_server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    data_dir = copy_index(index_dir, tmp_path / "bot")
    assistant = Assistant.load(Settings(_env_file=None, data_dir=data_dir, chroma_url=None, llm="openai:test-model", llm_timeout=TIMEOUT))
    model_server.script(Reply(hang=True))

    with serve_in_process(data_dir, fake_slack, assistant.ask, slack_answer_workers=WORKERS) as events:
        started = time.monotonic()
        asked = []
        for n in range(QUESTIONS):
            message = fake_slack.user_message(channel, f"UHANG{n:04d}", f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
            assert events.event(mention(message))[0] == 200
            asked.append(message)
        replies = [fake_slack.wait_for_posts(channel, message["ts"], timeout=60)[0] for message in asked]
        elapsed = time.monotonic() - started

        for reply in replies:
            assert "Nezar Patria" in " ".join(sections(reply))  # the extractive answer, not an apology
        assert len(model_server.requests) == QUESTIONS
        # Questions are answered WORKERS at a time, each wave within the timeout and some slack for
        # the extractive answer. Without the deadline each call would last the client's three
        # tries (~3 × the timeout, plus back-off).
        waves = -(-QUESTIONS // WORKERS)
        assert elapsed < waves * (TIMEOUT + 1.5), f"{QUESTIONS} questions took {elapsed:.1f}s"

        # The endpoint recovers: the next question gets the model's (verified) answer.
        def cite_accompanied(request):
            n = request.number_of(assistant.searcher.sentences["antara-komdigi-as-kerja-sama-digital#11"].text)
            return Reply(json.dumps({"answer": f"She was accompanied by Nezar Patria, Mira Tayyiba and Ismail [{n}].", "citations": [n]}))

        model_server.script(cite_accompanied)
        message = fake_slack.user_message(channel, "UHANG9999", f"<@{BOT_USER}> Who accompanied Meutya Hafid?")
        events.event(mention(message))
        [reply] = fake_slack.wait_for_posts(channel, message["ts"], timeout=30)
        assert "She was accompanied by Nezar Patria, Mira Tayyiba and Ismail" in " ".join(sections(reply))
