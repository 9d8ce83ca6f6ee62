"""The sentence index in Chroma: one sentence collection that ingest only adds to, and a catalog naming each document's active version.

Layout (collection names for the default `ASSISTANT_COLLECTION=article_sentences`):

- `article_sentences` — the catalog header. Holds no records; its metadata is a small JSON header:
  format, embedding model and dimension, splitter, language data digest, an `epoch` (new for every
  index built from nothing), a `generation` counter raised by every switch, the name of the active
  sentence collection and how many live sentences it holds.
- `article_sentences__documents` — the catalog: one record per document id, naming the document's
  active `version` (a hash of its content and of everything that shapes its records; "" once
  removed), the `generation` that switched it, its entry (title, source, hash, sentence count,
  places, off-topic calibration…) and its sentences' BM25 terms.
- `article_sentences__s<random>` — the sentence collection: every sentence of the stored versions,
  id `doc_id#NN@version`, document = the exact sentence text, metadata = doc id, version, position,
  offsets, title, source, the neighbouring sentences (`context`) and the stems BM25 uses.

Changing a document costs what that document costs, whatever the archive holds: its new version's
sentences are added beside the old ones (invisible to readers, whose snapshots name the old version),
then one catalog write switches it and the header's generation tells readers, which re-read only the
records switched since the generation they hold. An ingest killed before its switch leaves the
previous state answering.

Records are never deleted from the sentence collection: an embedded Chroma reader in another process
keeps the vectors it loaded, and deletions made meanwhile by another process leave its view wrong
(additions are merely invisible to it until it reopens, which readers do at every switch). Replaced
versions stay hidden until a compaction copies the live sentences into a new collection (when hidden
records pile up, and at once for `remove`); the replaced collection is dropped at the next write, or
at once after a removal so removed text leaves Chroma.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import secrets
import shutil
import sqlite3
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import Any
from urllib.parse import urlparse

from assistant.errors import (
    ConfigurationError,
    EmbedderMismatchError,
    IndexAccessDeniedError,
    IndexNotFoundError,
    IndexProblemError,
    IndexStorageError,
    IndexUnavailableError,
)
from assistant.settings import Settings
from assistant.types import Hit

MANIFEST_KEY = "assistant_manifest"
MANIFEST_FORMAT = 4
DOCUMENTS_SUFFIX = "__documents"
SENTENCES_SEPARATOR = "__s"
"""Sentence collections are `article_sentences__s<random>`: a new one at each compaction."""
LEGACY_VERSION_SEPARATOR = "__v"
"""Format 3 kept one collection per index version (`article_sentences__v<hash>`); the first write deletes them."""
VERSION_MARK = "@"
WRITE_BATCH = 16
RECORD_PAGE = 1000
REOPEN_GRACE_SECONDS = 30.0
"""How long a reader's previous embedded client stays open after `open_for_reading`, for questions running on it."""
READ_LOCK_WAIT_SECONDS = 5.0
LOCK_FILE = "assistant.lock"
COMPACT_FRACTION = 0.25
COMPACT_MINIMUM = 200
"""Ingest compacts when hidden records exceed this many and COMPACT_FRACTION of the live ones."""


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

    @classmethod
    def from_record(cls, chroma_id: str, text: str, meta: dict[str, Any]) -> StoredSentence:
        """From a Chroma record: its id (`doc_id#NN@version`), document (the sentence text) and metadata."""
        return cls(
            sentence_id=split_record_id(chroma_id)[0],
            doc_id=meta["doc_id"],
            position=int(meta["position"]),
            text=text,
            title=meta.get("title", ""),
            source=meta.get("source", ""),
            stems=meta.get("stems", ""),
            context=meta.get("context", ""),
        )


@dataclass(frozen=True)
class Snapshot:
    """The catalog as one reader sees it: the header, every document's entry with its active
    `version`, and the sentence collection. Each question runs against one snapshot."""

    manifest: dict[str, Any]
    collection: str

    @cached_property
    def _versions(self) -> dict[str, str]:
        return {doc_id: entry["version"] for doc_id, entry in self.manifest["documents"].items()}

    @cached_property
    def sentence_count(self) -> int:
        return sum(int(entry.get("sentences", 0)) for entry in self.manifest["documents"].values())

    @property
    def generation(self) -> int:
        return int(self.manifest.get("generation", 0))

    def version_of(self, sentence_id: str) -> str | None:
        """The version of the sentence's document this snapshot answers from (None: not in it)."""
        return self._versions.get(sentence_id.rpartition("#")[0])

    def record_id(self, sentence_id: str) -> str:
        return record_id(sentence_id, self._versions.get(sentence_id.rpartition("#")[0], ""))


def open_chroma_client(settings: Settings, *, create: bool = False):
    """The embedded PersistentClient under data_dir, or an HttpClient when ASSISTANT_CHROMA_URL is set.

    Only writers pass `create=True`: a command that only reads (ask, chat, documents, slack) in a folder
    without an index gets IndexNotFoundError and leaves no `data/chroma` behind.
    """
    # Chroma reads this at import; set it before the first import so no telemetry is ever sent.
    os.environ.setdefault("ANONYMIZED_TELEMETRY", "False")
    if settings.chroma_url:
        return _open_http_client(settings)
    if not create and not (settings.chroma_dir / "chroma.sqlite3").is_file():
        raise IndexNotFoundError(
            f"There is no index in {settings.chroma_dir} yet. Build one with: assistant ingest [PATH|URL ...] "
            "(or set ASSISTANT_DATA_DIR to the folder that holds it)."
        )
    from chromadb.config import Settings as ChromaSettings

    with _translate_connection_errors(settings):
        settings.chroma_dir.mkdir(parents=True, exist_ok=True)
        return _private_persistent_client(str(settings.chroma_dir), ChromaSettings(anonymized_telemetry=False))


