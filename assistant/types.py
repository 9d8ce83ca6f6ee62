"""The assistant's own result types. LangChain objects never travel past the modules that wrap LangChain."""

from __future__ import annotations

import textwrap
from dataclasses import dataclass, field
from typing import Literal

from assistant.links import sentence_link


@dataclass(frozen=True)
class Hit:
    """One retrieved sentence, exactly as it stands in the article."""

    sentence_id: str
    doc_id: str
    position: int
    text: str
    score: float
    """Retrieval's score, higher is closer: the dense cosine (0–1) plus up to 0.07 of BM25 and
    answer-type bonus in hybrid retrieval (so slightly above 1 is possible). It ranks the sentences
    of one question; scores of different questions do not compare. Shown with 3 decimals."""
    title: str = ""
    source: str = ""

    def to_dict(self) -> dict:
        return _sentence_fields(self)

    def __repr__(self) -> str:
        return f"Hit({self.sentence_id!r}, score={self.score:.3f}, text={_short(self.text)!r})"


@dataclass(frozen=True)
class Citation:
    """A sentence an answer rests on; `marker` is the n of `[n]` in the answer text."""

    marker: int
    sentence_id: str
    doc_id: str
    position: int
    text: str
    score: float
    title: str = ""
    source: str = ""
    highlights: tuple[str, ...] = ()
    """Sub-spans of `text` that answer the question (names, a date, a number, places), if any."""
    url: str = ""
    """A link that opens the source at this sentence (documents ingested from a URL); empty otherwise."""

    @classmethod
    def from_hit(cls, marker: int, hit: Hit, highlights: tuple[str, ...] = ()) -> Citation:
        return cls(
            marker=marker,
            sentence_id=hit.sentence_id,
            doc_id=hit.doc_id,
            position=hit.position,
            text=hit.text,
            score=hit.score,
            title=hit.title,
            source=hit.source,
            highlights=highlights,
            url=sentence_link(hit.source, hit.text),
        )

    def to_dict(self) -> dict:
        return {"marker": self.marker, **_sentence_fields(self), "url": self.url, "highlights": list(self.highlights)}

    def __repr__(self) -> str:
        highlights = f", highlights={self.highlights!r}" if self.highlights else ""
        return f"Citation([{self.marker}] {self.sentence_id!r}, score={self.score:.3f}, text={_short(self.text)!r}{highlights})"


Language = Literal["id", "en", "other"]

RefusalReason = Literal["not_in_article", "empty", "too_long", "no_words", "instruction", "other_language", "thanks", "greeting"]
"""Why the assistant did not answer from the article: it does not say, the input is not a question
(empty, too long, no words, an instruction), the language is neither Indonesian nor English, or small talk."""

AnswererName = Literal["extractive", "llm"]
"""Which answerer produced an `Answer`: the default extractive one or the optional LLM path."""


@dataclass(frozen=True)
class Answer:
    """What `Assistant.ask` returns. `text` carries `[n]` markers, each matching one citation."""

    question: str
    text: str
    abstained: bool
    citations: tuple[Citation, ...] = ()
    language: Language = "en"
    answerer: AnswererName = "extractive"
    notes: tuple[str, ...] = field(default=())
    """Why claims were dropped or a fallback was used (LLM path); empty when nothing happened."""
    summary: str = ""
    """The answer without the quoted sentences, markers kept: what a chat UI that lists the cited
    sentences itself (Slack) shows above them. Empty means the same as `text`."""
    related: tuple[Hit, ...] = ()
    """With a refusal of an on-topic question: the closest sentences the article does have, shown as
    related reading, never as an answer (no `[n]` marker refers to them)."""

    @property
    def brief(self) -> str:
        return self.summary or self.text

    def to_dict(self) -> dict:
        """Everything this answer holds, as JSON-ready values (what `assistant ask --json` prints)."""
        return {
            "question": self.question,
            "text": self.text,
            "brief": self.brief,
            "abstained": self.abstained,
            "language": self.language,
            "answerer": self.answerer,
            "notes": list(self.notes),
            "citations": [c.to_dict() for c in self.citations],
            "related": [hit.to_dict() for hit in self.related],
        }

    def __str__(self) -> str:
        lines = [self.text]
        if self.citations:
            lines += ["", "Sources:" if self.language != "id" else "Sumber:"]
            for c in self.citations:
                lines += _sentence_lines(f"[{c.marker}]", c.text, c.sentence_id, c.position)
                lines += [f"      {c.url}"] if c.url else []
        if self.related:
            lines += ["", "Related, not an answer:" if self.language != "id" else "Terkait, bukan jawaban:"]
            for hit in self.related:
                lines += _sentence_lines("-", hit.text, hit.sentence_id, hit.position)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"Answer(abstained={self.abstained}, citations={len(self.citations)})\n{self}"


@dataclass(frozen=True)
class Turn:
    """One earlier turn of a conversation: what the user asked or what the assistant replied."""

    role: Literal["user", "assistant"]
    text: str


def _sentence_fields(sentence: Hit | Citation) -> dict:
    """What a retrieved or cited sentence says about itself in `to_dict()`."""
    return {
        "sentence_id": sentence.sentence_id,
        "doc_id": sentence.doc_id,
        "position": sentence.position,
        "text": sentence.text,
        "score": round(sentence.score, 4),
        "title": sentence.title,
        "source": sentence.source,
    }


def _sentence_lines(label: str, text: str, sentence_id: str, position: int) -> list[str]:
    wrapped = textwrap.fill(text, width=88, subsequent_indent="      ")
    return [f"  {label} {wrapped}", f"      ({sentence_id}, sentence {position + 1})"]


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
