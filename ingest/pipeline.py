"""Ingest articles into the sentence index: read everything first, then write each changed document's new version.

Nothing is written until every source has been read, so a bad source leaves the index as it was.
Each changed article gets a new version beside its old one and all of them switch in one catalog
write (see `assistant.store`); an unchanged one is left alone. The cost is what the changed articles
cost, whatever the index holds. Embeddings of sentences that did not change are copied, not
recomputed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from assistant.embeddings import make_embedder
from assistant.errors import IngestError, UnknownDocumentError
from assistant.lexicon import Lexicon, default_lexicon
from assistant.query import detect_language
from assistant.settings import Settings
from assistant.spans import places
from assistant.store import COMPACT_FRACTION, COMPACT_MINIMUM, RECORD_PAGE, DocumentRecord, SentenceIndex, check_embedder, record_id
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
    version: str = ""
    same_as: str = ""
    """Set when the source's text is already indexed from another source (this one): nothing was written."""


@dataclass(frozen=True)
class SkippedFile:
    """A file inside a named folder that could not be read, and why."""

    source: str
    reason: str


@dataclass(frozen=True)
class IngestReport:
    documents: tuple[DocumentReport, ...]
    seconds: float
    generation: int
    """The catalog generation readers see after this ingest (unchanged when nothing changed)."""
    switched: bool
    skipped: tuple[SkippedFile, ...] = ()
    """Files inside the named folders that could not be read (the rest were ingested)."""


class Progress:
    """What ingest tells a caller as it goes; the CLI shows it with rich, library callers may ignore it."""

    def reading(self, source: str) -> None: ...

    def embedding(self, total: int) -> None: ...

    def advance(self, count: int) -> None: ...


@dataclass
class _Plan:
    """One document's new version: its entry, its records, and what it reuses of the active one."""

    doc_id: str
    version: str
    entry: dict
    reused: list[tuple[str, str, dict, list[float]]]
    to_embed: list[tuple[str, str, dict]]
    terms: list[tuple[str, str]]
    report: DocumentReport | None

    @property
    def record_ids(self) -> list[str]:
        return [record[0] for record in self.reused] + [record[0] for record in self.to_embed]


def ingest(
    sources: list[str] | None = None,
    *,
    settings: Settings,
    progress: Progress | None = None,
    index: SentenceIndex | None = None,
    replace: str | None = None,
) -> IngestReport:
    """Read `sources` (files, folders, URLs) and bring the index up to date with them. Folders are
    read recursively; a file in one that cannot be read is skipped and listed in `skipped`.

    `replace`: the id of a document the one source given takes the place of, in one switch (an
    updated article saved under another path or URL); without it a different source never
    replaces a document, it gets an id of its own.
    """
    started = time.perf_counter()
    progress = progress or Progress()
    articles, skipped = _read_all(sources or DEFAULT_SOURCES, progress)
    if replace is not None and len(articles) != 1:
        raise IngestError(f"Replacing {replace!r} takes exactly one article; {len(articles)} were given.")
    if index is None:  # ours: its embedded Chroma is stopped when done
        index = SentenceIndex(settings, make_embedder(settings.embedding, num_threads=settings.embedding_threads))
        try:
            report = _ingest(articles, index, settings, progress, replace, started)
        finally:
            index.close()
    else:
        report = _ingest(articles, index, settings, progress, replace, started)
    return dataclasses.replace(report, skipped=tuple(skipped))


