"""From raw article text to body sentences: strip the news-page furniture, split, give stable ids.

Furniture is what a news page puts around the story: `Baca juga: …` links, the trailing
`Berita Terkait` list, `Pewarta:`/`Editor:` credits and the copyright line. It is never cited; the
related headlines are kept as document metadata.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field, replace

from assistant.errors import EmptyDocumentError
from ingest.splitter import SentenceSpan, split_sentences

_READ_ALSO = re.compile(r"^\s*baca\s+juga\s*:\s*(?P<headline>.*)$", re.IGNORECASE)
_RELATED_HEADER = re.compile(r"^\s*berita\s+terkait\s*$", re.IGNORECASE)
_CREDIT = re.compile(r"^\s*(pewarta|editor|penulis|reporter|fotografer)\s*:", re.IGNORECASE)
_COPYRIGHT = re.compile(r"^\s*(copyright|©|hak cipta)", re.IGNORECASE)
_RELATED_DATE = re.compile(
    r"^\s*(senin|selasa|rabu|kamis|jumat|jum'at|sabtu|minggu),\s+\d{1,2}\s+\w+\s+\d{4}(\s+\d{1,2}:\d{2})?\s*$",
    re.IGNORECASE,
)

MIN_SENTENCE_WORDS = 4
"""A document needs this many words of body text to count as an article (not a label). A list of
short lines counts: each line is a sentence to cite."""

REFERENCE_MARKER = re.compile(r"\s?\[(?:\d{1,3}|[a-z]|note \d{1,3}|citation needed|butuh rujukan|rujukan\?|pranala nonaktif)\]", re.IGNORECASE)
"""Wikipedia-style reference markers ("[1]", "[note 2]", "[citation needed]", "[butuh rujukan]").
They are dropped from a sentence's cited text: in an answer they would read as the answer's own
`[n]` citation markers. The sentence's `start`/`end` still span the original text, markers and all."""

CONTEXT_WINDOW = 1
"""Sentences on each side stored as `context` beside each sentence (not embedded, not cited)."""


@dataclass(frozen=True)
class Sentence:
    sentence_id: str
    doc_id: str
    position: int
    text: str
    """The sentence as it is cited: the document's words, reference markers dropped."""
    start: int
    end: int
    """Its span in the document text (`Article.text[start:end]` is the sentence with any markers)."""
    context: str


@dataclass(frozen=True)
class Article:
    doc_id: str
    title: str
    source: str
    text: str
    """The document text as read; sentence offsets index into it."""
    sentences: tuple[Sentence, ...]
    related_headlines: tuple[str, ...] = field(default=())

    @property
    def content_hash(self) -> str:
        return hashlib.sha256(self.text.encode("utf-8")).hexdigest()

    def with_doc_id(self, doc_id: str) -> Article:
        """The same article under another id (ingest gives a colliding name a distinct one)."""
        sentences = tuple(replace(s, doc_id=doc_id, sentence_id=sentence_id(doc_id, s.position)) for s in self.sentences)
        return replace(self, doc_id=doc_id, sentences=sentences)


def sentence_id(doc_id: str, position: int) -> str:
    """Stable, readable id: the document's namespace plus the 0-based body position."""
    return f"{doc_id}#{position:02d}"


def parse_article(text: str, *, doc_id: str, title: str, source: str) -> Article:
    """Split `text` into body sentences and related headlines. Raises EmptyDocumentError if no body."""
    body_lines, related = _separate_furniture(text)
    spans = [span for start, end in body_lines for span in _offset(split_sentences(text[start:end]), start)]
    if sum(len(span.text.split()) for span in spans) < MIN_SENTENCE_WORDS:
        raise EmptyDocumentError(f"{source}: no article text found (the document is empty or only page furniture).")
    texts = [REFERENCE_MARKER.sub("", span.text) for span in spans]
    sentences = tuple(
        Sentence(
            sentence_id=sentence_id(doc_id, position),
            doc_id=doc_id,
            position=position,
            text=texts[position],
            start=span.start,
            end=span.end,
            context=" ".join(texts[max(0, position - CONTEXT_WINDOW) : position + CONTEXT_WINDOW + 1]),
        )
        for position, span in enumerate(spans)
    )
    return Article(doc_id=doc_id, title=title, source=source, text=text, sentences=sentences, related_headlines=tuple(related))


def _separate_furniture(text: str) -> tuple[list[tuple[int, int]], list[str]]:
    """Return (start, end) offsets of body lines, and the related headlines found in the furniture."""
    body: list[tuple[int, int]] = []
    related: list[str] = []
    in_related_list = False
    for match in re.finditer(r"[^\n]+", text):
        line = match.group()
        if not line.strip():
            continue
        if _RELATED_HEADER.match(line):
            in_related_list = True
            continue
        if in_related_list:
            if not _RELATED_DATE.match(line):
                _add_unique(related, line.strip())
            continue
        read_also = _READ_ALSO.match(line)
        if read_also:
            _add_unique(related, read_also.group("headline").strip())
            continue
        if _CREDIT.match(line) or _COPYRIGHT.match(line):
            continue
        body.append((match.start(), match.end()))
    return body, related


def _add_unique(items: list[str], item: str) -> None:
    if item and item not in items:
        items.append(item)


def _offset(spans: list[SentenceSpan], by: int) -> list[SentenceSpan]:
    return [SentenceSpan(span.text, span.start + by, span.end + by) for span in spans]
