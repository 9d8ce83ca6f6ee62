"""The LLM path over HTTP: the real provider package (`langchain-openai`, its `openai`/`httpx` clients)
talks to an OpenAI-compatible server on 127.0.0.1 (`tests/llm_server.py`), configured as a user
would: `ASSISTANT_LLM=openai:<model>`, `OPENAI_BASE_URL`, `OPENAI_API_KEY`, `ASSISTANT_LLM_TIMEOUT`.

The index, embedder and article are real (the session's seed index). Whatever the server does, the
asker gets a verified answer or the extractive one with the reason in `Answer.notes`, within the
timeout (plus the time to answer extractively).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

pytest.importorskip("langchain_openai", reason="the LLM tests need the dev extra (pip install -e '.[dev]')")

from assistant.answering import build_answerer  # noqa: E402
from assistant.answering.generative import CLIENT_RETRIES, MAX_REPLY_CHARS, GenerativeAnswerer, load_chat_model  # noqa: E402
from assistant.types import Answer  # noqa: E402
from tests.conftest import DOC_ID  # noqa: E402
from tests.llm_server import FakeChatCompletions, Reply, Request  # noqa: E402

MODEL = "test-model"
FIRST = f"{DOC_ID}#00"  # "… Meutya Hafid bertemu … Marisa Lago, serta Duta Besar AS untuk RI Kamala Shirin Lakhdhir …"
COMPANIES = f"{DOC_ID}#04"  # "… sudah ada 12 perusahaan asal AS yang tertarik dan akan berkunjung ke Jakarta, Denpasar dan Ibukota Nusantara."
ACCOMPANIED = f"{DOC_ID}#11"  # "Dalam pertemuan itu, Menkomdigi Meutya Hafid didampingi Wamenkomdigi Nezar Patria, …"
HOW_MANY_EN = "How many US companies are interested in smart city?"
HOW_MANY_ID = "Berapa perusahaan AS yang tertarik dengan smart city?"
WHO_MET = "Who did Minister Meutya Hafid meet?"

SHORT_TIMEOUT = 2.0
"""For the tests where the deadline must fire."""
ROOMY_TIMEOUT = 15.0
"""For the tests where the client's own retries must finish first (a slow, shared machine)."""


@pytest.fixture(scope="module")
def server():
    fake = FakeChatCompletions().start()
    yield fake
    fake.stop()