def _ingest(articles: list[Article], index: SentenceIndex, settings: Settings, progress: Progress, replace: str | None, started: float) -> IngestReport:
    """`ingest` once the articles are read and the index is open."""
    index.open_for_writing()

    header = index.writable_header()
    if header.get("generation"):
        check_embedder(header, index.embedder.model_id)
    lexicon = default_lexicon()
    same_lexicon = header.get("lexicon") == lexicon.digest
    articles = _with_unique_ids(articles, index, replace, settings)
    current = {record.doc_id: record for record in index.document_records(ids=[article.doc_id for article in articles])}
    same_text = {} if replace else _same_text_elsewhere(index, [article for article in articles if article.doc_id not in current])

    plans = []
    unchanged = []
    for article in articles:
        before = current.get(article.doc_id)
        twin = same_text.get(article.content_hash)
        if before is None and twin is not None and twin.doc_id != article.doc_id:
            # The same text from another path or URL is the document already indexed, not a second copy.
            count = int(twin.entry.get("sentences", len(article.sentences)))
            unchanged.append(DocumentReport(twin.doc_id, article.title, count, 0, 0, count, article.source, twin.version, same_as=twin.entry.get("source", "")))
            continue
        entry = _document_entry(article, lexicon, before.entry if before and same_lexicon else None)
        version = document_version(index.embedder.model_id, header, entry, lexicon.digest)
        if before is not None and before.version == version:  # the same article again: nothing to write
            unchanged.append(DocumentReport(article.doc_id, article.title, len(article.sentences), 0, 0, len(article.sentences), article.source, version))
            continue
        plans.append(_plan_article(index, header.get("collection"), article, entry, version, before, lexicon))
    if not same_lexicon and header.get("generation"):
        # Changed language data: every other document is re-stemmed under a new version (embeddings kept).
        given = {article.doc_id for article in articles}
        for record in index.document_records(where={"version": {"$ne": ""}}):
            if record.doc_id not in given:
                plans.append(_plan_restem(index, header, record, lexicon))
    if not plans:
        return IngestReport(tuple(unchanged), time.perf_counter() - started, int(header.get("generation", 0)), switched=False)

    # Sentence collections an earlier compaction replaced (kept one write long for questions running
    # on them) or a killed compaction left behind, and an older format's.
    index.drop_collections_except(header.get("collection"))
    collection = header.get("collection") or index.new_sentences_collection()
    to_embed = [record for plan in plans for record in plan.to_embed]
    if to_embed:
        progress.embedding(len(to_embed))
    index.write_sentences(collection, [record for plan in plans for record in plan.reused], to_embed, progress=progress.advance)
    _calibrate(index, collection, plans, lexicon)
    changes: dict[str, tuple[str, dict, list[tuple[str, str]]] | None] = {plan.doc_id: (plan.version, plan.entry, plan.terms) for plan in plans}
    header = index.switch({**header, "lexicon": lexicon.digest}, changes, collection=collection)
    # A compaction is due when hidden records pile up, or when a removal died before its own.
    if header.get("compact_due") or header["hidden"] > max(COMPACT_MINIMUM, COMPACT_FRACTION * int(header["sentences"])):
        # After a removal the old collection holds removed text: it goes at once, as the removal's would have.
        header = index.compact(header, keep_old=not header.get("compact_due"))
    reports = tuple(unchanged) + tuple(plan.report for plan in plans if plan.report is not None)
    return IngestReport(reports, time.perf_counter() - started, int(header["generation"]), switched=True)


def _plan_article(
    index: SentenceIndex, collection: str | None, article: Article, entry: dict, version: str, before: DocumentRecord | None, lexicon: Lexicon
) -> _Plan:
    """The records of an article's new version; sentences whose words are unchanged keep their embedding."""
    old = index.version_records(collection, article.doc_id, before.version) if before is not None else []
    embedding_of = {row.text: embedding for row, _, embedding in old}
    plan = _Plan(article.doc_id, version, entry, [], [], [], None)
    for sentence in article.sentences:
        meta = _metadata(article, sentence, lexicon, version)
        chroma_id = record_id(sentence.sentence_id, version)
        if sentence.text in embedding_of:  # same words: same embedding
            plan.reused.append((chroma_id, sentence.text, meta, embedding_of[sentence.text]))
        else:
            plan.to_embed.append((chroma_id, sentence.text, meta))
        plan.terms.append((sentence.sentence_id, meta["stems"]))
    written = len(plan.to_embed)
    removed = max(0, len(old) - len(article.sentences))
    plan.report = DocumentReport(
        article.doc_id, article.title, len(article.sentences), written, removed, len(article.sentences) - written, article.source, version
    )
    return plan


