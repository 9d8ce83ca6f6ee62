"""Ingest articles into the sentence index: read everything first, then write only what changed.

Re-ingesting an unchanged article writes nothing; a changed article gets its changed sentences
re-embedded and its stale ones removed; other articles in the index are untouched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime, timezone

from assistant.embeddings import make_embedder
from assistant.errors import IngestError
from assistant.lexical import content_stems
from assistant.settings import Settings
from assistant.store import SentenceIndex, check_embedder
from ingest.article import Article
from ingest.sources import expand_sources, read_article

DEFAULT_SOURCES = ["seeds"]


@dataclass(frozen=True)
class DocumentReport:
    doc_id: str
    title: str
    sentences: int
    written: int
    removed: int
    unchanged: int


@dataclass(frozen=True)
class IngestReport:
    documents: tuple[DocumentReport, ...]
    seconds: float


class Progress:
    """What ingest tells a caller as it goes; the CLI shows it with rich, library callers may ignore it."""

    def reading(self, source: str) -> None: ...

    def embedding(self, doc_id: str, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


def ingest(sources: list[str] | None = None, *, settings: Settings, progress: Progress | None = None, index: SentenceIndex | None = None) -> IngestReport:
    """Read `sources` (files, folders, URLs) and bring the index up to date with them."""
    started = time.perf_counter()
    progress = progress or Progress()
    articles = _read_all(sources or DEFAULT_SOURCES, progress)
    index = index or SentenceIndex(settings, make_embedder(settings.embedding, num_threads=settings.embedding_threads))

    manifest = index.read_manifest()
    if manifest and manifest.get("documents"):
        check_embedder(manifest, index.embedder.model_id)
    else:
        manifest = index.new_manifest()

    reports = [_sync_article(index, article, progress) for article in articles]
    for article in articles:
        manifest["documents"][article.doc_id] = {
            "title": article.title,
            "source": article.source,
            "sha256": article.content_hash,
            "sentences": len(article.sentences),
            "related_headlines": list(article.related_headlines),
            "ingested_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
    index.write_manifest(manifest)
    return IngestReport(tuple(reports), time.perf_counter() - started)


def _read_all(sources: list[str], progress: Progress) -> list[Article]:
    articles: dict[str, Article] = {}
    for source in expand_sources(sources):
        progress.reading(source)
        article = read_article(source)
        if article.doc_id in articles and articles[article.doc_id].source != article.source:
            raise IngestError(
                f"{source} and {articles[article.doc_id].source} would share the document id {article.doc_id!r}; rename one."
            )
        articles[article.doc_id] = article
    return list(articles.values())


def _sync_article(index: SentenceIndex, article: Article, progress: Progress) -> DocumentReport:
    existing = {row.sentence_id: row for row in index.sentences(article.doc_id)}
    new_ids = {sentence.sentence_id for sentence in article.sentences}
    to_write = [
        sentence
        for sentence in article.sentences
        if sentence.sentence_id not in existing
        or existing[sentence.sentence_id].text != sentence.text
        or existing[sentence.sentence_id].context != sentence.context
        or existing[sentence.sentence_id].source != article.source
    ]
    stale = sorted(set(existing) - new_ids)

    if to_write:
        progress.embedding(article.doc_id, len(to_write))
        index.write_sentences(
            ids=[sentence.sentence_id for sentence in to_write],
            texts=[sentence.text for sentence in to_write],
            metadatas=[_metadata(article, sentence) for sentence in to_write],
            progress=progress.advance,
        )
    index.delete_sentences(stale)
    return DocumentReport(
        doc_id=article.doc_id,
        title=article.title,
        sentences=len(article.sentences),
        written=len(to_write),
        removed=len(stale),
        unchanged=len(article.sentences) - len(to_write),
    )


def _metadata(article: Article, sentence) -> dict:
    return {
        "doc_id": article.doc_id,
        "position": sentence.position,
        "start": sentence.start,
        "end": sentence.end,
        "title": article.title,
        "source": article.source,
        "context": sentence.context,
        "stems": " ".join(content_stems(sentence.text)),
    }


