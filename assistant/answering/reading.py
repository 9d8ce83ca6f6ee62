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
    """What the reader found in the passage around the retrieved sentences."""

    sentence: ScoredSentence
    """The sentence holding the answer span."""
    span: str
    """The answer in the article's words."""
    margin: float
    """Span score minus no-answer score."""
    threshold: float

    @property
    def answers(self) -> bool:
        return self.margin > self.threshold


class ReaderAnswerer(ExtractiveAnswerer):
    def __init__(self, searcher: SentenceSearcher, reader: Reader | None = None) -> None:
        super().__init__(searcher)
        self.reader = reader or shared_reader()

    def conclude(self, assessment: Assessment) -> Answer:
        """Answer with the reader's span, or refuse when "no answer" wins by the reader's threshold."""
        query = assessment.query
        reading = None if assessment.office_never_named else self.read(query, assessment.scored)
        if reading is None or not reading.answers:
            return refusal(query, "not_in_article", related=self.related(assessment), lexicon=self.searcher.lexicon)
        return compose_reading(query, reading, self.name)

    def read(self, query: Query, scored: Sequence[ScoredSentence]) -> Reading | None:
        """The reader over the passage around the best sentences (per document; the best span wins)."""
        passage = self.searcher.around([item.sentence for item in scored[:READ_SENTENCES]], READ_RADIUS)
        retrieved = {item.sentence.sentence_id: item for item in scored}
        best: tuple[Span, list, list[int], str] | None = None
        for doc_id in dict.fromkeys(sentence.doc_id for sentence in passage):
            sentences = [sentence for sentence in passage if sentence.doc_id == doc_id]
            starts: list[int] = []
            text = ""
            for sentence in sentences:
                starts.append(len(text) + (1 if text else 0))
                text = f"{text} {sentence.text}" if text else sentence.text
            span = self.reader.read(query.retrieval_text, text)
            if span is not None and span.end > span.start and (best is None or span.margin > best[0].margin):
                best = (span, sentences, starts, text)
        if best is None:
            return None
        span, sentences, starts, text = best
        holder = max(n for n, start in enumerate(starts) if start <= span.start)
        sentence = sentences[holder]
        end = min(span.end, starts[holder] + len(sentence.text))  # a span never runs past its sentence
        scored_sentence = retrieved.get(sentence.sentence_id) or ScoredSentence(sentence, 0.0, 0.0, 0.0)
        return Reading(scored_sentence, text[span.start : end], span.margin, self.reader.threshold)


def compose_reading(query: Query, reading: Reading, answerer) -> Answer:
    """The reader's span first, then the sentence that holds it, quoted with its marker."""
    language = query.language
    citation = Citation.from_hit(1, reading.sentence.sentence.to_hit(reading.sentence.score), highlights=(reading.span,))
    short = f"{reading.span} [1]."
    text = f"{short}\n{message('according_to', language)} {_quote(citation.text)} [1]"
    return Answer(question=query.text, text=text, abstained=False, citations=(citation,), language=language, answerer=answerer, summary=short)