_SYSTEM_CACHE_LOCK = threading.Lock()


def _private_persistent_client(path: str, chroma_settings):
    """An embedded client on a Chroma `System` of its own, not the one chromadb shares per folder.

    An embedded Chroma process keeps a collection's vector index in memory from the moment it first
    reads it, and never sees records another process adds later (its counts do, its queries do not).
    With every version in one collection, a bot would keep answering from the vectors it loaded at
    start-up. So a reader opens a fresh System when the catalog changes (`SentenceIndex.open_for_reading`),
    and each writer works on its own; chromadb's per-folder cache would hand both the stale one.
    The System is stopped when its SentenceIndex lets it go (`_stop_once`).
    """
    import chromadb
    from chromadb.api.shared_system_client import SharedSystemClient

    cache = SharedSystemClient._identifier_to_system
    with _SYSTEM_CACHE_LOCK:  # chromadb keys its cache by the folder as given (`persist_directory`)
        shared = cache.pop(path, None)
        try:
            client = chromadb.PersistentClient(path=path, settings=chroma_settings)
        finally:
            ours = cache.pop(path, None)
            if shared is not None:
                cache[path] = shared
            if ours is not None:
                SharedSystemClient._decrement_refcount(path)
    client._assistant_stop = _stop_once([ours] if ours is not None else [])  # type: ignore[attr-defined]
    return client


