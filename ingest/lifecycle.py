"""What the index holds, and taking documents out of it: `documents`, `remove`, `reset`.

They keep ingest's guarantees (see `assistant.store`): `remove` writes a complete new version without
the removed documents and switches the catalog to it in one metadata write; `reset` switches the
catalog to "empty" before deleting anything. A process killed at any moment leaves either the
previous state answering or the new one, never a mix.

Neither needs the embedding model: removal copies the remaining sentences with their embeddings.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

from assistant.errors import UnknownDocumentError
from assistant.settings import Settings
from assistant.store import SentenceIndex
from ingest.pipeline import version_fingerprint


@dataclass(frozen=True)
class DocumentInfo:
    """One ingested document as `assistant documents` lists it."""

    doc_id: str
    title: str
    source: str
    sentences: int
    ingested_at: str
    version: str
    """The index version (Chroma collection) that answers questions now."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RemoveReport:
    removed: tuple[DocumentInfo, ...]
    remaining: int
    """Documents left in the index."""
    version: str | None
    """The version now active; None when the index is empty."""
    seconds: float


def documents(*, settings: Settings, index: SentenceIndex | None = None) -> tuple[DocumentInfo, ...]:
    """The documents in the active version, by id. Empty after `reset`; IndexNotFoundError (and no
    folder created) where nothing was ever ingested."""
    manifest = (index or SentenceIndex(settings, embedder=None)).read_manifest() or {}
    return _infos(manifest)


def remove(doc_ids: list[str] | tuple[str, ...], *, settings: Settings, index: SentenceIndex | None = None) -> RemoveReport:
    """Take documents out of the index. An id the index does not hold is an UnknownDocumentError and
    nothing is removed, not even the ids that do exist."""
    started = time.perf_counter()
    index = index or SentenceIndex(settings, embedder=None)
    manifest = index.read_manifest() or {}
    held = {info.doc_id: info for info in _infos(manifest)}
    unknown = [doc_id for doc_id in dict.fromkeys(doc_ids) if doc_id not in held]
    if unknown:
        holds = ", ".join(sorted(held)) or "no documents"
        raise UnknownDocumentError(
            f"The index at {settings.chroma_location} has no document {', '.join(map(repr, unknown))}; nothing was removed. "
            f"It holds: {holds} (see: assistant documents)."
        )
    removing = set(doc_ids)
    kept = {doc_id: entry for doc_id, entry in manifest["documents"].items() if doc_id not in removing}
    previous = manifest["collection"]
    if kept:
        collection = index.version_name(version_fingerprint(manifest["embedding"]["id"], manifest, kept, manifest.get("lexicon", "")))
        reused = [
            (row.sentence_id, row.text, meta, embedding)
            for row, meta, embedding in index.records(previous)
            if row.doc_id not in removing
        ]
        index.write_version(collection, reused, [])
    else:
        collection = None
    index.activate({**manifest, "documents": kept, "collection": collection})
    # Unlike ingest, no earlier version is kept for readers in flight: it holds the removed text,
    # and a reader whose version is collected simply moves to the active one (VersionGoneError).
    index.collect_garbage(collection, None)
    return RemoveReport(tuple(held[doc_id] for doc_id in dict.fromkeys(doc_ids)), len(kept), collection, time.perf_counter() - started)


def reset(*, settings: Settings, index: SentenceIndex | None = None) -> RemoveReport:
    """Empty the index: every document and every stored version. The folder (and the Slack database
    beside it) stay; `assistant ingest` fills the index again."""
    started = time.perf_counter()
    index = index or SentenceIndex(settings, embedder=None)
    manifest = index.read_manifest() or {}
    removed = _infos(manifest)
    if manifest:
        index.activate({**manifest, "documents": {}, "collection": None})
    # Also versions a killed ingest left behind, which no manifest names.
    index.collect_garbage(None, None)
    return RemoveReport(removed, 0, None, time.perf_counter() - started)


def _infos(manifest: dict) -> tuple[DocumentInfo, ...]:
    version = manifest.get("collection")
    if not version:
        return ()
    return tuple(
        DocumentInfo(
            doc_id=doc_id,
            title=entry.get("title", ""),
            source=entry.get("source", ""),
            sentences=int(entry.get("sentences", 0)),
            ingested_at=entry.get("ingested_at", ""),
            version=version,
        )
        for doc_id, entry in sorted(manifest.get("documents", {}).items())
    )
