"""Shared fixtures: one real index of the real article (real embedder, real Chroma) per test session."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")

ROOT = Path(__file__).resolve().parents[1]
SEED = ROOT / "seeds" / "antara-komdigi-as-kerja-sama-digital.txt"
DOC_ID = "antara-komdigi-as-kerja-sama-digital"


@pytest.fixture(scope="session")
def seed_text() -> str:
    return SEED.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def seed_settings(tmp_path_factory):
    from assistant.settings import Settings
    from ingest import ingest

    settings = Settings(_env_file=None, data_dir=tmp_path_factory.mktemp("seed-index"), chroma_url=None, llm=None)
    ingest([str(SEED)], settings=settings)
    return settings


@pytest.fixture(scope="session")
def bot(seed_settings):
    from assistant import Assistant

    return Assistant.load(seed_settings)


@pytest.fixture(scope="session")
def article_sentences(seed_text) -> dict[str, str]:
    """sentence_id -> exact text, straight from the splitter: what every citation must match."""
    from ingest.article import parse_article

    article = parse_article(seed_text, doc_id=DOC_ID, title="t", source=str(SEED))
    return {s.sentence_id: s.text for s in article.sentences}


@pytest.fixture
def fresh_settings(tmp_path):
    from assistant.settings import Settings

    return Settings(_env_file=None, data_dir=tmp_path / "data", chroma_url=None, llm=None)