@pytest.fixture
def llm(seed_settings, bot, server, monkeypatch):
    """`llm(timeout)`: the answerer `ASSISTANT_LLM=openai:test-model` builds, pointed at the fake server."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")

    def make(timeout: float = ROOMY_TIMEOUT) -> GenerativeAnswerer:
        settings = seed_settings.model_copy(update={"llm": f"openai:{MODEL}", "llm_timeout": timeout})
        answerer = build_answerer(settings, bot.searcher)
        assert isinstance(answerer, GenerativeAnswerer)
        return answerer

    return make


@pytest.fixture(scope="module")
def text_of(bot):
    return lambda sentence_id: bot.searcher.sentences[sentence_id].text


def citing(template: str, *sentence_ids: str, text_of):
    """A reply written from the request: `template` with the numbers the prompt gave the sentences."""

    def step(request: Request) -> Reply:
        numbers = [request.number_of(text_of(sentence_id)) for sentence_id in sentence_ids]
        return Reply(json.dumps({"answer": template.format(*numbers), "citations": numbers, "abstain": False}))

    return step


def timed(answerer: GenerativeAnswerer, question: str) -> tuple[Answer, float]:
    started = time.monotonic()
    answer = answerer.answer(question)
    return answer, time.monotonic() - started


def assert_extractive_companies(answer: Answer) -> None:
    """The extractive answer to the companies question: the right number, its exact sentence."""
    assert answer.answerer == "extractive" and not answer.abstained
    assert "12 perusahaan" in answer.text
    assert [c.sentence_id for c in answer.citations] == [COMPANIES]
    assert answer.notes[-1] == "answered extractively instead"
    assert answer.to_dict()["answerer"] == "extractive" and answer.to_dict()["notes"] == list(answer.notes)


# -- replies the verifier keeps or drops --------------------------------------------------------


def test_a_correct_answer_is_shown_with_its_sentence(llm, server, text_of):
    server.script(citing("12 US companies are interested [{0}] and will visit Jakarta, Denpasar and Ibukota Nusantara [{0}].", COMPANIES, text_of=text_of))
    answer = llm().answer(HOW_MANY_EN)

    assert answer.answerer == "llm" and answer.notes == ()
    assert answer.text == "12 US companies are interested [1] and will visit Jakarta, Denpasar and Ibukota Nusantara [1]."
    assert [c.sentence_id for c in answer.citations] == [COMPANIES]
    assert [c.text for c in answer.citations] == [text_of(COMPANIES)]
    assert answer.to_dict()["answerer"] == "llm" and answer.to_dict()["notes"] == []
    [request] = server.requests
    assert request.body["model"] == MODEL
    assert "only source" in request.body["messages"][0]["content"]
    assert request.prompt.rstrip().endswith(f"Question: {HOW_MANY_EN}")


def test_an_invented_citation_number_drops_its_claim(llm, server, text_of):
    server.script(citing("12 US companies are interested [{0}]. They have already opened offices in Bali [9].", COMPANIES, text_of=text_of))
    answer = llm().answer(HOW_MANY_EN)

    assert answer.answerer == "llm"
    assert answer.text == "12 US companies are interested [1]."
    assert any("[9]" in note and "Bali" in note for note in answer.notes)
    assert answer.to_dict()["notes"] == list(answer.notes)


def test_a_changed_number_is_not_shown(llm, server, text_of):
    server.script(citing("15 US companies are interested in smart city [{0}].", COMPANIES, text_of=text_of))
    answer = llm().answer(HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert "15" not in answer.text
    assert any("the number 15 is not in its cited sentence" in note for note in answer.notes)


def test_a_name_the_cited_sentence_does_not_contain_drops_the_claim(llm, server, text_of):
    """The issue's reply: sentence [n] names Marisa Lago and Kamala Shirin Lakhdhir, not Nezar Patria."""
    server.script(
        citing(
            "The minister met Marisa Lago, Kamala Shirin Lakhdhir and Nezar Patria [{0}]. She was accompanied by Deputy Minister Nezar Patria [{1}].",
            FIRST, ACCOMPANIED, text_of=text_of,
        )
    )  # fmt: skip
    answer = llm().answer(WHO_MET)

    assert answer.answerer == "llm"
    assert answer.text == "She was accompanied by Deputy Minister Nezar Patria [1]."
    assert [c.sentence_id for c in answer.citations] == [ACCOMPANIED]
    assert any("the name Nezar Patria is not in its cited sentence" in note for note in answer.notes)


def test_a_quote_that_is_not_in_the_sentence_is_not_shown(llm, server, text_of):
    server.script(citing("Meutya mengatakan ada “12 perusahaan asal AS yang sudah berinvestasi” [{0}].", COMPANIES, text_of=text_of))
    answer = llm().answer(HOW_MANY_ID)

    assert_extractive_companies(answer)
    assert "berinvestasi" not in answer.text
    assert any("quote" in note for note in answer.notes)


