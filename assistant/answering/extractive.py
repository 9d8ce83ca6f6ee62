"""The default answerer: extractive, deterministic, no model service.

It picks the smallest set of sentences that answers the parsed question (usually one; one per part
of a multi-part question), quotes them verbatim with `[n]` markers, points out the span that answers
(names, an office, a date, a number, places), and abstains when the answerability model
(`answerability.py`) says the article does not answer.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from assistant.answering.answerability import AnswerabilityModel, features
from assistant.lexicon import Lexicon, default_lexicon, term_occurs
from assistant.messages import message
from assistant.query import Query
from assistant.retrieval import ScoredSentence, SentenceSearcher, coverage
from assistant.spans import answer_spans
from assistant.types import Answer, AnswererName, Citation, Hit, Language, RefusalReason, Turn

LEAD_SENTENCES = 2
"""A news article's lead: what a summary request gets."""

BRIEF_QUOTE_CHARS = 220
"""A sentence quoted as the brief answer (no span found) is clipped at a word boundary past this."""

MAX_RELATED = 2
"""A refusal of an on-topic question quotes at most this many related sentences."""

RELATED_MIN_ARTICLE_COVERAGE = 0.5
"""A question is on the article's topic when at least half of its key terms (either language) occur
in the article. Measured on the eval's fifteen articles: near misses ("How old is <a person the
article quotes>?") mostly hold ≥ 0.5 of their terms, off-topic questions (the World Cup, a recipe)
at most a third; `assistant eval` reports both shares."""


@dataclass(frozen=True)
class SelectionPolicy:
    """When a second or third sentence joins the first."""

    max_gap: float = 0.015
    """A runner-up within this score of the best one may join if it carries question terms the best lacks ..."""
    part_gap: float = 0.06
    """... and one within this gap may join if it answers a part of the question the others do not."""
    max_sentences: int = 3


@dataclass(frozen=True)
class Assessment:
    """What the answerer found for a question, before deciding whether to answer."""

    query: Query
    scored: tuple[ScoredSentence, ...]
    chosen: tuple[ScoredSentence, ...]
    signals: dict[str, float]
    office_never_named: bool
    """An identity question about an office the article never names: refused whatever the model says."""

    def answerable(self, model: AnswerabilityModel) -> bool:
        return not self.office_never_named and model.answerable(self.signals)


