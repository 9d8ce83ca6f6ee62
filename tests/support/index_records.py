"""What the sentence index holds in Chroma, read directly (tests check records, not just answers)."""

from __future__ import annotations

import json
from pathlib import Path

from assistant.store import MANIFEST_KEY, open_chroma_client, split_record_id


def sentence_collection(settings):
    """The Chroma collection the catalog header names as the active sentence collection."""
    client = open_chroma_client(settings)
    header = json.loads(client.get_collection(settings.collection).metadata[MANIFEST_KEY])
    return client.get_collection(header["collection"])


def sentence_collections(settings) -> list[str]:
    """Names of every sentence collection in Chroma (the active one, and any not yet dropped)."""
    return [c.name for c in open_chroma_client(settings).list_collections() if c.name.startswith(settings.collection + "__s")]


def records_per_version(settings) -> dict[str, int]:
    """Sentence records per document version in the active collection (`doc_id#NN@version` ids)."""
    versions: dict[str, int] = {}
    for chroma_id in sentence_collection(settings).get(include=[])["ids"]:
        version = split_record_id(chroma_id)[1]
        versions[version] = versions.get(version, 0) + 1
    return versions


def records_per_document(settings) -> dict[str, int]:
    """Sentence records per document id in every sentence collection (all versions)."""
    held: dict[str, int] = {}
    client = open_chroma_client(settings)
    for name in sentence_collections(settings):
        for meta in client.get_collection(name).get(include=["metadatas"])["metadatas"]:
            held[meta["doc_id"]] = held.get(meta["doc_id"], 0) + 1
    return held


def stored_texts(settings) -> list[str]:
    """Every sentence text in every sentence collection."""
    client = open_chroma_client(settings)
    return [text for name in sentence_collections(settings) for text in client.get_collection(name).get(include=["documents"])["documents"]]


def write_article(path: Path, text: str) -> Path:
    """An article file for a test to ingest (its folders created)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path
