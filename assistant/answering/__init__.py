"""Answering: the extractive default, or an LLM chain with verified citations when ASSISTANT_LLM is set."""

from __future__ import annotations

from assistant.retrieval import SentenceSearcher
from assistant.settings import Settings


def build_answerer(settings: Settings, searcher: SentenceSearcher, chat_model=None):
    """The answerer the settings ask for. `chat_model` injects a LangChain chat model (tests, REPL)."""
    from assistant.answering.extractive import ExtractiveAnswerer

    extractive = ExtractiveAnswerer(searcher)
    if chat_model is None and not settings.llm:
        return extractive
    from assistant.answering.generative import GenerativeAnswerer, load_chat_model

    model = chat_model or load_chat_model(settings.llm or "", timeout=settings.llm_timeout)
    return GenerativeAnswerer(searcher, model, fallback=extractive, timeout=settings.llm_timeout)