class ExtractiveAnswerer:
    name: AnswererName = "extractive"

    def __init__(self, searcher: SentenceSearcher, model: AnswerabilityModel | None = None, selection: SelectionPolicy | None = None) -> None:
        self.searcher = searcher
        self.model = model or AnswerabilityModel.load()
        self.selection = selection or SelectionPolicy()

    def answer(self, question: str | Query, history: Sequence[Turn | str] = ()) -> Answer:
        query = self.searcher.parse(question, history)
        early = self.early_reply(query)
        if early is not None:
            return early
        if query.summary:
            return self.summarise(query)
        assessment = self.assess(query)
        if assessment is None:
            return refusal(query, "not_in_article")
        return self.conclude(assessment)

    def conclude(self, assessment: Assessment) -> Answer:
        """Answer with the chosen sentences, or refuse, as the answerability model decides."""
        query = assessment.query
        if not assessment.answerable(self.model):
            return refusal(query, "not_in_article", related=self.related(assessment), lexicon=self.searcher.lexicon)
        return compose(query, assessment.chosen, self.searcher, answerer=self.name)

    def related(self, assessment: Assessment) -> tuple[Hit, ...]:
        """What a refusal can still offer: the closest sentences, when the question is on the
        article's topic (nothing for off-topic questions, whose closest sentence is noise)."""
        if assessment.signals["article_coverage"] < RELATED_MIN_ARTICLE_COVERAGE or assessment.signals["nothing_in_article"]:
            return ()
        closest = sorted(assessment.chosen, key=lambda item: -item.score)[:MAX_RELATED]
        return tuple(item.sentence.to_hit(item.score) for item in closest)

    def early_reply(self, query: Query) -> Answer | None:
        """Replies that need no retrieval: bad input, small talk, a language we do not answer in."""
        if query.problem:
            return refusal(query, query.problem)
        if query.chat:
            return refusal(query, query.chat)
        if query.language == "other":
            return refusal(query, "other_language")
        return None

    def assess(self, query: Query) -> Assessment | None:
        """Retrieve, choose the sentences to cite and compute the answerability signals (the eval
        reads these to fit and test the model)."""
        scored = self.searcher.score(query, k=8)
        if not scored:
            return None
        chosen = self.select(query, scored)
        signals = features(query, chosen, self.searcher)
        return Assessment(query, tuple(scored), tuple(chosen), signals, self.office_never_named(query, chosen[0].sentence.doc_id))

    def office_never_named(self, query: Query, doc_id: str) -> bool:
        """"Who is the US President?" about an article that never mentions a president: an identity
        question about an office the article does not name cannot be answered from it, however close
        the best sentence scores. Only office words count (not names or other nouns), in either language."""
        if not query.subject:
            return False
        lexicon = self.searcher.lexicon
        vocabulary = self.searcher.vocabulary(doc_id)
        offices = [word for word in lexicon.content_tokens(query.subject) if lexicon.is_office_word(word)]
        return any(not self._named_in(word, vocabulary) for word in offices)

    def _named_in(self, word: str, vocabulary: frozenset[str]) -> bool:
        """The word, or a synonym reached through the other language ("penasehat" → adviser →
        "penasihat", a common misspelling), occurs in the article."""
        lexicon = self.searcher.lexicon
        if term_occurs(lexicon.term(word), vocabulary):
            return True
        return any(term_occurs(lexicon.term(part), vocabulary) for phrase in lexicon.translations(word) for part in phrase.split())

    def summarise(self, query: Query) -> Answer:
        """A news article's lead (its first sentences) is its summary: quote the first two of the
        document the question is closest to."""
        best = self.searcher.score(query, k=1, every_sentence=True)
        if not best:
            return refusal(query, "not_in_article")
        lead = self.searcher.lead(query, best[0].sentence.doc_id, LEAD_SENTENCES)
        answer = compose(query, lead, self.searcher, answerer=self.name)
        markers = " ".join(f"[{citation.marker}]" for citation in answer.citations)
        return replace(answer, summary=f"{message('summary', query.language)} {markers}.")

    def select(self, query: Query, scored: list[ScoredSentence]) -> list[ScoredSentence]:
        """The best sentence, plus close runners-up that add question terms it lacks, plus (for a
        multi-part question) the best sentence for each part it does not answer."""
        best = scored[0]
        chosen = [best]
        lexicon = self.searcher.lexicon
        covered = set(best.sentence.stems.split())
        for candidate in scored[1 : self.selection.max_sentences]:
            if best.score - candidate.score > self.selection.max_gap:
                break
            together = frozenset(covered | set(candidate.sentence.stems.split()))
            if coverage(query, together) > coverage(query, frozenset(covered)):
                chosen.append(candidate)
                covered |= set(candidate.sentence.stems.split())
        for kind in query.kinds[1:]:
            part = query.part(kind)
            if any(answer_spans(part, item.sentence.text, lexicon) for item in chosen):
                continue
            for candidate in scored[1:]:
                if best.score - candidate.score > self.selection.part_gap or len(chosen) >= self.selection.max_sentences:
                    break
                if candidate not in chosen and answer_spans(part, candidate.sentence.text, lexicon):
                    chosen.append(candidate)
                    break
        return sorted(chosen, key=lambda item: (item.sentence.doc_id, item.sentence.position))