def _plan_restem(index: SentenceIndex, header: dict, record: DocumentRecord, lexicon: Lexicon) -> _Plan:
    """A stored document's records with the current language data's terms, under a new version."""
    entry = {key: value for key, value in record.entry.items() if key != "offtopic"}
    version = document_version(index.embedder.model_id, header, entry, lexicon.digest)
    plan = _Plan(record.doc_id, version, entry, [], [], [], None)
    for row, meta, embedding in index.version_records(header.get("collection"), record.doc_id, record.version):
        stems = " ".join(lexicon.sentence_terms(row.text))
        plan.reused.append((record_id(row.sentence_id, version), row.text, {**meta, "stems": stems, "version": version}, embedding))
        plan.terms.append((row.sentence_id, stems))
    return plan


def _calibrate(index: SentenceIndex, collection: str, plans: list[_Plan], lexicon: Lexicon) -> None:
    """Each new version's off-topic calibration: how well its best sentence matches questions about
    nothing in particular (`data/offtopic_probes.txt`), mean and spread of the best cosine. The
    answerer judges a question's relevance against this, so an article whose sentences sit close to
    everything (a long general one) is not mistaken for a match. Computed from the stored embeddings,
    so it costs the same whatever else the index holds."""
    uncalibrated = [plan for plan in plans if "offtopic" not in plan.entry]
    if not uncalibrated:
        return
    probes = np.asarray([index.embedder.embed_query(probe) for probe in lexicon.offtopic_probes], dtype=np.float64)
    probes /= np.linalg.norm(probes, axis=1, keepdims=True)
    stored = index.embeddings_of(collection, [chroma_id for plan in uncalibrated for chroma_id in plan.record_ids])
    for plan in uncalibrated:
        ids = plan.record_ids
        matrix = np.asarray([stored[chroma_id] for chroma_id in ids], dtype=np.float64)
        matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
        best = (probes @ matrix.T).max(axis=1)
        plan.entry = {**plan.entry, "offtopic": {"mean": round(float(best.mean()), 5), "std": round(max(float(best.std()), 0.005), 5)}}


def _read_all(sources: list[str], progress: Progress) -> tuple[list[Article], list[SkippedFile]]:
    """Every source once (a file named twice, or also inside a named folder, is read once). A bad
    file named directly stops the ingest; a bad file inside a folder is skipped, with its reason."""
    expanded = expand_sources(sources)
    articles: dict[str, Article] = {}
    by_text: dict[str, Article] = {}
    skipped: list[SkippedFile] = []
    errors: list[IngestError] = []
    for source in expanded.all:
        if source_key(source) in articles:
            continue
        progress.reading(source)
        try:
            article = read_article(source)
        except IngestError as error:
            if source in expanded.named:
                raise
            skipped.append(SkippedFile(source, str(error)))
            errors.append(error)
            continue
        first = by_text.setdefault(article.content_hash, article)
        if first is not article:  # the same text twice in one ingest (a copy in another folder): one document
            skipped.append(SkippedFile(source, f"{source}: the same text as {first.source}, ingested once"))
            continue
        articles[source_key(source)] = article
    if not articles and errors:  # nothing to ingest: the folder's first problem is the error
        more = f" ({len(errors) - 1} other file(s) could not be read either)" if len(errors) > 1 else ""
        raise type(errors[0])(f"{errors[0]}{more}") from errors[0]
    return list(articles.values()), skipped


