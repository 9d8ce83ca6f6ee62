"""The reader's answerer: the trained reader (assistant/reader/) decides and quotes. Experimental.

It differs from the default `ExtractiveAnswerer` in two places: the trained reader reads the
passage around retrieval's best sentences and finds the answer span, and "no answer" winning by
the reader's threshold is what refuses (not the answerability model). The answer is the span in
the article's words, cited to the sentence that holds it.

It is not the default yet: measured on the eval suite and the real-data tier (docs/reader.md),
the reader trained so far answers the project's own articles worse than the rules do. The evals
run it side by side (`assistant eval --compare`, `assistant eval --realqa`); in the REPL:

    >>> from assistant.answering.reading import ReaderAnswerer
    >>> ReaderAnswerer(bot.searcher).answer("Kapan pertemuan berlangsung?")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answering.extractive import Assessment, ExtractiveAnswerer, _quote, refusal
from assistant.messages import message
from assistant.query import Query
from assistant.reader.model import Reader, Span, shared_reader
from assistant.retrieval import ScoredSentence, SentenceSearcher
from assistant.types import Answer, Citation

READ_SENTENCES = 4
"""How many of retrieval's best sentences the reader reads ..."""
READ_RADIUS = 1
"""... each with this many neighbours on each side (a pronoun's antecedent, the sentence that
finishes a quote): a passage of about a dozen sentences, one or two 384-token windows."""


@dataclass(frozen=True)
class Reading:
    """One sentence of the passage as the reader read it: its best span and how retrieval ranked it."""

    sentence: ScoredSentence
    span: Span
    """Offsets into the sentence's text; `margin` is the span's score minus its window's no-answer score."""
    retrieval: float
    """Retrieval's score for the sentence (a neighbour retrieval did not rank gets the lowest score it gave)."""

    @property
    def text(self) -> str:
        return self.sentence.sentence.text[self.span.start : self.span.end]

    def score(self, decision: Decision) -> float:
        return self.span.margin + decision.retrieval_weight * self.retrieval


@dataclass(frozen=True)
class Decision:
    """Which reading answers, and whether it does: the reader's margin plus `retrieval_weight` times
    retrieval's score, against `threshold`. Retrieval's multilingual embeddings find the sentence a
    question asked in the other language is about, where the reader (trained on questions in the
    passage's language) is least sure. Both numbers are fitted on held-out questions
    (training/fit_decision.py) and kept in the model card's reader.json."""

    retrieval_weight: float
    threshold: float

    @classmethod
    def of(cls, reader: Reader) -> Decision:
        return cls(float(reader.info.get("retrieval_weight", 0.0)), reader.threshold)

    def choose(self, readings: Sequence[Reading]) -> Reading | None:
        return max(readings, key=lambda reading: reading.score(self), default=None)

    def answers(self, reading: Reading) -> bool:
        return reading.score(self) > self.threshold


class ReaderAnswerer(ExtractiveAnswerer):
    def __init__(self, searcher: SentenceSearcher, reader: Reader | None = None, decision: Decision | None = None) -> None:
        super().__init__(searcher)
        self.reader = reader or shared_reader()
        self.decision = decision or Decision.of(self.reader)

    def conclude(self, assessment: Assessment) -> Answer:
        """Answer with the best reading's span, or refuse when it does not clear the threshold."""
        query = assessment.query
        best = None if assessment.office_never_named else self.decision.choose(self.readings(query, assessment.scored))
        if best is None or not self.decision.answers(best):
            return refusal(query, "not_in_article", related=self.related(assessment), lexicon=self.searcher.lexicon)
        return compose_reading(query, best, self.name)

    def readings(self, query: Query, scored: Sequence[ScoredSentence]) -> list[Reading]:
        """Every sentence of the passage around the best retrieved ones, read (document by document)."""
        if not scored:
            return []
        passage = self.searcher.around([item.sentence for item in scored[:READ_SENTENCES]], READ_RADIUS)
        retrieved = {item.sentence.sentence_id: item for item in scored}
        floor = min(item.score for item in scored)
        out = []
        for doc_id in dict.fromkeys(sentence.doc_id for sentence in passage):
            sentences = [sentence for sentence in passage if sentence.doc_id == doc_id]
            spans = self.reader.read_sentences(query.retrieval_text, [sentence.text for sentence in sentences])
            for sentence, span in zip(sentences, spans, strict=True):
                if span is None or span.end <= span.start:
                    continue
                item = retrieved.get(sentence.sentence_id) or ScoredSentence(sentence, floor, 0.0, 0.0)
                out.append(Reading(item, span, item.score))
        return out


def compose_reading(query: Query, reading: Reading, answerer) -> Answer:
    """The reader's span first, then the sentence that holds it, quoted with its marker."""
    language = query.language
    citation = Citation.from_hit(1, reading.sentence.sentence.to_hit(reading.sentence.score), highlights=(reading.text,))
    short = f"{reading.text} [1]."
    text = f"{short}\n{message('according_to', language)} {_quote(citation.text)} [1]"
    return Answer(question=query.text, text=text, abstained=False, citations=(citation,), language=language, answerer=answerer, summary=short)
