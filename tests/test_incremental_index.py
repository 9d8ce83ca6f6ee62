"""Changing one document costs that document: ingest and remove touch only its records, and a
running bot follows the change by reading only what changed, answering exactly as a fresh load would."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from assistant import Assistant, IndexNotFoundError
from assistant.store import MANIFEST_KEY, SentenceIndex, open_chroma_client
from ingest import documents, ingest, remove
from tests.conftest import DOC_ID, SEED
from tests.support.index_records import sentence_collection, write_article

pytestmark = pytest.mark.slow

QUESTIONS = [
    "Siapa Duta Besar AS untuk Indonesia?",
    "Who opened the technology exhibition?",
    "Berapa lama pameran berlangsung?",
    "Apa yang dibahas dalam rapat kabinet?",
    "Where is the port being built?",
]


ARTICLES = {
    "kabinet.txt": "Presiden memimpin rapat kabinet di Istana Merdeka. Rapat membahas anggaran pendidikan 2025.\n",
    "pameran.txt": "Gubernur membuka pameran teknologi di Bandung. Pameran itu berlangsung selama tiga hari.\n",
    "port.txt": "The minister opened a new container port in {city} on Monday. The port cost 2 trillion rupiah.\n",
}


def _source(folder: Path, name: str, city: str = "Makassar") -> str:
    return str(write_article(folder / name, ARTICLES[name].format(city=city)))


class _Recording(SentenceIndex):
    """The real index, noting which sentence records ingest writes and which documents it reads back."""

    def __init__(self, settings, embedder) -> None:
        super().__init__(settings, embedder)
        self.written: list[str] = []
        self.read_documents: list[str] = []

    def write_sentences(self, collection, reused, to_embed, progress=None) -> None:
        self.written += [chroma_id for chroma_id, *_ in (*reused, *to_embed)]
        super().write_sentences(collection, reused, to_embed, progress)

    def version_records(self, collection, doc_id, version):
        self.read_documents.append(doc_id)
        return super().version_records(collection, doc_id, version)


def _stored(settings) -> dict[str, tuple[str, tuple[float, ...]]]:
    result = sentence_collection(settings).get(include=["documents", "embeddings"])
    return {chroma_id: (text, tuple(embedding)) for chroma_id, text, embedding in zip(result["ids"], result["documents"], result["embeddings"], strict=True)}


def test_adding_and_replacing_one_article_touch_only_its_records(fresh_settings, tmp_path, bot):
    ingest([str(SEED), _source(tmp_path, "kabinet.txt"), _source(tmp_path, "pameran.txt")], settings=fresh_settings)
    before = _stored(fresh_settings)

    recording = _Recording(fresh_settings, bot.index.embedder)
    ingest([_source(tmp_path, "port.txt")], settings=fresh_settings, index=recording)
    assert recording.written and all(chroma_id.startswith("port#") for chroma_id in recording.written)
    assert recording.read_documents == []  # a new article reads no other document's sentences
    after = _stored(fresh_settings)
    assert {chroma_id: after[chroma_id] for chroma_id in before} == before  # every other record as it was

    recording = _Recording(fresh_settings, bot.index.embedder)
    report = ingest([_source(tmp_path, "port.txt", "Bitung")], settings=fresh_settings, index=recording)
    assert report.documents[0].written == 1 and report.documents[0].unchanged == 1  # the unchanged sentence keeps its embedding
    assert recording.read_documents == ["port"] and all(chroma_id.startswith("port#") for chroma_id in recording.written)
    assert {chroma_id: value for chroma_id, value in _stored(fresh_settings).items() if not chroma_id.startswith("port#")} == before


def test_a_running_bot_follows_add_replace_and_remove_as_a_fresh_load_answers(fresh_settings, tmp_path):
    ingest([str(SEED), _source(tmp_path, "kabinet.txt")], settings=fresh_settings)
    running = Assistant.load(fresh_settings)
    running.searcher.refresh_seconds = 0.0
    running.retrieve(QUESTIONS[0])  # builds its BM25 index
    full_reads = []
    read_all = running.index.sentence_terms
    running.index.sentence_terms = lambda snapshot: full_reads.append(snapshot) or read_all(snapshot)  # type: ignore[method-assign]

    steps = [
        lambda: ingest([_source(tmp_path, "pameran.txt")], settings=fresh_settings),
        lambda: ingest([_source(tmp_path, "port.txt")], settings=fresh_settings),
        lambda: ingest([_source(tmp_path, "port.txt", "Bitung")], settings=fresh_settings),
        lambda: remove(["kabinet"], settings=fresh_settings),
    ]
    for step in steps:
        step()
        fresh = Assistant.load(fresh_settings)
        for question in QUESTIONS:
            followed = [(hit.sentence_id, hit.text, round(hit.score, 6)) for hit in running.retrieve(question, k=5)]
            assert followed == [(hit.sentence_id, hit.text, round(hit.score, 6)) for hit in fresh.retrieve(question, k=5)], question
        assert running.documents.keys() == fresh.documents.keys()
        assert sorted(running.searcher.sentences) == sorted(fresh.searcher.sentences)  # what `repr` counts, what BM25 ranks
        assert running.searcher.vocabulary("port") == fresh.searcher.vocabulary("port")
    assert full_reads == []  # every change was read as a change, never by re-reading the archive
    assert "Bitung" in running.ask("Where is the port being built?").text


def test_an_index_of_the_older_format_asks_for_a_reingest_and_ingest_replaces_it(fresh_settings):
    client = open_chroma_client(fresh_settings, create=True)
    client.get_or_create_collection(fresh_settings.collection, metadata={MANIFEST_KEY: json.dumps({"format": 3, "collection": "x"})})
    client.get_or_create_collection(fresh_settings.collection + "__v0123456789ab")
    with pytest.raises(IndexNotFoundError, match="older version.*assistant ingest"):
        Assistant.load(fresh_settings)

    ingest([str(SEED)], settings=fresh_settings)
    assert [info.doc_id for info in documents(settings=fresh_settings)] == [DOC_ID]
    names = {c.name for c in open_chroma_client(fresh_settings).list_collections()}
    assert not [name for name in names if "__v" in name]  # the old format's collections are gone
    assert Assistant.load(fresh_settings).retrieve(QUESTIONS[0], k=1)[0].sentence_id == f"{DOC_ID}#12"
