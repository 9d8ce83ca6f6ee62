"""The sentence index: one Chroma collection (through langchain-chroma) plus its manifest.

Each record is one article sentence: id `doc_id#NN`, document = the exact sentence text, metadata =
doc id, position, character offsets, title, source, the neighbouring sentences (`context`) and the
Indonesian stems used by BM25 (computed once at ingest). The manifest — embedding model and
dimension, splitter settings, package version, per-document hashes and related headlines — lives
in the collection's own metadata, so it travels with the collection to a Chroma server.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from assistant.errors import (
    ConfigurationError,
    EmbedderMismatchError,
    IndexNotFoundError,
    IndexUnavailableError,
)
from assistant.settings import Settings
from assistant.types import Hit

MANIFEST_KEY = "assistant_manifest"
MANIFEST_FORMAT = 1


@dataclass(frozen=True)
class StoredSentence:
    sentence_id: str
    doc_id: str
    position: int
    text: str
    title: str
    source: str
    stems: str
    context: str

    def to_hit(self, score: float) -> Hit:
        return Hit(self.sentence_id, self.doc_id, self.position, self.text, score, self.title, self.source)


def open_chroma_client(settings: Settings):
    """The embedded PersistentClient under data_dir, or an HttpClient when ASSISTANT_CHROMA_URL is set."""
    # Chroma reads these at import; set them before the first import so no telemetry is ever sent.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise ConfigurationError(f"ASSISTANT_CHROMA_URL must look like http://host:port, got {settings.chroma_url!r}.")
        with _translate_connection_errors(settings):
            return chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma_settings,
            )
    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=chroma_settings)


class SentenceIndex:
    """Read and write article sentences in Chroma. The embedder is always ours, never Chroma's default."""

    def __init__(self, settings: Settings, embedder, client=None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._vectorstore = None

    # -- connections ---------------------------------------------------------------------------

    @property
    def client(self):
        if self._client is None:
            self._client = open_chroma_client(self.settings)
        return self._client

    @property
    def vectorstore(self):
        if self._vectorstore is None:
            from langchain_chroma import Chroma

            with self.guard():
                self._vectorstore = Chroma(
                    client=self.client,
                    collection_name=self.settings.collection,
                    embedding_function=self.embedder,
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
        return self._vectorstore

    def _collection(self):
        with self.guard():
            return self.client.get_or_create_collection(
                self.settings.collection, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
            )

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a dead Chroma server into IndexUnavailableError, which the shells explain to users."""
        with _translate_connection_errors(self.settings):
            yield

    # -- manifest ------------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        with self.guard():
            try:
                collection = self.client.get_collection(self.settings.collection)
            except Exception as exc:  # chromadb raises NotFoundError / ValueError depending on version
                if _is_connection_error(exc):
                    raise
                return None
            raw = (collection.metadata or {}).get(MANIFEST_KEY)
        return json.loads(raw) if raw else None

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        collection = self._collection()
        with self.guard():
            collection.modify(metadata={MANIFEST_KEY: json.dumps(manifest, ensure_ascii=False, sort_keys=True)})

    def new_manifest(self) -> dict[str, Any]:
        from assistant import __version__
        from ingest.article import CONTEXT_WINDOW

        return {
            "format": MANIFEST_FORMAT,
            "package_version": __version__,
            "embedding": {"id": self.embedder.model_id, "dimension": self.embedder.dimension},
            "splitter": {"name": "indonesian-rules", "version": 1, "context_window": CONTEXT_WINDOW},
            "stemmer": "sastrawi",
            "documents": {},
        }

    def require_manifest(self) -> dict[str, Any]:
        """The manifest of a usable index: raises if nothing was ingested or the embedder differs."""
        manifest = self.read_manifest()
        if not manifest or not manifest.get("documents"):
            where = self.settings.chroma_url or str(self.settings.chroma_dir)
            raise IndexNotFoundError(f"No article has been ingested into {where} yet. Run: assistant ingest")
        check_embedder(manifest, self.embedder.model_id)
        return manifest

    # -- sentences -----------------------------------------------------------------------------

    def sentences(self, doc_id: str | None = None) -> list[StoredSentence]:
        collection = self._collection()
        with self.guard():
            result = collection.get(where={"doc_id": doc_id} if doc_id else None, include=["documents", "metadatas"])
        rows = [
            StoredSentence(
                sentence_id=sentence_id,
                doc_id=meta["doc_id"],
                position=int(meta["position"]),
                text=text,
                title=meta.get("title", ""),
                source=meta.get("source", ""),
                stems=meta.get("stems", ""),
                context=meta.get("context", ""),
            )
            for sentence_id, text, meta in zip(result["ids"], result["documents"], result["metadatas"])
        ]
        return sorted(rows, key=lambda row: (row.doc_id, row.position))

    def write_sentences(self, ids: list[str], texts: list[str], metadatas: list[dict], progress: Callable[[int], None] | None = None) -> None:
        """Embed and upsert sentences in small batches, reporting progress after each batch."""
        batch = 16
        for start in range(0, len(ids), batch):
            with self.guard():
                self.vectorstore.add_texts(
                    texts=texts[start : start + batch], metadatas=metadatas[start : start + batch], ids=ids[start : start + batch]
                )
            if progress:
                progress(min(batch, len(ids) - start))

    def delete_sentences(self, ids: list[str]) -> None:
        if ids:
            with self.guard():
                self.vectorstore.delete(ids=ids)

    def dense_search(self, query_embedding: list[float], k: int) -> list[tuple[str, float]]:
        """(sentence_id, cosine similarity) pairs, best first."""
        with self.guard():
            pairs = self.vectorstore.similarity_search_by_vector_with_relevance_scores(query_embedding, k=k)
        return [(document.id, 1.0 - distance) for document, distance in pairs]


def check_embedder(manifest: dict[str, Any], model_id: str) -> None:
    indexed = manifest.get("embedding", {}).get("id")
    if indexed != model_id:
        raise EmbedderMismatchError(
            f"The index was built with embedding {indexed!r} but the assistant is set to use {model_id!r}. "
            f"Set ASSISTANT_EMBEDDING={indexed} or re-ingest with the new embedder into a fresh data directory."
        )


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    markers = ("ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ConnectionError", "ConnectionRefusedError")
    if names & set(markers):
        return True
    message = str(exc).lower()
    return "could not connect" in message or "connection refused" in message


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


@contextmanager
def _translate_connection_errors(settings: Settings) -> Iterator[None]:
    try:
        yield
    except IndexUnavailableError:
        raise
    except Exception as exc:
        if settings.chroma_url and _is_connection_error(exc):
            raise IndexUnavailableError(
                f"The article index at {settings.chroma_url} is unavailable right now ({type(exc).__name__})."
            ) from exc
        raise
