"""The sentence index in Chroma: immutable versions behind one catalog entry.

Layout (collection names for the default `ASSISTANT_COLLECTION=article_sentences`):

- `article_sentences` — the catalog. Holds no records; its metadata is the index manifest
  (embedding model and dimension, splitter settings, package version, per-document hashes and
  related headlines) including `collection`: the name of the active version.
- `article_sentences__v<hash>` — one version: one record per article sentence. id `doc_id#NN`,
  document = the exact sentence text, metadata = doc id, position, offsets, title, source, the
  neighbouring sentences (`context`) and the Indonesian stems BM25 uses (computed at ingest).

Ingest writes a complete new version and then switches the catalog to it in one metadata write,
so readers see wholly the old or wholly the new article, and an ingest killed halfway leaves the
previous version active. The version before the active one is kept for readers still on it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from assistant.errors import (
    ConfigurationError,
    EmbedderMismatchError,
    IndexAccessDeniedError,
    IndexNotFoundError,
    IndexProblemError,
    IndexUnavailableError,
)
from assistant.settings import Settings
from assistant.types import Hit

MANIFEST_KEY = "assistant_manifest"
MANIFEST_FORMAT = 3
VERSION_SEPARATOR = "__v"
VERSIONS_KEPT = 2
"""The active version and the one before it, for readers that started a question just before a switch."""
WRITE_BATCH = 16


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
    def from_record(cls, sentence_id: str, text: str, meta: dict[str, Any]) -> StoredSentence:
        """From a Chroma record: its id, document (the sentence text) and metadata."""
        return cls(
            sentence_id=sentence_id,
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
    """One version of the index as a reader sees it: its manifest, its collection, its sentences."""

    manifest: dict[str, Any]
    collection: str
    sentences: tuple[StoredSentence, ...] = field(default=())


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
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings.chroma_dir.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(settings.chroma_dir), settings=ChromaSettings(anonymized_telemetry=False))


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
    """The version a reader was on has been collected; the reader should move to the active one."""


class SentenceIndex:
    """Read and write article sentences in Chroma. The embedder is always ours, never Chroma's default."""

    def __init__(self, settings: Settings, embedder, client=None) -> None:
        self.settings = settings
        self.embedder = embedder
        self._client = client
        self._vectorstores: dict[str, Any] = {}
        self._readers: dict[str, Any] = {}

    # -- connections ---------------------------------------------------------------------------

    @property
    def client(self):
        """The Chroma client; reading an index that does not exist raises IndexNotFoundError."""
        if self._client is None:
            self._client = open_chroma_client(self.settings)
        return self._client

    def open_for_writing(self) -> None:
        """Connect, creating the embedded index folder if needed (ingest does this; readers never do)."""
        if self._client is None:
            self._client = open_chroma_client(self.settings, create=True)

    def vectorstore(self, collection: str):
        """The langchain-chroma store over one version (cached per version)."""
        if collection not in self._vectorstores:
            from langchain_chroma import Chroma

            with self.guard():
                self._vectorstores[collection] = Chroma(
                    client=self.client,
                    collection_name=collection,
                    embedding_function=self.embedder,
                    collection_configuration={"hnsw": {"space": "cosine"}},
                )
        return self._vectorstores[collection]

    def _raw_collection(self, name: str):
        with self.guard():
            return self.client.get_or_create_collection(name, embedding_function=None, configuration={"hnsw": {"space": "cosine"}})

    @contextmanager
    def _reading(self, collection: str) -> Iterator[Any]:
        """A version's collection for the per-question reads, kept per name (looking it up is a Chroma
        round trip); a version an ingest has collected meanwhile raises VersionGoneError."""
        try:
            with self.guard():
                if collection not in self._readers:
                    self._readers[collection] = self.client.get_collection(collection, embedding_function=None)
                yield self._readers[collection]
        except IndexProblemError:  # unavailable, or the credentials refused: not a collected version
            raise
        except Exception as exc:
            if "does not exist" in str(exc) or type(exc).__name__ == "NotFoundError":
                self._readers.pop(collection, None)
                raise VersionGoneError(collection) from exc
            raise

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a dead Chroma server into IndexUnavailableError, which the shells explain to users."""
        with _translate_connection_errors(self.settings):
            yield

    # -- the catalog -----------------------------------------------------------------------------

    def read_manifest(self) -> dict[str, Any] | None:
        raw = self.manifest_text()
        manifest = json.loads(raw) if raw else None
        if manifest and manifest.get("format") != MANIFEST_FORMAT:
            raise IndexNotFoundError(f"The index in {self._where()} was written by an older version of the assistant. Run: assistant ingest")
        return manifest

    def manifest_text(self) -> str | None:
        """The manifest as stored (JSON), or None if nothing was ever ingested into this Chroma.
        Readers compare it with the text they last parsed: with thousands of documents, parsing it
        costs far more than reading it. A missing embedded index folder is IndexNotFoundError (from
        `client`), so readers never create one."""
        client = self.client
        with self.guard():
            try:
                catalog = client.get_collection(self.settings.collection)
            except Exception as exc:  # chromadb raises NotFoundError or ValueError depending on version
                if isinstance(exc, IndexProblemError) or _is_connection_error(exc):
                    raise
                return None
            return (catalog.metadata or {}).get(MANIFEST_KEY)

    def activate(self, manifest: dict[str, Any]) -> None:
        """Switch readers to `manifest["collection"]`: one metadata write, so the switch is atomic."""
        catalog = self._raw_collection(self.settings.collection)
        with self.guard():
            catalog.modify(metadata={MANIFEST_KEY: json.dumps(manifest, ensure_ascii=False, sort_keys=True)})

    def new_manifest(self) -> dict[str, Any]:
        from assistant import __version__
        from ingest.article import CONTEXT_WINDOW

        return {
            "format": MANIFEST_FORMAT,
            "package_version": __version__,
            "embedding": {"id": self.embedder.model_id, "dimension": self.embedder.dimension},
            "splitter": {"name": "indonesian-rules", "version": 1, "context_window": CONTEXT_WINDOW},
            "stemmer": "sastrawi",
            "collection": None,
            "documents": {},
        }

    def require_manifest(self) -> dict[str, Any]:
        """The manifest of a usable index: raises if nothing was ingested or the embedder differs."""
        manifest = self.read_manifest()
        if not manifest or not manifest.get("collection"):
            raise IndexNotFoundError(f"No article has been ingested into {self._where()} yet. Run: assistant ingest")
        check_embedder(manifest, self.embedder.model_id)
        return manifest

    def snapshot(self, manifest: dict[str, Any] | None = None, *, with_sentences: bool = True) -> Snapshot:
        """The active version, with all its sentences unless `with_sentences=False` (the searcher reads
        only what a question needs, so its memory does not grow with the archive)."""
        manifest = manifest or self.require_manifest()
        return Snapshot(manifest, manifest["collection"], tuple(self.sentences(manifest["collection"])) if with_sentences else ())

    def _where(self) -> str:
        return self.settings.chroma_location

    # -- versions ------------------------------------------------------------------------------

    def version_name(self, fingerprint: str) -> str:
        return f"{self.settings.collection}{VERSION_SEPARATOR}{fingerprint}"

    def sentences(self, collection: str) -> list[StoredSentence]:
        """Every sentence of one version, in document order."""
        return [row for row, _, _ in self.records(collection, with_embeddings=False)]

    def records(self, collection: str, *, with_embeddings: bool = True) -> list[tuple[StoredSentence, dict, list[float] | None]]:
        """(sentence, raw metadata, embedding) for every record of one version, in document order."""
        include = ["documents", "metadatas"] + (["embeddings"] if with_embeddings else [])
        records = []
        for result in self._pages(collection, include, page=5000, create=True):
            embeddings = result["embeddings"] if with_embeddings else [None] * len(result["ids"])
            records += [
                (
                    StoredSentence.from_record(sentence_id, text, meta),
                    dict(meta),
                    None if embedding is None else [float(x) for x in embedding],
                )
                for sentence_id, text, meta, embedding in zip(result["ids"], result["documents"], result["metadatas"], embeddings, strict=True)
            ]
        return sorted(records, key=lambda record: (record[0].doc_id, record[0].position))

    def _pages(self, collection: str, include: list[str], page: int, create: bool = False) -> Iterator[dict[str, Any]]:
        """Every record of one version, `page` at a time: one `get()` of a whole version fails in
        embedded Chroma past ~30,000 records ("too many SQL variables"). Writers (`create`) get an
        empty version where none exists, as before; readers get VersionGoneError."""
        if create:
            raw = self._raw_collection(collection)
            with self.guard():
                for offset in range(0, raw.count(), page):
                    yield raw.get(include=include, limit=page, offset=offset)
            return
        with self._reading(collection) as raw:
            count = raw.count()
        for offset in range(0, count, page):
            with self._reading(collection) as raw:
                result = raw.get(include=include, limit=page, offset=offset)
            yield result

    def sentence_terms(self, collection: str, page: int = 500) -> list[tuple[str, str, list[str]]]:
        """(sentence id, doc id, BM25 terms) of every sentence of one version, in document order.
        Read a page at a time, so the texts and contexts of a large archive are never all in memory
        (pages of 5,000 left the process 175 MB larger at 13,000 sentences, pages of 500 about 30 MB)."""
        rows = []
        for result in self._pages(collection, ["metadatas"], page):
            rows += [
                (meta["doc_id"], int(meta["position"]), sentence_id, meta.get("stems", "").split())
                for sentence_id, meta in zip(result["ids"], result["metadatas"], strict=True)
            ]
        rows.sort(key=lambda row: (row[0], row[1]))
        return [(sentence_id, doc_id, terms) for doc_id, _, sentence_id, terms in rows]

    def get_sentences(self, collection: str, ids: list[str]) -> list[StoredSentence]:
        """The sentences with these ids (those the version holds)."""
        if not ids:
            return []
        with self._reading(collection) as raw:
            result = raw.get(ids=ids, include=["documents", "metadatas"])
        return [StoredSentence.from_record(*record) for record in zip(result["ids"], result["documents"], result["metadatas"], strict=True)]

    def get_embeddings(self, collection: str, ids: list[str]) -> dict[str, list[float]]:
        """The stored embeddings of these sentences."""
        if not ids:
            return {}
        with self._reading(collection) as raw:
            result = raw.get(ids=ids, include=["embeddings"])
        return dict(zip(result["ids"], result["embeddings"], strict=True))

    def write_version(
        self,
        collection: str,
        reused: Sequence[tuple[str, str, dict, list[float] | None]],
        to_embed: list[tuple[str, str, dict]],
        progress: Callable[[int], None] | None = None,
    ) -> None:
        """Fill a fresh version from (id, text, metadata[, embedding]) records: copy reused embeddings
        as they are (read back with their embeddings, so never None), embed the rest in batches, reporting progress after each batch.

        A complete version of the same name (switching back to an earlier article) is kept as it is:
        readers may still be on it. An incomplete one is left from a killed ingest and is rebuilt.
        """
        if collection in self._collection_names():
            with self.guard():
                complete = self._raw_collection(collection).count() == len(reused) + len(to_embed)
            if complete:
                return
            self.drop_version(collection)
        raw = self._raw_collection(collection)
        for start in range(0, len(reused), 256):
            batch = reused[start : start + 256]
            with self.guard():
                raw.upsert(
                    ids=[sentence_id for sentence_id, _, _, _ in batch],
                    documents=[text for _, text, _, _ in batch],
                    metadatas=[meta for _, _, meta, _ in batch],
                    embeddings=[embedding for _, _, _, embedding in batch],
                )
        if not to_embed:  # removal copies records only; it needs no embedding model
            return
        store = self.vectorstore(collection)
        for start in range(0, len(to_embed), WRITE_BATCH):
            new = to_embed[start : start + WRITE_BATCH]
            with self.guard():
                store.add_texts(
                    texts=[text for _, text, _ in new], metadatas=[meta for _, _, meta in new], ids=[sentence_id for sentence_id, _, _ in new]
                )
            if progress:
                progress(len(new))

    def drop_version(self, collection: str) -> None:
        self._vectorstores.pop(collection, None)
        self._readers.pop(collection, None)
        with self.guard():
            if collection in self._collection_names():
                self.client.delete_collection(collection)

    def collect_garbage(self, active: str | None, previous: str | None) -> list[str]:
        """Delete versions other than the active one and the one before it; returns what was deleted."""
        keep = {active, previous}
        prefix = self.settings.collection + VERSION_SEPARATOR
        stale = [name for name in self._collection_names() if name.startswith(prefix) and name not in keep]
        for name in stale:
            self.drop_version(name)
        return stale

    def _collection_names(self) -> list[str]:
        with self.guard():
            return [c if isinstance(c, str) else c.name for c in self.client.list_collections()]

    # -- calibration -------------------------------------------------------------------------------

    def offtopic_calibration(self, collection: str, doc_ids: list[str], probes: tuple[str, ...]) -> dict[str, dict[str, float]]:
        """For each document, how well its best sentence matches `probes`, questions about nothing in
        particular (`data/offtopic_probes.txt`): mean and spread of the best cosine. The answerer judges
        a question's relevance against this, so an article whose sentences sit close to everything (a
        long general one) is not mistaken for a match."""
        if not doc_ids:
            return {}
        embeddings = [list(self.embedder.embed_query(probe)) for probe in probes]
        calibration = {}
        for doc_id in doc_ids:
            with self.guard():
                result = self._raw_collection(collection).query(query_embeddings=embeddings, n_results=1, where={"doc_id": doc_id}, include=["distances"])
            best = [1.0 - distances[0] for distances in result["distances"] if distances]
            mean = sum(best) / len(best)
            spread = (sum((value - mean) ** 2 for value in best) / len(best)) ** 0.5
            calibration[doc_id] = {"mean": round(mean, 5), "std": round(max(spread, 0.005), 5)}
        return calibration

    # -- reading -------------------------------------------------------------------------------

    def dense_search(self, collection: str, query_embedding: list[float], k: int) -> list[tuple[str, float]]:
        """(sentence_id, cosine similarity) pairs from one version, best first. Ids and distances only,
        straight from Chroma: the searcher reads the texts of the few sentences it needs (asking
        LangChain's store for 50 documents with their metadata took ~20 ms at 13,000 sentences)."""
        with self._reading(collection) as raw:
            result = raw.query(query_embeddings=[list(query_embedding)], n_results=k, include=["distances"])
        return [(sentence_id, 1.0 - distance) for sentence_id, distance in zip(result["ids"][0], result["distances"][0], strict=True)]


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


@contextmanager
def _translate_connection_errors(settings: Settings) -> Iterator[None]:
    try:
        yield
    except IndexProblemError:
        raise
    except Exception as exc:
        if settings.chroma_url and _is_connection_error(exc):
            raise IndexUnavailableError(
                f"The article index at {settings.chroma_location} is unavailable right now ({type(exc).__name__})."
            ) from exc
        if settings.chroma_url and type(exc).__name__ in ("AuthorizationError", "ChromaAuthError"):  # Chroma's own auth
            _raise_for_status(settings, 403 if type(exc).__name__ == "ChromaAuthError" else 401)
        raise