@contextmanager
def _folder_lock(settings: Settings, *, exclusive: bool) -> Iterator[bool]:
    """flock on the embedded index folder: writers exclusive (waiting as long as it takes), readers
    shared (waiting up to READ_LOCK_WAIT_SECONDS; yields False if they could not get it). A server
    (ASSISTANT_CHROMA_URL) needs none: it is one process. The OS drops the lock of a killed process."""
    if settings.chroma_url or not settings.chroma_dir.is_dir():
        yield True
        return
    descriptor = os.open(settings.chroma_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        if exclusive:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        else:
            deadline = time.monotonic() + READ_LOCK_WAIT_SECONDS
            while True:
                try:
                    fcntl.flock(descriptor, fcntl.LOCK_SH | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() > deadline:
                        yield False
                        return
                    time.sleep(0.02)
        yield True
    finally:
        os.close(descriptor)  # closing releases the lock


def _stop_once(systems: list) -> Callable[[], None]:
    stopped = threading.Event()

    def stop() -> None:
        if not stopped.is_set():
            stopped.set()
            for system in systems:
                with contextlib.suppress(Exception):  # stopping is best effort; a failure must not reach a question
                    system.stop()

    return stop


def _open_http_client(settings: Settings):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    url = urlparse(settings.chroma_url)
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ConfigurationError(f"ASSISTANT_CHROMA_URL must look like http://host:port or https://host, got {settings.chroma_location!r}.")
    # chromadb's HttpClient takes a host and a port only; anything else in the URL would be dropped
    # without a word, so say so instead of connecting without the credential or to the wrong place.
    if url.username or url.password:
        raise ConfigurationError(
            "ASSISTANT_CHROMA_URL must not carry a user name or password (they would not be sent); "
            "put the credential in ASSISTANT_CHROMA_TOKEN or ASSISTANT_CHROMA_HEADERS."
        )
    if url.path not in ("", "/") or url.query:
        raise ConfigurationError(
            f"ASSISTANT_CHROMA_URL cannot have a path ({settings.chroma_location}): serve Chroma at the root of its own host name or port."
        )
    headers = _request_headers(settings)
    with _translate_connection_errors(settings):
        try:
            client = chromadb.HttpClient(
                host=url.hostname,
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                headers=dict(headers),  # chromadb adds its own headers to the dict it is given
                settings=ChromaSettings(anonymized_telemetry=False),
            )
        except Exception as exc:
            # The client asks the server for its tenant on creation; a proxy's 401 arrives as a bare
            # Exception carrying the response body, so ask once more to learn the status code.
            if not _is_connection_error(exc):
                _raise_for_status(settings, _status_of(settings, headers))
            raise
    _refuse_denied_responses(client, settings)
    return client


def _request_headers(settings: Settings) -> dict[str, str]:
    """ASSISTANT_CHROMA_HEADERS plus the token in the two headers proxies and Chroma's own auth read."""
    headers = {name: value.get_secret_value() for name, value in settings.chroma_headers.items()}
    if settings.chroma_token is not None:
        token = settings.chroma_token.get_secret_value()
        headers["Authorization"] = f"Bearer {token}"
        headers["X-Chroma-Token"] = token
    return headers


def _status_of(settings: Settings, headers: dict[str, str]) -> int | None:
    """The HTTP status of the server's heartbeat with our headers, or None if it cannot be reached."""
    import httpx

    try:
        return httpx.get((settings.chroma_url or "").rstrip("/") + "/api/v2/heartbeat", headers=headers, timeout=10).status_code
    except httpx.HTTPError:
        return None


def _raise_for_status(settings: Settings, status: int | None) -> None:
    """Name the setting to fix on a 401/403; call a proxy's 502-504 (Chroma behind it is down) unavailable."""
    if status in (502, 503, 504):
        raise IndexUnavailableError(f"The article index at {settings.chroma_location} is unavailable right now (HTTP {status} from its proxy).")
    if status not in (401, 403):
        return
    if settings.chroma_token is None and not settings.chroma_headers:
        advice = "ASSISTANT_CHROMA_TOKEN is not set; set it to the token the proxy expects"
    else:
        advice = "check ASSISTANT_CHROMA_TOKEN (and ASSISTANT_CHROMA_HEADERS, if set)"
    raise IndexAccessDeniedError(f"The article index at {settings.chroma_location} refused the credentials (HTTP {status}): {advice}.")


def _refuse_denied_responses(client, settings: Settings) -> None:
    """Turn a later 401/403 (a token revoked while the bot runs) into IndexAccessDeniedError too, and
    a proxy's 502-504 into IndexUnavailableError.

    chromadb keeps its httpx session on the server API object; a response hook there sees the status
    before chromadb turns the response into a bare Exception. If a chromadb release moves it, the
    credentials still go out and only this finer message is lost.
    """
    session = getattr(getattr(client, "_server", None), "_session", None)
    if session is None or not hasattr(session, "event_hooks"):
        return

    def check(response) -> None:
        _raise_for_status(settings, response.status_code)

    session.event_hooks = {**session.event_hooks, "response": [*session.event_hooks.get("response", []), check]}


class VersionGoneError(Exception):
    """A sentence the reader's catalog names has been collected; the reader should move to the current catalog."""


@dataclass(frozen=True)
class DocumentRecord:
    """One document's record in the catalog, as writers see it."""

    doc_id: str
    version: str
    """The version readers answer from; "" once the document was removed."""
    entry: dict[str, Any]
    terms: tuple[tuple[str, str], ...] = ()
    """(sentence id, BM25 terms separated by spaces) of the active version, in document order."""


def record_id(sentence_id: str, version: str) -> str:
    """The Chroma id of one sentence of one version of its document: `doc_id#NN@version`."""
    return f"{sentence_id}{VERSION_MARK}{version}"


def split_record_id(chroma_id: str) -> tuple[str, str]:
    """(sentence id, version) from a Chroma id."""
    sentence_id, _, version = chroma_id.rpartition(VERSION_MARK)
    return sentence_id, version


class SentenceIndex:
    """Read and write article sentences in Chroma. The embedder is always ours, never Chroma's default."""

    def __init__(self, settings: Settings, embedder, client=None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._vectorstore: Any = None
        self._collections: dict[str, Any] = {}

    # -- connections ---------------------------------------------------------------------------

    @property
    def client(self):
        """The Chroma client; reading an index that does not exist raises IndexNotFoundError."""
        if self._client is None:
            self._client = open_chroma_client(self.settings)
        return self._client

    @property
    def _client(self):
        return self.__client

    @_client.setter
    def _client(self, client) -> None:
        # An embedded client's own Chroma System is stopped once nothing uses it (see `_private_persistent_client`).
        self.__client = client
        stop = getattr(client, "_assistant_stop", None)
        if stop is not None:
            weakref.finalize(client, stop)

    def open_for_writing(self) -> None:
        """Connect, creating the embedded index folder if needed (ingest does this; readers never do)."""
        if self._client is None:
            self._client = open_chroma_client(self.settings, create=True)

    def close(self) -> None:
        """Stop this index's embedded Chroma (writers do when done; readers when garbage-collected)."""
        stop = getattr(self._client, "_assistant_stop", None)
        self._client = None
        self._collections = {}
        self._vectorstore = None
        if stop is not None:
            stop()

    @property
    def documents_collection(self) -> str:
        return self.settings.collection + DOCUMENTS_SUFFIX

    def new_sentences_collection(self) -> str:
        """A name for a new sentence collection (the first one, or a compaction's)."""
        return f"{self.settings.collection}{SENTENCES_SEPARATOR}{secrets.token_hex(4)}"

    def vectorstore(self, collection: str):
        """The langchain-chroma store over a sentence collection: ingest embeds and writes through it."""
        if self._vectorstore is None or self._vectorstore[0] != collection:
            from langchain_chroma import Chroma

            with self.writing():
                store = Chroma(
                    client=self.client,
                    collection_name=collection,
                    embedding_function=self.embedder,
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
            # The store embeds, then writes; only the write takes the folder's lock, so readers are
            # not kept waiting while the embedder runs.
            store._chroma_collection = _WritesLocked(store._chroma_collection, self.writing)  # type: ignore[assignment]
            self._vectorstore = (collection, store)
        return self._vectorstore[1]

    def _collection(self, name: str, *, create: bool = False):
        """A collection (kept per name: looking one up is a Chroma round trip). Readers (`create=False`)
        get VersionGoneError where it does not exist: `reset` deleted it meanwhile."""
        if name not in self._collections:
            with self.writing() if create else self.guard():
                if create:
                    self._collections[name] = self.client.get_or_create_collection(
                        name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
                    )
                else:
                    try:
                        self._collections[name] = self.client.get_collection(name, embedding_function=None)
                    except Exception as exc:
                        if _is_not_found(exc):
                            raise VersionGoneError(name) from exc
                        raise
        return self._collections[name]

    @contextmanager
    def _reading(self, name: str) -> Iterator[Any]:
        """A collection for the per-question reads; one deleted meanwhile raises VersionGoneError."""
        try:
            with self.guard():
                yield self._collection(name)
        except (IndexProblemError, VersionGoneError):
            raise
        except Exception as exc:
            if _is_not_found(exc):
                self._collections.pop(name, None)
                raise VersionGoneError(name) from exc
            raise

    @contextmanager
    def writing(self) -> Iterator[None]:
        """Around every Chroma write: with an embedded index, an exclusive lock on the folder, so a
        reader never loads the vector index halfway through a write (see `open_for_reading`)."""
        with self.guard(), _folder_lock(self.settings, exclusive=True) as held:
            assert held
            yield

    def open_for_reading(self, collection: str | None, *, fresh: bool = True) -> bool:
        """Connect a reader and load the sentence vectors while no write is under way.

        An embedded Chroma System loads a collection's vectors once and never sees what other
        processes add to it later, so a reader opens a fresh one whenever the catalog changed (and
        stops the old one a little later, when questions running on it are done). Loaded during
        another process's write, the view could hold part of it: the folder lock prevents that. A
        server (ASSISTANT_CHROMA_URL) is always current. `fresh=False` (at start-up, right after the
        catalog was read) loads the vectors into the client already open. False if a writer held the
        folder for READ_LOCK_WAIT_SECONDS (the caller keeps its view and tries again)."""
        if self.settings.chroma_url:
            return True
        with self.guard(), _folder_lock(self.settings, exclusive=False) as held:
            if not held:
                return False
            client = self._client if not fresh and self._client is not None else open_chroma_client(self.settings)
            if collection and self.embedder is not None:
                try:
                    with self.guard():
                        sentences = client.get_collection(collection, embedding_function=None)
                        if sentences.count():
                            sentences.query(query_embeddings=[[1.0] * self.embedder.dimension], n_results=1, include=[])
                except Exception as exc:
                    if not _is_not_found(exc):
                        raise
            if client is not self._client:
                self._replace_client(client)
            return True

    def _replace_client(self, client) -> None:
        old = self._client
        self._client = client
        self._collections = {}
        self._vectorstore = None
        stop = getattr(old, "_assistant_stop", None)
        if stop is not None:  # later: questions already running on the old client finish first
            timer = threading.Timer(REOPEN_GRACE_SECONDS, stop)
            timer.daemon = True
            timer.start()

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a dead Chroma server into IndexUnavailableError, which the shells explain to users."""
        with _translate_connection_errors(self.settings):
            yield

    # -- the catalog: header ---------------------------------------------------------------------

    def manifest_text(self) -> str | None:
        """The catalog header as stored (JSON), or None if nothing was ever ingested into this Chroma.
        Readers poll it (every second) and compare it with the text they last saw: it is small, and it
        changes, with its generation, whenever any document is switched. A missing embedded index
        folder is IndexNotFoundError (from `client`), so readers never create one."""
        client = self.client
        with self.guard():
            try:
                catalog = client.get_collection(self.settings.collection)
            except Exception as exc:  # chromadb raises NotFoundError or ValueError depending on version
                if isinstance(exc, IndexProblemError) or _is_connection_error(exc):
                    raise
                return None
            return (catalog.metadata or {}).get(MANIFEST_KEY)

    def read_header(self) -> dict[str, Any] | None:
        return self.parse_header(self.manifest_text())

    def parse_header(self, raw: str | None) -> dict[str, Any] | None:
        """The header from its stored text (None: nothing ingested); an older format is refused."""
        header = json.loads(raw) if raw else None
        if header and header.get("format") != MANIFEST_FORMAT:
            raise IndexNotFoundError(
                f"The index in {self._where()} was written by an older version of the assistant. Run: assistant ingest"
            )
        return header

    def writable_header(self) -> dict[str, Any]:
        """The header a writer starts from: the stored one, or a new one where there is none or it is
        of an older format (whose collections the next write deletes)."""
        raw = self.manifest_text()
        header = json.loads(raw) if raw else None
        if header and header.get("format") == MANIFEST_FORMAT:
            return header
        return self.new_header()

    def new_header(self) -> dict[str, Any]:
        from assistant import __version__
        from ingest.article import CONTEXT_WINDOW

        return {
            "format": MANIFEST_FORMAT,
            "package_version": __version__,
            "embedding": {"id": self.embedder.model_id, "dimension": self.embedder.dimension},
            "splitter": {"name": "indonesian-rules", "version": 1, "context_window": CONTEXT_WINDOW},
            "stemmer": "sastrawi",
            "epoch": secrets.token_hex(6),
            "generation": 0,
            "collection": None,
            "sentences": 0,
        }

    # -- the catalog: documents ------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        """Header plus every document's entry (each with its active `version`), or None if nothing was
        ever ingested. Reads one record per document."""
        header = self.read_header()
        if header is None:
            return None
        return _manifest(header, {}, self.document_records(where={"version": {"$ne": ""}}))

    def require_manifest(self) -> dict[str, Any]:
        """The manifest of a usable index: raises if nothing was ingested or the embedder differs."""
        manifest = self.read_manifest()
        if not manifest or not manifest["documents"]:
            raise IndexNotFoundError(f"No article has been ingested into {self._where()} yet. Run: assistant ingest")
        check_embedder(manifest, self.embedder.model_id)
        return manifest

    def snapshot(self, manifest: dict[str, Any] | None = None) -> Snapshot:
        """The catalog as a reader sees it now."""
        manifest = manifest or self.require_manifest()
        return Snapshot(manifest, manifest.get("collection") or "")

    def changes_since(self, snapshot: Snapshot, header: dict[str, Any]) -> tuple[Snapshot, list[DocumentRecord]] | None:
        """The catalog after `header`'s switch, read as what changed since `snapshot`: the records of
        documents switched (or removed) since its generation. None when only a full read will do (the
        index was reset and rebuilt, or its embedder or format changed)."""
        if header.get("epoch") != snapshot.manifest.get("epoch") or header.get("embedding") != snapshot.manifest.get("embedding"):
            return None
        changed = self.document_records(where={"generation": {"$gt": snapshot.generation}}, with_terms=True)
        manifest = _manifest(header, snapshot.manifest["documents"], changed)
        return Snapshot(manifest, header.get("collection") or ""), changed

    def document_records(
        self, *, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None, with_terms: bool = False
    ) -> list[DocumentRecord]:
        """Catalog records by id or by a metadata filter, read a page at a time."""
        return [record for page in self.document_pages(ids=ids, where=where, with_terms=with_terms) for record in page]

    def document_pages(
        self, *, ids: Sequence[str] | None = None, where: dict[str, Any] | None = None, with_terms: bool = False
    ) -> Iterator[list[DocumentRecord]]:
        """`document_records` a page at a time, for readers that need not hold them all at once."""
        if (ids is not None and not ids) or self.documents_collection not in self._collection_names():
            return
        raw = self._collection(self.documents_collection, create=True)
        if ids is not None:
            for start in range(0, len(ids), RECORD_PAGE):
                with self.guard():
                    result = raw.get(ids=list(ids[start : start + RECORD_PAGE]), where=where, include=["metadatas"])
                yield [_document_record(doc_id, meta, with_terms) for doc_id, meta in zip(result["ids"], result["metadatas"], strict=True)]
            return
        offset = 0
        page = RECORD_PAGE // 10 if with_terms else RECORD_PAGE  # with its terms, a record is a few KB
        while True:
            with self.guard():
                result = raw.get(where=where, include=["metadatas"], limit=page, offset=offset)
            yield [_document_record(doc_id, meta, with_terms) for doc_id, meta in zip(result["ids"], result["metadatas"], strict=True)]
            if len(result["ids"]) < page:
                return
            offset += page

    def switch(
        self, header: dict[str, Any], changes: dict[str, tuple[str, dict[str, Any], list[tuple[str, str]]] | None], **header_changes: Any
    ) -> dict[str, Any]:
        """Make each changed document's new version the one readers answer from (or remove it: None),
        in one catalog write, then tell readers with a new header generation. Returns that header.

        `changes`: doc id → (version, entry, [(sentence id, terms)]) or None. The replaced versions stay
        in the collection, hidden, until a compaction."""
        from assistant import __version__

        current = {record.doc_id: record for record in self.document_records(ids=list(changes))}
        generation = int(header.get("generation", 0)) + 1
        sentences = int(header.get("sentences", 0))
        ids, metadatas = [], []
        for doc_id, change in changes.items():
            before = current.get(doc_id)
            if before is not None and before.version:
                sentences -= int(before.entry.get("sentences", 0))
            terms: list[tuple[str, str]]
            entry: dict[str, Any]
            if change is None:
                version, entry, terms = "", {}, []  # a removed document keeps no text of its own (title, places, headlines)
            else:
                version, entry, terms = change
                sentences += int(entry.get("sentences", 0))
            ids.append(doc_id)
            metadatas.append(
                {
                    "version": version,
                    "generation": generation,
                    "source_key": entry.get("source_key", ""),
                    "sha256": entry.get("sha256", ""),  # the same text from another source is found by it
                    "entry": json.dumps(entry, ensure_ascii=False, sort_keys=True),
                    "terms": json.dumps(terms, ensure_ascii=False),
                }
            )
        self._upsert_documents(ids, metadatas)  # one write: readers see every changed document switch at once
        header = {**header, **header_changes, "generation": generation, "sentences": sentences, "package_version": __version__}
        return self.write_header({**header, "hidden": self.garbage(header)})

    def write_header(self, header: dict[str, Any]) -> dict[str, Any]:
        catalog = self._collection(self.settings.collection, create=True)
        with self.writing():
            catalog.modify(metadata={MANIFEST_KEY: json.dumps(header, ensure_ascii=False, sort_keys=True)})
        return header

    def garbage(self, header: dict[str, Any]) -> int:
        """Records in the active collection that no reader uses: replaced or removed versions, and
        what killed ingests left. They are hidden by the catalog and go at the next compaction."""
        if not header.get("collection") or header["collection"] not in self._collection_names():
            return 0
        with self.guard():
            return self._collection(header["collection"], create=True).count() - int(header.get("sentences", 0))

    def compact(self, header: dict[str, Any], *, keep_old: bool) -> dict[str, Any]:
        """Copy the active versions' sentences (with their embeddings) into a new collection and switch
        the header to it. Records are never deleted from a collection a reader may have loaded: an
        embedded reader's loaded vectors go wrong when another process deletes from the same
        collection (adding is safe). `keep_old`: the old collection stays until the next write, for
        questions running on it; a removal drops it at once, so removed text leaves Chroma."""
        old = header.get("collection")
        new = self.new_sentences_collection()
        target = self._collection(new, create=True)
        live = 0
        if old and old in self._collection_names():
            source = self._collection(old, create=True)
            for records in self.document_pages(where={"version": {"$ne": ""}}, with_terms=True):
                chroma_ids = [record_id(sentence_id, record.version) for record in records for sentence_id, _ in record.terms]
                for start in range(0, len(chroma_ids), RECORD_PAGE):
                    with self.guard():
                        result = source.get(ids=chroma_ids[start : start + RECORD_PAGE], include=["documents", "metadatas", "embeddings"])
                    if result["ids"]:
                        with self.writing():
                            target.upsert(ids=result["ids"], documents=result["documents"], metadatas=result["metadatas"], embeddings=result["embeddings"])
                    live += len(result["ids"])
        header = {**header, "collection": new, "sentences": live, "generation": int(header.get("generation", 0)) + 1, "compact_due": False, "hidden": 0}
        header = self.write_header(header)
        if not keep_old:
            self.drop_collections_except(new)
        return header

    def delete_versions(self, header: dict[str, Any], versions: dict[str, str]) -> dict[str, Any]:
        """Delete these document versions' records in place (doc id → version) and record that the
        removal is complete. Only against a Chroma server (one process); embedded, see `compact`."""
        if header.get("collection") and header["collection"] in self._collection_names():
            sentences = self._collection(header["collection"], create=True)
            for doc_id, version in versions.items():
                with self.writing():
                    sentences.delete(where={"$and": [{"doc_id": doc_id}, {"version": version}]})
        return self.write_header({**header, "compact_due": False, "hidden": self.garbage(header)})

    def drop_collections_except(self, keep: str | None) -> list[str]:
        """Delete every sentence collection but `keep` (earlier compactions', a killed run's, and an
        older format's); each write starts with this, so a replaced collection outlives one write."""
        prefixes = (self.settings.collection + SENTENCES_SEPARATOR, self.settings.collection + LEGACY_VERSION_SEPARATOR)
        dropped = [name for name in self._collection_names() if name.startswith(prefixes) and name != keep]
        for name in dropped:
            self._collections.pop(name, None)
            with self.writing():
                self.client.delete_collection(name)
        return dropped

    def drop_document_records(self) -> None:
        """Every document's catalog record, removed ones' included (`reset`). The header stays, so
        readers see its generation move on and find no documents."""
        if self.documents_collection in self._collection_names():
            self._collections.pop(self.documents_collection, None)
            with self.writing():
                self.client.delete_collection(self.documents_collection)

    def reclaim_space(self) -> None:
        """Embedded only: make removed text unreadable on disk. SQLite keeps deleted rows in free
        pages (a removed sentence stays readable in chroma.sqlite3) until VACUUM rewrites the file,
        and Chroma leaves a dropped collection's vector folder behind (one per add/remove cycle).
        Both go here, under the writers' lock; a bot reading meanwhile keeps its open files."""
        if self.settings.chroma_url:
            return  # a server's storage is its own business
        database = self.settings.chroma_dir / "chroma.sqlite3"
        with self.writing():
            connection = sqlite3.connect(database, timeout=30, isolation_level=None)
            try:
                # A segment row can outlive its dropped collection for a while: only live collections' count.
                in_use = {row[0] for row in connection.execute("SELECT s.id FROM segments s JOIN collections c ON s.collection = c.id")}
                connection.execute("VACUUM")
            finally:
                connection.close()
            for folder in self.settings.chroma_dir.iterdir():
                if folder.is_dir() and _UUID.fullmatch(folder.name) and folder.name not in in_use:
                    shutil.rmtree(folder, ignore_errors=True)

    def _upsert_documents(self, ids: list[str], metadatas: list[dict[str, Any]]) -> None:
        """Write catalog records: one Chroma call for up to RECORD_PAGE of them (a switch of more
        documents than that is atomic per document, as the guarantees ask, not across all of them)."""
        raw = self._collection(self.documents_collection, create=True)
        for start in range(0, len(ids), RECORD_PAGE):
            batch_ids, batch_metadatas = ids[start : start + RECORD_PAGE], metadatas[start : start + RECORD_PAGE]
            with self.writing():  # a catalog record's vector is never searched; Chroma still wants one
                raw.upsert(ids=batch_ids, metadatas=batch_metadatas, embeddings=[[1.0] for _ in batch_ids])

    def _collection_names(self) -> list[str]:
        with self.guard():
            return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    def _where(self) -> str:
        return self.settings.chroma_location

    # -- writing sentences -------------------------------------------------------------------------

    def version_records(self, collection: str | None, doc_id: str, version: str) -> list[tuple[StoredSentence, dict, list[float]]]:
        """(sentence, raw metadata, embedding) of one version of a document, in document order: what
        a new version of it reuses (the same words keep their embedding)."""
        if not version or not collection or collection not in self._collection_names():
            return []
        raw = self._collection(collection, create=True)
        records = []
        with self.guard():
            result = raw.get(where={"$and": [{"doc_id": doc_id}, {"version": version}]}, include=["documents", "metadatas", "embeddings"])
        for chroma_id, text, meta, embedding in zip(result["ids"], result["documents"], result["metadatas"], result["embeddings"], strict=True):
            records.append((StoredSentence.from_record(chroma_id, text, meta), dict(meta), [float(x) for x in embedding]))
        return sorted(records, key=lambda record: record[0].position)

    def write_sentences(
        self,
        collection: str,
        reused: Sequence[tuple[str, str, dict, list[float]]],
        to_embed: list[tuple[str, str, dict]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Write sentence records (Chroma id, text, metadata[, embedding]): reused embeddings as they
        are, the rest embedded in batches through LangChain's Chroma store, reporting progress after each."""
        if reused:
            raw = self._collection(collection, create=True)
            for start in range(0, len(reused), 256):
                batch = reused[start : start + 256]
                with self.writing():
                    raw.upsert(
                        ids=[chroma_id for chroma_id, _, _, _ in batch],
                        documents=[text for _, text, _, _ in batch],
                        metadatas=[meta for _, _, meta, _ in batch],
                        embeddings=[embedding for _, _, _, embedding in batch],
                    )
        if not to_embed:
            return
        store = self.vectorstore(collection)
        for start in range(0, len(to_embed), WRITE_BATCH):
            new = to_embed[start : start + WRITE_BATCH]
            with self.guard():
                store.add_texts(texts=[text for _, text, _ in new], metadatas=[meta for _, _, meta in new], ids=[chroma_id for chroma_id, _, _ in new])
            if progress:
                progress(len(new))

    def embeddings_of(self, collection: str, chroma_ids: list[str]) -> dict[str, list[float]]:
        """Stored embeddings by Chroma id (ingest reads back what it wrote to calibrate the document)."""
        if not chroma_ids:
            return {}
        raw = self._collection(collection, create=True)
        found: dict[str, list[float]] = {}
        for start in range(0, len(chroma_ids), RECORD_PAGE):
            with self.guard():
                result = raw.get(ids=chroma_ids[start : start + RECORD_PAGE], include=["embeddings"])
            found |= {chroma_id: [float(x) for x in embedding] for chroma_id, embedding in zip(result["ids"], result["embeddings"], strict=True)}
        return found

    # -- reading -------------------------------------------------------------------------------

    def sentence_terms(self, snapshot: Snapshot) -> Iterator[tuple[str, str, list[str]]]:
        """(sentence id, doc id, BM25 terms) of every active sentence, a document's together, from the
        catalog records (one per document, far fewer reads than one per sentence), read a page at a
        time so the whole archive's terms are never in memory at once."""
        active = snapshot.manifest["documents"]
        for page in self.document_pages(where={"version": {"$ne": ""}}, with_terms=True):
            for record in page:
                if active.get(record.doc_id, {}).get("version") != record.version:
                    continue  # switched after this reader's snapshot: it reads the change at its next refresh
                for sentence_id, terms in record.terms:
                    yield sentence_id, record.doc_id, terms.split()

    def sentences(self, snapshot: Snapshot | None = None) -> list[StoredSentence]:
        """Every sentence of the snapshot's versions (the current catalog's by default), in document
        order. Reads the whole archive: for tools and tests, not for answering questions."""
        snapshot = snapshot or self.snapshot()
        rows = []
        with self._reading(snapshot.collection) as raw:
            count = raw.count()
        for offset in range(0, count, RECORD_PAGE * 5):
            with self._reading(snapshot.collection) as raw:
                result = raw.get(include=["documents", "metadatas"], limit=RECORD_PAGE * 5, offset=offset)
            for chroma_id, text, meta in zip(result["ids"], result["documents"], result["metadatas"], strict=True):
                sentence_id, version = split_record_id(chroma_id)
                if snapshot.version_of(sentence_id) == version:
                    rows.append(StoredSentence.from_record(chroma_id, text, meta))
        return sorted(rows, key=lambda row: (row.doc_id, row.position))

    def get_sentences(self, snapshot: Snapshot, ids: list[str]) -> list[StoredSentence]:
        """The sentences with these ids in the reader's versions. One the catalog names but Chroma no
        longer holds (removed since) raises VersionGoneError."""
        if not ids:
            return []
        with self._reading(snapshot.collection) as raw:
            result = raw.get(ids=[snapshot.record_id(sentence_id) for sentence_id in ids], include=["documents", "metadatas"])
        if len(result["ids"]) < len(ids):
            raise VersionGoneError(snapshot.collection)
        return [StoredSentence.from_record(*record) for record in zip(result["ids"], result["documents"], result["metadatas"], strict=True)]

    def get_embeddings(self, snapshot: Snapshot, ids: list[str]) -> dict[str, list[float]]:
        """The stored embeddings of these sentences (by sentence id)."""
        if not ids:
            return {}
        with self._reading(snapshot.collection) as raw:
            result = raw.get(ids=[snapshot.record_id(sentence_id) for sentence_id in ids], include=["embeddings"])
        if len(result["ids"]) < len(ids):
            raise VersionGoneError(snapshot.collection)
        return {split_record_id(chroma_id)[0]: embedding for chroma_id, embedding in zip(result["ids"], result["embeddings"], strict=True)}

    def dense_search(self, snapshot: Snapshot, query_embedding: list[float], k: int) -> list[tuple[str, float]]:
        """(sentence id, cosine similarity) of the k closest sentences of the reader's versions, best
        first. Ids and distances only, straight from Chroma (the searcher reads the texts it needs).

        The collection also holds versions readers do not use (replaced ones until the next
        compaction, one being written; the header counts them as `hidden`): Chroma is asked for k
        plus up to k more, and for more until k of the reader's own are among them. The closest k
        of a larger set that holds them are exactly its k."""
        wanted = min(k, snapshot.sentence_count)
        n = k + min(int(snapshot.manifest.get("hidden", 0)), k)
        while True:
            with self._reading(snapshot.collection) as raw:
                result = raw.query(query_embeddings=[list(query_embedding)], n_results=max(n, 1), include=["distances"])
            found = []
            for chroma_id, distance in zip(result["ids"][0], result["distances"][0], strict=True):
                sentence_id, version = split_record_id(chroma_id)
                if snapshot.version_of(sentence_id) == version:
                    found.append((sentence_id, 1.0 - distance))
            if len(found) >= wanted or len(result["ids"][0]) < n:  # k of its own, or nothing more to ask for
                return found[:k]
            n *= 4


class _WritesLocked:
    """A Chroma collection whose writes run under `lock` (everything else passes through)."""

    def __init__(self, collection, lock: Callable[[], Any]) -> None:
        self._collection = collection
        self._lock = lock

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._collection, name)
        if name not in ("add", "upsert", "update", "delete"):
            return attribute

        def locked(*args, **kwargs):
            with self._lock():
                return attribute(*args, **kwargs)

        return locked


def _manifest(header: dict[str, Any], documents: dict[str, dict], records: Iterable[DocumentRecord]) -> dict[str, Any]:
    """The header plus `documents` (id → entry with its `version`) updated by these catalog records."""
    documents = dict(documents)
    for record in records:
        documents.pop(record.doc_id, None)
        if record.version:
            documents[record.doc_id] = {**record.entry, "version": record.version}
    return {**header, "documents": dict(sorted(documents.items()))}


def _document_record(doc_id: str, meta: dict[str, Any], with_terms: bool) -> DocumentRecord:
    return DocumentRecord(
        doc_id=doc_id,
        version=meta.get("version", ""),
        entry=json.loads(meta.get("entry") or "{}"),
        terms=tuple((sentence_id, terms) for sentence_id, terms in json.loads(meta.get("terms") or "[]")) if with_terms else (),
    )


def _is_not_found(exc: BaseException) -> bool:
    return "does not exist" in str(exc) or type(exc).__name__ == "NotFoundError"


def check_embedder(manifest: dict[str, Any], model_id: str) -> None:
    indexed = manifest.get("embedding", {}).get("id")
    if indexed != model_id:
        raise EmbedderMismatchError(
            f"The index was built with embedding {indexed!r} but the assistant is set to use {model_id!r}. "
            f"Set ASSISTANT_EMBEDDING={indexed} or re-ingest with the new embedder into a fresh data directory."
        )


def _is_connection_error(exc: BaseException) -> bool:
    names = {type(e).__name__ for e in _chain(exc)}
    markers = {"ConnectError", "ConnectTimeout", "ReadTimeout", "RemoteProtocolError", "ConnectionError", "ConnectionRefusedError"}
    if names & markers:
        return True
    message = str(exc).lower()
    return "could not connect" in message or "connection refused" in message


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
"""How Chroma names a segment's folder."""

_FULL = ("database or disk is full", "no space left on device", "disk quota exceeded")
_READ_ONLY = ("readonly database", "read-only file system", "read only file system", "permission denied")


def storage_problem(exc: BaseException) -> str | None:
    """What is wrong with the disk under an embedded index, in words with the fix, or None when the
    error is something else. Chroma reports both conditions as InternalError text (SQLite's codes 13
    and 8), compaction as "Error in compaction"; Python as OSError (ENOSPC, EROFS, EACCES)."""
    text = f"{exc} {exc.__cause__ or ''}".lower()
    code = exc.errno if isinstance(exc, OSError) else None
    if code in (errno.ENOSPC, errno.EDQUOT) or any(marker in text for marker in _FULL) or "error in compaction" in text:
        return "is on a full disk (or a compaction could not write); free some space (`df -h`) and run the command again"
    if code in (errno.EROFS, errno.EACCES, errno.EPERM) or any(marker in text for marker in _READ_ONLY):
        return "is read-only for this user; make it writable (or set ASSISTANT_DATA_DIR to a writable copy) and run the command again"
    return None


@contextmanager
def _translate_connection_errors(settings: Settings) -> Iterator[None]:
    try:
        yield
    except IndexProblemError:
        raise
    except Exception as exc:
        storage = None if settings.chroma_url else storage_problem(exc)
        if storage is not None:
            raise IndexStorageError(f"The index folder {settings.chroma_dir} {storage}; nothing was changed.") from exc
        if settings.chroma_url and _is_connection_error(exc):
            raise IndexUnavailableError(
                f"The article index at {settings.chroma_location} is unavailable right now ({type(exc).__name__})."
            ) from exc
        if settings.chroma_url and type(exc).__name__ in ("AuthorizationError", "ChromaAuthError"):  # Chroma's own auth
            _raise_for_status(settings, 403 if type(exc).__name__ == "ChromaAuthError" else 401)
        raise