def compose(query: Query, chosen: Sequence[ScoredSentence], searcher: SentenceSearcher, answerer: AnswererName) -> Answer:
    """Short answer first (the spans that answer, or the sentence itself), then the quoted sentences,
    each with its marker."""
    language = query.language
    citations = [
        Citation.from_hit(marker, item.sentence.to_hit(item.score), highlights=answer_spans(query, item.sentence.text, searcher.lexicon))
        for marker, item in enumerate(chosen, start=1)
    ]
    with_spans = [citation for citation in citations if citation.highlights]
    if with_spans:
        short = " ".join(f"{_join(citation.highlights, language)} [{citation.marker}]" for citation in with_spans) + "."
    else:
        short = " ".join(f"{_quote(_clip(citation.text))} [{citation.marker}]" for citation in citations)
    quotes = " ".join(f"{_quote(citation.text)} [{citation.marker}]" for citation in citations)
    full = f"{message('according_to', language)} {quotes}"
    text = f"{short}\n{full}" if with_spans else full
    return Answer(
        question=query.text, text=text, abstained=False, citations=tuple(citations), language=language, answerer=answerer, summary=short
    )


def refusal(
    query: Query, reason: RefusalReason, answerer: AnswererName = "extractive", related: Sequence[Hit] = (), lexicon: Lexicon | None = None
) -> Answer:
    """An honest non-answer: no citations, no markers. With `related` sentences (an on-topic question
    the article does not answer) it says what is missing and quotes them as related reading."""
    language: Language = query.language
    if not related:
        return Answer(question=query.text, text=message(reason, language), abstained=True, citations=(), language=language, answerer=answerer)
    missing = missing_statement(query, lexicon or default_lexicon())
    quotes = " ".join(_quote(hit.text) for hit in related)
    text = f"{missing} {message('related_intro', language)} {quotes}"
    return Answer(
        question=query.text, text=text, abstained=True, language=language, answerer=answerer, summary=missing, related=tuple(related)
    )


_MISSING_BY_KIND = {
    "when": "missing_when",
    "time": "missing_time",
    "duration": "missing_duration",
    "where": "missing_where",
    "why": "missing_why",
    "role": "missing_role",
    "yes_no": "missing_whether",
}


def missing_statement(query: Query, lexicon: Lexicon) -> str:
    """What the article does not give, as specifically as the parse allows: "doesn't say who the
    deputy governor is", "doesn't name the companies", "doesn't give an amount", "doesn't say when"."""
    language = query.language
    if query.kind == "who" and query.subject:
        return message("missing_who", language, subject=query.subject)
    what = _focus_noun(query, lexicon)
    if lexicon.regex("asks_for_names", re.IGNORECASE).search(query.text):
        return message("missing_names_of", language, what=what) if what else message("missing_names", language)
    if query.kind in ("how_many", "how_much"):
        if query.focus_unit in ("money", "percent"):
            return message("missing_amount" if query.focus_unit == "money" else "missing_percent", language)
        if what and query.focus_unit in (None, "people"):
            return message("missing_count_of", language, what=what)
        return message("missing_number", language)
    return message(_MISSING_BY_KIND.get(query.kind, "missing"), language)


def _focus_noun(query: Query, lexicon: Lexicon) -> str:
    """The word the question asks about, when it is a plain content word ("companies", "penduduk")."""
    asks_for_names = lexicon.regex("asks_for_names", re.IGNORECASE)
    for word in query.focus:
        if word.isalpha() and len(word) > 2 and not lexicon.is_stopword(word) and not asks_for_names.fullmatch(word):
            return word
    return ""


def _join(items: Sequence[str], language: Language) -> str:
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {message('and', language)} {items[-1]}"


def _quote(sentence: str) -> str:
    return sentence if sentence[:1] in "\"“'‘" else f"“{sentence}”"


def _clip(sentence: str) -> str:
    if len(sentence) <= BRIEF_QUOTE_CHARS:
        return sentence
    cut = sentence.rfind(" ", 0, BRIEF_QUOTE_CHARS)
    return sentence[: cut if cut > 0 else BRIEF_QUOTE_CHARS].rstrip(",;:") + " …"
