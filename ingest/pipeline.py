"""Ingest articles into the sentence index: read everything first, then write a new version.

Nothing is written until every source has been read, so a bad source leaves the index as it was.
A changed index is written as a complete new version and switched to atomically (see
`assistant.store`); an unchanged one is left alone. Embeddings of sentences that did not change
are copied, not recomputed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

from assistant import __version__
from assistant.embeddings import make_embedder
from assistant.errors import IngestError, UnknownDocumentError
from assistant.lexicon import Lexicon, default_lexicon
from assistant.query import detect_language
from assistant.settings import Settings
from assistant.spans import places
from assistant.store import SentenceIndex, check_embedder
from ingest.article import Article, Sentence
from ingest.sources import expand_sources, read_article, source_key

DEFAULT_SOURCES = ["seeds"]


@dataclass(frozen=True)
class DocumentReport:
    doc_id: str
    title: str
    sentences: int
    written: int
    removed: int
    unchanged: int
    source: str = ""


@dataclass(frozen=True)
class IngestReport:
    documents: tuple[DocumentReport, ...]
    seconds: float
    version: str
    switched: bool


class Progress:
    """What ingest tells a caller as it goes; the CLI shows it with rich, library callers may ignore it."""

    def reading(self, source: str) -> None: ...

    def embedding(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


def ingest(
    sources: list[str] | None = None,
    *,
    settings: Settings,
    progress: Progress | None = None,
    index: SentenceIndex | None = None,
    replace: str | None = None,
) -> IngestReport:
    """Read `sources` (files, folders, URLs) and bring the index up to date with them.

    `replace`: the id of a document the one source given takes the place of, in one switch (an
    updated article saved under another path or URL); without it a different source never
    replaces a document, it gets an id of its own.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    articles = _read_all(sources or DEFAULT_SOURCES, progress)
    if replace is not None and len(articles) != 1:
        raise IngestError(f"Replacing {replace!r} takes exactly one article; {len(articles)} were given.")
    index = index or SentenceIndex(settings, make_embedder(settings.embedding, num_threads=settings.embedding_threads))
    index.open_for_writing()

    current = index.read_manifest()
    if current and current.get("collection"):
        check_embedder(current, index.embedder.model_id)
    else:
        current = index.new_manifest()
    articles = _with_unique_ids(articles, current["documents"], replace, settings)
    previous = current["collection"]
    documents = dict(current["documents"])
    lexicon = default_lexicon()
    same_lexicon = current.get("lexicon") == lexicon.digest
    for article in articles:
        previous_entry = current["documents"].get(article.doc_id) if same_lexicon else None
        documents[article.doc_id] = _document_entry(article, lexicon, previous_entry)
    collection = index.version_name(version_fingerprint(index.embedder.model_id, current, documents, lexicon.digest))
    if collection == previous:  # the same articles again: nothing to read or write
        unchanged = tuple(DocumentReport(a.doc_id, a.title, len(a.sentences), 0, 0, len(a.sentences), a.source) for a in articles)
        return IngestReport(unchanged, time.perf_counter() - started, collection, switched=False)

    old_records = index.records(previous) if previous else []
    old_by_id = {row.sentence_id: (row, meta, embedding) for row, meta, embedding in old_records}
    ingested = {article.doc_id for article in articles}
    # Other articles' records are copied as they are; after a change of the language data their
    # terms are recomputed and their off-topic calibration redone.
    reused = [
        (row.sentence_id, row.text, meta if same_lexicon else {**meta, "stems": " ".join(lexicon.sentence_terms(row.text))}, embedding)
        for row, meta, embedding in old_records
        if row.doc_id not in ingested
    ]
    if not same_lexicon:
        documents = {doc_id: {key: value for key, value in entry.items() if key != "offtopic"} for doc_id, entry in documents.items()}
    to_embed = []
    reports = []
    for article in articles:
        written = 0
        for sentence in article.sentences:
            meta = _metadata(article, sentence, lexicon)
            old = old_by_id.get(sentence.sentence_id)
            if old and old[0].text == sentence.text:  # same words: same embedding
                reused.append((sentence.sentence_id, sentence.text, meta, old[2]))
            else:
                to_embed.append((sentence.sentence_id, sentence.text, meta))
                written += 1
        stale = [row for row, _, _ in old_records if row.doc_id == article.doc_id and row.position >= len(article.sentences)]
        kept = len(article.sentences) - written
        reports.append(DocumentReport(article.doc_id, article.title, len(article.sentences), written, len(stale), kept, article.source))

    if to_embed:
        progress.embedding(len(to_embed))
    index.write_version(collection, reused, to_embed, progress=progress.advance)
    uncalibrated = [doc_id for doc_id, entry in documents.items() if "offtopic" not in entry]
    for doc_id, calibration in index.offtopic_calibration(collection, uncalibrated, lexicon.offtopic_probes).items():
        documents[doc_id] = {**documents[doc_id], "offtopic": calibration}
    manifest = {**current, "documents": documents, "collection": collection, "package_version": __version__, "lexicon": lexicon.digest}
    index.activate(manifest)
    index.collect_garbage(collection, previous)
    return IngestReport(tuple(reports), time.perf_counter() - started, collection, switched=True)


