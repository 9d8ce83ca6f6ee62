"""What the index holds, and taking documents out of it: `documents`, `remove`, `reset`.

They keep ingest's guarantees (see `assistant.store`): `remove` switches the removed documents out of
the catalog in one write and then makes their text leave Chroma (in place against a server; by a
compaction, a copy of the live sentences, when embedded); `reset` switches every document out and
drops the sentence collections. A process killed at any moment leaves either the previous state
answering or the new one, never a mix, and a removal it did not finish is finished by the next write.

Neither needs the embedding model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass

from assistant.errors import UnknownDocumentError
from assistant.settings import Settings
from assistant.store import MANIFEST_FORMAT, SentenceIndex


@dataclass(frozen=True)
class DocumentInfo:
    """One ingested document as `assistant documents` lists it."""

    doc_id: str
    title: str
    source: str
    sentences: int
    ingested_at: str
    version: str
    """The document's active version (a hash of what shapes its records; changes when it is re-ingested changed)."""

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class RemoveReport:
    removed: tuple[DocumentInfo, ...]
    remaining: int
    """Documents left in the index."""
    generation: int
    """The catalog generation readers see after the removal."""
    seconds: float


def documents(*, settings: Settings, index: SentenceIndex | None = None) -> tuple[DocumentInfo, ...]:
    """The documents in the active version, by id. Empty after `reset`; IndexNotFoundError (and no
    folder created) where nothing was ever ingested."""
    if index is None:
        with _own_index(settings) as index:
            return _infos(index.read_manifest() or {})
    return _infos(index.read_manifest() or {})


def remove(doc_ids: list[str] | tuple[str, ...], *, settings: Settings, index: SentenceIndex | None = None) -> RemoveReport:
    """Take documents out of the index. An id the index does not hold is an UnknownDocumentError and
    nothing is removed, not even the ids that do exist."""
    if index is None:
        with _own_index(settings) as index:
            return remove(doc_ids, settings=settings, index=index)
    started = time.perf_counter()
    header = index.read_header()
    records = {record.doc_id: record for record in index.document_records(ids=list(dict.fromkeys(doc_ids))) if record.version}
    unknown = [doc_id for doc_id in dict.fromkeys(doc_ids) if doc_id not in records]
    if unknown:
        held = [record.doc_id for record in index.document_records(where={"version": {"$ne": ""}})]
        holds = ", ".join(sorted(held)) or "no documents"
        raise UnknownDocumentError(
            f"The index at {settings.chroma_location} has no document {', '.join(map(repr, unknown))}; nothing was removed. "
            f"It holds: {holds} (see: assistant documents)."
        )
    assert header is not None  # documents exist, so does the header
    removed = tuple(_info(record.doc_id, record.entry, record.version) for record in records.values())
    # `compact_due` until the removed text is gone: a removal killed before that is completed by the next change.
    header = index.switch(header, dict.fromkeys(records), compact_due=True)
    if settings.chroma_url:
        # A server is one Chroma process: deleting the removed records in place is safe there, and
        # costs the removed documents only. A bot in the middle of a question on them asks again.
        header = index.delete_versions(header, {record.doc_id: record.version for record in records.values()})
    else:
        # Embedded, records are never deleted in place (another process's loaded vectors would go
        # wrong, see assistant.store): the live sentences are copied into a new collection and the
        # old one dropped at once. A bot in the middle of a question moves to the new one.
        header = index.compact(header, keep_old=False)
    index.reclaim_space()  # the removed sentences' text, unreadable on disk too
    remaining = len(index.document_records(where={"version": {"$ne": ""}}))
    return RemoveReport(removed, remaining, int(header["generation"]), time.perf_counter() - started)


def reset(*, settings: Settings, index: SentenceIndex | None = None) -> RemoveReport:
    """Empty the index: every document and every stored version. The folder (and the Slack database
    beside it) stay; `assistant ingest` fills the index again."""
    if index is None:
        with _own_index(settings) as index:
            return reset(settings=settings, index=index)
    started = time.perf_counter()
    raw = index.manifest_text()
    header = json.loads(raw) if raw else None
    generation = 0
    removed: tuple[DocumentInfo, ...] = ()
    if header is not None and header.get("format") == MANIFEST_FORMAT:  # an older format's collections just go
        records = sorted(index.document_records(where={"version": {"$ne": ""}}), key=lambda record: record.doc_id)
        removed = tuple(_info(record.doc_id, record.entry, record.version) for record in records)
        header = index.switch(header, {record.doc_id: None for record in records}, collection=None)
        generation = int(header["generation"])
    index.drop_collections_except(None)  # every sentence of every version, including what a killed run left
    index.drop_document_records()  # and the removed documents' records, so no title or term of theirs stays on disk
    index.reclaim_space()
    return RemoveReport(removed, 0, generation, time.perf_counter() - started)


@contextmanager
def _own_index(settings: Settings) -> Iterator[SentenceIndex]:
    """An index for one command, its embedded Chroma stopped when done."""
    index = SentenceIndex(settings, embedder=None)
    try:
        yield index
    finally:
        index.close()


def _info(doc_id: str, entry: dict, version: str) -> DocumentInfo:
    return DocumentInfo(
        doc_id=doc_id,
        title=entry.get("title", ""),
        source=entry.get("source", ""),
        sentences=int(entry.get("sentences", 0)),
        ingested_at=entry.get("ingested_at", ""),
        version=version,
    )


def _infos(manifest: dict) -> tuple[DocumentInfo, ...]:
    return tuple(_info(doc_id, entry, entry.get("version", "")) for doc_id, entry in sorted(manifest.get("documents", {}).items()))
