"""Every library entry point raises an AssistantError with a fix-it message for a bad argument."""

from __future__ import annotations

import pytest

from assistant import Assistant, AssistantError, ConfigurationError, InvalidArgumentError


def test_a_bad_setting_at_load_is_a_configuration_error_naming_the_variable(seed_settings):
    with pytest.raises(ConfigurationError, match="ASSISTANT_RETRIEVAL: Input should be 'hybrid' or 'dense'") as raised:
        Assistant.load(seed_settings, retrieval="bogus")
    assert isinstance(raised.value, AssistantError)  # what docs/usage.md promises callers can catch


def test_a_bad_setting_in_the_environment_is_a_configuration_error_too(monkeypatch, seed_settings):
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(seed_settings.data_dir))
    monkeypatch.setenv("ASSISTANT_RETRIEVAL", "sparse")
    with pytest.raises(ConfigurationError, match="ASSISTANT_RETRIEVAL"):
        Assistant.load()


@pytest.mark.parametrize("k", [0, -3, 2.5, True, "5"])
def test_retrieve_with_a_k_that_is_not_one_or_more_says_what_k_must_be(bot, k):
    with pytest.raises(InvalidArgumentError, match="k must be a whole number of sentences, 1 or more") as raised:
        bot.retrieve("Siapa Duta Besar AS?", k=k)
    assert isinstance(raised.value, AssistantError)


@pytest.mark.parametrize("question", [None, 42, ["Siapa?"], b"Siapa?"])
def test_a_question_that_is_not_text_is_refused_with_an_example(bot, question):
    for call in (bot.ask, bot.retrieve):
        with pytest.raises(InvalidArgumentError, match="the question must be text"):
            call(question)