def _read_all(sources: list[str], progress: Progress) -> list[Article]:
    """Every source once (a file named twice, or also inside a named folder, is read once)."""
    articles: dict[str, Article] = {}
    for source in expand_sources(sources):
        if source_key(source) in articles:
            continue
        progress.reading(source)
        articles[source_key(source)] = read_article(source)
    return list(articles.values())


def _with_unique_ids(articles: list[Article], documents: dict[str, dict], replace: str | None, settings: Settings) -> list[Article]:
    """Give each article its document id: the id its source already has in the index, else its
    readable name (`c` for folder/c.txt), else - when another source holds that name - the name plus
    six hex digits of its source's hash (`c-1a2b3c` for other/c.txt). So re-ingesting a source
    replaces it, and a different source is never silently put in its place; `replace` (one article)
    hands that article an existing document's id on purpose."""
    # Entries written before source keys were recorded count as their id's owner (as they always did).
    owners = {doc_id: entry.get("source_key") for doc_id, entry in documents.items()}
    if replace is not None:
        key = source_key(articles[0].source)
        if replace not in documents:
            holds = ", ".join(sorted(documents)) or "no documents"
            raise UnknownDocumentError(
                f"The index at {settings.chroma_location} has no document {replace!r} to replace; nothing was changed. It holds: {holds}."
            )
        other = next((doc_id for doc_id, owner in owners.items() if owner == key and doc_id != replace), None)
        if other is not None:
            raise IngestError(f"{articles[0].source} is already in the index as {other!r}; remove that first (assistant remove {other}).")
        owners[replace] = key
    named = []
    for article in articles:
        key = source_key(article.source)
        doc_id = next((doc_id for doc_id, owner in owners.items() if owner == key), None)
        if doc_id is None:
            owner = owners.get(article.doc_id, key)
            doc_id = article.doc_id if owner in (key, None) else f"{article.doc_id}-{hashlib.sha256(key.encode()).hexdigest()[:6]}"
        if owners.get(doc_id, key) not in (key, None):
            raise IngestError(f"{article.source}: its document id {doc_id!r} belongs to {documents[doc_id]['source']}; rename the file.")
        owners[doc_id] = key
        named.append(article if doc_id == article.doc_id else article.with_doc_id(doc_id))
    return named


def _document_entry(article: Article, lexicon: Lexicon, previous_entry: dict | None) -> dict:
    """The manifest's entry for one article. Its off-topic calibration (see `SentenceIndex.offtopic_calibration`)
    is kept while its text and the language data (`previous_entry` is None after a change) are unchanged."""
    entry = {
        "title": article.title,
        "source": article.source,
        "source_key": source_key(article.source),
        "sha256": article.content_hash,
        "sentences": len(article.sentences),
        "related_headlines": list(article.related_headlines),
        "ingested_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "language": detect_language(article.text, lexicon, fallback="other"),
        # What the article tells about itself: the places it names ("di Sigi", "in Hanoi", its
        # dateline), so "Kedutaan Besar AS Jakarta Eric Hsu" splits into a title and a name.
        "places": article_places(article, lexicon),
    }
    if previous_entry and previous_entry.get("sha256") == entry["sha256"] and "offtopic" in previous_entry:
        entry["offtopic"] = previous_entry["offtopic"]
    return entry


def article_places(article: Article, lexicon: Lexicon) -> list[str]:
    words = {word.lower() for sentence in article.sentences for place in places(sentence.text, lexicon) for word in place.replace(",", " ").split()}
    dateline = re.match(r"^\s*([A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)*)\s*(?:,|\()", article.sentences[0].text) if article.sentences else None
    if dateline:
        words |= {word.lower() for word in dateline.group(1).split()}
    return sorted(word for word in words if not lexicon.is_stopword(word) and word not in lexicon.calendar)


def version_fingerprint(model_id: str, manifest: dict, documents: dict, lexicon_digest: str) -> str:
    """Names a version by what it holds: same embedder, splitter, language data and documents → same
    version. A changed word list re-stems every article on the next ingest."""
    content = {
        "embedding": model_id,
        "lexicon": lexicon_digest,
        "splitter": manifest["splitter"],
        "documents": {doc_id: [doc["sha256"], doc["source"], doc["title"]] for doc_id, doc in sorted(documents.items())},
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def _metadata(article: Article, sentence: Sentence, lexicon: Lexicon) -> dict:
    return {
        "doc_id": article.doc_id,
        "position": sentence.position,
        "start": sentence.start,
        "end": sentence.end,
        "title": article.title,
        "source": article.source,
        "context": sentence.context,
        "stems": " ".join(lexicon.sentence_terms(sentence.text)),
    }