def _with_unique_ids(articles: list[Article], index: SentenceIndex, replace: str | None, settings: Settings) -> list[Article]:
    """Give each article its document id: the id its source already has in the index, else its
    readable name (`c` for folder/c.txt), else - when another source holds that name - the name plus
    six hex digits of its source's hash (`c-1a2b3c` for other/c.txt). So re-ingesting a source
    replaces it, and a different source is never silently put in its place; `replace` (one article)
    hands that article an existing document's id on purpose. Reads only the catalog records these
    articles could collide with."""
    keys = [source_key(article.source) for article in articles]
    names = [article.doc_id for article in articles] + [_suffixed(article.doc_id, key) for article, key in zip(articles, keys, strict=True)]
    records = [
        record
        for start in range(0, len(keys), RECORD_PAGE)
        for record in index.document_records(where={"$and": [{"source_key": {"$in": keys[start : start + RECORD_PAGE]}}, {"version": {"$ne": ""}}]})
    ]
    records += index.document_records(ids=list(dict.fromkeys(names + ([replace] if replace else []))))
    documents = {record.doc_id: record.entry for record in records if record.version}
    owners = {doc_id: entry.get("source_key") for doc_id, entry in documents.items()}
    if replace is not None:
        key = keys[0]
        if replace not in documents:
            holds = ", ".join(sorted(record.doc_id for record in index.document_records(where={"version": {"$ne": ""}}))) or "no documents"
            raise UnknownDocumentError(
                f"The index at {settings.chroma_location} has no document {replace!r} to replace; nothing was changed. It holds: {holds}."
            )
        other = next((doc_id for doc_id, owner in owners.items() if owner == key and doc_id != replace), None)
        if other is not None:
            raise IngestError(f"{articles[0].source} is already in the index as {other!r}; remove that first (assistant remove {other}).")
        owners[replace] = key
    named = []
    for article, key in zip(articles, keys, strict=True):
        doc_id = next((doc_id for doc_id, owner in owners.items() if owner == key), None)
        if doc_id is None:
            owner = owners.get(article.doc_id, key)
            doc_id = article.doc_id if owner in (key, None) else _suffixed(article.doc_id, key)
        if owners.get(doc_id, key) not in (key, None):
            raise IngestError(f"{article.source}: its document id {doc_id!r} belongs to {documents[doc_id]['source']}; rename the file.")
        owners[doc_id] = key
        named.append(article if doc_id == article.doc_id else article.with_doc_id(doc_id))
    return named


def _same_text_elsewhere(index: SentenceIndex, articles: list[Article]) -> dict[str, DocumentRecord]:
    """Active documents holding exactly the text of one of `articles`, by content hash."""
    hashes = list(dict.fromkeys(article.content_hash for article in articles))
    if not hashes:
        return {}
    records = index.document_records(where={"$and": [{"sha256": {"$in": hashes}}, {"version": {"$ne": ""}}]})
    return {record.entry.get("sha256", ""): record for record in records}


def _suffixed(doc_id: str, key: str) -> str:
    return f"{doc_id}-{hashlib.sha256(key.encode()).hexdigest()[:6]}"


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


def document_version(model_id: str, header: dict, entry: dict, lexicon_digest: str) -> str:
    """Names a document's version by what shapes its records: same text, title, source, embedder,
    splitter and language data → same version, so re-ingesting an unchanged article writes nothing.
    A changed word list gives every document a new version (re-stemmed) on the next ingest."""
    content = {
        "embedding": model_id,
        "lexicon": lexicon_digest,
        "splitter": header["splitter"],
        "document": [entry["sha256"], entry["source"], entry["title"]],
    }
    return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()[:12]


def _metadata(article: Article, sentence: Sentence, lexicon: Lexicon, version: str) -> dict:
    return {
        "doc_id": article.doc_id,
        "version": version,
        "position": sentence.position,
        "start": sentence.start,
        "end": sentence.end,
        "title": article.title,
        "source": article.source,
        "context": sentence.context,
        "stems": " ".join(lexicon.sentence_terms(sentence.text)),
    }