def test_a_reply_that_is_not_json_falls_back(llm, server):
    server.script(Reply("Sure! There are twelve American companies interested."))
    answer = llm().answer(HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert any("not the JSON asked for" in note for note in answer.notes)


def test_a_reply_in_the_wrong_language_falls_back_to_the_askers(llm, server, text_of):
    server.script(citing("There are 12 US companies that are interested [{0}].", COMPANIES, text_of=text_of))
    answer = llm().answer(HOW_MANY_ID)

    assert_extractive_companies(answer)
    assert answer.language == "id" and "Menurut artikel" in answer.text
    assert any("answered in English, the question was in Indonesian" in note for note in answer.notes)


# -- a server that fails or never answers -------------------------------------------------------


def test_the_provider_client_gets_the_timeout_and_its_retries(server, monkeypatch):
    """So a hung request also ends on the client's side, not only at the answerer's deadline."""
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-local-test")
    model = load_chat_model(f"openai:{MODEL}", timeout=3.5)
    assert model.request_timeout == 3.5 and model.max_retries == CLIENT_RETRIES


def test_a_500_is_retried_by_the_client_then_answered_extractively(llm, server):
    server.script(Reply(status=500))
    answer, seconds = timed(llm(ROOMY_TIMEOUT), HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert any(note.startswith("the model failed") and "500" in note for note in answer.notes), answer.notes
    assert len(server.requests) == 3  # the first try and the client's two retries
    assert seconds < ROOMY_TIMEOUT


def test_a_429_with_retry_after_is_waited_out_and_then_answered(llm, server, text_of):
    server.script(Reply(status=429, headers={"Retry-After": "1"}), citing("12 US companies are interested [{0}].", COMPANIES, text_of=text_of))
    answer = llm(ROOMY_TIMEOUT).answer(HOW_MANY_EN)

    assert answer.answerer == "llm" and answer.text == "12 US companies are interested [1]."
    first, second = server.requests
    assert second.at - first.at >= 0.9  # the client honoured Retry-After


def test_a_429_asking_to_wait_past_the_timeout_gets_the_extractive_answer_in_time(llm, server):
    server.script(Reply(status=429, headers={"Retry-After": "30"}))
    answer, seconds = timed(llm(SHORT_TIMEOUT), HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert f"the model did not answer within {SHORT_TIMEOUT:g} s" in answer.notes
    assert seconds < SHORT_TIMEOUT + 2
    assert len(server.requests) == 1


def test_a_server_that_never_answers_gets_the_extractive_answer_within_the_timeout(llm, server, text_of):
    server.script(Reply(hang=True))
    answerer = llm(SHORT_TIMEOUT)
    answer, seconds = timed(answerer, HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert f"the model did not answer within {SHORT_TIMEOUT:g} s" in answer.notes
    assert seconds < SHORT_TIMEOUT + 2

    # The abandoned call is not in the way of the next question once the server answers again.
    server.script(citing("12 US companies are interested [{0}].", COMPANIES, text_of=text_of))
    answer, seconds = timed(answerer, HOW_MANY_EN)
    assert answer.answerer == "llm" and answer.text == "12 US companies are interested [1]."
    assert seconds < SHORT_TIMEOUT


def test_a_runaway_reply_is_given_up_at_the_cap_and_answered_extractively(llm, server):
    """An 8 MB reply is not read whole: the stream is dropped past MAX_REPLY_CHARS."""
    server.script(Reply(json.dumps({"answer": "12 perusahaan [1]. " * 400_000, "citations": [1], "abstain": False})))
    answer, seconds = timed(llm(ROOMY_TIMEOUT), HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert f"the model's reply ran past {MAX_REPLY_CHARS:,} characters and was given up there" in answer.notes
    assert seconds < 5


def test_a_reply_that_trickles_past_the_timeout_gets_the_extractive_answer_in_time(llm, server, text_of):
    """The deadline bounds the whole streamed reply, not each read."""
    server.script(Reply(json.dumps({"answer": "12 US companies are interested [1].", "citations": [1]}), chunk=2, trickle=0.25))
    answer, seconds = timed(llm(SHORT_TIMEOUT), HOW_MANY_EN)

    assert_extractive_companies(answer)
    assert f"the model did not answer within {SHORT_TIMEOUT:g} s" in answer.notes
    assert seconds < SHORT_TIMEOUT + 2


@pytest.mark.slow
def test_assistant_ask_json_says_which_answerer_and_why(seed_settings, server, tmp_path):
    """`assistant ask --json` as a user runs it, with the model endpoint hanging."""
    data_dir = shutil.copytree(seed_settings.data_dir, tmp_path / "data")
    server.script(Reply(hang=True))
    env = {
        "PATH": "/usr/bin:/bin",
        "HF_HUB_OFFLINE": "1",
        "ANONYMIZED_TELEMETRY": "False",
        "ASSISTANT_DATA_DIR": str(data_dir),
        "ASSISTANT_LLM": f"openai:{MODEL}",
        "ASSISTANT_LLM_TIMEOUT": str(SHORT_TIMEOUT),
        "OPENAI_BASE_URL": server.base_url,
        "OPENAI_API_KEY": "sk-local-test",
    }
    result = subprocess.run(
        [sys.executable, "-m", "assistant.cli", "ask", "--json", HOW_MANY_EN], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout)
    assert printed["answerer"] == "extractive"
    assert printed["notes"][-2:] == [f"the model did not answer within {SHORT_TIMEOUT:g} s", "answered extractively instead"]
    assert "12 perusahaan" in printed["text"]
